#!/usr/bin/env node
/**
 * Issue 18: the everyday commands, `status --env all` and `lint --json`, against the tools they replace,
 * cold (no cache under .stagedb/) and warm (the cache of the previous run), in ONE run on one history.
 * Writes its section of bench/RESULTS.md between the `everyday` markers.
 *
 *   node bench/everyday.mjs                          (after npm run build)
 *   BENCH_QUICK=1 BENCH_MIGRATIONS=800 node bench/everyday.mjs
 *   BENCH_FILE_KB=8.2 node bench/everyday.mjs       (each file padded with comments to a real history's size)
 *
 * Peers, as a user runs them: `dbmate status` through the npm package's command (a Node launcher that
 * spawns the Go binary) on ONE database holding the same history, and the Go binary alone for scale;
 * `squawk --reporter json` through squawk-cli's npm command on the same files. Cold runs delete
 * `.stagedb/` before every run; warm runs keep what the previous run wrote. All commands interleave
 * (the order reversed every repetition), after untimed warm-ups that also check every side's output.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateHistory } from './history.mjs';
import { markers, runIfMain, writeSection, freshWork, timedProcess as timed, PYTHON } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'everyday');
const MARKERS = markers('everyday');
const TARGETS = { status: 1.0, lint: 1.5 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function checked(what, r, codes) {
  if (!codes.includes(r.code)) throw new Error(`${what} exited ${r.code} (expected ${codes.join(' or ')})\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-2000)}`);
  return r;
}

function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PG') || k.startsWith('STAGEDB_') || k === 'NODE_OPTIONS' || k === 'FORCE_COLOR' || k === 'NODE_COMPILE_CACHE') continue;
    if (['DATABASE_URL', 'DIRECT_URL', 'DEV_URL', 'STAGING_URL', 'PROD_URL'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', LC_ALL: 'C', ...extra };
}

export async function runEverydayBench(opts = {}) {
  const quick = opts.quick ?? Boolean(process.env.BENCH_QUICK);
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  const count = Number(process.env.BENCH_MIGRATIONS ?? 800);
  const reps = Number(process.env.BENCH_REPS ?? (quick ? 5 : 15));
  const node = process.execPath;
  const cli = join(ROOT, 'bin', 'stagedb.js');
  const dbmateCmd = join(ROOT, 'node_modules', '.bin', 'dbmate');
  const squawk = join(ROOT, 'node_modules', '.bin', 'squawk');
  const floorScript = join(BENCH, 'status-floor.cjs');
  const lib = join(ROOT, 'dist', 'index.js');
  if (!existsSync(lib)) throw new Error('dist/ is missing: run npm run build first');
  const { startCluster, stopCluster, createDatabase } = await import(pathToFileURL(lib).href);
  const { resolveBinary } = await import(pathToFileURL(join(ROOT, 'node_modules', 'dbmate', 'dist', 'resolveBinary.js')).href);
  const dbmateBin = resolveBinary();
  const loadBefore = loadavg();
  const started = Date.now();

  const dataDir = await freshWork(WORK, stopCluster);

  // One project: the history as Prisma writes it (status and lint), and as dbmate files.
  // BENCH_FILE_KB: each file padded with comment lines to about that size (real histories carry comments
  // and data migrations: the issue's 820 files are 6.6 MB, ~8 KB each; bench/history.mjs writes ~0.3 KB).
  const padTo = Number(process.env.BENCH_FILE_KB ?? 0) * 1024;
  const history = generateHistory({ count }).map((m) => {
    let sql = m.sql;
    for (let i = 0; sql.length < padTo; i++) sql = `-- ${m.name}: note ${i} ${'about this migration '.repeat(3)}\n${sql}`;
    return { ...m, sql };
  });
  const project = join(WORK, 'project');
  const migrations = join(project, 'prisma', 'migrations');
  mkdirSync(migrations, { recursive: true });
  writeFileSync(join(project, 'package.json'), '{ "name": "everyday-bench", "private": true }\n');
  writeFileSync(join(project, 'prisma', 'schema.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n');
  writeFileSync(join(migrations, 'migration_lock.toml'), 'provider = "postgresql"\n');
  writeFileSync(
    join(project, 'stagedb.config.json'),
    JSON.stringify({
      environments: {
        development: { url: { $env: 'DEV_URL' } },
        staging: { url: { $env: 'STAGING_URL' } },
        production: { url: { $env: 'PROD_URL' }, ssl: 'disable' },
      },
    }),
  );
  const dbmateDir = join(WORK, 'dbmate');
  mkdirSync(dbmateDir);
  let bytes = 0;
  for (const m of history) {
    mkdirSync(join(migrations, m.name));
    writeFileSync(join(migrations, m.name, 'migration.sql'), m.sql);
    bytes += Buffer.byteLength(m.sql);
    writeFileSync(join(dbmateDir, `${m.name.slice(0, 14)}_${m.name.slice(15)}.sql`), `-- migrate:up${m.ownTransaction ? ' transaction:false' : ''}\n${m.sql}\n-- migrate:down\n`);
  }
  // lint's floor: the same project with every rule off (a second config beside the first), so that a
  // cold run is Node's start, the CLI, reading the files, the parser and its trees, and the output.
  const { RULE_NAMES } = await import(pathToFileURL(join(ROOT, 'dist', 'rule-codes.js')).href);
  const config = JSON.parse(readFileSync(join(project, 'stagedb.config.json'), 'utf8'));
  writeFileSync(join(project, 'stagedb.rules-off.json'), JSON.stringify({ ...config, lint: { rules: Object.fromEntries(Object.keys(RULE_NAMES).map((c) => [c, 'off'])) } }));
  log(`bench everyday: ${history.length} migrations, ${(bytes / 1024).toFixed(0)} KiB; starting a throwaway cluster…`);

  const cluster = await startCluster({ dataDir, fast: true });
  const times = {};
  const cpuTimes = {};
  let findings;
  try {
    const urlOf = (db) => `${cluster.url(db)}?sslmode=disable`;
    const envUrls = {};
    for (const [name, v] of [['e_dev', 'DEV_URL'], ['e_staging', 'STAGING_URL'], ['e_prod', 'PROD_URL']]) {
      await createDatabase(cluster, name);
      envUrls[v] = urlOf(name);
    }
    await createDatabase(cluster, 'e_dbmate');
    const env = childEnv(envUrls);
    const dbmateEnv = childEnv({ DATABASE_URL: urlOf('e_dbmate') });
    const dbmateArgs = (cmd) => ['--no-dump-schema', '--migrations-dir', dbmateDir, cmd];
    const cache = join(project, '.stagedb');
    for (const url of Object.values(envUrls)) checked('stagedb migrate deploy', timed(node, [cli, 'migrate', 'deploy', '--env', 'development'], { cwd: project, env: childEnv({ DEV_URL: url }) }), [0]);
    checked('dbmate up', timed(dbmateBin, dbmateArgs('up'), { cwd: WORK, env: dbmateEnv }), [0]);

    const glob = 'prisma/migrations/*/migration.sql';
    const cold = (f) => () => {
      rmSync(cache, { recursive: true, force: true });
      return f();
    };
    const status = (e = env) => checked('stagedb status --env all', timed(node, [cli, 'status', '--env', 'all'], { cwd: project, env: e }), [0]);
    const lint = (e = env) => checked('stagedb lint --json', timed(node, [cli, 'lint', '--json'], { cwd: project, env: e }), [0, 1, 2]);
    // The CLI's code cache (dist/cli-bundle/cli.<tag>.cache, see bin/stagedb.js) belongs to the install,
    // not the project: cold runs keep it, as after any first command. These runs do without it.
    const noCodeCache = { ...env, STAGEDB_NO_CODE_CACHE: '1' };
    const floorCache = join(WORK, 'status-floor.pg.cache');
    const runs = {
      dbmate: () => checked('dbmate status (npm command)', timed(dbmateCmd, dbmateArgs('status'), { cwd: WORK, env: dbmateEnv }), [0]),
      dbmateBin: () => checked('dbmate status (Go binary)', timed(dbmateBin, dbmateArgs('status'), { cwd: WORK, env: dbmateEnv }), [0]),
      statusCold: cold(() => status()),
      statusWarm: () => status(),
      // No cache read or written: the baseline a warm run's saving is measured against.
      statusNoCache: () => status({ ...env, STAGEDB_NO_CACHE: '1' }),
      statusNoCodeCache: cold(() => status(noCodeCache)),
      squawk: () => checked('squawk --reporter json', timed(squawk, ['--reporter', 'json', glob], { cwd: project, env }), [0, 1]),
      lintCold: cold(() => lint()),
      lintWarm: () => lint(),
      lintNoCodeCache: cold(() => lint(noCodeCache)),
      lintRulesOff: cold(() => checked('stagedb lint --json (every rule off)', timed(node, [cli, 'lint', '--json', '--config', 'stagedb.rules-off.json'], { cwd: project, env }), [0])),
      node: () => checked('node -e 0', timed(node, ['-e', '0'], { cwd: project, env }), [0]),
      // The floor (bench/status-floor.cjs): only the work no Node implementation of `status --env all` can skip.
      floor: () => checked('status floor', timed(node, [floorScript, migrations, floorCache], { cwd: project, env }), [0]),
    };
    // Every Node process here loads NODE_EXTRA_CA_CERTS at start (dbmate's launcher too): the same
    // three commands without it, to show the ratios do not come from this machine's certificates.
    if (process.env.NODE_EXTRA_CA_CERTS) {
      const noCerts = ({ NODE_EXTRA_CA_CERTS, ...e }) => e;
      runs.dbmateNoCerts = () => checked('dbmate status (npm command, no NODE_EXTRA_CA_CERTS)', timed(dbmateCmd, dbmateArgs('status'), { cwd: WORK, env: noCerts(dbmateEnv) }), [0]);
      runs.statusNoCerts = () => status(noCerts(env));
      runs.floorNoCerts = () => checked('status floor (no NODE_EXTRA_CA_CERTS)', timed(node, [floorScript, migrations, floorCache], { cwd: project, env: noCerts(env) }), [0]);
    }
    // Warm-up, and the checks: three environments up to date, dbmate all applied, the same findings cold and warm.
    const s = runs.statusCold().stdout;
    if ((s.match(/up to date/g) ?? []).length !== 3) throw new Error(`status should show three environments up to date:\n${s}`);
    // Up to the age of the last migration ("59s ago", then "1m ago"), and the columns' padding around it.
    const same = (out) => out.replace(/\d+[smhd] ago/g, '').replace(/ +/g, ' ');
    if (same(runs.statusWarm().stdout) !== same(s)) throw new Error('warm status printed something else than cold status');
    if (same(runs.statusNoCodeCache().stdout) !== same(s)) throw new Error('status without the code cache printed something else');
    if (same(runs.statusNoCache().stdout) !== same(s)) throw new Error('status with caches off printed something else');
    const d = runs.dbmate().stdout;
    if (!new RegExp(`Applied: ${history.length}\\b`).test(d) || !/Pending: 0\b/.test(d)) throw new Error(`dbmate status should say ${history.length} applied:\n${d.slice(-400)}`);
    const lc = JSON.parse(runs.lintCold().stdout);
    const lw = runs.lintWarm().stdout;
    if (lw !== JSON.stringify(lc, null, 2) && JSON.stringify(JSON.parse(lw)) !== JSON.stringify(lc)) throw new Error('warm lint --json printed other findings than cold lint --json');
    if (runs.lintNoCodeCache().stdout !== runs.lintCold().stdout) throw new Error('lint --json without the code cache printed other findings');
    if (lc.files.length !== history.length) throw new Error(`lint saw ${lc.files.length} files, expected ${history.length}`);
    const off = JSON.parse(runs.lintRulesOff().stdout);
    if (off.files.length !== history.length || off.findings.length !== 0) throw new Error(`lint with every rule off saw ${off.files.length} files and ${off.findings.length} findings`);
    findings = lc.findings.length;
    const f = runs.floor().stdout;
    if ((f.match(new RegExp(`\\b${history.length} applied, 0 pending, 0 other`, 'g')) ?? []).length !== 3) throw new Error(`the floor should find three databases up to date:\n${f}`);
    for (const k of Object.keys(runs)) runs[k]();

    const keys = Object.keys(runs);
    for (const k of keys) times[k] = [];
    for (const k of keys) cpuTimes[k] = [];
    for (let i = 0; i < reps; i++) {
      // Cold runs first in one repetition and last in the next: a cold run must not be timed right after
      // the same command's warm run only.
      for (const k of i % 2 ? [...keys].reverse() : keys) {
        const r = runs[k]();
        times[k].push(r.ms);
        if (r.cpu !== undefined) cpuTimes[k].push(r.cpu);
      }
      log(`  rep ${i + 1}/${reps}: ${keys.map((k) => `${k} ${times[k].at(-1).toFixed(0)}`).join(', ')} ms (load ${loadavg()[0].toFixed(1)})`);
    }
  } finally {
    await stopCluster(dataDir).catch((e) => log(`bench everyday: could not stop the cluster: ${e.message}`));
  }
  const result = { extraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS), count: history.length, bytes, times, cpuTimes, findings, load: [loadBefore, loadavg()], seconds: (Date.now() - started) / 1000, dbmateVersion: spawnSync(dbmateBin, ['--version'], { encoding: 'utf8' }).stdout.trim() };
  const md = render(result);
  if (opts.writeResults !== false) writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
  process.stdout.write(md);
  return result;
}

function render(r) {
  const t = r.times;
  const ms = (x) => `${x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`;
  const spread = (xs) => `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;
  const row = (label, ours, base, target) => {
    const ratio = median(t[ours]) / median(t[base]);
    const fastest = Math.min(...t[ours]) / Math.min(...t[base]);
    return `| ${label} | ${ms(median(t[base]))} | ${ms(median(t[ours]))} (${spread(t[ours])}) | **${ratio.toFixed(2)}×** | ${fastest.toFixed(2)}× | ≤ ${target.toFixed(2)}× | ${ratio <= target ? 'pass' : '**FAIL**'} |`;
  };
  const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const c = r.cpuTimes;
  const cpuRow = (label, ours, base) =>
    c[ours]?.length && c[base]?.length ? `| ${label} | ${ms(median(c[base]))} | ${ms(median(c[ours]))} | ${(median(c[ours]) / median(c[base])).toFixed(2)}× |` : undefined;
  const cpuRows = [
    cpuRow('cold `status --env all` vs `dbmate status` npm command', 'statusCold', 'dbmate'),
    cpuRow('warm `status --env all` vs the same', 'statusWarm', 'dbmate'),
    cpuRow('warm `status --env all` vs the same with caches off (STAGEDB_NO_CACHE=1)', 'statusWarm', 'statusNoCache'),
    cpuRow('cold `status --env all` vs the same with caches off', 'statusCold', 'statusNoCache'),
    cpuRow('cold `lint --json` vs `squawk --reporter json` npm command', 'lintCold', 'squawk'),
    cpuRow('warm `lint --json` vs the same', 'lintWarm', 'squawk'),
    cpuRow('cold `status --env all` without the code cache vs `dbmate status`', 'statusNoCodeCache', 'dbmate'),
    cpuRow('cold `lint --json` without the code cache vs `squawk`', 'lintNoCodeCache', 'squawk'),
    cpuRow('for scale: `node -e 0` vs `dbmate status` npm command', 'node', 'dbmate'),
  ].filter(Boolean);
  const cpuTable = cpuRows.length
    ? `\nCPU time (user + system${PYTHON ? ', os.wait4' : ', GNU time, 10 ms resolution'}; medians): what each run costs, whatever share of the\ncores it got.\n\n| | peer | stagedb | ratio |\n|---|---:|---:|---:|\n${cpuRows.join('\n')}\n`
    : '';
  // The floor: how far above it status is, and where it sits against dbmate's npm command.
  const floorRow = (label, floor, status, dbmate) => {
    const cpu = c[floor]?.length && c[status]?.length && c[dbmate]?.length;
    return `| ${label} | ${ms(median(t[floor]))} (${spread(t[floor])}) | **${(median(t[floor]) / median(t[dbmate])).toFixed(2)}×** | ${(median(t[status]) / median(t[floor])).toFixed(2)}× | ${
      cpu ? `${ms(median(c[floor]))} | ${(median(c[floor]) / median(c[dbmate])).toFixed(2)}× | ${(median(c[status]) / median(c[floor])).toFixed(2)}×` : '– | – | –'
    } |`;
  };
  const floorRows = [
    floorRow('floor, as every row above', 'floor', 'statusCold', 'dbmate'),
    t.floorNoCerts?.length ? floorRow('floor, with `dbmate status` and `status --env all`, all three without NODE_EXTRA_CA_CERTS', 'floorNoCerts', 'statusNoCerts', 'dbmateNoCerts') : undefined,
  ].filter(Boolean);
  const floorTable = `
The floor of \`status --env all\` for a Node program (bench/status-floor.cjs, timed in the same loop): it
loads node-postgres (the CLI's own build of it, compiled from a V8 code cache as the CLI is), logs in to
the same three databases in parallel, reads and sha256-hashes the ${r.count} migration.sql files while they
answer, reads \`_prisma_migrations\` (name, checksum, finished, rolled back) with one query each, compares
names and checksums and prints one line — no config, checks, error handling or table. Ratios of medians;
"status ÷ floor" is the cold \`status --env all\` of the same run${t.floorNoCerts?.length ? ' (the second row: both without NODE_EXTRA_CA_CERTS)' : ''}.

| | floor median (min–max) | floor ÷ \`dbmate status\` npm command | status ÷ floor | floor CPU | CPU ÷ dbmate | status CPU ÷ floor |
|---|---:|---:|---:|---:|---:|---:|
${floorRows.join('\n')}
${t.dbmateNoCerts?.length ? `\nWithout NODE_EXTRA_CA_CERTS: \`dbmate status\` npm command ${ms(median(t.dbmateNoCerts))} (CPU ${ms(median(c.dbmateNoCerts ?? [NaN]))}), cold \`status --env all\` ${ms(median(t.statusNoCerts))} (CPU ${ms(median(c.statusNoCerts ?? [NaN]))}): ${(median(t.statusNoCerts) / median(t.dbmateNoCerts)).toFixed(2)}× wall.\n` : ''}`;
  return `${MARKERS.START}
## Everyday commands: \`status --env all\` and \`lint --json\`, cold and warm (bench/everyday.mjs)

Issue 18. One history of ${r.count} Prisma-style migrations (${(r.bytes / 1024).toFixed(0)} KiB, bench/history.mjs),
deployed to three databases (stagedb's development, staging, production) and, in dbmate's format, to a
fourth. Cold: \`.stagedb/\` deleted before the run; warm: the cache the previous run left (lint's findings
cache; \`status\` keeps none — a cache of its checksums keyed by each file's stat was measured and
dropped, docs/performance.md — so its warm run is a repeat run, and the row "with caches off" is the
baseline any such cache would have to beat).
Both keep the CLI's V8 code cache, which belongs to the installed package (written by the build or by
the first command, as Node 22's compile cache would be); the rows "without the code cache" run the
ES modules instead (STAGEDB_NO_CODE_CACHE=1), what a read-only install with no cache does.

| | peer median | stagedb median (min–max) | ratio | fastest over fastest | target | result |
|---|---:|---:|---:|---:|---:|---|
${row('cold `status --env all` (3 databases) vs `dbmate status` npm command (1)', 'statusCold', 'dbmate', TARGETS.status)}
${row('warm `status --env all` vs the same', 'statusWarm', 'dbmate', TARGETS.status)}
${row('cold `lint --json` vs `squawk --reporter json` npm command', 'lintCold', 'squawk', TARGETS.lint)}
${row('warm `lint --json` vs the same', 'lintWarm', 'squawk', TARGETS.lint)}

| informational | median | spread |
|---|---:|---:|
| \`dbmate status\`, npm command | ${ms(median(t.dbmate))} | ${spread(t.dbmate)} |
| \`dbmate status\`, the Go binary alone (${r.dbmateVersion}) | ${ms(median(t.dbmateBin))} | ${spread(t.dbmateBin)} |
| \`squawk --reporter json\`, npm command | ${ms(median(t.squawk))} | ${spread(t.squawk)} |
| cold \`status --env all\` without the CLI's code cache (STAGEDB_NO_CODE_CACHE=1) | ${ms(median(t.statusNoCodeCache))} (${(median(t.statusNoCodeCache) / median(t.dbmate)).toFixed(2)}× dbmate) | ${spread(t.statusNoCodeCache)} |
| cold \`lint --json\` without the CLI's code cache | ${ms(median(t.lintNoCodeCache))} (${(median(t.lintNoCodeCache) / median(t.squawk)).toFixed(2)}× squawk) | ${spread(t.lintNoCodeCache)} |
| lint's floor: cold \`lint --json\` with every rule off (the files read, parsed and walked; no findings) | ${ms(median(t.lintRulesOff))} (${(median(t.lintRulesOff) / median(t.squawk)).toFixed(2)}× squawk${c.lintRulesOff?.length && c.squawk?.length ? `; CPU ${(median(c.lintRulesOff) / median(c.squawk)).toFixed(2)}×` : ''}) | ${spread(t.lintRulesOff)} |
| \`status --env all\` with caches off (STAGEDB_NO_CACHE=1) | ${ms(median(t.statusNoCache))} (warm ${(median(t.statusWarm) / median(t.statusNoCache)).toFixed(2)}×, cold ${(median(t.statusCold) / median(t.statusNoCache)).toFixed(2)}× of it) | ${spread(t.statusNoCache)} |
| bare \`node -e 0\` | ${ms(median(t.node))} | ${spread(t.node)} |
${floorTable}${cpuTable}
${r.extraCaCerts ? "NODE_EXTRA_CA_CERTS is set on this machine: every Node process (stagedb, and the launchers of both peers'"
  + ' npm commands) loads those certificates at start, ~35 ms of the `node -e 0` above.\n' : ''}stagedb's lint found ${r.findings} hazards, the same cold and warm (checked before timing). Whole processes,
spawn to exit; ${t.node.length} interleaved repetitions (order reversed every other one) after untimed
warm-ups; ${cpus().length} CPUs shared with other work: load average before ${la(r.load[0])}, after ${la(r.load[1])}; ${r.seconds.toFixed(0)} s.
${MARKERS.END}
`;
}

runIfMain(import.meta.url, 'bench everyday', () => runEverydayBench());
