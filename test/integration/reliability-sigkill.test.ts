import { afterAll, describe, expect, it } from 'vitest';
import { readLocalHistory } from '../../src/history/local.js';
import { environmentStatus } from '../../src/history/status.js';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, type TempProject } from '../helpers/project.js';
import { seededRandom, startCli } from '../helpers/spawn.js';

/**
 * SIGKILL of a `stagedb migrate deploy` process at seeded-random points — before it connects, inside
 * a batch of transactional migrations, inside a migration that runs statement by statement — then:
 *  - `status` (the library's environmentStatus) tells the truth, both at once and after the killed
 *    process's server session has gone: no migration reported applied without all of its effects, no
 *    transactional migration half there, and a half-run non-transactional one reported failed;
 *  - a re-run finishes the job (after `migrate resolve --rolled-back` when status says failed).
 * Each migration sleeps in the middle, so "inside" is a wide target.
 */
const SLEEP = `SELECT pg_sleep(0.25);`;
const tx = (t: string) => `CREATE TABLE "${t}" ("id" INTEGER);\n${SLEEP}\nALTER TABLE "${t}" ADD COLUMN "done" INTEGER;\n`;
const MIGRATIONS: Record<string, string> = {
  '20240101000000_a': tx('a'),
  '20240102000000_b': tx('b'),
  // VACUUM cannot run in a transaction: each statement commits on its own (Prisma's row protocol).
  // Written to be re-runnable, as such migrations should be, so a re-run after a kill can finish it.
  '20240103000000_s': `CREATE TABLE IF NOT EXISTS "s" ("id" INTEGER);\n${SLEEP}\nALTER TABLE "s" ADD COLUMN IF NOT EXISTS "done" INTEGER;\n${SLEEP}\nVACUUM "s";\n`,
  '20240104000000_c': tx('c'),
  '20240105000000_d': tx('d'),
};
const NAMES = Object.keys(MIGRATIONS);
const TABLE_OF = (name: string) => name.slice(name.indexOf('_') + 1);
const S = '20240103000000_s';

/** Where to kill: a time after spawn, or once `k` migrations have finished and the deploy's session is busy (+ a delay). */
type KillPoint = { kind: 'time'; ms: number } | { kind: 'inside'; k: number; delayMs: number };

const SEED = 20240607;
const ROUNDS = 9;
const rand = seededRandom(SEED);
const POINTS: KillPoint[] = Array.from({ length: ROUNDS }, (_, i) =>
  i % 4 === 0 ? { kind: 'time', ms: Math.round(rand() * 700) } : { kind: 'inside', k: Math.floor(rand() * NAMES.length), delayMs: Math.round(rand() * 250) },
);
// Inside the statement-by-statement migration at least twice, whatever the seed says.
POINTS[1] = { kind: 'inside', k: 2, delayMs: Math.round(rand() * 150) };
POINTS[5] = { kind: 'inside', k: 2, delayMs: Math.round(rand() * 150) };

const outcomes: string[] = [];
afterAll(() => {
  // Not an assertion on timing: a record of which states the kills produced, shown with the results.
  console.log(`sigkill outcomes (seed ${SEED}): ${outcomes.join(' | ')}`);
});

/** Each migration's effects: table there? its "done" column there? */
async function effects(url: string): Promise<Record<string, { table: boolean; done: boolean }>> {
  const cols = await query<{ t: string; c: string }>(url, `SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public'`);
  return Object.fromEntries(
    NAMES.map((n) => {
      const t = TABLE_OF(n);
      return [n, { table: cols.some((c) => c.t === t), done: cols.some((c) => c.t === t && c.c === 'done') }];
    }),
  );
}

async function statusOf(db: FreshDatabase, project: TempProject) {
  const st = await environmentStatus(environmentFor(db.url), readLocalHistory(project.migrationsDir));
  expect(st.state).not.toBe('error');
  const byName = Object.fromEntries((st.history?.entries ?? []).map((e) => [e.name, e.state]));
  return { st, states: NAMES.map((n) => byName[n] ?? 'pending') };
}

async function finishedRows(url: string): Promise<number> {
  try {
    return (await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL`))[0]!.n;
  } catch {
    return 0; // no history table yet
  }
}

async function deploySessions(db: FreshDatabase, state?: string): Promise<number> {
  const r = await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'stagedb deploy' AND ($2::text IS NULL OR state = $2)`, [db.name, state ?? null]);
  return r[0]!.n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGKILL of migrate deploy at random points', () => {
  POINTS.forEach((point, i) => {
    it(`round ${i + 1}: kill ${point.kind === 'time' ? `${point.ms} ms after start` : `inside migration ${point.k + 1} (+${point.delayMs} ms)`}; status tells the truth; a re-run finishes`, async () => {
      const db = await freshDatabase('rel_kill');
      const project = createProject({ migrations: MIGRATIONS, envFiles: { '.env': { DATABASE_URL: db.url } } });
      try {
        const proc = startCli(['migrate', 'deploy'], { cwd: project.dir });
        if (point.kind === 'time') {
          await sleep(point.ms);
        } else {
          const deadline = Date.now() + 20_000;
          while ((await finishedRows(db.url)) < point.k || (await deploySessions(db, 'active')) === 0) {
            if (Date.now() > deadline) throw new Error(`deploy never reached migration ${point.k + 1}:\n${((await Promise.race([proc.done, sleep(0)])) as { all?: string } | undefined)?.all ?? ''}`);
            await sleep(10);
          }
          await sleep(point.delayMs);
        }
        proc.child.kill('SIGKILL');
        const killed = await proc.done;
        const finishedOnItsOwn = killed.signal === null;

        // At once (the killed process's server session may still be finishing a statement): whatever
        // status calls applied is wholly there. Effects only ever grow, so reading status first makes this exact.
        {
          const { states } = await statusOf(db, project);
          const fx = await effects(db.url);
          NAMES.forEach((n, j) => {
            if (states[j] === 'applied') expect(fx[n], n).toEqual({ table: true, done: true });
          });
        }

        // Once the server has noticed (client_connection_check_interval; at worst the end of the batch).
        const deadline = Date.now() + 15_000;
        while ((await deploySessions(db)) > 0) {
          if (Date.now() > deadline) throw new Error('the killed deploy\'s session did not go away');
          await sleep(20);
        }
        const { st, states } = await statusOf(db, project);
        const fx = await effects(db.url);
        NAMES.forEach((n, j) => {
          const f = fx[n]!;
          if (states[j] === 'applied') expect(f, n).toEqual({ table: true, done: true });
          if (states[j] === 'pending') expect(f, n).toEqual({ table: false, done: false });
          // A transactional migration is all or nothing, whatever status says.
          if (n !== S) expect(f.table, n).toBe(f.done);
          expect(['applied', 'pending', 'failed'], n).toContain(states[j]);
          if (states[j] === 'failed') expect(n, 'only the statement-by-statement migration can be half done').toBe(S);
        });
        // History is a prefix: nothing after a migration that is not applied ran.
        const firstNotApplied = states.findIndex((s) => s !== 'applied');
        if (firstNotApplied >= 0) expect(states.slice(firstNotApplied + 1).every((s) => s === 'pending')).toBe(true);
        const sFailed = states[NAMES.indexOf(S)] === 'failed';
        expect(st.state).toBe(sFailed ? 'blocked' : states.every((s) => s === 'applied') ? 'up-to-date' : 'pending');
        outcomes.push(`${i + 1}:${finishedOnItsOwn ? 'finished before the kill' : states.map((s) => s[0]).join('')}`);

        // Recovery, exactly as the failure report says.
        if (sFailed) {
          const resolved = await runCli(['migrate', 'resolve', '--rolled-back', S], { cwd: project.dir });
          expect(resolved.code, resolved.all).toBe(0);
        }
        const rerun = await runCli(['migrate', 'deploy'], { cwd: project.dir });
        expect(rerun.code, rerun.all).toBe(0);
        const after = await statusOf(db, project);
        expect(after.st.state).toBe('up-to-date');
        expect(Object.values(await effects(db.url)).every((f) => f.table && f.done)).toBe(true);
        const rows = await query<{ migration_name: string; n: number }>(db.url, `SELECT migration_name, count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL GROUP BY 1 ORDER BY 1`);
        expect(rows).toEqual(NAMES.map((migration_name) => ({ migration_name, n: 1 })));
      } finally {
        project.remove();
        await db.drop();
      }
    });
  });

  it('the kills landed in different places: some mid-history, some in the statement-by-statement migration', () => {
    expect(outcomes.length).toBe(ROUNDS);
    // "f" in the S position: a half-run non-transactional migration was caught and reported failed.
    expect(outcomes.some((o) => /:aaf/.test(o))).toBe(true);
    // Some but not all applied, with no failed one: killed between or inside transactional migrations.
    expect(outcomes.some((o) => /:a+p+$/.test(o))).toBe(true);
  });
});
