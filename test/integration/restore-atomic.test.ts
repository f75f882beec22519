import { readFileSync, truncateSync, writeFileSync, openSync, readSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, hashFile } from '../../src/backup/create.js';
import { applyRestore, prepareRestore } from '../../src/backup/restore.js';
import { openStorage } from '../../src/backup/storage.js';
import { backupEnv, contentsOf, fillRichDatabase, tempDir } from '../helpers/backup.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, rejection } from '../helpers/project.js';
import { BIN } from '../helpers/cli.js';
import { spawn } from 'node:child_process';

/**
 * Issue 12.3: a restore that fails must leave the target exactly as it was. The archive's manifest
 * matches (sha256 and size rewritten after the damage, as a backup damaged before it was recorded
 * would be), so every check before the restore passes and only pg_restore finds the damage. The
 * target belongs to a role that is neither superuser nor CREATEDB (an application's owner role on RDS).
 */
let source: FreshDatabase;
let target: FreshDatabase;
let store: ReturnType<typeof tempDir>;
const role = `bk_owner_${process.pid}`;
let ownerUrl: string;

beforeAll(async () => {
  source = await freshDatabase('bk_atom_src');
  target = await freshDatabase('bk_atom_dst');
  store = tempDir();
  await fillRichDatabase(source.url, { rows: 3000, tables: 3 });
  // The target: owned by a plain login role, filled by it (501 users) so everything in it is the role's.
  await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'owner-pw' NOSUPERUSER NOCREATEDB NOCREATEROLE`);
  await query(adminUrl(), `ALTER DATABASE ${target.name} OWNER TO ${role}`);
  const u = new URL(target.url);
  u.username = role;
  u.password = 'owner-pw';
  ownerUrl = u.toString();
  await fillRichDatabase(ownerUrl, { rows: 501, tables: 2 });
});

afterAll(async () => {
  await target?.drop();
  await source?.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`).catch(() => {});
  store?.remove();
});

/** A backup whose archive is damaged by `damage`, with a manifest rewritten to match the damaged file. */
async function damagedBackup(damage: (file: string, size: number) => void) {
  const r = await createBackup({ env: backupEnv(source.url, 'production', { backup: { storage: { dir: store.dir } } }) });
  const dir = join(store.dir, r.id);
  const file = join(dir, 'dump.pgdump');
  damage(file, r.manifest.size);
  const { size, sha256 } = await hashFile(file);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  m.size = size;
  m.sha256 = sha256;
  m.dump.files = [{ name: 'dump.pgdump', size, sha256 }];
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
  const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');
  return { storage, manifest: await storage.readManifest(r.id) };
}

function flipBytes(file: string, at: number, n: number): void {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(n);
    readSync(fd, b, 0, n, at);
    for (let i = 0; i < n; i++) b[i] = b[i]! ^ 0xff;
    writeSync(fd, b, 0, n, at);
  } finally {
    closeSync(fd);
  }
}

describe('a restore that fails leaves the target as it was', () => {
  for (const [what, damage] of [
    ['a truncated archive', (file: string, size: number) => truncateSync(file, Math.floor(size * 0.6))],
    ['an archive with damaged table data', (file: string, size: number) => flipBytes(file, Math.floor(size * 0.5), 64)],
  ] as const) {
    it(`${what} whose manifest matches: pg_restore fails, every row of the target is still there`, async () => {
      const before = await contentsOf(ownerUrl);
      expect(before['table public.User']).toMatch(/^501 rows /);
      const { storage, manifest } = await damagedBackup(damage);
      expect(statSync(join(store.dir, manifest.id, 'dump.pgdump')).size).toBe(manifest.size);
      // Every check before the restore passes: the damage is past the table of contents.
      const prepared = await prepareRestore({ storage, manifest });
      try {
        const e = await rejection(applyRestore(prepared, backupEnv(ownerUrl, 'staging')), { [target.name]: '<db>' });
        expect(e).toMatchObject({ kind: 'backup', code: 'E_RESTORE_FAILED', message: 'staging: pg_restore failed (exit 1); <db> was left as it was (the restore runs in one transaction)' });
        expect(e.details?.join('\n')).toMatch(/pg_restore: error: /);
      } finally {
        await prepared.cleanup();
      }
      expect(await contentsOf(ownerUrl)).toEqual(before);
      expect(await query(ownerUrl, 'SELECT count(*)::int AS n FROM "User"')).toEqual([{ n: 501 }]);
    });
  }

  it('stagedb killed (SIGKILL) in the middle of a restore: the target is as it was, and nothing is left running', async () => {
    // Enough data in the backup that the restore's COPY is still running when it is killed.
    await query(source.url, `CREATE TABLE bulk AS SELECT g, md5(g::text) AS h FROM generate_series(1, 400000) g`);
    const p = createProject({
      configJson: { environments: { production: { url: { $env: 'SRC_URL' }, protection: 'none', backup: { storage: { dir: store.dir } } }, staging: { url: { $env: 'DST_URL' }, protection: 'none' } } },
      // The backup's two schemas: public and billing (whose invoices refer to public's users).
      schema: 'datasource db {\n  provider = "postgresql"\n  schemas  = ["public", "billing"]\n}\n',
    });
    try {
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SRC_URL: source.url, DST_URL: ownerUrl };
      const r = await createBackup({ env: backupEnv(source.url, 'production', { backup: { storage: { dir: store.dir } } }) });
      const before = await contentsOf(ownerUrl);
      const child = spawn(process.execPath, [BIN, 'restore', r.id, '--from', 'production', '--to', 'staging', '--allow-foreign'], { cwd: p.dir, env, stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('close', resolve));
      const app = `stagedb restore ${r.id}`.slice(0, 63);
      const copying = async () => (await query<{ n: number }>(adminUrl(), `SELECT count(*)::int AS n FROM pg_stat_progress_copy c JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1`, [app]))[0]!.n > 0;
      const deadline = Date.now() + 30_000;
      while (!(await copying())) {
        if (Date.now() > deadline) throw new Error('the restore never started copying');
        await new Promise((res) => setTimeout(res, 5));
      }
      child.kill('SIGKILL');
      await exited;
      // psql sees the end of its input without a COMMIT and goes; the server rolls back.
      const gone = Date.now() + 10_000;
      while ((await query<{ n: number }>(adminUrl(), 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]))[0]!.n > 0) {
        if (Date.now() > gone) throw new Error("the restore's session outlived stagedb");
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(await contentsOf(ownerUrl)).toEqual(before);
    } finally {
      p.remove();
      await query(source.url, 'DROP TABLE bulk');
    }
  });

  it('the owner role (no superuser, no CREATEDB) restores a good backup; the database keeps its own settings', async () => {
    await query(adminUrl(), `ALTER DATABASE ${target.name} SET stagedb.environment = 'staging'`);
    const r = await createBackup({ env: backupEnv(source.url, 'production', { backup: { storage: { dir: store.dir } } }) });
    const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');
    const prepared = await prepareRestore({ storage, manifest: r.manifest });
    try {
      const result = await applyRestore(prepared, backupEnv(ownerUrl, 'staging'));
      expect(result.migrations).toEqual({ applied: 2, last: '20240102000000_billing' });
    } finally {
      await prepared.cleanup();
    }
    expect(await contentsOf(ownerUrl)).toEqual(await contentsOf(source.url));
    expect(await query(ownerUrl, "SELECT current_setting('stagedb.environment', true) AS e")).toEqual([{ e: 'staging' }]);
  });
});
