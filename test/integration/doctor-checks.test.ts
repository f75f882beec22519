import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/load.js';
import { runDoctor, type CheckResult } from '../../src/doctor/index.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { serverCertPath, unrelatedCa, withParams } from '../helpers/tls.js';

/** doctor's checks through the library, each made to fail for its own reason on the real test cluster. */
let db: FreshDatabase;
let limitedUrl: string;
const role = `doc_limited_${randomBytes(3).toString('hex')}`;
const rolePw = `Limited-${randomBytes(6).toString('hex')}`;
const root = join(tmpdir(), 'stagedb-doctor-no-project');

function config(environments: ResolvedConfig['environments']): ResolvedConfig {
  return { root, schemaPath: join(root, 'prisma', 'schema.prisma'), migrationsDir: join(root, 'prisma', 'migrations'), environments, warnings: [] };
}

async function doctor(env: ResolvedConfig['environments'][string], processEnv: NodeJS.ProcessEnv = {}): Promise<Record<string, CheckResult>> {
  const report = await runDoctor({ config: config({ development: { protection: 'none', ...env } }), env: 'development', processEnv, timeoutMs: 2000 });
  for (const c of report.checks) expect(`${c.detail} ${c.fix ?? ''}`).not.toContain(rolePw);
  return Object.fromEntries(report.checks.map((c) => [c.code, c]));
}

/** A directory that looks like PostgreSQL binaries of `version`, with a pg_dump that prints `dumpOutput`. */
function fakeBinDir(version: string, dumpOutput: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'stagedb-fake-bin-'));
  const script = (name: string, out: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${out}"\n`);
    chmodSync(join(dir, name), 0o755);
  };
  script('initdb', `initdb (PostgreSQL) ${version}`);
  script('pg_ctl', `pg_ctl (PostgreSQL) ${version}`);
  script('pg_dump', dumpOutput);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

beforeAll(async () => {
  db = await freshDatabase('docint');
  await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD '${rolePw}'`);
  await query(db.url, `CREATE TABLE open_t (id int); CREATE TABLE secret_t (id int);
    REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE CREATE ON DATABASE "${db.name}" FROM PUBLIC;
    GRANT SELECT ON open_t TO ${role}`);
  const u = new URL(db.url);
  u.username = role;
  u.password = rolePw;
  limitedUrl = u.toString();
});

afterAll(async () => {
  await db?.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
});

describe('doctor checks', () => {
  it('a role without CREATE and without SELECT on every table: migrate and backup privileges fail, studio warns', async () => {
    const r = await doctor({ url: limitedUrl });
    expect(r.DOC008!.status).toBe('ok');
    expect(r.DOC009!.status).toBe('fail');
    expect(r.DOC009!.detail).toBe(`role ${role} lacks CREATE (or USAGE) on schema public: migrations cannot create tables`);
    expect(r.DOC009!.fix).toBe(`as the schema's owner: GRANT USAGE, CREATE ON SCHEMA "public" TO "${role}";`);
    expect(r.DOC010!.status).toBe('fail');
    expect(r.DOC010!.detail).toBe(`pg_dump would fail: role ${role} cannot SELECT 1 of 2 relations (public.secret_t)`);
    expect(r.DOC011!.status).toBe('warn');
    expect(r.DOC011!.detail).toContain('public.secret_t');
  });

  it('a pooler URL with no directUrl: DOC003 fails and says what directUrl is for', async () => {
    const r = await doctor({ url: withParams(db.url, { pgbouncer: 'true' }) });
    expect(r.DOC002!.status).toBe('ok');
    expect(r.DOC003!.status).toBe('fail');
    expect(r.DOC003!.detail).toContain('a connection-pooler URL (the URL sets pgbouncer=true)');
    expect(r.DOC003!.detail).toContain('directUrl is the second URL');
    expect(r.DOC004!.status).toBe('skip');
  });

  it('a pooler directUrl beside the application url fails the same way', async () => {
    const r = await doctor({ url: db.url, directUrl: withParams(db.url, { pgbouncer: 'true' }) });
    expect(r.DOC003!.status).toBe('fail');
    expect(r.DOC003!.fix).toContain('not at a pooler or Accelerate');
  });

  it.skipIf(!serverCertPath())('TLS: a certificate that does not chain to sslrootcert fails DOC006, auth is skipped', async () => {
    const ca = unrelatedCa();
    try {
      const r = await doctor({ url: withParams(db.url, { sslmode: 'verify-full', sslrootcert: ca.path }, 'localhost') });
      expect(r.DOC005!.status).toBe('ok');
      expect(r.DOC006!.status).toBe('fail');
      expect(r.DOC006!.detail).toContain('TLS failed (sslmode=verify-full)');
      expect(r.DOC007!.status).toBe('skip');
    } finally {
      ca.remove();
    }
  });

  it.skipIf(!serverCertPath())('TLS in effect is read from pg_stat_ssl', async () => {
    const r = await doctor({ url: withParams(db.url, { sslmode: 'require' }) });
    expect(r.DOC006!.status).toBe('ok');
    expect(r.DOC006!.detail).toMatch(/^TLSv1\.[23] \S+, certificate not verified \(sslmode=require\) on loopback$/);
  });

  it('TLS required by the environment but not in the URL: the URL check fails', async () => {
    const r = await doctor({ url: withParams(db.url, { sslmode: 'disable' }), ssl: 'require' });
    expect(r.DOC002!.status).toBe('fail');
    expect(r.DOC002!.detail).toContain('requires sslmode=require or stronger');
  });

  it('pg_dump older than the server fails DOC012 with the package to install', async () => {
    const fake = fakeBinDir('10.23', 'pg_dump (PostgreSQL) 10.23');
    try {
      const r = await doctor({ url: db.url }, { STAGEDB_PG_BIN: fake.dir, PATH: process.env.PATH });
      expect(r.DOC012!.status).toBe('fail');
      expect(r.DOC012!.detail).toMatch(/^pg_dump 10\.23 \(.*\) is older than the server \(PostgreSQL \d+/);
      expect(r.DOC012!.fix).toMatch(/^install pg_dump \d+ or newer: apt-get install postgresql-client-\d+/);
    } finally {
      fake.remove();
    }
  });

  it('an unresolvable host fails DNS, TCP is skipped', async () => {
    const r = await doctor({ url: 'postgresql://app:pw-not-shown@doctor-test.invalid:5432/app' });
    expect(r.DOC004!.status).toBe('fail');
    expect(r.DOC004!.detail).toMatch(/^cannot resolve doctor-test\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/);
    expect(r.DOC005!.status).toBe('skip');
  });
});
