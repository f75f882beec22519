import { afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * Eight `stagedb migrate deploy` processes (the built binary) started at once against one database,
 * several rounds, each on a fresh database. The history takes a few seconds on purpose (pg_sleep),
 * so the others arrive while the first one holds the deploy lock. Every migration also appends to
 * "ran": a migration that ran twice would show there even if its DDL were idempotent.
 */
const PROCESSES = 8;
const ROUNDS = 3;

const step = (n: number) => `CREATE TABLE "t${n}" ("id" INTEGER PRIMARY KEY);\nINSERT INTO "ran" VALUES ('${n}');\nSELECT pg_sleep(0.3);\n`;
const MIGRATIONS: Record<string, string> = {
  '20240101000000_ran': `CREATE TABLE "ran" ("migration" TEXT NOT NULL);\n`,
  '20240102000000_t1': step(1),
  '20240103000000_t2': step(2),
  // Outside a transaction: Prisma's row protocol (start row, statements, finish) under contention too.
  '20240104000000_t1_index': `CREATE INDEX CONCURRENTLY "t1_id_idx" ON "t1" ("id");\nINSERT INTO "ran" VALUES ('index');\nSELECT pg_sleep(0.3);\n`,
  '20240105000000_t3': step(3),
  '20240106000000_t4': step(4),
};
const NAMES = Object.keys(MIGRATIONS);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function round(extraArgs: string[]): Promise<{ db: FreshDatabase; results: CliResult[] }> {
  const db = await freshDatabase('rel_conc');
  forbidInOutput(passwordOf(db.url));
  const project: TempProject = createProject({ migrations: MIGRATIONS, envFiles: { '.env': { DATABASE_URL: db.url } } });
  cleanups.push(() => db.drop(), () => project.remove());
  const results = await Promise.all(Array.from({ length: PROCESSES }, () => runCli(['migrate', 'deploy', ...extraArgs], { cwd: project.dir, timeoutMs: 60_000 })));
  return { db, results };
}

/** Every migration applied exactly once: one finished row each, each migration's body ran once, the schema is whole. */
async function expectAppliedExactlyOnce(db: FreshDatabase): Promise<void> {
  const rows = await query<{ migration_name: string; finished: boolean; rolled_back: boolean }>(
    db.url,
    `SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back FROM _prisma_migrations ORDER BY migration_name`,
  );
  expect(rows).toEqual(NAMES.map((migration_name) => ({ migration_name, finished: true, rolled_back: false })));
  const ran = await query<{ migration: string; n: number }>(db.url, `SELECT migration, count(*)::int AS n FROM "ran" GROUP BY 1 ORDER BY 1`);
  expect(ran).toEqual(['1', '2', '3', '4', 'index'].map((migration) => ({ migration, n: 1 })));
  expect(await query(db.url, `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = '"t1_id_idx"'::regclass`)).toEqual([{ valid: true }]);
}

const appliedAll = (r: CliResult) => r.code === 0 && r.stdout.includes(`applied ${NAMES.length} migrations (0 already applied before)`);
const upToDate = (r: CliResult) => r.code === 0 && r.stdout.includes(`already up to date (${NAMES.length} applied)`);
const waited = (r: CliResult) => /waiting for the deploy lock held by pid \d+ \(stagedb deploy\)/.test(r.stdout);
const timedOut = (r: CliResult) => r.code === 5 && /another stagedb run holds the deploy lock \(pid \d+, stagedb deploy, user \S+ from 127\.0\.0\.1, since \S+\)/.test(r.stderr);

describe(`${PROCESSES} concurrent migrate deploy processes on one database`, () => {
  for (let i = 1; i <= ROUNDS; i++) {
    it(`round ${i}: one applies everything, the others wait and then find nothing to apply`, async () => {
      const { db, results } = await round([]);
      const summary = results.map((r) => (appliedAll(r) ? 'applied' : upToDate(r) ? 'up-to-date' : `other (exit ${r.code}): ${r.all}`));
      expect(summary.filter((s) => s === 'applied')).toHaveLength(1);
      expect(summary.filter((s) => s === 'up-to-date')).toHaveLength(PROCESSES - 1);
      // The history holds the lock for seconds: the latecomers said whom they waited for.
      expect(results.filter(waited).length).toBeGreaterThan(0);
      await expectAppliedExactlyOnce(db);
    });
  }

  for (let i = 1; i <= ROUNDS; i++) {
    it(`round ${i} with --lock-timeout 0.3: the others either find nothing to apply or time out naming the holder`, async () => {
      const { db, results } = await round(['--lock-timeout', '0.3']);
      const summary = results.map((r) => (appliedAll(r) ? 'applied' : upToDate(r) ? 'up-to-date' : timedOut(r) ? 'timed-out' : `other (exit ${r.code}): ${r.all}`));
      expect(summary.filter((s) => s === 'applied')).toHaveLength(1);
      expect(summary.every((s) => s === 'applied' || s === 'up-to-date' || s === 'timed-out')).toBe(true);
      // The winner holds the lock for about two seconds, far longer than 0.3 s.
      expect(summary.filter((s) => s === 'timed-out').length).toBeGreaterThan(0);
      for (const r of results.filter(timedOut)) expect(r.stderr).toContain('fix: wait for it to finish and retry, or raise --lock-timeout; if it is stuck: SELECT pg_terminate_backend(');
      await expectAppliedExactlyOnce(db);
    });
  }
});
