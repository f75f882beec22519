import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, rejection, type ProjectSpec } from '../helpers/project.js';

/**
 * A deploy whose server session is ended under it (pg_terminate_backend, as a failover or an
 * administrator would) is a connection error, reported with what was committed and how to go on —
 * never "internal error, a bug in stagedb" (issue 12 item 5).
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(spec: ProjectSpec) {
  const db = await freshDatabase('lost');
  const project = createProject(spec);
  cleanups.push(() => db.drop(), () => project.remove());
  return { db, project, run: () => deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the deploy's session runs a statement matching `like`, then terminates it. */
async function terminateWhenRunning(db: FreshDatabase, like: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await query<{ pid: number }>(
      db.url,
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'stagedb deploy' AND state = 'active' AND query LIKE $2`,
      [db.name, like],
    );
    if (r[0]) {
      await query(db.url, 'SELECT pg_terminate_backend($1)', [r[0].pid]);
      return;
    }
    if (Date.now() > deadline) throw new Error('the deploy never reached the statement');
    await sleep(20);
  }
}

const rows = (url: string) =>
  query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(url, `SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at, migration_name`);

describe('the deploy\'s connection is ended mid-deploy', () => {
  it('inside a transactional migration: exit kind connection, what committed, what did not, how to resume', async () => {
    const { db, project, run } = await setup({
      migrations: {
        '20240101000000_a': `CREATE TABLE "a" ("id" INT);\n`,
        // Alone in its batch after "a" committed: a non-transactional file between them splits the batches.
        '20240102000000_v': `CREATE TABLE "v" ("id" INT);\nVACUUM "v";\n`,
        '20240103000000_slow': `CREATE TABLE "slow" ("id" INT);\nSELECT pg_sleep(30);\n`,
        '20240104000000_c': `CREATE TABLE "c" ("id" INT);\n`,
      },
    });
    const [err] = await Promise.all([rejection(run()), terminateWhenRunning(db, '%pg_sleep(30)%')]);
    expect(err.kind).toBe('connection');
    expect(err.code).toBe('E_CONNECTION_LOST');
    expect(err.message).toMatchInlineSnapshot(`"development: the connection to the database was lost during migration 20240103000000_slow (terminating connection due to administrator command, PostgreSQL error 57P01)"`);
    expect(err.details).toMatchInlineSnapshot(`
      [
        "committed in this run: 20240101000000_a, 20240102000000_v",
        "not committed: 20240103000000_slow, 20240104000000_c",
        "20240103000000_slow ran in one transaction: the server rolled it back, nothing of it was committed",
      ]
    `);
    expect(err.fix).toMatchInlineSnapshot(`"resume (it applies what was not committed): stagedb deploy --env development"`);
    expect((await rows(db.url)).map((r) => [r.migration_name, r.finished_at !== null])).toEqual([
      ['20240101000000_a', true],
      ['20240102000000_v', true],
    ]);
    // Resuming is a plain deploy (without the sleep, to keep the test short).
    project.addMigration('20240103000000_slow', `CREATE TABLE "slow" ("id" INT);\n`);
    const again = await run();
    expect(again.applied.map((a) => a.name)).toEqual(['20240103000000_slow', '20240104000000_c']);
  }, 40_000);
});
