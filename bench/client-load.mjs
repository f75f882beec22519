#!/usr/bin/env node
/**
 * The runtime client with its default settings when an application runs several processes (issue 21):
 * three processes, each a generated Prisma 7 client under a mixed read/write load, against ONE server
 * with max_connections = 25 — side by side with the same three processes on plain adapter-pg
 * (`new PrismaPg({ connectionString, max: 10 })`, what an app writes by hand), in the same run. Reports
 * failed operations (target 0 for stagedb), the most connections the three held at once (sampled every
 * 100 ms), and whether a `stagedb status` run in the middle got a connection.
 *
 *   node bench/client-load.mjs                (after npm run build)
 *   BENCH_QUICK=1 node bench/client-load.mjs  (shorter runs)
 *
 * Traffic goes only to a throwaway cluster on 127.0.0.1; every worker stops by itself.
 */
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { freshWork, generateFixtureClient, markers, runIfMain, writeSection } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'client-load');
const MARKERS = markers('client-load');
const { START, END } = MARKERS;
const WORKER = join(ROOT, 'test/fixtures/client/load-worker.mjs');
const PROCESSES = 3;
const MAX_CONNECTIONS = 25;

function worker(env) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [WORKER], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), Number(env.LOAD_MS) + 60_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) return rej(new Error(`load worker exited ${code}: ${err.slice(-1500)}`));
      res(JSON.parse(line));
    });
  });
}

function cli(args, cwd) {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/stagedb.js'), ...args], { cwd, env: { PATH: process.env.PATH, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let all = '';
    child.stdout.on('data', (d) => (all += d));
    child.stderr.on('data', (d) => (all += d));
    child.on('exit', (code) => res({ code, all }));
  });
}

export async function runClientLoadBench(opts = {}) {
  const quick = opts.quick ?? Boolean(process.env.BENCH_QUICK);
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  const ms = quick ? 4000 : 10_000;
  const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
  const { startCluster, stopCluster, createDatabase } = await import(dist('index.js'));
  const pg = (await import('pg')).default;
  const dataDir = await freshWork(WORK, stopCluster);
  const started = Date.now();
  const load = [loadavg()[0]];
  log('client-load: generating the fixture client and starting a throwaway PostgreSQL cluster with max_connections = 25…');
  const clientEntry = await generateFixtureClient(ROOT, WORK);
  let cluster = await startCluster({ dataDir, fast: true });
  const results = {};
  try {
    const admin = async (url, sql) => {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      await c.connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    };
    await admin(cluster.url('postgres'), `ALTER SYSTEM SET max_connections = ${MAX_CONNECTIONS}`);
    await stopCluster(dataDir);
    cluster = await startCluster({ dataDir, fast: true, port: cluster.port });
    await createDatabase(cluster, 'app');
    const url = `${cluster.url('app')}?sslmode=disable`;
    await admin(url, 'CREATE TABLE "Item" (id serial PRIMARY KEY, name text NOT NULL, n integer NOT NULL DEFAULT 0); CREATE TABLE "Tag" (id serial PRIMARY KEY, label text NOT NULL, "itemId" integer NOT NULL REFERENCES "Item"(id))');
    await admin(url, "INSERT INTO \"Item\" (name, n) SELECT 'seed ' || g, g FROM generate_series(1, 1000) g");
    const project = join(WORK, 'project');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'package.json'), '{"name":"bench-client-load","private":true}\n');
    writeFileSync(join(project, 'stagedb.config.json'), JSON.stringify({ environments: { production: { url: { $env: 'DATABASE_URL' }, ssl: 'disable' } } }));
    writeFileSync(join(project, '.env.production'), `DATABASE_URL="${url}"\n`);

    for (const variant of ['plain', 'stagedb']) {
      const app = `bench-${variant}`;
      const env = (k) => ({
        LOAD_PROJECT: project,
        LOAD_ENV: 'production',
        LOAD_CLIENT: clientEntry,
        LOAD_MS: String(ms),
        LOAD_CONCURRENCY: '16',
        LOAD_WRITE_SHARE: '0.3',
        LOAD_OPTIONS: JSON.stringify({ applicationName: `${app} ${k}` }),
        ...(variant === 'plain' ? { LOAD_PLAIN_URL: `${url}&application_name=${encodeURIComponent(`${app} ${k}`)}` } : {}),
      });
      log(`client-load: ${PROCESSES} processes, ${variant === 'plain' ? 'plain adapter-pg (max 10)' : 'stagedb/client, default settings'}, ${ms / 1000} s…`);
      let running = PROCESSES;
      const runs = Array.from({ length: PROCESSES }, (_, k) => worker(env(k + 1)).finally(() => running--));
      let held = 0;
      let total = 0;
      let refusedSamples = 0;
      let status;
      while (running > 0) {
        try {
          const [row] = await admin(cluster.url('postgres'), `SELECT count(*) FILTER (WHERE application_name LIKE '${app}%')::int AS ours, count(*)::int AS total FROM pg_stat_activity WHERE backend_type = 'client backend'`);
          held = Math.max(held, row.ours);
          total = Math.max(total, row.total);
          if (row.ours > 0 && !status) status = await cli(['status', '--env', 'production'], project);
        } catch {
          refusedSamples++; // even the superuser's sampling session was refused: the server was full
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const rs = await Promise.all(runs);
      results[variant] = {
        ops: rs.reduce((a, r) => a + r.ops, 0),
        failed: rs.reduce((a, r) => a + r.failed, 0),
        errors: rs.reduce((a, r) => {
          for (const [k, v] of Object.entries(r.errors)) a[k] = (a[k] ?? 0) + v;
          return a;
        }, {}),
        held,
        total,
        refusedSamples,
        status: status ? (status.code === 3 || /too many clients/.test(status.all) ? 'refused (exit 3)' : `ran (exit ${status.code})`) : 'not run',
      };
      // Let the server close the first variant's connections before the second starts.
      await new Promise((r) => setTimeout(r, 1500));
    }
  } finally {
    await stopCluster(dataDir).catch((e) => log(`client-load: could not stop the cluster: ${e.message}`));
  }
  load.push(loadavg()[0]);
  const seconds = (Date.now() - started) / 1000;
  const md = render(results, { ms, quick, load, seconds });
  if (opts.writeResults !== false) writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
  log(md);
  return results;
}

function render(r, { ms, quick, load, seconds }) {
  const pct = (v) => (v.ops + v.failed > 0 ? ((100 * v.failed) / (v.ops + v.failed)).toFixed(1) : '0.0');
  const row = (name, v) =>
    `| ${name} | ${v.ops} | ${v.failed} (${pct(v)} %)${Object.keys(v.errors).length ? ` ${Object.entries(v.errors).map(([k, n]) => `${k}×${n}`).join(', ')}` : ''} | ${v.held} | ${v.total}${v.refusedSamples ? ` (${v.refusedSamples} samples refused: server full)` : ''} | ${v.status} |`;
  const pass = r.stagedb.failed === 0 && r.stagedb.status.startsWith('ran');
  return `${START}
## The runtime client, three processes on a small server (bench/client-load.mjs)

Target (issue 21): with the default settings, three application processes against a server with
max_connections = ${MAX_CONNECTIONS}: 0 failed operations, and the server keeps room for stagedb's own commands.
**Result: stagedb/client ${r.stagedb.failed} failed of ${r.stagedb.ops + r.stagedb.failed}, at most ${r.stagedb.held} connections held, \`stagedb status\` ${r.stagedb.status} — ${pass ? 'pass' : 'MISS'}**${quick ? ' (BENCH_QUICK: short runs)' : ''}.

| client | operations | failed | most connections held by the 3 processes | most client connections on the server | \`stagedb status\` mid-run |
|---|---:|---:|---:|---:|---|
${row('plain adapter-pg, max 10 per process', r.plain)}
${row('stagedb/client, default settings', r.stagedb)}

Method: one throwaway PostgreSQL cluster (loopback, no TLS, \`fsync=off\`), max_connections = ${MAX_CONNECTIONS}
(3 superuser-reserved), a table of 1000 rows; ${PROCESSES} processes (test/fixtures/client/load-worker.mjs), each a
generated Prisma 7 client (prisma-client-js) with 16 concurrent loops for ${ms / 1000} s: 30 % a create followed by a read
of it, the rest \`findMany\` (20 rows) or \`count\`. The plain variant first, then stagedb's, on the same server.
Connections sampled every 100 ms from \`pg_stat_activity\` by a superuser session. Load average before
${load[0].toFixed(2)}, after ${load[1].toFixed(2)} (2 cores, shared); ${seconds.toFixed(0)} s.
${END}
`;
}

runIfMain(import.meta.url, 'client-load', () => runClientLoadBench());
