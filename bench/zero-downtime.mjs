#!/usr/bin/env node
/**
 * Zero-downtime, measured (issue 11): a seeded Account table under a steady, fixed-rate read+write load,
 * and a suite of common schema edits deployed twice, each on its own copy of the same database — the
 * migrations stagedb's `migrate dev` writes (the zero-downtime rewrite), and Prisma's original SQL
 * deployed anyway (what `--allow-hazards`, or `prisma migrate deploy`, does). For the app's transactions
 * that finish while each deploy runs: max and p99 latency, how many took over 100 ms, and how many
 * failed; and whether the production lint gate lets the files through. Writes one section of
 * bench/RESULTS.md (between the `zero-downtime` markers).
 *
 *   node bench/zero-downtime.mjs                         (after npm run build; 3,000,000 rows)
 *   BENCH_ZDT_ROWS=300000 node bench/zero-downtime.mjs   (a smaller table)
 *
 * Everything stays on this machine: a throwaway cluster of its own on 127.0.0.1, the load generator a
 * child process (bench/zdt-load.mjs) talking to it alone. It stops by itself: every step is awaited,
 * and a deadline (BENCH_ZDT_DEADLINE_S, default 3600) stops the load and the cluster if anything hangs.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { markers, runIfMain, writeSection } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'zero-downtime');
const MARKERS = markers('zero-downtime');
const RATE = 200;
const CLIENTS = 8;
const TARGET_MAX_MS = 250;

const HEAD = 'datasource db {\n  provider = "postgresql"\n}\n';
const BASE = `${HEAD}
enum Role {
  USER
  ADMIN
}

model Account {
  id      Int     @id
  email   String?
  name    String
  balance Int
  role    Role    @default(USER)
}

model Ledger {
  id        Int @id
  accountId Int
  amount    Int
}
`;

const sub = (from, to) => (s) => {
  if (!s.includes(from)) throw new Error(`bench schema has no ${JSON.stringify(from)}`);
  return s.replace(from, to);
};
const ACCOUNT_END = '  role    Role    @default(USER)\n';
/** Ten-plus everyday edits, applied one after the other. */
const EDITS = [
  { name: 'add_index', what: '`@@index([email])`', edit: sub(ACCOUNT_END, `${ACCOUNT_END}\n  @@index([email])\n`) },
  { name: 'add_unique_field', what: 'new `code String? @unique`', edit: sub('  balance Int\n', '  balance Int\n  code    String? @unique\n') },
  {
    name: 'add_relation',
    what: '`Ledger.account` relation (FK)',
    edit: (s) => sub('  amount    Int\n}', '  amount    Int\n  account   Account @relation(fields: [accountId], references: [id])\n}')(sub(ACCOUNT_END, `${ACCOUNT_END}  ledgers Ledger[]\n`)(s)),
  },
  { name: 'optional_to_required', what: '`email String?` → `String`', edit: sub('  email   String?\n', '  email   String\n') },
  { name: 'add_enum_value', what: 'enum value `MODERATOR`', edit: sub('  ADMIN\n}', '  ADMIN\n  MODERATOR\n}') },
  { name: 'drop_index', what: 'remove `@@index([email])`', edit: sub('\n  @@index([email])\n', '\n') },
  { name: 'drop_field', what: 'remove `name`', edit: sub('  name    String\n', '') },
  { name: 'add_field_with_default', what: 'new `active Boolean @default(true)`', edit: sub('  balance Int\n', '  balance Int\n  active  Boolean @default(true)\n') },
  { name: 'change_on_delete', what: 'relation `onDelete: Cascade` (FK dropped and re-added)', edit: sub('references: [id])\n}', 'references: [id], onDelete: Cascade)\n}') },
  { name: 'add_composite_index', what: '`@@index([accountId, amount])` on Ledger', edit: sub('onDelete: Cascade)\n}', 'onDelete: Cascade)\n\n  @@index([accountId, amount])\n}') },
  { name: 'add_uuid_field', what: 'new `ref String @default(dbgenerated("gen_random_uuid()")) @db.Uuid` (volatile default)', edit: sub('  balance Int\n', '  balance Int\n  ref     String  @default(dbgenerated("gen_random_uuid()")) @db.Uuid\n') },
  { name: 'type_change', what: '`balance Int` → `BigInt` (a table rewrite in place)', edit: sub('  balance Int\n', '  balance BigInt\n') },
  { name: 'remove_enum_value', what: 'remove enum value `MODERATOR` (Prisma recreates the enum)', edit: sub('  ADMIN\n  MODERATOR\n}', '  ADMIN\n}') },
];

const quantile = (xs, q) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
};

/** Starts the load on `url`; `stop()` returns the transactions as [finished at, latency ms, ok]. */
async function startLoad(url, accounts) {
  const child = spawn(process.execPath, [join(BENCH, 'zdt-load.mjs'), url, String(RATE), String(CLIENTS), String(accounts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((res, rej) => {
    const check = () => (out.includes('ready\n') ? res() : setTimeout(check, 20));
    child.on('exit', (code) => rej(new Error(`load generator exited (${code})`)));
    check();
  });
  return {
    child,
    async stop() {
      const done = new Promise((res) => child.on('exit', res));
      child.kill('SIGTERM');
      await done;
      return JSON.parse(out.slice(out.indexOf('ready\n') + 6).trim() || '[]');
    },
  };
}

export async function runZeroDowntimeBench(opts = {}) {
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  const rows = Number(process.env.BENCH_ZDT_ROWS ?? 3_000_000);
  const deadline = Number(process.env.BENCH_ZDT_DEADLINE_S ?? 3600);
  const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
  const { startCluster, stopCluster, createDatabase, deploy, resolveEnvironment, lintGate, rewriteMigration, stepDirectoryNames, readColumnFacts } = await import(dist('index.js'));
  const { openEngine } = await import(dist('engine/index.js'));

  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const dataDir = join(WORK, 'pg', 'data');
  const loads = new Set();
  let cluster;
  const stopAll = async () => {
    for (const l of loads) l.child.kill('SIGKILL');
    if (cluster) await stopCluster(dataDir).catch(() => undefined);
  };
  const timer = setTimeout(() => {
    log(`zero-downtime: deadline of ${deadline} s reached, stopping`);
    void stopAll().then(() => process.exit(1));
  }, deadline * 1000);
  timer.unref();

  const loadBefore = loadavg();
  const started = Date.now();
  try {
    cluster = await startCluster({ dataDir, fast: true });
    const urlOf = (db) => `${cluster.url(db)}?sslmode=disable`;
    const dirs = { prisma: join(WORK, 'prisma-migrations'), stagedb: join(WORK, 'stagedb-migrations') };
    const envFor = (db, dir) =>
      resolveEnvironment({ root: WORK, schemaPath: join(WORK, 'schema.prisma'), migrationsDir: dir, environments: { production: { url: urlOf(db), protection: 'production', ssl: 'disable' } }, warnings: [] }, 'production', { processEnv: {} });
    const engine = await openEngine({ url: urlOf('postgres'), label: 'bench' });
    const diff = async (from, to) => (await engine.diff({ kind: 'schema', files: [{ path: 'schema.prisma', content: from }] }, { kind: 'schema', files: [{ path: 'schema.prisma', content: to }] })).script;

    // The seeded database: Prisma's init migration deployed (so _prisma_migrations exists), then the rows.
    log(`zero-downtime: seeding ${rows.toLocaleString('en')} accounts…`);
    const init = await diff(HEAD, BASE);
    for (const dir of Object.values(dirs)) {
      mkdirSync(join(dir, '20260101000000_init'), { recursive: true });
      writeFileSync(join(dir, '20260101000000_init', 'migration.sql'), init);
      writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    }
    await createDatabase(cluster, 'seed');
    await deploy({ env: envFor('seed', dirs.prisma), migrationsDir: dirs.prisma });
    const seed = new pg.Client({ connectionString: urlOf('seed') });
    await seed.connect();
    await seed.query(`INSERT INTO "Account" (id, email, name, balance) SELECT g, 'user' || g || '@example.com', 'name ' || g, 0 FROM generate_series(1, ${rows}) g`);
    await seed.query(`INSERT INTO "Ledger" (id, "accountId", amount) SELECT g, 1 + g % ${rows}, g % 100 FROM generate_series(1, ${Math.ceil(rows / 3)}) g`);
    await seed.query('VACUUM ANALYZE');
    const size = (await seed.query(`SELECT pg_size_pretty(pg_total_relation_size('"Account"')) AS a, pg_size_pretty(pg_total_relation_size('"Ledger"')) AS l`)).rows[0];
    await seed.end();
    const admin = new pg.Client({ connectionString: urlOf('postgres') });
    await admin.connect();
    for (const db of ['prisma', 'stagedb']) await admin.query(`CREATE DATABASE ${db} TEMPLATE seed`);
    await admin.end();

    const measure = async (db, run, spans) => {
      const load = await startLoad(urlOf(db), rows);
      loads.add(load);
      try {
        await new Promise((r) => setTimeout(r, 2000));
        const t1 = Date.now();
        let error;
        try {
          await run();
        } catch (e) {
          error = e;
        }
        const t2 = Date.now();
        await new Promise((r) => setTimeout(r, 1000));
        const samples = await load.stop();
        // Transactions that finished while the deploy ran, or within a second after (those it held up finish then).
        const during = samples.filter(([end]) => end >= t1 && end <= t2 + 1000);
        const lat = during.map(([, l]) => l);
        // Per folder: the transactions that were due while it ran (a transaction held up by it was due then, and finished late).
        const steps = (spans ?? []).map((sp) => {
          const ls = during.filter(([end, l]) => end - l >= sp.start && end - l <= sp.end).map(([, l]) => l);
          return { name: sp.name, ms: sp.end - sp.start, max: Math.max(0, ...ls) };
        });
        const worst = steps.reduce((w, x) => (w && w.max >= x.max ? w : x), undefined);
        return { worst, steps: steps.length, ms: t2 - t1, tx: during.length, max: Math.max(0, ...lat), p99: quantile(lat, 0.99), over100: lat.filter((l) => l > 100).length, failed: during.filter(([, , ok]) => !ok).length, error: error ? String(error.message ?? error).split('\n')[0] : undefined };
      } finally {
        loads.delete(load);
      }
    };
    const gate = async (db, dir) => {
      try {
        const g = await lintGate({ env: envFor(db, dir), migrationsDir: dir, command: 'deploy' });
        return { pass: true, text: `passes (${g.result.counts.error} errors, ${g.result.counts.warning} warnings)` };
      } catch (e) {
        return { pass: false, text: `blocked: ${/\(([^)]*)\); nothing was applied/.exec(e.message)?.[1] ?? e.code}` };
      }
    };

    const results = [];
    let schema = BASE;
    for (const [i, e] of EDITS.entries()) {
      const next = e.edit(schema);
      const original = await diff(schema, next);
      schema = next;
      const name = `2026010200${String(i).padStart(2, '0')}00_${e.name}`;
      // As migrate dev: what a plan that moves a column needs, read in a database at the state before the migration.
      const rewritten = await rewriteMigration(original, {
        describeColumns: async (targets) => {
          const c = new pg.Client({ connectionString: urlOf('stagedb') });
          await c.connect();
          try {
            return await readColumnFacts(c, targets);
          } finally {
            await c.end();
          }
        },
      });
      const stepNames = stepDirectoryNames(name, rewritten.steps);
      mkdirSync(join(dirs.prisma, name));
      writeFileSync(join(dirs.prisma, name, 'migration.sql'), original);
      rewritten.steps.forEach((s, k) => {
        mkdirSync(join(dirs.stagedb, stepNames[k]));
        writeFileSync(join(dirs.stagedb, stepNames[k], 'migration.sql'), s.script);
      });
      log(`zero-downtime: ${e.name}: ${rewritten.steps.length} folder(s) [${[...new Set(rewritten.changes.map((c) => c.code))].join(', ') || 'as Prisma wrote it'}]`);
      const gates = { prisma: await gate('prisma', dirs.prisma), stagedb: await gate('stagedb', dirs.stagedb) };
      const prisma = await measure('prisma', () => deploy({ env: envFor('prisma', dirs.prisma), migrationsDir: dirs.prisma }));
      const spans = [];
      const onEvent = (ev) => {
        // Migrations that run as one transaction start together (one batch) and end together.
        if (ev.type === 'apply-start') spans.push({ name: ev.name.replace(/^\d{14}_/, ''), start: Date.now(), end: Infinity });
        if (ev.type === 'apply-done') for (const sp of spans) if (sp.end === Infinity) sp.end = Date.now();
      };
      const stagedb = await measure('stagedb', () => deploy({ env: envFor('stagedb', dirs.stagedb), migrationsDir: dirs.stagedb, onEvent }), spans);
      log(`  prisma: ${prisma.ms} ms, max ${prisma.max} ms, failed ${prisma.failed}${prisma.error ? ` (${prisma.error})` : ''}; stagedb: ${stagedb.ms} ms, max ${stagedb.max} ms, failed ${stagedb.failed}${stagedb.error ? ` (${stagedb.error})` : ''}${stagedb.worst && stagedb.steps > 1 ? `; worst folder ${stagedb.worst.name} (${stagedb.worst.ms} ms, max ${stagedb.worst.max} ms)` : ''}`);
      results.push({ ...e, folders: rewritten.steps.length, codes: [...new Set(rewritten.changes.map((c) => c.code))], unsafe: rewritten.unsafe.map((u) => u.code), gates, prisma, stagedb });
    }
    await engine.close();

    const ok = (r) => !r.error && r.max <= TARGET_MAX_MS && r.failed === 0;
    const cell = (r) => (r.error ? `failed: ${r.error}` : `${r.ms} ms · max **${r.max.toFixed(0)}** · p99 ${r.p99.toFixed(0)} · >100 ms: ${r.over100}/${r.tx} · failed ${r.failed}${r.worst && r.steps > 1 ? ` · worst folder: ${/_(\d\d_.*)$/.exec(r.worst.name)?.[1] ?? 'the first'} (max ${r.worst.max.toFixed(0)})` : ''}`);
    const passed = results.filter((r) => ok(r.stagedb) && r.gates.stagedb.pass).length;
    const md = [
      MARKERS.START,
      '## Zero-downtime deploys under load (issue 11)',
      '',
      `\`node bench/zero-downtime.mjs\`, ${new Date().toISOString().slice(0, 10)}: "Account" **${rows.toLocaleString('en')} rows** (${size.a}), "Ledger" ${Math.ceil(rows / 3).toLocaleString('en')} rows (${size.l}); PostgreSQL on 127.0.0.1 (a throwaway cluster, fsync off), ${cpus().length} cores shared with other work (load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} at the start); the app: ${CLIENTS} connections, ${RATE} transactions/s at fixed times (read an Account; then update it and insert a Ledger row in one statement), latency counted from when each was due. Each edit is deployed to two copies of the same database: Prisma's SQL as the engine wrote it (deployed anyway, as \`--allow-hazards\` or \`prisma migrate deploy\` would), and the folders \`migrate dev\` writes. Columns: deploy time · app max latency (ms) · p99 · transactions over 100 ms · failed, for the transactions that finished during the deploy (or within 1 s after); for several folders, the one during which the slowest transaction was due (the type change and the enum removal run after the uuid backfill and each other, on the table they just rewrote: the VACUUM after each backfill keeps autovacuum out of the next step's way). 0 hand edits: every file is the rewriter's output.`,
      '',
      '| edit | folders (rewrites) | gate: Prisma\'s SQL | gate: stagedb\'s | Prisma\'s SQL, forced | stagedb\'s folders | ≤ 250 ms, 0 failed |',
      '|---|---|---|---|---|---|---|',
      ...results.map((r) => `| ${r.what} | ${r.folders} (${r.codes.join(', ') || 'unchanged'}${r.unsafe.length ? `; not safe: ${r.unsafe.join(', ')}` : ''}) | ${r.gates.prisma.text} | ${r.gates.stagedb.text} | ${cell(r.prisma)} | ${cell(r.stagedb)} | ${ok(r.stagedb) && r.gates.stagedb.pass ? 'yes' : '**no**'} |`),
      '',
      `Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}. Targets met by stagedb's folders (max ≤ ${TARGET_MAX_MS} ms, 0 failed, the gate lets them through): **${passed} of ${results.length}** edits. Whole run: ${((Date.now() - started) / 60000).toFixed(1)} min.`,
      MARKERS.END,
      '',
    ].join('\n');
    writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
    log(md);
    log(`zero-downtime: load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    return results;
  } finally {
    clearTimeout(timer);
    await stopAll();
  }
}

runIfMain(import.meta.url, 'zero-downtime', () => runZeroDowntimeBench());
