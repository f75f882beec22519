#!/usr/bin/env node
/**
 * Backups and restores, side by side with the plain PostgreSQL tools in ONE run, on a throwaway
 * cluster this script starts and stops itself. Writes one section of bench/RESULTS.md (between the
 * `backup` markers, replaced on every run, appended the first time): ratios, never assertions.
 *
 *   node bench/backup.mjs                   (after npm run build; run.mjs also calls it at its end)
 *   BENCH_QUICK=1 node bench/backup.mjs     (a 150 MB "large" database, few repetitions: a smoke test)
 *   BENCH_BACKUP_MB=2000 node bench/backup.mjs    (the large database's target size; default 1100)
 *   BENCH_SIZES=46mb,empty node bench/backup.mjs  (only some of: large, 180mb, 46mb, 12mb, empty, onetable)
 *   BENCH_PGBENCH_SCALE=70 node bench/backup.mjs  (the one-big-table database: pgbench -i -s 70, 1.1 GB; default 70, 10 quick)
 *
 * Databases: a large one (≥ 1 GB, issue 5's targets), a 180 MB, a 46 MB and a 12 MB one of the same
 * shape (the issue's "never slower than the plain command on a small database"; not in quick mode:
 * 180 MB), and an empty Prisma schema
 * (nothing but `_prisma_migrations`: where only fixed costs are left). Baselines: `pg_dump -Fc -f file`
 * (pg_dump's defaults) for `stagedb backup`, and a serial `pg_restore -d db file` of that dump into a
 * fresh database for `stagedb restore` (into another fresh database). Every timing is a whole child
 * process, spawn to exit; stagedb and baseline runs alternate (ABAB…, alternating which goes first) so
 * drift on a shared machine hits both alike. Medians are reported, with min–max. The last restore of
 * each side is checked: the same row count in every table as the source.
 *
 * One big table (issue 12.9): a database that is nothing but pgbench_accounts (`pgbench -i -s 70`,
 * 1.1 GB), backed up by `stagedb backup` and by `pg_dump -Fc` alternately, in its own section
 * (backup-onetable). Besides wall time, the CPU seconds each side costs: this machine is shared, and
 * what a backup runs beside the dump (the row counts) shows in CPU even when the wall clock is noise.
 * CPU is read from /proc: the child process tree (stagedb and its pg_dump, or pg_dump alone) from
 * this process's cutime/cstime, the server's from the postmaster's (it reaps every backend and
 * parallel worker).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { markers, runIfMain, writeSection } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'backup');
const MARKERS = markers('backup');
const ONE_TABLE_MARKERS = markers('backup-onetable', 'backup.mjs');
const { START, END } = MARKERS;
const TARGETS = { backupLarge: 0.6, restoreLarge: 0.9, small: 1.0, oneTable: 0.9 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG') && !k.startsWith('STAGEDB_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, LC_ALL: 'C', ...extra };
}

function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${(r.stdout ?? '').slice(-2000)}\n${(r.stderr ?? '').slice(-2000)}`);
  return { ms, stdout: r.stdout ?? '' };
}

async function query(url, sql) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/** A database of about `mb` MB (tables and indexes), shaped like an application's: several tables of different sizes. */
async function fill(url, mb) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // Rows per MB, measured for these shapes (table + indexes), roughly.
  const n = (share, perMb) => Math.max(100, Math.round(mb * share * perMb));
  await c.query(`
    CREATE TYPE status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
    CREATE TABLE users (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, profile JSONB, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
    INSERT INTO users (email, name, profile, created_at)
      SELECT 'user' || g || '@example.com', 'User ' || md5(g::text), jsonb_build_object('plan', (ARRAY['free','pro','team'])[1 + g % 3], 'tags', jsonb_build_array(g % 7, g % 11)), now() - g * interval '1 minute'
      FROM generate_series(1, ${n(0.15, 3300)}) g;
    CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL, status status NOT NULL, total NUMERIC(12,2) NOT NULL, items INT[] NOT NULL, placed_at TIMESTAMPTZ NOT NULL);
    INSERT INTO orders (user_id, status, total, items, placed_at)
      SELECT 1 + g % ${n(0.15, 3300)}, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4]::status, (g % 10000) / 7.0, ARRAY[g % 100, g % 37, g % 11], now() - g * interval '13 seconds'
      FROM generate_series(1, ${n(0.3, 7000)}) g;
    CREATE INDEX ON orders (user_id);
    CREATE TABLE events (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, payload JSONB NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now());
    INSERT INTO events (kind, payload, at)
      SELECT (ARRAY['view','click','buy'])[1 + g % 3], jsonb_build_object('session', md5(g::text), 'path', '/p/' || g % 5000, 'ua', 'Mozilla/5.0 ' || md5((g % 97)::text)), now() - g * interval '1 second'
      FROM generate_series(1, ${n(0.35, 3800)}) g;
    CREATE TABLE documents (id BIGSERIAL PRIMARY KEY, title TEXT, body TEXT, blob BYTEA);
    INSERT INTO documents (title, body, blob)
      SELECT 'doc ' || g, repeat(md5(g::text) || ' lorem ipsum dolor sit amet ', 20), decode(md5(g::text) || md5((g + 1)::text), 'hex')
      FROM generate_series(1, ${n(0.2, 900)}) g;
    ANALYZE;
  `);
  const size = (await c.query('SELECT pg_database_size(current_database())::bigint AS b')).rows[0].b;
  await c.end();
  return Number(size);
}

/** An empty Prisma schema: `_prisma_migrations` with one applied (empty) migration, nothing else. */
async function emptyPrisma(url) {
  await query(url, `
    CREATE TABLE "_prisma_migrations" (id VARCHAR(36) PRIMARY KEY, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL,
      logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0);
    INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('00000000-0000-0000-0000-000000000000', repeat('0', 64), now(), '20240101000000_init', 1);`);
  return Number((await query(url, 'SELECT pg_database_size(current_database())::bigint AS b'))[0].b);
}

function project(dir, url) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'prisma', 'migrations', '20240101000000_init'), { recursive: true });
  writeFileSync(join(dir, 'prisma', 'migrations', '20240101000000_init', 'migration.sql'), '-- empty\n');
  writeFileSync(join(dir, 'package.json'), '{"name":"bench","private":true}\n');
  writeFileSync(
    join(dir, 'stagedb.config.json'),
    JSON.stringify({ environments: { bench: { url, protection: 'none', backup: { storage: { dir: 'backups' } } }, target: { url: { $env: 'TARGET_URL' }, protection: 'none' } } }, null, 2),
  );
}

async function rowCounts(url) {
  const tables = await query(url, `SELECT format('%I.%I', schemaname, relname) AS t FROM pg_stat_user_tables WHERE schemaname <> 'stagedb' ORDER BY 1`);
  const out = {};
  for (const { t } of tables) out[t] = Number((await query(url, `SELECT count(*)::bigint AS n FROM ${t}`))[0].n);
  return out;
}

export async function runBackupBench(opts = {}) {
  const quick = opts.quick ?? Boolean(process.env.BENCH_QUICK);
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  if (!existsSync(join(ROOT, 'dist', 'backup', 'create.js'))) throw new Error('dist/ is missing: run npm run build first');
  const { startCluster, stopCluster, createDatabase, dropDatabase } = await import(pathToFileURL(join(ROOT, 'dist', 'pg', 'cluster.js')).href);
  const largeMb = Number(process.env.BENCH_BACKUP_MB ?? (quick ? 150 : 1100));
  const sizes = [
    { label: 'large', mb: largeMb, reps: quick ? 1 : 3 },
    ...(quick ? [] : [{ label: '180mb', mb: 180, reps: 5 }]),
    { label: '46mb', mb: 40, reps: quick ? 3 : 9 },
    { label: '12mb', mb: 5, reps: quick ? 3 : 9 },
    { label: 'empty', mb: 0, reps: quick ? 3 : 9 },
    { label: 'onetable', pgbench: Number(process.env.BENCH_PGBENCH_SCALE ?? (quick ? 10 : 70)), reps: quick ? 3 : 7 },
  ].filter((s) => !process.env.BENCH_SIZES || process.env.BENCH_SIZES.split(',').includes(s.label));
  const loadBefore = loadavg();
  const started = Date.now();
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  chmodSync(WORK, 0o755);
  const dataDir = join(WORK, 'pg', 'data');
  const cluster = await startCluster({ dataDir, fast: true });
  const pgDump = join(cluster.binDir, 'pg_dump');
  const pgRestore = join(cluster.binDir, 'pg_restore');
  const cli = join(ROOT, 'bin', 'stagedb.js');
  const results = [];
  let oneTable;
  try {
    for (const { label, mb, reps, pgbench } of sizes) {
      if (pgbench !== undefined) {
        oneTable = await benchOneTable({ cluster, createDatabase, dropDatabase, scale: pgbench, reps, pgDump, cli, log });
        continue;
      }
      const db = `bench_${label}`;
      await createDatabase(cluster, db);
      log(`bench backup: filling ${db} (~${mb} MB)…`);
      const bytes = mb > 0 ? await fill(cluster.url(db), mb) : await emptyPrisma(cluster.url(db));
      log(`bench backup: ${db} is ${(bytes / 1e6).toFixed(0)} MB`);
      const dir = join(WORK, label);
      project(dir, cluster.url(db));
      const env = childEnv({ PGPASSWORD: cluster.password });
      const plainFile = join(WORK, `${label}.dump`);
      const t = { backupPlain: [], backupStagedb: [], restorePlain: [], restoreStagedb: [] };
      let lastId;
      let how = '';
      // One untimed run of each first: the page cache, the server's catalog caches.
      timed(pgDump, ['-Fc', '-f', plainFile, cluster.url(db)], { env });
      timed(process.execPath, [cli, 'backup', '--env', 'bench', '--json'], { cwd: dir, env: childEnv() });
      for (let i = 0; i < reps; i++) {
        const plain = () => t.backupPlain.push(timed(pgDump, ['-Fc', '-f', plainFile, cluster.url(db)], { env }).ms);
        const ours = () => {
          const r = timed(process.execPath, [cli, 'backup', '--env', 'bench', '--json'], { cwd: dir, env: childEnv() });
          t.backupStagedb.push(r.ms);
          const out = JSON.parse(r.stdout);
          lastId = out.id;
          const d = out.manifest.dump;
          const size = out.manifest.size;
          how = `${d.format}${d.jobs > 1 ? ` -j${d.jobs}` : ''}, ${d.compression === 0 ? 'uncompressed' : `-Z${d.compression}`}, ${size < 1e6 ? `${Math.round(size / 1e3)} kB` : `${(size / 1e6).toFixed(size < 1e7 ? 1 : 0)} MB`}`;
        };
        if (i % 2 === 0) { plain(); ours(); } else { ours(); plain(); }
        log(`  ${label} backup ${i + 1}/${reps}: pg_dump ${t.backupPlain.at(-1).toFixed(0)} ms, stagedb ${t.backupStagedb.at(-1).toFixed(0)} ms`);
      }
      const fresh = async (name) => {
        await dropDatabase(cluster, name, { force: true }).catch(() => {});
        await createDatabase(cluster, name);
      };
      for (let i = 0; i < reps; i++) {
        const plain = async () => {
          await fresh('bench_plain');
          t.restorePlain.push(timed(pgRestore, ['-d', cluster.url('bench_plain'), plainFile], { env }).ms);
        };
        const ours = async () => {
          await fresh('bench_target');
          const r = timed(process.execPath, [cli, 'restore', lastId, '--from', 'bench', '--to', 'target', '--json'], { cwd: dir, env: childEnv({ TARGET_URL: cluster.url('bench_target') }) });
          t.restoreStagedb.push(r.ms);
        };
        if (i % 2 === 0) { await plain(); await ours(); } else { await ours(); await plain(); }
        log(`  ${label} restore ${i + 1}/${reps}: pg_restore ${t.restorePlain.at(-1).toFixed(0)} ms, stagedb ${t.restoreStagedb.at(-1).toFixed(0)} ms`);
      }
      // Both restores hold what the source holds.
      const [want, gotPlain, gotOurs] = await Promise.all([rowCounts(cluster.url(db)), rowCounts(cluster.url('bench_plain')), rowCounts(cluster.url('bench_target'))]);
      for (const [side, got] of [['pg_restore', gotPlain], ['stagedb restore', gotOurs]]) {
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${label}: ${side} restored ${JSON.stringify(got)}, the source has ${JSON.stringify(want)}`);
      }
      results.push({ label, bytes, reps, how, t });
      for (const name of [db, 'bench_plain', 'bench_target']) await dropDatabase(cluster, name, { force: true }).catch(() => {});
    }
  } finally {
    await stopCluster(dataDir).catch(() => {});
    rmSync(WORK, { recursive: true, force: true });
  }
  const md = results.length > 0 ? render({ results, version: cluster.version, quick, loadBefore, loadAfter: loadavg(), seconds: (Date.now() - started) / 1000 }) : '';
  if (md) writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
  if (oneTable) writeSection(join(BENCH, 'RESULTS.md'), renderOneTable({ ...oneTable, version: cluster.version, quick }), ONE_TABLE_MARKERS);
  log(`bench backup: wrote its section of bench/RESULTS.md in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { results, md };
}

/** CPU seconds so far of a process (utime + stime) and of the children it has reaped (cutime + cstime). */
function cpuOf(pid, childrenOnly = false) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // Fields after "pid (comm) ": state is [0]; utime, stime, cutime, cstime are fields 14–17 of the whole line (USER_HZ 100).
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(f[i]) / 100);
  return childrenOnly ? cutime + cstime : utime + stime + cutime + cstime;
}

async function benchOneTable({ cluster, createDatabase, dropDatabase, scale, reps, pgDump, cli, log }) {
  const db = 'bench_onetable';
  await createDatabase(cluster, db);
  const env = childEnv({ PGPASSWORD: cluster.password });
  log(`bench backup: filling ${db} with pgbench -i -s ${scale}…`);
  timed(join(cluster.binDir, 'pgbench'), ['-i', '-s', String(scale), '-q', cluster.url(db)], { env });
  const bytes = Number((await query(cluster.url(db), 'SELECT pg_database_size(current_database())::bigint AS b'))[0].b);
  log(`bench backup: ${db} is ${(bytes / 1e6).toFixed(0)} MB, one table`);
  const dir = join(WORK, 'onetable');
  project(dir, cluster.url(db));
  const postmaster = Number(readFileSync(join(WORK, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const plainFile = join(WORK, 'onetable.dump');
  const t = { plain: [], ours: [], plainCpu: [], oursCpu: [], plainServer: [], oursServer: [], load: [] };
  let how = '';
  // A backend's CPU reaches the postmaster's cutime only once the postmaster has reaped it: wait until
  // the run's backends are gone, so each run's server CPU is its own.
  const children = () => readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).length;
  const idle = children();
  const settle = () => {
    const deadline = Date.now() + 10_000;
    while (children() > idle && Date.now() < deadline) spawnSync('sleep', ['0.02']);
    spawnSync('sleep', ['0.1']);
  };
  const measure = (run) => {
    settle();
    const c0 = cpuOf(process.pid, true);
    const s0 = cpuOf(postmaster);
    const ms = run();
    settle();
    const c1 = cpuOf(process.pid, true);
    return { ms, cpu: c1 - c0, server: cpuOf(postmaster) - s0 };
  };
  timed(pgDump, ['-Fc', '-f', plainFile, cluster.url(db)], { env });
  timed(process.execPath, [cli, 'backup', '--env', 'bench', '--json'], { cwd: dir, env: childEnv() });
  for (let i = 0; i < reps; i++) {
    const plain = () => {
      const m = measure(() => timed(pgDump, ['-Fc', '-f', plainFile, cluster.url(db)], { env }).ms);
      t.plain.push(m.ms);
      t.plainCpu.push(m.cpu);
      t.plainServer.push(m.server);
    };
    const ours = () => {
      let out;
      const m = measure(() => {
        const r = timed(process.execPath, [cli, 'backup', '--env', 'bench', '--json'], { cwd: dir, env: childEnv() });
        out = JSON.parse(r.stdout);
        return r.ms;
      });
      t.ours.push(m.ms);
      t.oursCpu.push(m.cpu);
      t.oursServer.push(m.server);
      const d = out.manifest.dump;
      how = `${d.format}${d.jobs > 1 ? ` -j${d.jobs}` : ''}, -Z${d.compression}, ${(out.manifest.size / 1e6).toFixed(0)} MB; exact row counts ${out.manifest.tables.every((x) => typeof x.rows === 'number') ? 'recorded' : 'MISSING'}`;
      rmSync(join(dir, 'backups'), { recursive: true, force: true });
    };
    if (i % 2 === 0) { plain(); ours(); } else { ours(); plain(); }
    t.load.push(loadavg()[0]);
    log(`  onetable backup ${i + 1}/${reps}: pg_dump -Fc ${t.plain.at(-1).toFixed(0)} ms, stagedb ${t.ours.at(-1).toFixed(0)} ms (load ${loadavg()[0].toFixed(1)})`);
  }
  await dropDatabase(cluster, db, { force: true }).catch(() => {});
  return { scale, bytes, reps, how, t };
}

function renderOneTable(r) {
  const { START, END } = ONE_TABLE_MARKERS;
  const s = (x) => `${(x / 1000).toFixed(2)} s`;
  const c = (x) => `${x.toFixed(2)} s`;
  const ratio = median(r.t.ours) / median(r.t.plain);
  const ok = ratio <= TARGETS.oneTable;
  const la = r.t.load;
  return `${START}
## Backup of one big table (bench/backup.mjs, issue 12.9)

Target: on a database that is one big table (\`pgbench -i -s ${r.scale}\`, ${(r.bytes / 1e6).toFixed(0)} MB), \`stagedb backup\` ≤ ${TARGETS.oneTable}× a plain \`pg_dump -Fc\`, with every table's exact row count still recorded in the dump's snapshot.
**Result: ${ratio.toFixed(2)}× — ${ok ? 'met' : 'missed'}**${r.quick ? ' (BENCH_QUICK: not a measurement)' : ''}.

| what | wall, median (min–max) | CPU: client tree, median | CPU: server, median |
|---|---:|---:|---:|
| \`stagedb backup\` (${r.how}) | ${s(median(r.t.ours))} (${s(Math.min(...r.t.ours))}–${s(Math.max(...r.t.ours))}) | ${c(median(r.t.oursCpu))} | ${c(median(r.t.oursServer))} |
| \`pg_dump -Fc -f file\` | ${s(median(r.t.plain))} (${s(Math.min(...r.t.plain))}–${s(Math.max(...r.t.plain))}) | ${c(median(r.t.plainCpu))} | ${c(median(r.t.plainServer))} |
| ratio | **${ratio.toFixed(2)}×** | ${(median(r.t.oursCpu) / median(r.t.plainCpu)).toFixed(2)}× | ${(median(r.t.oursServer) / median(r.t.plainServer)).toFixed(2)}× |

Where the difference comes from: \`stagedb backup\` runs pg_dump with gzip level 1, which costs the client tree ${c(median(r.t.plainCpu) - median(r.t.oursCpu))} less CPU than pg_dump's default level; beside the dump, in its snapshot, it counts every table's rows exactly, which costs the server ${c(median(r.t.oursServer) - median(r.t.plainServer))} more (for this table, an index-only scan of its primary key).

Method: ${r.reps} alternating pairs after one untimed run of each; CPU from /proc (the child process tree
from this process's cutime/cstime, the server from the postmaster's, which reaps every backend and
parallel worker). PostgreSQL ${r.version}, loopback TCP, \`fsync=off\`, ${availableParallelism()} × ${cpus()[0]?.model ?? 'cpu'};
1-minute load average after each pair: median ${median(la).toFixed(1)} (${Math.min(...la).toFixed(1)}–${Math.max(...la).toFixed(1)}) — a shared machine: the wall-clock ratio is noisy, the CPU columns are not.
${END}
`;
}

function render(r) {
  const s = (x) => `${(x / 1000).toFixed(2)} s`;
  const spread = (xs) => `${s(Math.min(...xs))}–${s(Math.max(...xs))}`;
  const rows = [];
  const verdicts = [];
  for (const x of r.results) {
    const size = x.label === 'empty' ? `empty Prisma schema (${(x.bytes / 1e6).toFixed(0)} MB)` : `${x.label === 'large' ? 'large' : x.label === '180mb' ? 'medium' : 'small'} (${(x.bytes / 1e6).toFixed(0)} MB)`;
    const pair = (what, ours, plain, target) => {
      const ratio = median(ours) / median(plain);
      const ok = ratio <= target;
      verdicts.push({ label: x.label, what: what.split(' ')[0], ratio, target, ok });
      rows.push(`| ${size} | ${what} | ${s(median(ours))} (${spread(ours)}) | ${s(median(plain))} (${spread(plain)}) | **${ratio.toFixed(2)}×** | ≤ ${target}× ${ok ? '✓' : '✗'} |`);
    };
    const large = x.label === 'large';
    pair(`backup: \`stagedb backup\` (${x.how}) vs \`pg_dump -Fc -f file\``, x.t.backupStagedb, x.t.backupPlain, large ? TARGETS.backupLarge : TARGETS.small);
    pair(`restore: \`stagedb restore\` (checks, then one transaction: \`pg_restore\` piped into \`psql\`) vs serial \`pg_restore -d\``, x.t.restoreStagedb, x.t.restorePlain, large ? TARGETS.restoreLarge : TARGETS.small);
  }
  const la = (l) => l.map((v) => v.toFixed(2)).join(' / ');
  const missed = verdicts.filter((v) => !v.ok);
  return `${START}
## Backups and restores (bench/backup.mjs)

Targets (issue 5): on a database of ≥ 1 GB, \`stagedb backup\` ≤ ${TARGETS.backupLarge}× a plain \`pg_dump -Fc\` and \`stagedb restore\` ≤ ${TARGETS.restoreLarge}× a plain serial \`pg_restore\`; on a small database neither slower than the plain command.
**Result: ${missed.length === 0 ? 'all met' : `missed: ${missed.map((v) => `${v.what} on ${v.label} (${v.ratio.toFixed(2)}×)`).join(', ')}`}**${r.quick ? ' (BENCH_QUICK: a smaller "large" database, few repetitions — not a measurement)' : ''}.

| database | what | stagedb, median (min–max) | baseline, median (min–max) | ratio | target |
|---|---|---:|---:|---:|---|
${rows.join('\n')}

Method: whole processes, spawn to exit (Node's start-up, loading the config, the guard's marker and the
audit record included on stagedb's side), stagedb and the baseline alternating after one untimed run
of each; repetitions: ${r.results.map((x) => `${x.label} ${x.reps}`).join(', ')}. Each restore goes into a fresh database; the
last one of each side is checked to hold every table's row count of the source. \`stagedb backup\` checks
its archive (sha256, \`pg_restore --list\`) before it becomes visible; \`stagedb restore\` checks sha256 and the
table of contents before it touches the target. PostgreSQL ${r.version}, loopback TCP, \`fsync=off\`,
${availableParallelism()} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average before ${la(r.loadBefore)}, after ${la(r.loadAfter)}; ${r.seconds.toFixed(0)} s.
${END}
`;
}

runIfMain(import.meta.url, 'bench backup', () => runBackupBench());
