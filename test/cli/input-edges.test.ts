import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { runCliOnTty } from '../helpers/pty.js';

/** Issue 12.8: odd input gets a usage error (exit 4) or a clean abort, never a stack trace or silence. */
const MIGRATIONS = { '20240101000000_init': `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n` };
let db: FreshDatabase;
let p: TempProject;
const env = () => ({ DATABASE_URL: db.url });

beforeAll(async () => {
  db = await freshDatabase('edges');
  forbidInOutput(passwordOf(db.url));
  p = createProject({
    migrations: MIGRATIONS,
    configJson: {
      environments: {
        development: { url: { $env: 'DATABASE_URL' } },
        staging: { url: { $env: 'DATABASE_URL' } },
        production: { url: { $env: 'DATABASE_URL' }, ssl: 'disable', backupBeforeDeploy: false },
      },
    },
  });
});
afterAll(async () => {
  p?.remove();
  await db?.drop();
});

describe('flags', () => {
  it('--env "" is a usage error (exit 4), not a crash', async () => {
    for (const args of [['status', '--env', ''], ['migrate', 'deploy', '--env', ''], ['status', '--env=']]) {
      const r = await runCli(args, { cwd: p.dir, env: env() });
      expect(r.code, r.all).toBe(4);
      expect(r.stderr).toContain('--env');
      expect(r.all).not.toMatch(/\n\s+at /);
    }
    const commas = await runCli(['status'], { cwd: p.dir, env: { ...env(), STAGEDB_ENV: ' , ' } });
    expect(commas.code, commas.all).toBe(4);
    expect(commas.stderr).toContain('no environment named in STAGEDB_ENV');
    expect((await runCli(['status', '--env', ''], { cwd: p.dir, env: env() })).stderr).toMatchInlineSnapshot(`
      "error: stagedb status: --env needs an environment name, and got ""
        fix: stagedb status --env development   (or leave --env out: STAGEDB_ENV, else development)
      "
    `);
  });

  it('--env given twice is a usage error that offers the comma list', async () => {
    const r = await runCli(['status', '--env', 'development', '--env', 'staging'], { cwd: p.dir, env: env() });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: stagedb status: --env is given 2 times; it takes one value
        fix: name one environment, or several in one comma list: stagedb status --env development,staging
      "
    `);
    const list = await runCli(['status', '--env', 'development,staging', '--json'], { cwd: p.dir, env: env() });
    expect(JSON.parse(list.stdout).environments.map((e: { env: string }) => e.env)).toEqual(['development', 'staging']);
  });

  it('--lock-timeout -5 says it needs a non-negative number (exit 4)', async () => {
    for (const args of [['migrate', 'deploy', '--lock-timeout', '-5'], ['migrate', 'deploy', '--lock-timeout=-5'], ['migrate', 'deploy', '--lock-timeout', 'soon']]) {
      const r = await runCli(args, { cwd: p.dir, env: env() });
      expect(r.code, r.all).toBe(4);
      expect(r.stderr).toContain('non-negative number');
    }
    expect((await runCli(['migrate', 'deploy', '--lock-timeout', '-5'], { cwd: p.dir, env: env() })).stderr).toMatchInlineSnapshot(`
      "error: --lock-timeout needs a non-negative number of seconds, not "-5"
        fix: e.g. stagedb migrate deploy --lock-timeout 60   (0: do not wait for another run's deploy lock)
      "
    `);
  });
});

describe('Ctrl-D at the typed confirmation', () => {
  it('says aborted, exits 6 and records the abort in the audit trail', async () => {
    const r = await runCliOnTty(['deploy', '--env', 'production'], { cwd: p.dir, env: env(), waitFor: 'Type "production"', input: '\x04' });
    expect(r.code, r.all).toBe(6);
    expect(r.all).toMatch(/aborted/);
    expect(r.all).not.toContain(passwordOf(db.url));
    const rows = await query<{ outcome: string; command: string }>(db.url, `SELECT outcome, command FROM stagedb.audit_log ORDER BY at DESC LIMIT 1`);
    expect(rows).toEqual([{ outcome: 'aborted', command: 'deploy --env production' }]);
    expect(await query(db.url, `SELECT 1 FROM pg_tables WHERE tablename = '_prisma_migrations'`)).toEqual([]);
  });
});

describe('URLs', () => {
  it('%24 in the database name is decoded as libpq does ($)', async () => {
    const name = `shop$${process.pid}`;
    await query(adminUrl(), `DROP DATABASE IF EXISTS "${name}"`);
    await query(adminUrl(), `CREATE DATABASE "${name}"`);
    try {
      const u = new URL(db.url);
      u.pathname = `/${name.replace('$', '%24')}`;
      const r = await runCli(['migrate', 'deploy', '--url', u.toString()], { cwd: p.dir });
      expect(r.code, r.all).toBe(0);
      // Checked without a URL: node-postgres's own URL parser has the same decodeURI bug.
      const a = new URL(adminUrl());
      const c = new pg.Client({ host: a.hostname, port: Number(a.port), user: decodeURIComponent(a.username), password: decodeURIComponent(a.password), database: name });
      await c.connect();
      try {
        expect((await c.query(`SELECT migration_name FROM _prisma_migrations`)).rows).toEqual([{ migration_name: '20240101000000_init' }]);
      } finally {
        await c.end();
      }
    } finally {
      await query(adminUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });
});
