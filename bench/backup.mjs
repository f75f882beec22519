#!/usr/bin/env node
/**
 * Backups and restores, side by side with the plain PostgreSQL tools in ONE run, on a throwaway
 * cluster this script starts and stops itself. Writes bench/RESULTS-backup.md (ratios, never assertions).
 *
 *   npm run build && node bench/backup.mjs        (a ≥ 1 GB database and a small one; ~10 minutes)
 *   BENCH_QUICK=1 node bench/backup.mjs           (small sizes, few repetitions: a smoke test of the bench)
 *   BENCH_BACKUP_MB=2000 node bench/backup.mjs    (the large database's target size)
 *   BENCH_SIZES=small node bench/backup.mjs       (only one of large, small)
 *
 * Baselines: `pg_dump -Fc -f file` (pg_dump's defaults) for `stagedb backup`, and a serial
 * `pg_restore -d db file` of that dump for `stagedb restore`. Every timing is a whole child process,
 * spawn to exit; stagedb and baseline runs alternate (ABAB…, alternating which goes first) so drift on a
 * shared machine hits both alike. Medians are reported.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'backup');
const QUICK = Boolean(process.env.BENCH_QUICK);
const LARGE_MB = Number(process.env.BENCH_BACKUP_MB ?? (QUICK ? 150 : 1100));
const SMALL_MB = QUICK ? 10 : 40;
const REPS_LARGE = QUICK ? 1 : 3;
const REPS_SMALL = QUICK ? 2 : 7;
const TARGETS = { backupLarge: 0.6, restoreLarge: 0.9, small: 1.0 };

const log = (s) => process.stderr.write(`${s}\n`);
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

const { startCluster, stopCluster, createDatabase, dropDatabase } = await import(pathToFileURL(join(ROOT, 'dist', 'pg', 'cluster.js')).href);

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

function project(dir, url) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"bench","private":true}\n');
  writeFileSync(
    join(dir, 'stagedb.config.json'),
    JSON.stringify({ environments: { bench: { url, protection: 'none', backup: { storage: { dir: 'backups' } } }, target: { url: { $env: 'TARGET_URL' }, protection: 'none' } } }, null, 2),
  );
}

async function run() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  chmodSync(WORK, 0o755);
  const dataDir = join(WORK, 'pg', 'data');
  const cluster = await startCluster({ dataDir, fast: true });
  const bin = join(cluster.binDir, 'pg_dump');
  const pgRestore = join(cluster.binDir, 'pg_restore');
  const results = [];
  try {
    const sizes = [['large', LARGE_MB, REPS_LARGE], ['small', SMALL_MB, REPS_SMALL]].filter(([l]) => !process.env.BENCH_SIZES || process.env.BENCH_SIZES.split(',').includes(l));
    for (const [label, mb, reps] of sizes) {
      const db = `bench_${label}`;
      await createDatabase(cluster, db);
      log(`filling ${db} (~${mb} MB)…`);
      const bytes = await fill(cluster.url(db), mb);
      log(`${db}: ${(bytes / 1e6).toFixed(0)} MB`);
      const dir = join(WORK, label);
      project(dir, cluster.url(db));
      const env = childEnv({ PGPASSWORD: cluster.password });
      const plainFile = join(WORK, `${label}.dump`);
      const base = { backup: [], stagedb: [], restorePlain: [], restoreStagedb: [] };
      let lastId;
      let format = '';
      for (let i = 0; i < reps; i++) {
        const plain = () => base.backup.push(timed(bin, ['-Fc', '-f', plainFile, cluster.url(db)], { env }).ms);
        const ours = () => {
          const r = timed(process.execPath, [join(ROOT, 'bin', 'stagedb.js'), 'backup', '--env', 'bench', '--json'], { cwd: dir, env: childEnv() });
          base.stagedb.push(r.ms);
          const out = JSON.parse(r.stdout);
          lastId = out.id;
          format = `${out.manifest.dump.format}${out.manifest.dump.jobs > 1 ? ` -j${out.manifest.dump.jobs}` : ''}, -Z${out.manifest.dump.compression}, ${(out.manifest.size / 1e6).toFixed(0)} MB${out.manifest.checksums ? ', with checksums' : ''}`;
        };
        if (i % 2 === 0) { plain(); ours(); } else { ours(); plain(); }
        log(`  backup ${i + 1}/${reps}: pg_dump ${base.backup.at(-1).toFixed(0)} ms, stagedb ${base.stagedb.at(-1).toFixed(0)} ms`);
      }
      for (let i = 0; i < reps; i++) {
        const plain = async () => {
          await dropDatabase(cluster, 'bench_target');
          await createDatabase(cluster, 'bench_target');
          base.restorePlain.push(timed(pgRestore, ['-d', cluster.url('bench_target'), plainFile], { env }).ms);
        };
        const ours = async () => {
          await dropDatabase(cluster, 'bench_target');
          await createDatabase(cluster, 'bench_target');
          base.restoreStagedb.push(timed(process.execPath, [join(ROOT, 'bin', 'stagedb.js'), 'restore', lastId, '--from', 'bench', '--to', 'target'], { cwd: dir, env: childEnv({ TARGET_URL: cluster.url('bench_target') }) }).ms);
        };
        if (i % 2 === 0) { await plain(); await ours(); } else { await ours(); await plain(); }
        log(`  restore ${i + 1}/${reps}: pg_restore ${base.restorePlain.at(-1).toFixed(0)} ms, stagedb ${base.restoreStagedb.at(-1).toFixed(0)} ms`);
      }
      results.push({ label, bytes, reps, format, ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, median(v)])) });
      await dropDatabase(cluster, db);
      await dropDatabase(cluster, 'bench_target');
    }
  } finally {
    await stopCluster(dataDir).catch(() => {});
  }
  return { results, version: cluster.version };
}

const { results, version } = await run();
const row = (r, what, ours, plain, target) => {
  const ratio = ours / plain;
  return `| ${r.label} (${(r.bytes / 1e6).toFixed(0)} MB) | ${what} | ${(ours / 1000).toFixed(2)} s | ${(plain / 1000).toFixed(2)} s | **${ratio.toFixed(2)}×** | ≤ ${target}× ${ratio <= target ? '✓' : '✗'} |`;
};
const lines = [
  '# Backup benchmark results',
  '',
  `Written by \`node bench/backup.mjs\`${QUICK ? ' (BENCH_QUICK: not a real measurement)' : ''} on ${new Date().toISOString().slice(0, 10)}: PostgreSQL ${version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end.`,
  'Medians of whole processes (spawn to exit), stagedb and baseline interleaved.',
  '',
  '| database | what | stagedb | baseline | ratio | target |',
  '|---|---|---|---|---|---|',
];
for (const r of results) {
  const tBackup = r.label === 'large' ? TARGETS.backupLarge : TARGETS.small;
  const tRestore = r.label === 'large' ? TARGETS.restoreLarge : TARGETS.small;
  lines.push(row(r, `\`stagedb backup\` (${r.format}) vs \`pg_dump -Fc -f file\``, r.stagedb, r.backup, tBackup));
  lines.push(row(r, '`stagedb restore` (checksum check, then `pg_restore -j`) vs serial `pg_restore -d`', r.restoreStagedb, r.restorePlain, tRestore));
}
lines.push('', `Repetitions: ${results.map((r) => `${r.label} ${r.reps}`).join(', ')}.`, '');
writeFileSync(join(BENCH, 'RESULTS-backup.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
