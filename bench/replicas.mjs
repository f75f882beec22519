#!/usr/bin/env node
/**
 * What read-replica routing costs a query: issue 7 asks that the stagedb client's routing add ≤ 5 % per
 * query against a plain client on the same server. Runs on its own throwaway cluster and writes one
 * section of bench/RESULTS.md (between the `replicas` markers, replaced on every run, appended the first time).
 *
 *   node bench/replicas.mjs                (after npm run build)
 *   BENCH_QUICK=1 node bench/replicas.mjs  (fewer iterations: a smoke test)
 *
 * The same generated Prisma 7 client (prisma-client-js, from test/fixtures/client/schema.prisma) is
 * built five ways against ONE server, so that only the routing differs:
 *   - plain: `new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 10 }) })` — the baseline;
 *   - Prisma's extension alone: that, `$extends(readReplicas({ replicas: [a second plain client] }))`;
 *   - stagedb, replicas: `createPrismaClient` with `replicas: [the same URL]`: stagedb's router (the
 *     extension's semantics without `$extends`), its replica adapter (fallback to the primary) and its
 *     lazily opened pools — the target;
 *   - the same with `routing: 'extension'` (the read-replicas extension instead of the router);
 *   - stagedb, no replicas: `createPrismaClient` without replicas, for scale.
 * Every pool holds 10 connections (pool.max), TLS off, so the pools are alike. Each query is timed on its
 * own; variants take turns in short batches (rotating order) after a warm-up, medians are compared.
 */
import { loadavg } from 'node:os';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { markers, runIfMain, writeSection, freshWork, generateFixtureClient } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'replicas');
const TARGET = 1.05;
const MARKERS = markers('replicas');
const { START, END } = MARKERS;
const ROWS = 1000;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
};
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;

function shuffle(xs, random) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = random() % (i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}


export async function runReplicaBench(opts = {}) {
  const quick = opts.quick ?? Boolean(process.env.BENCH_QUICK);
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  const rounds = quick ? 20 : 300;
  const batch = 20;
  const warmup = quick ? 100 : 400;

  const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
  if (!existsSync(join(ROOT, 'dist', 'client', 'index.js'))) throw new Error('dist/client is missing: run `npm run build` first');
  const { startCluster, stopCluster, createDatabase, resolveEnvironment } = await import(dist('index.js'));
  const { createPrismaClient } = await import(dist('client/index.js'));
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { readReplicas } = await import('@prisma/extension-read-replicas');
  const pg = (await import('pg')).default;

  const dataDir = await freshWork(WORK, stopCluster);

  const started = Date.now();
  const loadBefore = loadavg();
  log('replicas: generating the fixture client and starting a throwaway PostgreSQL cluster…');
  const PrismaClient = createRequire(join(WORK, 'gen', 'index.js'))(await generateFixtureClient(ROOT, WORK)).PrismaClient;
  const cluster = await startCluster({ dataDir, fast: true });
  const clients = [];
  const result = { ops: {} };
  try {
    await createDatabase(cluster, 'bench');
    // Loopback without TLS, as in the other benchmarks, for every variant alike.
    const url = `${cluster.url('bench')}?sslmode=disable`;
    const admin = new pg.Client({ connectionString: url });
    admin.on('error', () => {}); // stopping the cluster at the end ends it too
    await admin.connect();
    await admin.query('CREATE TABLE "Item" (id serial PRIMARY KEY, name text NOT NULL, n integer NOT NULL DEFAULT 0)');
    await admin.query(`INSERT INTO "Item" (name, n) SELECT 'item ' || g, g FROM generate_series(1, ${ROWS}) g`);
    await admin.query('VACUUM ANALYZE "Item"');
    result.serverVersion = (await admin.query('SHOW server_version')).rows[0].server_version;

    const plainClient = () => new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 10 }) });
    const envOf = (replicas) =>
      resolveEnvironment(
        { root: WORK, schemaPath: join(WORK, 'schema.prisma'), migrationsDir: join(WORK, 'migrations'), environments: { bench: { url, protection: 'none', replicas, pool: { max: 10 } } }, warnings: [] },
        'bench',
        { processEnv: {} },
      );
    const variants = [
      { name: 'plain adapter-pg PrismaClient', client: plainClient() },
      { name: "Prisma's read-replicas extension alone (replica: a second plain client)", client: plainClient().$extends(readReplicas({ replicas: [plainClient()] })) },
      { name: 'stagedb client with replicas (default routing; replica: the same server)', client: await createPrismaClient({ PrismaClient, environment: envOf([url]), applicationName: 'bench' }), target: true },
      { name: "stagedb client with replicas, routing: 'extension'", client: await createPrismaClient({ PrismaClient, environment: envOf([url]), applicationName: 'bench-ext', routing: 'extension' }) },
      { name: 'stagedb client, no replicas', client: await createPrismaClient({ PrismaClient, environment: envOf([]), applicationName: 'bench-plain' }) },
    ];
    clients.push(...variants.map((v) => v.client));

    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return 1 + (seed % (ROWS - 10));
    };
    const ops = {
      'findUnique by id': (c) => c.item.findUnique({ where: { id: rnd() } }),
      'findMany of 10 rows': (c) => c.item.findMany({ where: { id: { gt: rnd() } }, orderBy: { id: 'asc' }, take: 10 }),
    };
    for (const [opName, op] of Object.entries(ops)) {
      // Correctness first: every variant returns the same rows.
      const probe = await Promise.all(variants.map((v) => v.client.item.findMany({ where: { id: { gt: 5 } }, orderBy: { id: 'asc' }, take: 10 })));
      if (new Set(probe.map((r) => JSON.stringify(r))).size !== 1) throw new Error('variants disagree');
      for (const v of variants) for (let i = 0; i < warmup; i++) await op(v.client);
      const times = variants.map(() => []);
      const cpu = variants.map(() => []);
      const roundRatios = variants.map(() => []);
      for (let r = 0; r < rounds; r++) {
        // A fresh random order each round: with a fixed cyclic order each variant would always follow
        // the same one and pay for its garbage (the extension variants allocate the most).
        const order = shuffle(variants.map((_, k) => k), rnd);
        const roundMedians = [];
        for (const k of order) {
          const xs = [];
          const c0 = process.cpuUsage();
          for (let i = 0; i < batch; i++) {
            const t0 = process.hrtime.bigint();
            await op(variants[k].client);
            xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
          const c = process.cpuUsage(c0);
          cpu[k].push((c.user + c.system) / 1000 / batch);
          times[k].push(...xs);
          roundMedians[k] = median(xs);
        }
        for (let k = 0; k < variants.length; k++) roundRatios[k].push(roundMedians[k] / roundMedians[0]);
      }
      result.ops[opName] = variants.map((v, k) => ({ name: v.name, target: Boolean(v.target), median: median(times[k]), p90: quantile(times[k], 0.9), n: times[k].length, roundRatio: median(roundRatios[k]), cpu: median(cpu[k]) }));
      const line = result.ops[opName].map((x) => `${us(x.median)}`).join(' / ');
      log(`  ${opName}: ${line}`);
    }
    // The stagedb client's reads really took the replica route: its replica pool holds connections.
    const routed = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name IN ('bench replica 1')");
    result.replicaSessions = routed.rows[0].n;
    if (result.replicaSessions === 0) throw new Error('the stagedb client never used its replica pool');
    await admin.end();
  } finally {
    await Promise.all(clients.map((c) => c.$disconnect().catch(() => undefined)));
    await stopCluster(dataDir).catch((e) => log(`replicas: could not stop the cluster: ${e.message}`));
  }
  result.seconds = (Date.now() - started) / 1000;
  result.load = [loadBefore, loadavg()];
  result.rounds = rounds;
  result.batch = batch;
  result.warmup = warmup;
  const md = render(result, quick);
  if (opts.writeResults !== false) writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
  log(md);
  return result;
}

function render(r, quick) {
  const la = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  const verdicts = [];
  const sections = Object.entries(r.ops).map(([op, rows]) => {
    const base = rows[0];
    const lines = rows.map((x, k) => {
      const ratio = x.median / base.median;
      if (x.target) verdicts.push({ op, ratio, roundRatio: x.roundRatio, extra: x.median - base.median });
      return `| ${x.target ? `**${x.name}**` : x.name} | ${us(x.median)} | ${us(x.p90)} | ${k === 0 ? 'baseline' : `${x.target ? '**' : ''}${ratio.toFixed(3)}×${x.target ? '**' : ''}`} | ${k === 0 ? '' : `${x.roundRatio.toFixed(3)}×`} | ${us(x.cpu)}${k === 0 ? '' : ` (${(x.cpu / base.cpu).toFixed(3)}×)`} |`;
    });
    return `### ${op} (n=${base.n} per variant)

| client | median | p90 | ratio of medians | median of per-batch ratios | this process's CPU per query |
|---|---:|---:|---:|---:|---:|
${lines.join('\n')}`;
  });
  const worst = Math.max(...verdicts.map((v) => v.ratio));
  const pass = worst <= TARGET;
  return `${START}
## Read-replica routing overhead per query (bench/replicas.mjs)

Target (issue 7): the stagedb client's read-replica routing costs ≤ ${((TARGET - 1) * 100).toFixed(0)} % per query against a plain
adapter-pg client on the same server. **Result: ${verdicts.map((v) => `${v.op} ${v.ratio.toFixed(3)}× (${v.extra >= 0 ? '+' : ''}${us(v.extra)})`).join(', ')} — ${pass ? 'pass' : 'MISS'}**${quick ? ' (BENCH_QUICK: few iterations)' : ''}.

${sections.join('\n\n')}

Method: one throwaway PostgreSQL ${r.serverVersion} cluster (loopback TCP, no TLS, \`fsync=off\`), a table of
${ROWS} rows, one generated Prisma 7.10 client (prisma-client-js) built five ways; the replica of the
replica variants is the same server, so the difference is the routing alone: stagedb's router (a \`Proxy\`
and a lazy Prisma promise per read) and replica adapter, or the extension's \`$extends\` query hook with its
second dispatch, \`replica[model][operation](args)\`, through the replica client's whole pipeline.
Every pool has 10 connections; queries run one at a time; each is timed on its own. ${r.warmup} untimed
queries per variant first, then ${r.rounds} rounds in which every variant runs a batch of ${r.batch} (in a new random
order each round, so that no variant always follows the same one and pays for its garbage); "per-batch ratio" is each batch's median over the plain client's in the same round, which
cancels drifts in machine load; "CPU per query" is this process's user+system time per query (median over
batches): the routing is CPU work in the client, and CPU time does not count waiting for a core. The stagedb client's replica pool held ${r.replicaSessions} connection(s) at the end
(its reads really took the replica route). Load average before ${la(r.load[0])}, after ${la(r.load[1])} (2 cores,
shared with other work); ${r.seconds.toFixed(0)} s.
${END}
`;
}

runIfMain(import.meta.url, 'replicas', () => runReplicaBench());
