import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { environmentStatus } from '../../src/history/status.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
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

describe('inside a batch of transactional migrations', () => {
  it('names the migration that was cut off, not the batch\'s first, which committed', async () => {
    const { db, run } = await setup({
      migrations: {
        '20240101000000_a': `CREATE TABLE "a" ("id" INT);\n`,
        '20240102000000_slow': `CREATE TABLE "slow" ("id" INT);\nSELECT pg_sleep(30);\n`,
        '20240103000000_c': `CREATE TABLE "c" ("id" INT);\n`,
      },
    });
    const [err] = await Promise.all([rejection(run()), terminateWhenRunning(db, '%pg_sleep(30)%')]);
    expect(err.message).toContain('lost during migration 20240102000000_slow');
    expect(err.details?.slice(0, 3)).toEqual([
      'committed in this run: 20240101000000_a',
      'not committed: 20240102000000_slow, 20240103000000_c',
      '20240102000000_slow ran in one transaction: the server rolled it back, nothing of it was committed',
    ]);
  }, 40_000);
});

describe('through the CLI', () => {
  it('exit 3 (a connection error, not 70 "internal"), with the report on stderr', async () => {
    const db = await freshDatabase('lost_cli');
    const project = createProject({
      migrations: { '20240101000000_a': `CREATE TABLE "a" ("id" INT);\nSELECT pg_sleep(30);\n` },
      envFiles: { '.env': { DATABASE_URL: db.url } },
    });
    cleanups.push(() => db.drop(), () => project.remove());
    const [r] = await Promise.all([runCli(['migrate', 'deploy'], { cwd: project.dir }), terminateWhenRunning(db, '%pg_sleep(30)%')]);
    expect(r.code, r.all).toBe(3);
    expect(r.stderr).toContain('error: development: the connection to the database was lost during migration 20240101000000_a');
    expect(r.stderr).toContain('committed in this run: none');
    expect(r.stderr).toContain('fix: resume (it applies what was not committed): stagedb deploy --env development');
    expect(r.stderr).not.toContain('bug in stagedb');
  }, 40_000);
});

/**
 * Issue 12 item 6 and issue 15 item 5: a file that does not run as one transaction records, in its
 * row's logs, how far it got; when nothing of an attempt was committed, the next deploy runs the
 * migration again by itself; when some was, the refusal names the statements. The row stays one
 * Prisma reads as failed (finished_at and rolled_back_at NULL) until then.
 */
describe('an attempt that was cut off or failed, and the next deploy', () => {
  const INIT = { '20240101000000_t': `CREATE TABLE "t" ("id" INT);\n` };
  const failedRow = async (url: string, name: string) =>
    (await query<{ finished_at: Date | null; rolled_back_at: Date | null; logs: string | null; applied_steps_count: number }>(url, `SELECT * FROM _prisma_migrations WHERE migration_name = $1 ORDER BY started_at`, [name]));

  it('statement by statement, killed in its first statement: nothing committed, the next deploy runs it again', async () => {
    const name = '20240102000000_idx';
    const { db, project, run } = await setup({ migrations: { ...INIT, [name]: `SELECT pg_sleep(30);\nCREATE INDEX CONCURRENTLY "t_id_idx" ON "t" ("id");\n` } });
    const [err] = await Promise.all([rejection(run()), terminateWhenRunning(db, '%pg_sleep(30)%')]);
    expect(err.code).toBe('E_CONNECTION_LOST');
    expect(err.details).toMatchInlineSnapshot(`
      [
        "committed in this run: 20240101000000_t",
        "not committed: 20240102000000_idx",
        "20240102000000_idx does not run in one transaction: none of its 2 statements was committed; the next deploy runs it again",
      ]
    `);
    expect(err.fix).toMatchInlineSnapshot(`"resume (it applies what was not committed): stagedb deploy --env development"`);
    // What Prisma reads: a failed migration (it would refuse, P3009).
    const [row] = await failedRow(db.url, name);
    expect(row).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    project.addMigration(name, `SELECT pg_sleep(0);\nCREATE INDEX CONCURRENTLY "t_id_idx" ON "t" ("id");\n`);
    const events: string[] = [];
    const again = await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, onEvent: (e) => e.type === 'retry' && events.push(e.name) });
    expect(again.applied.map((a) => a.name)).toEqual([name]);
    expect(events).toEqual([name]);
    const rows2 = await failedRow(db.url, name);
    expect(rows2.map((r) => [r.finished_at !== null, r.rolled_back_at !== null, r.logs])).toEqual([
      [false, true, row!.logs],
      [true, false, null],
    ]);
  }, 40_000);

  it('its own BEGIN … COMMIT, killed inside: nothing committed, the next deploy runs it again', async () => {
    const name = '20240102000000_enum';
    const file = (s: number) => `BEGIN;\nCREATE TABLE "x" ("id" INT);\nSELECT pg_sleep(${s});\nCOMMIT;\n`;
    const { db, project, run } = await setup({ migrations: { ...INIT, [name]: file(30) } });
    const [err] = await Promise.all([rejection(run()), terminateWhenRunning(db, '%pg_sleep(30)%')]);
    expect(err.code).toBe('E_CONNECTION_LOST');
    expect(err.fix).toBe('resume (it applies what was not committed): stagedb deploy --env development');
    expect(await query(db.url, `SELECT to_regclass('x') AS x`)).toEqual([{ x: null }]);
    project.addMigration(name, file(0));
    expect((await run()).applied.map((a) => a.name)).toEqual([name]);
  }, 40_000);

  it('killed after some statements committed: the next deploy refuses and names them', async () => {
    const name = '20240102000000_mixed';
    const file = `CREATE TABLE "p" ("id" INT);\nSELECT pg_sleep(30);\nCREATE INDEX CONCURRENTLY "p_id_idx" ON "p" ("id");\n`;
    const { db, run } = await setup({ migrations: { ...INIT, [name]: file } });
    const [err] = await Promise.all([rejection(run()), terminateWhenRunning(db, '%pg_sleep(30)%')]);
    expect(err.details).toMatchInlineSnapshot(`
      [
        "committed in this run: 20240101000000_t",
        "not committed: 20240102000000_mixed",
        "20240102000000_mixed does not run in one transaction: statement 1 of 3 (line 1) was committed; statements 2–3 (lines 2–3) were not",
      ]
    `);
    const refused = await rejection(run());
    expect(refused).toMatchInlineSnapshot(`
      {
        "code": "E_FAILED_MIGRATION",
        "details": [
          "committed: statement 1 of 3 (line 1) was committed; statements 2–3 (lines 2–3) were not",
        ],
        "fix": "either undo what statement 1 did, then: stagedb migrate resolve --rolled-back 20240102000000_mixed --env development && stagedb deploy --env development   (the whole file runs again); or finish it by hand — run statements 2–3 — then: stagedb migrate resolve --applied 20240102000000_mixed --env development",
        "kind": "history",
        "message": "development: migration 20240102000000_mixed failed (started <time>) and blocks new deploys (Prisma P3009)",
      }
    `);
  }, 40_000);

  it('killed inside a statement that runs outside a transaction: "may have been committed", with that statement', async () => {
    const name = '20240102000000_cic';
    const { db, project, run } = await setup({ migrations: INIT });
    await run();
    project.addMigration(name, `CREATE INDEX CONCURRENTLY "t_id_idx" ON "t" ("id");\n`);
    // A writer's open transaction on "t": CREATE INDEX CONCURRENTLY waits for it to end.
    const pg = await import('pg');
    const writer = new pg.default.Client({ connectionString: db.url });
    await writer.connect();
    cleanups.push(() => writer.end());
    await writer.query(`BEGIN; INSERT INTO "t" VALUES (1)`);
    const [err] = await Promise.all([
      rejection(deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, ddlLockTimeoutMs: 0 })),
      terminateWhenRunning(db, '%CONCURRENTLY%'),
    ]);
    await writer.query('ROLLBACK');
    expect(err.code).toBe('E_CONNECTION_LOST');
    const refused = await rejection(run());
    expect(refused.code).toBe('E_FAILED_MIGRATION');
    expect(refused.details?.at(-1)).toMatchInlineSnapshot(`"committed: statement 1 (line 1): CREATE INDEX CONCURRENTLY "t_id_idx" ON "t" ("id") may have been committed (it runs outside a transaction and was cut off)"`);
    expect(refused.fix).toMatchInlineSnapshot(`"either undo what statement 1 did (statement 1 may not have committed), then: stagedb migrate resolve --rolled-back 20240102000000_cic --env development && stagedb deploy --env development   (the whole file runs again); or finish it by hand — run statement 1 if it did not commit — then: stagedb migrate resolve --applied 20240102000000_cic --env development"`);
  }, 40_000);

  it('a transactional migration that failed is run again by the next deploy once fixed, without migrate resolve', async () => {
    const name = '20240102000000_bad';
    const { db, project, run } = await setup({ migrations: { ...INIT, [name]: `ALTER TABLE "t" ADD COLUMN "v" INT NOT NULL DEFAULT 1 / 0;\n` } });
    const err = await rejection(run());
    expect(err.fix).toMatchInlineSnapshot(`"fix migration.sql, then: stagedb deploy --env development   (nothing of it was committed: deploy runs it again; if you complete it by hand instead: stagedb migrate resolve --applied 20240102000000_bad --env development)"`);
    const [row] = await failedRow(db.url, name);
    expect(row).toMatchObject({ finished_at: null, rolled_back_at: null });
    const st = await environmentStatus(environmentFor(db.url), readLocalHistory(project.migrationsDir));
    expect(st.state).toBe('pending');
    expect(st.history?.retrying.map((e) => e.name)).toEqual([name]);
    project.addMigration(name, `ALTER TABLE "t" ADD COLUMN "v" INT NOT NULL DEFAULT 1;\n`);
    expect((await run()).applied.map((a) => a.name)).toEqual([name]);
  });
});
