#!/usr/bin/env node
/**
 * What production safety costs a deploy: issue 4 asks that "the lock and audit add ≤ 5 % to deploying
 * a history of several hundred migrations". Runs on its own throwaway cluster and writes one section
 * of bench/RESULTS.md (between the `overhead` markers, replaced on every run, appended the first time).
 *
 *   node bench/overhead.mjs                (after npm run build; run.mjs also calls it at its end)
 *   BENCH_QUICK=1 node bench/overhead.mjs  (fewer repetitions: a smoke test)
 *
 * Two measurements, same cluster, same run:
 *
 * 1. `deploy()` — the library function the CLI calls, in-process, so Node's start-up does not dilute
 *    the ratio — of the bench history onto a fresh database, per variant in VARIANTS, interleaved.
 *    VARIANTS[0] is the baseline; every other variant is reported as a ratio to it. The second wraps
 *    deploy() in what the CLI's runGuarded adds: the protection marker and the audit record.
 *
 * 2. The workflow lock, measured directly. The library has no switch that turns the lock off (such a
 *    switch is exactly what nobody should be able to flip in production), and the lock is a few round
 *    trips against a second-long deploy: a with/without difference of two deploys would drown in their
 *    noise. So the round trips the lock and the lock-safe DDL settings add to a deploy that meets no
 *    contention are timed on their own, many times, on a connection like deploy's:
 *    pg_try_advisory_lock + pg_advisory_unlock (acquireWorkflowLock/releaseWorkflowLock) and the one
 *    SET message deploy sends (lock_timeout, client_connection_check_interval). The retry machinery
 *    sends nothing unless a lock times out.
 */
import { loadavg } from 'node:os';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateHistory } from './history.mjs';
import { markers, runIfMain, writeSection, freshWork } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'overhead');
const TARGET = 0.05;
const MARKERS = markers('overhead');
const { START, END } = MARKERS;

/**
 * The deploy variants, baseline first. `options(ctx)` returns extra DeployOptions for one run;
 * `ctx` has `{ url, db }` of the fresh database that run deploys to.
 */
export const VARIANTS = [
  { name: 'deploy() as shipped (workflow lock, lock-safe DDL settings)', options: () => ({}) },
  {
    // What the CLI's runGuarded adds around deploy() on a production environment: its own connection,
    // the protection marker read and checked, the marker written after success, and the audit record
    // (schema + table created if missing, one row). The protection matrix itself is pure and free.
    name: 'deploy() with the marker and the audit trail (as `stagedb deploy` runs it)',
    options: () => ({}),
    wrap: async ({ env, guard }, run) => {
      const client = await guard.connect(env.directUrl, { label: 'bench', purpose: 'guard' });
      try {
        const marker = await guard.readMarker(client);
        guard.checkMarker(marker, env);
        const started = Date.now();
        const r = await run();
        await guard.markDatabase(client, env, marker);
        const warning = await guard.recordAudit({
          env,
          root: guard.root,
          client,
          record: { at: new Date(started).toISOString(), env: env.name, command: 'deploy --env production', outcome: 'ok', durationMs: Date.now() - started, summary: `applied ${r.applied.length}`, ...guard.actor },
        });
        if (warning) throw new Error(warning);
        return r;
      } finally {
        await client.end();
      }
    },
  },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (x) => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : x < 100 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`);
const pct = (x) => `${(x * 100).toFixed(x < 0.01 ? 3 : 2)} %`;

/**
 * @param {{ quick?: boolean, migrations?: number, log?: (s: string) => void, writeResults?: boolean }} [opts]
 */
export async function runOverhead(opts = {}) {
  const quick = opts.quick ?? Boolean(process.env.BENCH_QUICK);
  const count = opts.migrations ?? Number(process.env.BENCH_MIGRATIONS ?? 400);
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  const deployReps = quick ? 3 : 11;
  const lockReps = quick ? 200 : 2000;

  const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const { startCluster, stopCluster, createDatabase, dropDatabase, deploy, resolveEnvironment } = await import(dist('index.js'));
  const { acquireWorkflowLock, releaseWorkflowLock } = await import(dist('guard/lock.js'));
  const { connect } = await import(dist('pg/connect.js'));
  const { readMarker, checkMarker, markDatabase } = await import(dist('guard/marker.js'));
  const audit = await import(dist('guard/audit.js'));
  const guard = { connect, readMarker, checkMarker, markDatabase, recordAudit: audit.recordAudit, root: WORK, actor: audit.actor(WORK, {}) };

  const dataDir = await freshWork(WORK, stopCluster);

  const history = generateHistory({ count });
  const migrationsDir = join(WORK, 'project', 'prisma', 'migrations');
  for (const m of history) {
    mkdirSync(join(migrationsDir, m.name), { recursive: true });
    writeFileSync(join(migrationsDir, m.name, 'migration.sql'), m.sql);
  }
  writeFileSync(join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');

  const started = Date.now();
  const loadBefore = loadavg();
  log(`overhead: ${history.length} migrations; starting a throwaway PostgreSQL cluster…`);
  const cluster = await startCluster({ dataDir, fast: true });
  const result = { count: history.length, variants: VARIANTS.map((v) => ({ name: v.name, ms: [] })) };
  try {
    // Loopback without TLS, as in the other benchmarks.
    const urlOf = (db) => `${cluster.url(db)}?sslmode=disable`;
    const envFor = (url) =>
      resolveEnvironment(
        { root: WORK, schemaPath: join(WORK, 'project', 'prisma', 'schema.prisma'), migrationsDir, environments: { production: { url, protection: 'production', ssl: 'disable' } }, warnings: [] },
        'production',
        { processEnv: {} },
      );
    const admin = await connect(cluster.url('postgres'), { label: 'bench', purpose: 'bench' });
    result.serverVersion = (await admin.query('SHOW server_version')).rows[0].server_version;
    let seq = 0;
    const freshDb = async () => {
      const db = `overhead_${++seq}`;
      await createDatabase(cluster, db);
      await admin.query('CHECKPOINT');
      return db;
    };

    // ---- 1. deploy(), per variant, interleaved (a variant may wrap it, as the CLI does) -----------------------------------------------------
    const runDeploy = async (variant) => {
      const db = await freshDb();
      const url = urlOf(db);
      const env = envFor(url);
      const t0 = process.hrtime.bigint();
      const go = () => deploy({ env, migrationsDir, ...variant.options({ url, db }) });
      const r = variant.wrap ? await variant.wrap({ env, guard }, go) : await go();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.applied.length !== history.length) throw new Error(`${variant.name}: applied ${r.applied.length} of ${history.length}`);
      await dropDatabase(cluster, db);
      return ms;
    };
    for (const v of VARIANTS) await runDeploy(v); // warm-up: JIT, page cache, catalog caches
    for (let i = 0; i < deployReps; i++) {
      const order = i % 2 ? [...VARIANTS.keys()].reverse() : [...VARIANTS.keys()];
      for (const k of order) result.variants[k].ms.push(await runDeploy(VARIANTS[k]));
      log(`  deploy rep ${i + 1}/${deployReps}: ${result.variants.map((v) => `${v.ms.at(-1).toFixed(0)} ms`).join(', ')}`);
    }

    // ---- 2. the lock's round trips, directly ---------------------------------------------------------
    const db = await freshDb();
    const client = await connect(urlOf(db), { label: 'bench', purpose: 'deploy' });
    try {
      const time = async (fn) => {
        for (let i = 0; i < 50; i++) await fn();
        const xs = [];
        for (let i = 0; i < lockReps; i++) {
          const t0 = process.hrtime.bigint();
          await fn();
          xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        return xs;
      };
      const lock = await time(async () => {
        await acquireWorkflowLock(client, { timeoutMs: 30_000, label: 'bench' });
        await releaseWorkflowLock(client);
      });
      const version = Number((await client.query(`SELECT current_setting('server_version_num') AS v`)).rows[0].v);
      // The message deploy's setSessionLimits sends for a default environment (no statementTimeout).
      const setSql = version >= 140000 ? 'SET lock_timeout = 5000;SET client_connection_check_interval = 1000' : 'SET lock_timeout = 5000';
      const settings = await time(() => client.query(setSql));
      const floor = await time(() => client.query('SELECT 1'));
      result.lock = { lock, settings, floor, setSql };
    } finally {
      await client.end();
      await dropDatabase(cluster, db);
    }
    await admin.end();
  } finally {
    await stopCluster(dataDir).catch((e) => log(`overhead: could not stop the cluster: ${e.message}`));
  }
  result.seconds = (Date.now() - started) / 1000;
  result.load = [loadBefore, loadavg()];
  const md = render(result, quick);
  if (opts.writeResults !== false) writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
  log(md);
  return result;
}

function render(r, quick) {
  const base = median(r.variants[0].ms);
  const lockMs = median(r.lock.lock);
  const setMs = median(r.lock.settings);
  const added = lockMs + setMs;
  const share = added / base;
  const spread = (xs) => `${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}`;
  const rows = r.variants.map((v, i) => {
    const m = median(v.ms);
    return `| ${v.name} (n=${v.ms.length}) | ${fmtMs(m)} | ${spread(v.ms)} | ${i === 0 ? 'baseline' : `${(m / base).toFixed(3)}×`} |`;
  });
  const others = r.variants.slice(1).map((v) => ({ name: v.name, extra: median(v.ms) / base - 1 }));
  const total = share + others.reduce((n, o) => n + Math.max(0, o.extra), 0);
  const la = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  return `${START}
## Production safety overhead: the deploy lock${r.variants.length > 1 ? ' and the audit trail' : ''} (bench/overhead.mjs)

Target (issue 4): the lock${r.variants.length > 1 ? ' and the audit trail' : ' and the audit trail (not built yet)'} add ≤ ${pct(TARGET)} to deploying ${r.count} migrations.
**Result: ${pct(total)} — ${total <= TARGET ? 'pass' : 'MISS'}**${quick ? ' (BENCH_QUICK: few repetitions)' : ''}.

| what | median | spread (min–max) | vs baseline |
|---|---:|---:|---:|
${rows.join('\n')}
| the workflow lock: \`pg_try_advisory_lock\` + \`pg_advisory_unlock\` (n=${r.lock.lock.length}) | ${fmtMs(lockMs)} | p90 ${fmtMs(pct90(r.lock.lock))} | ${pct(lockMs / base)} of the deploy |
| the lock-safe DDL settings: one message, \`${r.lock.setSql}\` (n=${r.lock.settings.length}) | ${fmtMs(setMs)} | p90 ${fmtMs(pct90(r.lock.settings))} | ${pct(setMs / base)} of the deploy |
| for scale: one \`SELECT 1\` round trip (n=${r.lock.floor.length}) | ${fmtMs(median(r.lock.floor))} | p90 ${fmtMs(pct90(r.lock.floor))} | |

The lock adds three round trips to a deploy that meets no other run (try-lock, unlock, the SET message),
${fmtMs(added)} together against a ${fmtMs(base)} deploy of ${r.count} migrations: ${pct(share)}.${
    others.length > 0 ? ` ${others.map((o) => `${o.name}: ${pct(o.extra)}`).join('; ')}.` : ' The audit trail does not exist yet; it is to be added to VARIANTS in bench/overhead.mjs and reported here as a ratio to the baseline.'
  }

Method: \`deploy()\` from \`dist/\` in this process (no Node start-up in the denominator, which makes the
share stricter), onto a fresh database per run (created and \`CHECKPOINT\`ed untimed), variants interleaved
after one untimed warm-up each; the lock and the settings are timed directly on one connection like
deploy's (after 50 untimed runs), because the library has, on purpose, no switch to deploy without the
lock, and a with/without difference of two deploys would be far below their run-to-run spread. PostgreSQL
${r.serverVersion}, loopback TCP without TLS, \`fsync=off\`; load average before ${la(r.load[0])}, after ${la(r.load[1])};
${r.seconds.toFixed(0)} s.
${END}
`;
}

function pct90(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.9))];
}

runIfMain(import.meta.url, 'overhead', () => runOverhead());
