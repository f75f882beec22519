import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, type DeployEvent } from '../../src/history/deploy.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, environmentFor } from '../helpers/project.js';

/**
 * A migration chosen as a deadlock's victim was rolled back whole by PostgreSQL: deploy runs it again
 * after a back-off, like a lock timeout, instead of failing the release. Found by
 * bench/zero-downtime.mjs: a foreign key dropped and re-added (Prisma's onDelete change) locks the
 * referencing table, then the referenced one, while the app writes them in the other order.
 */
const INIT = 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY, "v" INTEGER);\nCREATE TABLE "B" ("id" INTEGER PRIMARY KEY);\nINSERT INTO "A" VALUES (1, 0);\n';
const MIGRATION = 'ALTER TABLE "B" ADD COLUMN "x" INTEGER;\nALTER TABLE "A" ADD COLUMN "y" INTEGER;\n';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('deploy and a deadlock', () => {
  it('runs the victim migration again and applies it', async () => {
    const db = await freshDatabase('deadlock');
    const project = createProject({ migrations: { '20240101000000_init': INIT } });
    cleanups.push(() => db.drop(), () => project.remove());
    const env = environmentFor(db.url);
    await deploy({ env, migrationsDir: project.migrationsDir });
    mkdirSync(join(project.migrationsDir, '20240102000000_columns'));
    writeFileSync(join(project.migrationsDir, '20240102000000_columns', 'migration.sql'), MIGRATION);

    // The app: writes "A", then (once the migration holds "B" and waits for "A") writes "B".
    const app = new pg.Client({ connectionString: db.url, application_name: 'app' });
    await app.connect();
    cleanups.push(() => app.end().catch(() => {}));
    await app.query('BEGIN');
    await app.query('UPDATE "A" SET v = v + 1 WHERE id = 1');
    const events: DeployEvent[] = [];
    const deploying = deploy({ env, migrationsDir: project.migrationsDir, lockRetryDelayMs: 100, onEvent: (e) => events.push(e) });
    for (let i = 0; i < 100; i++) {
      const [w] = await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.application_name LIKE 'stagedb%'`);
      if (w!.n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await app.query('INSERT INTO "B" VALUES (1)');
    await app.query('COMMIT');
    const r = await deploying;
    expect(r.applied.map((a) => a.name)).toEqual(['20240102000000_columns']);
    expect(events.filter((e) => e.type === 'lock-retry')).toMatchObject([{ type: 'lock-retry', name: '20240102000000_columns', attempt: 1, cause: 'deadlock' }]);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name IN ('x', 'y')`)).toEqual([{ n: 2 }]);
    expect(await query(db.url, 'SELECT id FROM "B"')).toEqual([{ id: 1 }]);
  });
});
