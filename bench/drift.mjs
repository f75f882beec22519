#!/usr/bin/env node
/**
 * Drift fast enough for a page (issue 14): `status --drift --env all` on a history of ≥ 400
 * migrations, and the dashboard's first full page. Runs on its own throwaway cluster and writes one
 * section of bench/RESULTS.md (between the `drift` markers).
 *
 *   node bench/drift.mjs                (after npm run build)
 *   BENCH_QUICK=1 node bench/drift.mjs  (fewer repetitions: a smoke test)
 *
 * Three environments (development, staging, production) on three databases of one cluster, each
 * with the whole history deployed. Measured, interleaved, in the same run:
 *
 * 1. first run: `status --drift --env all` with .stagedb/drift-cache/ removed (the history is replayed
 *    on a shadow database) against the psql floor: psql applying the same files to a fresh database,
 *    each in its own transaction (what any replay must do at least). Target ≤ 1.2×. Measured on two
 *    histories: 820 migrations (the size of the real history the issue was measured on; the rest of
 *    the bench uses it) and 400 (the issue's minimum), with the CPU time of each side — the client's
 *    (os.wait4) and the server's (the postmaster's reaped children, /proc) — beside the wall time.
 * 2. repeated runs: `status --drift --env all` with the cache warm against plain `status --env all`.
 *    Target ≤ 1.5×.
 * 3. the dashboard: `stagedb dashboard --no-open` started with the cache warm; the first full page for
 *    the three environments (the GET, as a browser makes it), then further reloads. Target ≤ 1 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateHistory } from './history.mjs';
import { markers, runIfMain, writeSection, freshWork, timedProcess as timed } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'drift');
const MARKERS = markers('drift');
const TARGETS = { first: 1.2, repeated: 1.5, plan: 1.5, pageMs: 1000 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const fmt = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PG') || k.startsWith('STAGEDB_') || k === 'NODE_OPTIONS' || /DATABASE_URL|_URL$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, LC_ALL: 'C', NO_COLOR: '1', ...extra };
}

/**
 * CPU time the cluster has spent so far (ms): the postmaster's own, its reaped children's (every
 * backend that has exited) and its live children's, from /proc (Linux; undefined elsewhere).
 */
function serverCpu(dataDir) {
  try {
    const ticks = (pid, withChildren) => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    };
    const pm = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let t = ticks(pm, true);
    for (const pid of readFileSync(`/proc/${pm}/task/${pm}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      try {
        t += ticks(pid, false);
      } catch {
        /* exited meanwhile: counted with the reaped ones next time */
      }
    }
    return (t * 1000) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}

function must(what, r, code = 0) {
  if (r.code !== code) throw new Error(`${what} exited ${r.code} (expected ${code})\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return r;
}

/** A project with `count` migrations in `dir`, and psql's driver for the same files (each in its own transaction unless it has one). */
function writeProject(dir, count) {
  const history = generateHistory({ count });
  const migrationsDir = join(dir, 'prisma', 'migrations');
  mkdirSync(migrationsDir, { recursive: true });
  writeFileSync(join(dir, 'prisma', 'schema.prisma'), 'generator client {\n  provider = "prisma-client-js"\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n');
  writeFileSync(join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  writeFileSync(join(dir, 'package.json'), '{ "name": "bench-drift", "private": true }\n');
  writeFileSync(
    join(dir, 'stagedb.config.json'),
    `${JSON.stringify({ environments: { development: { url: { $env: 'DEV_URL' } }, staging: { url: { $env: 'STAGING_URL' }, ssl: 'disable' }, production: { url: { $env: 'PROD_URL' }, ssl: 'disable' } } }, null, 2)}\n`,
  );
  const driver = [];
  for (const m of history) {
    mkdirSync(join(migrationsDir, m.name));
    const file = join(migrationsDir, m.name, 'migration.sql');
    writeFileSync(file, m.sql);
    driver.push(m.ownTransaction ? `\\i '${file}'` : `BEGIN;\n\\i '${file}'\nCOMMIT;`);
  }
  const psqlDriver = join(dir, 'psql-floor.sql');
  writeFileSync(psqlDriver, `${driver.join('\n')}\n`);
  return { dir, count: history.length, psqlDriver };
}

export async function runDriftBench({ quick = Boolean(process.env.BENCH_QUICK), log = (s) => process.stderr.write(`${s}\n`) } = {}) {
  // The size of the real history the issue measured (820 migrations, 11–13 s on a loaded machine), and its minimum.
  const count = Number(process.env.BENCH_MIGRATIONS ?? 820);
  const smallCount = Number(process.env.BENCH_MIGRATIONS_SMALL ?? 400);
  const reps = { first: quick ? 2 : 5, repeated: quick ? 5 : 15, page: quick ? 3 : 10 };
  const lib = join(ROOT, 'dist', 'index.js');
  const cli = join(ROOT, 'bin', 'stagedb.js');
  if (!existsSync(lib)) throw new Error('dist/ is missing: npm run build first');
  const { startCluster, stopCluster, createDatabase, dropDatabase } = await import(pathToFileURL(lib).href);
  const psql = spawnSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).stdout.trim();
  if (!psql) throw new Error('psql is not on PATH');
  const node = process.execPath;
  const loadBefore = loadavg();

  const dataDir = await freshWork(WORK, stopCluster);
  const main = writeProject(join(WORK, 'project'), count);
  const small = smallCount > 0 && smallCount !== count ? writeProject(join(WORK, 'project-small'), smallCount) : undefined;
  const project = main.dir;
  log(`bench drift: ${main.count} migrations${small ? ` (and ${small.count} for the first run)` : ''}; starting a throwaway cluster…`);

  const cluster = await startCluster({ dataDir, fast: true });
  const results = {};
  try {
    const urlOf = (db) => `${cluster.url(db)}?sslmode=disable`;
    const deployed = async (p, prefix) => {
      const envs = { DEV_URL: urlOf(`${prefix}_dev`), STAGING_URL: urlOf(`${prefix}_staging`), PROD_URL: urlOf(`${prefix}_prod`) };
      for (const db of ['dev', 'staging', 'prod'].map((e) => `${prefix}_${e}`)) {
        await createDatabase(cluster, db);
        must(`deploy ${db}`, timed(node, [cli, 'migrate', 'deploy', '--env', 'development'], { cwd: p.dir, env: childEnv({ DEV_URL: urlOf(db) }) }));
      }
      return childEnv(envs);
    };
    const env = await deployed(main, 'env');
    const smallEnv = small ? await deployed(small, 'small') : undefined;
    const status = (drift, p = main, e = env) => timed(node, [cli, 'status', '--env', 'all', ...(drift ? ['--drift'] : [])], { cwd: p.dir, env: e });
    const clearCache = (p = main) => rmSync(join(p.dir, '.stagedb', 'drift-cache'), { recursive: true, force: true });
    let seq = 0;
    const withServerCpu = (f) => {
      const before = serverCpu(dataDir);
      const r = f();
      const after = serverCpu(dataDir);
      return { ...r, server: before === undefined || after === undefined ? undefined : after - before };
    };
    const floor = async (p) => {
      const db = `floor_${++seq}`;
      await createDatabase(cluster, db);
      const r = withServerCpu(() => must('psql floor', timed(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', urlOf(db), '-f', p.psqlDriver], { cwd: WORK, env: childEnv() })));
      await dropDatabase(cluster, db);
      return r;
    };

    // Cross-check: no drift on any environment, cold and warm, and the warm run answered from the cache.
    clearCache();
    const cold = JSON.parse(must('status --drift (cold)', timed(node, [cli, 'status', '--env', 'all', '--drift', '--json'], { cwd: project, env })).stdout);
    const warm = JSON.parse(must('status --drift (warm)', timed(node, [cli, 'status', '--env', 'all', '--drift', '--json'], { cwd: project, env })).stdout);
    for (const [label, r] of [['cold', cold], ['warm', warm]]) {
      for (const e of r.environments) if (!e.drift?.checked || e.drift.drifted) throw new Error(`${label}: ${e.env} drift ${JSON.stringify(e.drift)}`);
    }
    if (!warm.environments.every((e) => e.drift.report.cache === 'hit')) throw new Error('the warm run did not answer from the cache');
    if (!cold.environments.every((e) => e.drift.report.cache === 'miss')) throw new Error('the cold run answered from the cache');

    // 1. first run vs the psql floor, interleaved, on each history.
    const firstRuns = async (p, e) => {
      const first = { floor: [], stagedb: [] };
      for (let i = 0; i < reps.first; i++) {
        for (const side of i % 2 ? ['floor', 'stagedb'] : ['stagedb', 'floor']) {
          if (side === 'floor') first.floor.push(await floor(p));
          else {
            clearCache(p);
            first.stagedb.push(withServerCpu(() => must('status --drift (first run)', status(true, p, e))));
          }
        }
        log(`  first run (${p.count}) ${i + 1}/${reps.first}: psql floor ${fmt(first.floor.at(-1).ms)}, status --drift ${fmt(first.stagedb.at(-1).ms)}`);
      }
      return first;
    };
    results.first = await firstRuns(main, env);
    if (small) results.firstSmall = await firstRuns(small, smallEnv);

    // 2. repeated runs vs plain status, interleaved (the cache stays warm from the last first run).
    const repeated = { plain: [], drift: [] };
    for (let i = 0; i < reps.repeated; i++) {
      for (const side of i % 2 ? ['plain', 'drift'] : ['drift', 'plain']) repeated[side].push(must(`status ${side}`, status(side === 'drift')).ms);
    }
    log(`  repeated: status ${fmt(median(repeated.plain))}, status --drift ${fmt(median(repeated.drift))} (medians)`);
    results.repeated = repeated;

    // 2b. `plan --env all` (issue 15) vs plain status, interleaved, cache warm: nothing pending, so the plan is
    // the history, the drift gate's view (staging and production) from the cache, and the backup/lint steps.
    const planned = { plain: [], plan: [] };
    for (let i = 0; i < reps.repeated; i++) {
      for (const side of i % 2 ? ['plain', 'plan'] : ['plan', 'plain']) {
        planned[side].push(must(`${side}`, side === 'plan' ? timed(node, [cli, 'plan', '--env', 'all'], { cwd: project, env }) : status(false)).ms);
      }
    }
    log(`  plan: status ${fmt(median(planned.plain))}, plan ${fmt(median(planned.plan))} (medians)`);
    results.plan = planned;

    // 3. the dashboard, cache warm.
    const child = spawn(node, [cli, 'dashboard', '--no-open'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const url = await new Promise((resolveUrl, reject) => {
        const on = (b) => {
          out += b.toString();
          const m = /running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
          if (m && /press Ctrl-C/.test(out)) resolveUrl(m[1]);
        };
        child.stdout.on('data', on);
        child.stderr.on('data', on);
        child.once('close', (c) => reject(new Error(`dashboard exited ${c}: ${out}`)));
      });
      const pages = [];
      for (let i = 0; i < reps.page; i++) {
        const t0 = performance.now();
        const r = await fetch(url);
        const html = await r.text();
        pages.push(performance.now() - t0);
        if (r.status !== 200 || !html.includes('no drift') || (html.match(/from the cache/g) ?? []).length !== 3) throw new Error(`dashboard page ${i}: ${r.status}\n${html.slice(0, 500)}`);
      }
      results.pages = pages;
      log(`  dashboard: first page ${fmt(pages[0])}, reloads ${fmt(median(pages.slice(1)))} (median)`);
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    await stopCluster(join(WORK, 'pg', 'data')).catch(() => undefined);
  }

  const loadAfter = loadavg();
  const ms = (xs) => xs.map((x) => x.ms);
  const firstRatio = (f) => median(ms(f.stagedb)) / median(ms(f.floor));
  const r1 = firstRatio(results.first);
  const r1s = results.firstSmall ? firstRatio(results.firstSmall) : undefined;
  const cpuOf = (xs, k) => (xs.every((x) => typeof x[k] === 'number') ? median(xs.map((x) => x[k])) : undefined);
  const firstRow = (f, n, target) =>
    `| \`status --drift --env all\`, first run, ${n} migrations (cache empty; ${f.stagedb.length} runs) vs psql applying the same files to a fresh database | ${fmt(median(ms(f.floor)))} | ${fmt(median(ms(f.stagedb)))} | ${firstRatio(f).toFixed(2)}× | ≤ ${TARGETS.first}× ${verdict(firstRatio(f) <= TARGETS.first)}${target ? '' : ' (the issue\'s minimum size)'} |`;
  const cpuRow = (f, n) => {
    const c = [cpuOf(f.floor, 'cpu'), cpuOf(f.floor, 'server'), cpuOf(f.stagedb, 'cpu'), cpuOf(f.stagedb, 'server')];
    if (c.some((x) => x === undefined)) return '';
    return `| ${n} | ${fmt(c[0])} + ${fmt(c[1])} = ${fmt(c[0] + c[1])} | ${fmt(c[2])} + ${fmt(c[3])} = ${fmt(c[2] + c[3])} | ${((c[2] + c[3]) / (c[0] + c[1])).toFixed(2)}× | ${fmt((c[2] + c[3]) / cpus().length)} |\n`;
  };
  const r2 = median(results.repeated.drift) / median(results.repeated.plain);
  const r3 = median(results.plan.plan) / median(results.plan.plain);
  const firstPage = results.pages[0];
  const verdict = (ok) => (ok ? 'met' : '**not met**');
  const md = `${MARKERS.START}
## Drift from the cache, and the dashboard (bench/drift.mjs)

${main.count} migrations (the size of the real history the issue was measured on)${small ? `, and for the first run also ${small.count} (its minimum)` : ''}; three environments (development, staging, production) on three databases of one throwaway
cluster, each with the whole history deployed; ${cpus().length} cores, load average ${loadBefore[0].toFixed(1)} before and
${loadAfter[0].toFixed(1)} after (a shared machine: other work ran at the same time; the ratios compare runs interleaved
in the same minutes). Wall time of the CLI process, Node start-up included; medians.

| what | baseline | stagedb | ratio | target |
| --- | --- | --- | --- | --- |
${firstRow(results.first, main.count, true)}${results.firstSmall ? `\n${firstRow(results.firstSmall, small.count, false)}` : ''}
| \`status --drift --env all\`, repeated (cache warm; ${results.repeated.drift.length} runs) vs plain \`status --env all\` | ${fmt(median(results.repeated.plain))} | ${fmt(median(results.repeated.drift))} | ${r2.toFixed(2)}× | ≤ ${TARGETS.repeated}× ${verdict(r2 <= TARGETS.repeated)} |
| \`plan --env all\` (cache warm, nothing pending; ${results.plan.plan.length} runs) vs plain \`status --env all\` | ${fmt(median(results.plan.plain))} | ${fmt(median(results.plan.plan))} | ${r3.toFixed(2)}× | ≤ ${TARGETS.plan}× ${verdict(r3 <= TARGETS.plan)} |
| \`stagedb dashboard\`: first full page for the three environments (cache warm) | — | ${fmt(firstPage)} | — | ≤ 1 s ${verdict(firstPage <= TARGETS.pageMs)} |
| \`stagedb dashboard\`: reloads (${results.pages.length - 1}) | — | ${fmt(median(results.pages.slice(1)))} | — | — |

Spread (min–max): first run ${spread(ms(results.first.stagedb))} vs psql ${spread(ms(results.first.floor))}${results.firstSmall ? ` (${small.count}: ${spread(ms(results.firstSmall.stagedb))} vs ${spread(ms(results.firstSmall.floor))})` : ''}; repeated ${spread(results.repeated.drift)} vs status
${spread(results.repeated.plain)}; plan ${spread(results.plan.plan)} vs status ${spread(results.plan.plain)}.

CPU time of the first run (medians; client: the process, os.wait4; server: the cluster's processes, /proc), and the
least wall time that much work can take on this machine's ${cpus().length} cores if nothing waited on anything:

| migrations | psql: client + server | stagedb: client + server | ratio | stagedb's CPU / ${cpus().length} cores |
| --- | --- | --- | --- | --- |
${cpuRow(results.first, main.count)}${results.firstSmall ? cpuRow(results.firstSmall, small.count) : ''}
The first run replays the history once for the three environments (they have the same applied migrations on the same
server): on a temporary database, with plain SQL, as one multi-statement message (consecutive DDL-only migrations in one
BEGIN … COMMIT per group, ended after an enum value is added; files with their own BEGIN/COMMIT as written), then fingerprints it with the catalog query the
live databases get; equal fingerprints are "no drift" without the engine's replay, which runs only when they differ.
Meanwhile the engine diffs one live database with schema.prisma (databases with the same fingerprint share it). Repeated
runs read, per environment, one quick catalog-version fingerprint (row versions of the catalogs the full fingerprint
reads; status passes the applied list it has just read) and one cache file: no schema engine, no shadow database, no
deparsing. \`plan --env all\` reads the folder once, lints each environment's pending migrations while its drift check
runs, and reads \`_prisma_migrations\` in status's one round trip. Every page load of the dashboard re-reads all of it
and runs the advisor, lint of pending migrations, backups and audit trail for each environment.
${MARKERS.END}
`;
  writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
  log(`bench drift: first run ${r1.toFixed(2)}× the psql floor${r1s === undefined ? '' : ` (${r1s.toFixed(2)}× on ${small.count})`}, repeated ${r2.toFixed(2)}× plain status, plan ${r3.toFixed(2)}× plain status, first page ${fmt(firstPage)}`);
  return { r1, r2, r3, firstPage };
}

runIfMain(import.meta.url, 'bench drift', () => runDriftBench());
