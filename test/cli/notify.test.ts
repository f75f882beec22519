import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * Webhook notifications (issue 15) through the built binary, against loopback receivers on 127.0.0.1:
 * one that records, one that answers 500, one that never answers. The database is owned by a
 * non-superuser role; its password and the webhook's URL never reach a payload or the output.
 */
const INIT = `-- CreateTable\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;
const BROKEN = `-- AddForeignKey\nALTER TABLE "User" ADD COLUMN "teamId" INTEGER REFERENCES "Teams"("id");\n`;

interface Receiver {
  url: string;
  bodies: Array<Record<string, unknown>>;
  server: Server;
}

async function receiver(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Receiver> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      handle(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // The path stands for the secret part of a Slack webhook URL.
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/hook-secret-xyz`, bodies, server };
}

const owner = `notify_owner_${process.pid}`;
const PW = 'notify-db-pw';
let db: FreshDatabase;
let ok: Receiver;
let failing: Receiver;
let hanging: Receiver;
const extra: FreshDatabase[] = [];

beforeAll(async () => {
  db = await freshDatabase('nt');
  await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`);
  await query(adminUrl(), `CREATE ROLE ${owner} LOGIN PASSWORD '${PW}' CREATEDB NOSUPERUSER`);
  await query(adminUrl(), `ALTER DATABASE ${db.name} OWNER TO ${owner}`);
  ok = await receiver((_q, res) => res.end('ok'));
  failing = await receiver((_q, res) => {
    res.statusCode = 500;
    res.end('boom');
  });
  hanging = await receiver(() => {
    /* never answers */
  });
  forbidInOutput(PW, 'hook-secret-xyz', passwordOf(db.url));
});

afterAll(async () => {
  for (const r of [ok, failing, hanging]) r?.server.closeAllConnections?.();
  for (const r of [ok, failing, hanging]) r?.server.close();
  for (const d of [db, ...extra]) await d?.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`).catch(() => {});
});

function project(hook: string, format: 'slack' | 'json', migrations: Record<string, string>): TempProject {
  return createProject({ migrations, configJson: { environments: { development: { url: 'postgresql://localhost:1/unused' }, staging: { url: { $env: 'STAGING_URL' }, notify: { url: { $env: 'HOOK_URL' }, format } } } } });
}
/** A fresh database owned by the role, per test: each deploys from an empty history. */
const as = async () => {
  const d = await freshDatabase('nt');
  extra.push(d);
  await query(adminUrl(), `ALTER DATABASE ${d.name} OWNER TO ${owner}`);
  const u = new URL(d.url);
  u.username = owner;
  u.password = PW;
  return u.toString();
};

describe('notify', () => {
  it('json: a deploy posts started then succeeded; a failure posts the report; no secret in any payload', async () => {
    const p = project(ok.url, 'json', { '20240101000000_init': INIT });
    try {
      const env = { STAGING_URL: await as(), HOOK_URL: ok.url };
      const r = await runCli(['migrate', 'deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: p.dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(ok.bodies.map((b) => b.event)).toEqual(['deploy-started', 'deploy-succeeded']);
      expect(ok.bodies[1]).toMatchObject({ source: 'stagedb', env: 'staging', protection: 'guarded', command: 'migrate deploy --env staging', summary: expect.stringContaining('applied 20240101000000_init') });
      p.addMigration('20240102000000_broken', BROKEN);
      const f = await runCli(['migrate', 'deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: p.dir, env });
      expect(f.code).toBe(2);
      const failed = ok.bodies.at(-1)!;
      expect(failed).toMatchObject({ event: 'deploy-failed', code: expect.any(String) });
      expect(JSON.stringify(failed)).toContain('Teams');
      const all = JSON.stringify(ok.bodies);
      expect(all).not.toContain(PW);
      expect(all).not.toContain('hook-secret-xyz');
    } finally {
      p.remove();
    }
  });

  it('slack: { text }; a receiver that answers 500 is a warning, the deploy still exits 0', async () => {
    const p = project(failing.url, 'slack', { '20240101000000_init': INIT });
    try {
      const r = await runCli(['migrate', 'deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: p.dir, env: { STAGING_URL: await as(), HOOK_URL: failing.url } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('the notify webhook answered HTTP 500');
      expect(Object.keys(failing.bodies[0]!)).toEqual(['text']);
      expect(String(failing.bodies[0]!.text)).toContain('*staging* (guarded)');
    } finally {
      p.remove();
    }
  });

  it('a receiver that never answers: given up after 5 s, a warning, the deploy still exits 0', async () => {
    const p = project(hanging.url, 'json', { '20240101000000_init': INIT });
    try {
      const r = await runCli(['migrate', 'deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: p.dir, env: { STAGING_URL: await as(), HOOK_URL: hanging.url } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('no answer within 5 s');
      expect(hanging.bodies.length).toBe(2);
    } finally {
      p.remove();
    }
  }, 40_000);

  it('drift refused by the deploy gate is told as "drift", with the SQL', async () => {
    const p = project(ok.url, 'json', { '20240101000000_init': INIT });
    try {
      const url = await as();
      const env = { STAGING_URL: url, HOOK_URL: ok.url };
      expect((await runCli(['migrate', 'deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: p.dir, env })).code).toBe(0);
      await query(url, `ALTER TABLE "User" ADD COLUMN "sneaky" TEXT`);
      p.addMigration('20240102000000_more', `ALTER TABLE "User" ADD COLUMN "name" TEXT;\n`);
      const r = await runCli(['migrate', 'deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: p.dir, env });
      expect(r.code).toBe(2);
      expect(ok.bodies.at(-1)).toMatchObject({ event: 'drift', code: 'E_DRIFT', details: [expect.stringContaining('"sneaky"')] });
    } finally {
      p.remove();
    }
  });
});
