import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, type BackupEvent } from '../../src/backup/create.js';
import { listBackups } from '../../src/backup/list.js';
import type { Progress } from '../../src/backup/progress.js';
import { applyRestore, prepareRestore } from '../../src/backup/restore.js';
import { openStorage } from '../../src/backup/storage.js';
import { verifyBackup } from '../../src/backup/verify.js';
import { backupEnv, contentsOf, fillRichDatabase, tempDir } from '../helpers/backup.js';
import { passwordOf } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';

/** Backups and restores of a database with something of every kind, on real PostgreSQL with real pg_dump/pg_restore. */
let source: FreshDatabase;
let store: ReturnType<typeof tempDir>;
let before: Record<string, string>;
const drops: FreshDatabase[] = [];

beforeAll(async () => {
  source = await freshDatabase('bk_src');
  store = tempDir();
  await fillRichDatabase(source.url);
  before = await contentsOf(source.url);
});

afterAll(async () => {
  for (const d of [source, ...drops]) await d?.drop();
  store?.remove();
});

const production = () => backupEnv(source.url, 'production', { backup: { storage: { dir: store.dir } } });

async function restoreInto(id: string, dir = store.dir) {
  const target = await freshDatabase('bk_dst');
  drops.push(target);
  const storage = await openStorage({ kind: 'local', dir }, 'production');
  const manifest = await storage.readManifest(id);
  const prepared = await prepareRestore({ storage, manifest });
  try {
    const env = backupEnv(target.url, 'staging');
    return { target, result: await applyRestore(prepared, env) };
  } finally {
    await prepared.cleanup();
  }
}

describe('backup and restore round trip (local storage)', () => {
  it('custom format: the restored database holds exactly the same rows, sequences, large objects and enum', async () => {
    const events: BackupEvent[] = [];
    const progress: Progress[] = [];
    const r = await createBackup({ env: production(), checksums: true, onEvent: (e) => events.push(e), onProgress: (p) => progress.push(p), progressIntervalMs: 20 });
    expect(r.manifest.dump.format).toBe('custom');
    expect(events[0]).toMatchObject({ type: 'plan', format: 'custom', checksums: true, pgDump: { major: expect.any(Number) } });
    expect(progress.length).toBeGreaterThan(0);

    // The manifest: what, from where, by whom, with the history at backup time; never a password.
    const m = r.manifest;
    expect(m).toMatchObject({
      format: 'stagedb-backup/1',
      environment: 'production',
      database: { name: source.name, host: '127.0.0.1', schema: 'public' },
      server: { version: expect.stringMatching(/^\d+\.\d+/) },
      pgDump: { version: expect.stringMatching(/^\d+\.\d+/) },
      reason: 'manual',
      stagedbVersion: expect.any(String),
      createdBy: { osUser: expect.any(String), host: expect.any(String) },
      checksums: { algorithm: 'hashtextextended' },
      largeObjects: { count: 2, checksum: expect.any(String) },
    });
    expect(m.migrations.applied.map((x) => x.name)).toEqual(['20240101000000_init', '20240102000000_billing']);
    expect(m.tables.find((t) => t.name === 'User')).toMatchObject({ schema: 'public', rows: 2000, checksum: expect.any(String) });
    expect(m.sequences.find((s) => s.name === 'ticket_seq')).toEqual({ schema: 'billing', name: 'ticket_seq', lastValue: '4242' });
    const raw = readFileSync(join(store.dir, r.id, 'manifest.json'), 'utf8');
    expect(raw).not.toContain(passwordOf(source.url));
    expect(raw).not.toContain('postgres://');

    const { target, result } = await restoreInto(r.id);
    expect(result).toMatchObject({ from: 'production', to: 'staging', migrations: { applied: 2, last: '20240102000000_billing' }, schemas: ['billing', 'public'] });
    expect(await contentsOf(target.url)).toEqual(before);
    // Sequences carry on where the source left off.
    expect(await query(target.url, `INSERT INTO "User" (email) VALUES ('next@example.com') RETURNING id`)).toEqual([{ id: 2001 }]);
    expect(await query(target.url, `SELECT nextval('billing.ticket_seq')::int AS v`)).toEqual([{ v: 4243 }]);
  });

  it('directory format with parallel jobs restores the same', async () => {
    const r = await createBackup({ env: production(), format: 'directory', jobs: 2 });
    expect(r.manifest.dump).toMatchObject({ format: 'directory', jobs: 2 });
    expect(r.manifest.dump.files.map((f) => f.name)).toContain('dump/toc.dat');
    expect(readdirSync(join(store.dir, r.id, 'dump')).length).toBe(r.manifest.dump.files.length);
    const { target } = await restoreInto(r.id);
    expect(await contentsOf(target.url)).toEqual(before);
  });

  it('restoring over a database that already has tables replaces them, and keeps the target\'s own audit trail', async () => {
    await query(source.url, `CREATE SCHEMA stagedb; CREATE TABLE stagedb.audit_log (id INT, environment TEXT); INSERT INTO stagedb.audit_log VALUES (7, 'production')`);
    const r = await createBackup({ env: production() });
    await query(source.url, 'DROP SCHEMA stagedb CASCADE');
    const target = await freshDatabase('bk_over');
    drops.push(target);
    await query(target.url, `CREATE TABLE "User" (id INT); CREATE TABLE leftover (x INT); CREATE SCHEMA billing; CREATE TABLE billing.old (y INT);
      CREATE SCHEMA stagedb; CREATE TABLE stagedb.audit_log (id INT, environment TEXT); INSERT INTO stagedb.audit_log VALUES (1, 'staging');
      SELECT lo_from_bytea(0, 'stale')`);
    const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');
    const prepared = await prepareRestore({ storage, manifest: await storage.readManifest(r.id) });
    try {
      const res = await applyRestore(prepared, backupEnv(target.url, 'staging'), {});
      expect(res.keptAuditTrail).toBe(true);
    } finally {
      await prepared.cleanup();
    }
    expect(await contentsOf(target.url)).toEqual(before);
    expect(await query(target.url, 'SELECT * FROM stagedb.audit_log')).toEqual([{ id: 1, environment: 'staging' }]);
  });

  it('backup verify --deep restores into a throwaway server and finds every table as it was', async () => {
    const r = await createBackup({ env: production(), checksums: true });
    const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');
    const v = await verifyBackup({ storage, manifest: r.manifest, environment: 'production', deep: true });
    expect(v.checks.map((c) => [c.name, c.ok])).toEqual([
      ['environment', true],
      ['checksum', true],
      ['pg_restore --list', true],
      ['restore', true],
      ['tables', true],
      ['large objects', true],
    ]);
    expect(v.ok).toBe(true);
    expect(v.tables?.find((t) => t.table === 'public.User')).toEqual({ table: 'public.User', rows: 2000, expectedRows: 2000, checksumOk: true });
    // The verification is stored beside the backup, and the listing shows it.
    const listed = await listBackups(production());
    expect(listed.backups.find((b) => b.id === r.id)?.verification).toMatchObject({ ok: true, deep: true });

    // The same on a server given by URL: a scratch database is created there and dropped again.
    const onUrl = await verifyBackup({ storage, manifest: r.manifest, environment: 'production', deep: true, scratchUrl: adminUrl(), record: false });
    expect(onUrl.ok).toBe(true);
    expect(await query(adminUrl(), `SELECT datname FROM pg_database WHERE datname LIKE 'stagedb_verify_%'`)).toEqual([]);
  });

  it('a deep verify finds a table whose content differs from the manifest, or whose rows do', async () => {
    const r = await createBackup({ env: production(), checksums: true });
    const storage = await openStorage({ kind: 'local', dir: store.dir }, 'production');
    // Tamper with the recorded checksum of one table: the restored data no longer matches it.
    const m = structuredClone(r.manifest);
    m.tables.find((t) => t.name === 't_05')!.checksum = '12345';
    const v = await verifyBackup({ storage, manifest: m, environment: 'production', deep: true, scratchUrl: adminUrl(), record: false });
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => c.name === 'tables')?.detail).toBe('public.t_05: same 15 rows, different content');

    // Without content checksums (the default), the exact row counts are still compared.
    const plain = await createBackup({ env: production() });
    expect(plain.manifest.checksums).toBeUndefined();
    expect(plain.manifest.tables.find((t) => t.name === 'User')).toMatchObject({ rows: 2000 });
    expect(plain.manifest.tables.find((t) => t.name === 'User')?.checksum).toBeUndefined();
    const ok = await verifyBackup({ storage, manifest: plain.manifest, environment: 'production', deep: true, scratchUrl: adminUrl(), record: false });
    expect(ok.checks.find((c) => c.name === 'tables')?.detail).toMatch(/^\d+ tables, \d+ rows: every row count as at backup time$/);
    const fewer = structuredClone(plain.manifest);
    fewer.tables.find((t) => t.name === 'invoice')!.rows = 999;
    const v2 = await verifyBackup({ storage, manifest: fewer, environment: 'production', deep: true, scratchUrl: adminUrl(), record: false });
    expect(v2.checks.find((c) => c.name === 'tables')?.detail).toBe('billing.invoice has 1000 rows, 999 at backup time');
  });
});
