import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../../src/backup/create.js';
import { listBackups } from '../../src/backup/list.js';
import { findPgBinDir } from '../../src/pg/find-binaries.js';
import { backupEnv, fillRichDatabase, tempDir } from '../helpers/backup.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { rejection } from '../helpers/project.js';

/**
 * The connection that exports the dump's snapshot stays open while pg_dump runs: what the server may
 * do to an idle transaction must not cost a finished dump, and a failed dump must not wait for the
 * row counts that run beside it.
 */
let db: FreshDatabase;
let store: ReturnType<typeof tempDir>;
let bin: string;

/** A directory with PostgreSQL's pg_restore and a pg_dump wrapper running `script` (sh) before, or instead of, the real one. */
function toolsDir(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagedb-tools-'));
  writeFileSync(join(dir, 'pg_dump'), `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "${bin}/pg_dump" --version; fi\n${script}\n`);
  chmodSync(join(dir, 'pg_dump'), 0o755);
  symlinkSync(join(bin, 'pg_restore'), join(dir, 'pg_restore'));
  return dir;
}

beforeAll(async () => {
  bin = (await findPgBinDir()).binDir;
  db = await freshDatabase('bk_session');
  store = tempDir();
  await fillRichDatabase(db.url, { rows: 300, tables: 3 });
});

afterAll(async () => {
  await db?.drop();
  store?.remove();
});

describe('the snapshot-exporting session', () => {
  it("a server that ends idle transactions (idle_in_transaction_session_timeout) does not end a backup whose pg_dump is still starting", async () => {
    // New sessions of this database time out after 300 ms idle in a transaction; pg_dump imports the snapshot after 1 s.
    await query(db.url, `ALTER DATABASE "${db.name}" SET idle_in_transaction_session_timeout = '300ms'`);
    const tools = toolsDir(`sleep 1\nexec "${bin}/pg_dump" "$@"`);
    try {
      const env = backupEnv(db.url, 'production', { backup: { storage: { dir: store.dir } } });
      const r = await createBackup({ env, processEnv: { PATH: process.env.PATH, STAGEDB_PG_BIN: tools } });
      expect(r.manifest.tables.find((t) => t.name === 'User')?.rows).toBe(300);
      expect((await listBackups(env)).backups.map((b) => b.id)).toContain(r.id);
    } finally {
      await query(db.url, `ALTER DATABASE "${db.name}" RESET idle_in_transaction_session_timeout`);
      rmSync(tools, { recursive: true, force: true });
    }
  });

  it('a pg_dump that fails is reported without waiting for the row counts beside it (they are cancelled)', async () => {
    // Another session holds a table the counts must read: without the cancel, the backup would wait for it.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN; LOCK TABLE "User" IN ACCESS EXCLUSIVE MODE');
    const tools = toolsDir('echo "pg_dump: error: simulated failure" >&2\nexit 1');
    const dir = tempDir();
    try {
      const env = backupEnv(db.url, 'production', { backup: { storage: { dir: dir.dir } } });
      const e = await rejection(createBackup({ env, processEnv: { PATH: process.env.PATH, STAGEDB_PG_BIN: tools } }));
      expect(e.code).toBe('E_PG_DUMP_FAILED');
      expect(e.details).toContain('pg_dump: error: simulated failure');
      expect((await listBackups(env)).backups).toEqual([]);
      // Nothing of the backup's is left running on the server.
      const left = await query(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'stagedb backup%' AND state <> 'idle'`, [db.name]);
      expect(left).toEqual([{ n: 0 }]);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
      rmSync(tools, { recursive: true, force: true });
      dir.remove();
    }
  }, 20_000);
});
