import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, type DeployEvent } from '../../src/history/deploy.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, environmentFor } from '../helpers/project.js';

/**
 * Deploy runs the zero-downtime steps the safe way: an invalid index left by an interrupted
 * `CREATE INDEX CONCURRENTLY` is dropped and rebuilt on the next deploy (with IF NOT EXISTS it would
 * otherwise be kept, broken), and a build that lasts reports PostgreSQL's own progress.
 */
const INIT = `CREATE TABLE "T" ("id" INTEGER PRIMARY KEY, "v" TEXT);\nINSERT INTO "T" SELECT g, 'row ' || g FROM generate_series(1, 1000) g;\n`;
const UNIQUE = 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "T_v_key" ON "T"("v");\n';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const db = await freshDatabase('cic');
  const project = createProject({ migrations: { '20240101000000_init': INIT } });
  cleanups.push(() => db.drop(), () => project.remove());
  const env = environmentFor(db.url);
  await deploy({ env, migrationsDir: project.migrationsDir });
  const add = (name: string, sql: string) => {
    mkdirSync(join(project.migrationsDir, name));
    writeFileSync(join(project.migrationsDir, name, 'migration.sql'), sql);
  };
  return { db, env, project, add };
}

const valid = async (url: string, index: string) => (await query<{ valid: boolean }>(url, `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`, [index])).map((r) => r.valid);

describe('deploy and CREATE INDEX CONCURRENTLY', () => {
  it('drops the invalid leftover of an interrupted build and builds the index again, valid', async () => {
    const { db, env, project, add } = await setup();
    // An interrupted build, as a killed deploy leaves it: the catalog entry committed, the index invalid.
    await query(db.url, `UPDATE "T" SET v = 'dup' WHERE id IN (1, 2)`);
    await expect(query(db.url, UNIQUE)).rejects.toThrow(/could not create unique index/);
    expect(await valid(db.url, 'T_v_key')).toEqual([false]);
    await query(db.url, `UPDATE "T" SET v = 'row 2' WHERE id = 2`);

    add('20240102000000_unique_v', UNIQUE);
    const events: DeployEvent[] = [];
    const r = await deploy({ env, migrationsDir: project.migrationsDir, onEvent: (e) => events.push(e) });
    expect(r.applied.map((a) => [a.name, a.mode])).toEqual([['20240102000000_unique_v', 'statements']]);
    expect(events.filter((e) => e.type === 'invalid-index-dropped')).toEqual([{ type: 'invalid-index-dropped', env: 'development', name: '20240102000000_unique_v', index: 'public."T_v_key"' }]);
    expect(await valid(db.url, 'T_v_key')).toEqual([true]);
    await expect(query(db.url, `INSERT INTO "T" VALUES (5000, 'row 3')`)).rejects.toThrow(/duplicate key/);
  });

  it('reports the build\'s progress while it waits for a writer, from pg_stat_progress_create_index', async () => {
    const { db, env, project, add } = await setup();
    add('20240102000000_index_v', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "T_v_idx" ON "T"("v");\n');
    // A writer in an open transaction: the build waits for it ("waiting for writers before build").
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    cleanups.push(() => writer.end().catch(() => {}));
    await writer.query(`BEGIN; UPDATE "T" SET v = v WHERE id = 1`);
    const events: DeployEvent[] = [];
    const deploying = deploy({ env, migrationsDir: project.migrationsDir, progressIntervalMs: 50, onEvent: (e) => events.push(e) });
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'index-progress'); i++) await new Promise((r) => setTimeout(r, 50));
    await writer.query('COMMIT');
    await deploying;
    const progress = events.filter((e): e is Extract<DeployEvent, { type: 'index-progress' }> => e.type === 'index-progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ name: '20240102000000_index_v', index: 'T_v_idx', phase: 'waiting for writers before build' });
    expect(await valid(db.url, 'T_v_idx')).toEqual([true]);
    // The watcher's connection is gone with the build.
    expect(await query(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE '%deploy progress%'`)).toEqual([{ n: 0 }]);
  });
});
