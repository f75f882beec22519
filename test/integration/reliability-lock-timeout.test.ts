import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../../src/config/environments.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { deploy, type DeployEvent } from '../../src/history/deploy.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, rejection, type TempProject } from '../helpers/project.js';

/**
 * Lock-safe DDL: a migration that needs a lock a long transaction holds waits at most lock_timeout
 * per attempt, is retried with back-off a bounded number of times, and fails cleanly; other
 * sessions never queue behind it for much longer than lock_timeout. Timings are bounds with wide
 * margins (the machine is shared), never benchmarks.
 */
const INIT = `CREATE TABLE "T" ("id" INTEGER PRIMARY KEY, "v" TEXT);\nINSERT INTO "T" SELECT g, 'row ' || g FROM generate_series(1, 1000) g;\n`;
const ADD_COLUMN = `-- AlterTable\nALTER TABLE "T" ADD COLUMN "c" INTEGER;\n`;

const LOCK_TIMEOUT = 300;
const DELAY = 100;
const RETRIES = 3;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ db: FreshDatabase; project: TempProject }> {
  const db = await freshDatabase('rel_lock');
  const project = createProject({ migrations: { '20240101000000_init': INIT } });
  cleanups.push(() => db.drop(), () => project.remove());
  await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir });
  return { db, project };
}

/** A session with an open transaction that has touched "T": what the migration will queue behind. */
async function blocker(url: string, sql = 'SELECT count(*) FROM "T"'): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: url, application_name: 'nightly-report' });
  await client.connect();
  cleanups.push(() => client.end().catch(() => {}));
  await client.query('BEGIN');
  await client.query(sql);
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  return { client, pid };
}

/**
 * The application meanwhile: reads "T" over and over on its own connection, and records how long
 * each read took. A read issued while an ALTER waits for its lock queues behind that ALTER.
 */
function reader(url: string): { stop(): Promise<{ reads: number; maxMs: number }> } {
  const client = new pg.Client({ connectionString: url, application_name: 'app-reader' });
  let running = true;
  let reads = 0;
  let maxMs = 0;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const t0 = performance.now();
      await client.query('SELECT count(*) FROM "T"');
      maxMs = Math.max(maxMs, performance.now() - t0);
      reads++;
      await new Promise((r) => setTimeout(r, 10));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { reads, maxMs };
    },
  };
}

const columns = async (url: string) => (await query<{ c: string }>(url, `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'T' ORDER BY ordinal_position`)).map((r) => r.c);
const retries = (events: DeployEvent[]) => events.filter((e): e is Extract<DeployEvent, { type: 'lock-retry' }> => e.type === 'lock-retry');

describe('a migration blocked by a long transaction', () => {
  it('waits at most lock_timeout per attempt, retries with back-off, then fails cleanly naming the blocker', async () => {
    const { db, project } = await setup();
    project.addMigration('20240102000000_add_c', ADD_COLUMN);
    const b = await blocker(db.url);
    const app = reader(db.url);
    const events: DeployEvent[] = [];
    const t0 = performance.now();
    const err = await rejection(
      deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, ddlLockTimeoutMs: LOCK_TIMEOUT, lockRetries: RETRIES, lockRetryDelayMs: DELAY, onEvent: (e) => events.push(e) }),
      { [`pid ${b.pid},`]: 'pid <blocker>,', [`pg_terminate_backend(${b.pid})`]: 'pg_terminate_backend(<blocker>)' },
    );
    const elapsed = performance.now() - t0;
    const { reads, maxMs } = await app.stop();

    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_FAILED",
        "details": [
          "at 20240102000000_add_c/migration.sql:2:1",
          "statement: ALTER TABLE "T" ADD COLUMN "c" INTEGER",
          "PostgreSQL error 55P03",
          "lock: waited the lock_timeout of 300 ms for a lock and was cancelled, 4 times (3 retries)",
          "blocked by: pid <blocker>, nightly-report, user postgres from 127.0.0.1, idle in transaction (transaction since <time>), holding AccessShareLock on T",
          "committed: nothing of it was committed (it ran in one transaction)",
        ],
        "fix": "the migration itself is fine: another session held a lock it needs. When that session is done (or ended: SELECT pg_terminate_backend(<blocker>);): stagedb deploy --env development   (nothing of it was committed: deploy runs it again); or raise ddlLockTimeout / lockRetries for development in the stagedb config",
        "kind": "migration",
        "message": "development: migration 20240102000000_add_c failed: canceling statement due to lock timeout",
      }
    `);
    // Each retry reported, with a growing, jittered back-off and the session it waited for.
    const r = retries(events);
    expect(r.map((e) => [e.name, e.attempt, e.of, e.lockTimeoutMs])).toEqual([
      ['20240102000000_add_c', 1, 3, 300],
      ['20240102000000_add_c', 2, 3, 300],
      ['20240102000000_add_c', 3, 3, 300],
    ]);
    r.forEach((e, i) => {
      expect(e.waitMs).toBeGreaterThanOrEqual(DELAY * 2 ** i * 0.75);
      expect(e.waitMs).toBeLessThanOrEqual(DELAY * 2 ** i * 1.25);
      expect(e.blocker).toMatchObject({ pid: b.pid, applicationName: 'nightly-report', state: 'idle in transaction', relation: 'T', mode: 'AccessShareLock' });
    });
    // Bounded: four waits of lock_timeout, the back-offs, one short replay to locate the statement.
    const waits = r.reduce((n, e) => n + e.waitMs, 0);
    expect(elapsed).toBeGreaterThanOrEqual(4 * LOCK_TIMEOUT + waits);
    expect(elapsed).toBeLessThan(5 * LOCK_TIMEOUT + waits + 3000);
    // No pile-up: the application kept reading, never stuck behind the ALTER much longer than lock_timeout.
    expect(reads).toBeGreaterThan(10);
    expect(maxMs).toBeLessThan(LOCK_TIMEOUT + 1000);

    // Clean: the column is not there, the attempt is recorded as failed (status will say so), the
    // deploy's session is gone (and with it the workflow lock), the blocker's transaction is intact.
    expect(await columns(db.url)).toEqual(['id', 'v']);
    const rows = await query<{ migration_name: string; finished_at: Date | null; logs: string | null }>(db.url, `SELECT migration_name, finished_at, logs FROM _prisma_migrations WHERE migration_name = '20240102000000_add_c'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.finished_at).toBeNull();
    expect(rows[0]!.logs).toContain('Database error code: 55P03');
    expect(await query(db.url, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'stagedb%'`)).toEqual([]);
    expect((await b.client.query('SELECT count(*)::int AS n FROM "T"')).rows[0]).toEqual({ n: 1000 });
    await b.client.query('COMMIT');
  });

  it('succeeds when the blocker commits during the retries', async () => {
    const { db, project } = await setup();
    project.addMigration('20240102000000_add_c', ADD_COLUMN);
    const b = await blocker(db.url);
    const events: DeployEvent[] = [];
    const result = await deploy({
      env: environmentFor(db.url),
      migrationsDir: project.migrationsDir,
      ddlLockTimeoutMs: LOCK_TIMEOUT,
      lockRetries: RETRIES,
      lockRetryDelayMs: DELAY,
      onEvent: (e) => {
        events.push(e);
        // The long transaction ends while deploy backs off after its first timeout.
        if (e.type === 'lock-retry' && e.attempt === 1) void b.client.query('COMMIT');
      },
    });
    expect(result.applied.map((a) => a.name)).toEqual(['20240102000000_add_c']);
    expect(retries(events).map((e) => e.attempt)).toEqual([1]);
    expect(events.filter((e) => e.type === 'apply-start').map((e) => e.type === 'apply-start' && e.name)).toEqual(['20240102000000_add_c']);
    expect(await columns(db.url)).toEqual(['id', 'v', 'c']);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL`)).toEqual([{ n: 2 }]);
  });

  it('in a batch: the migrations before the blocked one stay committed; the retry resumes at the blocked one', async () => {
    const { db, project } = await setup();
    project.addMigration('20240102000000_other', 'CREATE TABLE "U" ("id" INTEGER PRIMARY KEY);\n');
    project.addMigration('20240103000000_add_c', ADD_COLUMN);
    project.addMigration('20240104000000_more', 'CREATE TABLE "V" ("id" INTEGER PRIMARY KEY);\n');
    const b = await blocker(db.url);
    const events: DeployEvent[] = [];
    const result = await deploy({
      env: environmentFor(db.url),
      migrationsDir: project.migrationsDir,
      ddlLockTimeoutMs: LOCK_TIMEOUT,
      lockRetries: RETRIES,
      lockRetryDelayMs: DELAY,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'lock-retry' && e.attempt === 2) void b.client.query('COMMIT');
      },
    });
    expect(result.applied.map((a) => a.name)).toEqual(['20240102000000_other', '20240103000000_add_c', '20240104000000_more']);
    expect(retries(events).map((e) => [e.name, e.attempt])).toEqual([
      ['20240103000000_add_c', 1],
      ['20240103000000_add_c', 2],
    ]);
    const names = await query<{ migration_name: string }>(db.url, `SELECT migration_name FROM _prisma_migrations ORDER BY migration_name`);
    // Exactly one row each: a retried migration leaves no failed attempt behind.
    expect(names.map((n) => n.migration_name)).toEqual(['20240101000000_init', '20240102000000_other', '20240103000000_add_c', '20240104000000_more']);
  });

  it('outside a transaction: CREATE INDEX CONCURRENTLY is retried, and the invalid index its cancelled attempt left is dropped first', async () => {
    const { db, project } = await setup();
    project.addMigration('20240102000000_index', `-- CreateIndex\nCREATE INDEX CONCURRENTLY "T_v_idx" ON "T" ("v");\n`);
    // A writer's open transaction: CREATE INDEX CONCURRENTLY records the index, then waits for it.
    const b = await blocker(db.url, `UPDATE "T" SET v = v WHERE id = 1`);
    const events: DeployEvent[] = [];
    let leftover: unknown[] = [];
    const result = await deploy({
      env: environmentFor(db.url),
      migrationsDir: project.migrationsDir,
      ddlLockTimeoutMs: LOCK_TIMEOUT,
      lockRetries: RETRIES,
      lockRetryDelayMs: DELAY,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'lock-retry' && e.attempt === 1) {
          void (async () => {
            leftover = await query(db.url, `SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'T_v_idx'`);
            await b.client.query('COMMIT');
          })();
        }
      },
    });
    expect(result.applied.map((a) => [a.name, a.mode])).toEqual([['20240102000000_index', 'statements']]);
    expect(retries(events).length).toBeGreaterThanOrEqual(1);
    // The cancelled attempt did leave an invalid index behind…
    expect(leftover).toEqual([{ relname: 'T_v_idx', indisvalid: false }]);
    // …and the migration ends with exactly one valid index of that name.
    expect(await query(db.url, `SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'T_v_idx%'`)).toEqual([{ relname: 'T_v_idx', indisvalid: true }]);
  });

  it('a file with its own BEGIN … COMMIT around all of it is retried as a whole', async () => {
    const { db, project } = await setup();
    project.addMigration('20240102000000_enum', `BEGIN;\nCREATE TYPE "Kind" AS ENUM ('A', 'B');\nALTER TABLE "T" ADD COLUMN "kind" "Kind";\nCOMMIT;\n`);
    const b = await blocker(db.url);
    const events: DeployEvent[] = [];
    const result = await deploy({
      env: environmentFor(db.url),
      migrationsDir: project.migrationsDir,
      ddlLockTimeoutMs: LOCK_TIMEOUT,
      lockRetries: RETRIES,
      lockRetryDelayMs: DELAY,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'lock-retry' && e.attempt === 1) void b.client.query('COMMIT');
      },
    });
    expect(result.applied.map((a) => [a.name, a.mode])).toEqual([['20240102000000_enum', 'file-managed']]);
    expect(retries(events).map((e) => e.attempt)).toEqual([1]);
    expect(await columns(db.url)).toEqual(['id', 'v', 'kind']);
  });

  it('other errors are never retried: a statement_timeout cancels the migration at once', async () => {
    const { db, project } = await setup();
    project.addMigration('20240102000000_slow', 'SELECT pg_sleep(5);\n');
    const events: DeployEvent[] = [];
    const t0 = performance.now();
    const err = await rejection(deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, statementTimeoutMs: 200, lockRetryDelayMs: DELAY, onEvent: (e) => events.push(e) }));
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(err.code).toBe('E_MIGRATION_FAILED');
    expect(err.details).toContain('PostgreSQL error 57014');
    expect(err.message).toContain('canceling statement due to statement timeout');
    expect(retries(events)).toEqual([]);
  });
});

describe('the session settings come from the environment config', () => {
  const root = join('/nonexistent', 'stagedb-config');
  const configWith = (url: string, extra: Record<string, unknown>): ResolvedConfig => ({
    root,
    schemaPath: join(root, 'prisma', 'schema.prisma'),
    migrationsDir: join(root, 'prisma', 'migrations'),
    environments: { staging: { url, protection: 'guarded', ...extra } },
    warnings: [],
  });
  const PROBE = `CREATE TABLE "settings" AS SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout, current_setting('client_connection_check_interval', true) AS check_interval;\n`;

  it('defaults: lock_timeout 5 s, statement_timeout left to the server, 3 retries; configured values win', async () => {
    const db = await freshDatabase('rel_settings');
    cleanups.push(() => db.drop());
    const defaults = resolveEnvironment(configWith(db.url, {}), 'staging', { processEnv: {} });
    expect([defaults.lockTimeoutMs, defaults.statementTimeoutMs, defaults.lockRetries]).toEqual([5000, undefined, 3]);
    const p1 = createProject({ migrations: { '20240101000000_probe': PROBE } });
    cleanups.push(() => p1.remove());
    await deploy({ env: defaults, migrationsDir: p1.migrationsDir });
    const version = Number((await query<{ v: string }>(db.url, `SELECT current_setting('server_version_num') AS v`))[0]!.v);
    expect(await query(db.url, 'SELECT * FROM settings')).toEqual([{ lock_timeout: '5s', statement_timeout: '0', check_interval: version >= 140000 ? '1s' : null }]);

    const db2 = await freshDatabase('rel_settings');
    cleanups.push(() => db2.drop());
    const set = resolveEnvironment(configWith(db2.url, { ddlLockTimeout: 1234, statementTimeout: 60_000, lockRetries: 0 }), 'staging', { processEnv: {} });
    expect([set.lockTimeoutMs, set.statementTimeoutMs, set.lockRetries]).toEqual([1234, 60_000, 0]);
    await deploy({ env: set, migrationsDir: p1.migrationsDir });
    expect(await query(db2.url, 'SELECT lock_timeout, statement_timeout FROM settings')).toEqual([{ lock_timeout: '1234ms', statement_timeout: '1min' }]);
  });

  it('the config validator reports bad values, all at once', () => {
    const r = validateConfig({ environments: { staging: { url: 'postgresql://h/db', ddlLockTimeout: -1, statementTimeout: 1.5, lockRetries: 1.5 }, production: { url: 'postgresql://h/db', ddlLockTimeout: '5s', lockRetries: 11 } } });
    expect(r.errors).toEqual([
      'environments.staging.ddlLockTimeout: must be 0 or more',
      'environments.staging.statementTimeout: must be a whole number of milliseconds',
      'environments.staging.lockRetries: must be a whole number',
      'environments.production.ddlLockTimeout: expected number, got string',
      'environments.production.lockRetries: must be at most 10',
    ]);
    expect(validateConfig({ environments: { staging: { url: 'postgresql://h/db', ddlLockTimeout: 0, statementTimeout: 0, lockRetries: 0 } } }).errors).toEqual([]);
  });
});
