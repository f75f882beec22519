/**
 * The engine part of stagedb's bench (issue 3): Prisma's WebAssembly schema engine on a realistic
 * ~100-model schema (bench/schema.mjs). Called by run.mjs on its throwaway cluster; returns raw
 * timings, and renders its sections of RESULTS.md.
 *
 * 4. Start-up: a fresh process that loads dist/engine, opens the engine and makes its first call,
 *    against bare `node -e 0` (targets: first call done ≤ 300 ms after process start, RSS ≤ 300 MB).
 * 5. push of the schema to an empty database, against the floor: ONE psql session running the
 *    engine's own SQL for it (its diff from empty to the schema) in one transaction.
 * 6. migrate dev creating and applying the `init` migration, against the same floor.
 *
 * push and migrate dev run through the CLI when those commands are built, otherwise through
 * bench/engine-child.mjs on dist/ (RESULTS.md says which). Every timing is a whole process, spawn to exit.
 */
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateSchema } from './schema.mjs';

/** From the issue: absolute targets, the same for every engine process. */
export const ENGINE_TARGETS = { firstCallMs: 300, rssMB: 300 };

const MB = (kib) => (kib * 1024) / 1e6;

/** The start-up processes: engine-child.mjs `first-call <call>`, optionally under `node --liftoff-only`. */
// diagnose and diff carry the targets and run as stagedb's CLI runs the engine: its engine commands
// set V8's --liftoff-only (src/commands/wasm-tier.ts). The `-optimizing` rows are the library's
// default (a library caller keeps V8's optimising tier), for comparison in the same run.
const STARTUP_VARIANTS = {
  diagnose: { call: 'diagnose', liftoff: true, label: 'open with the schema + `diagnoseMigrationHistory`, as the CLI runs it (`--liftoff-only`)' },
  diff: { call: 'diff', liftoff: true, label: 'open with the schema + `diff` empty → schema, as the CLI runs it (`--liftoff-only`)' },
  'diagnose-bare': { call: 'diagnose-bare', liftoff: true, label: 'open without a schema + `diagnoseMigrationHistory` (`--liftoff-only`)' },
  'diff-once': { call: 'diff-once', liftoff: true, label: 'open without a schema + `diff` empty → schema given to the call (schema parsed once; `--liftoff-only`)' },
  'diagnose-optimizing': { call: 'diagnose', label: 'as `diagnose`, with V8\'s optimising tier (the library\'s default)' },
  'diff-optimizing': { call: 'diff', label: 'as `diff`, with V8\'s optimising tier (the library\'s default)' },
};

/**
 * @param {object} ctx what run.mjs shares: paths, its cluster helpers and timing helpers.
 */
export async function benchEngine(ctx) {
  const { root, work, node, psql, cli, quick, log, timed, mustSucceed, childEnv, peakRssKiB, sql, urlOf, freshDb, dropDb } = ctx;
  const STARTUP_REPS = quick ? 3 : 9;
  const PUSH_REPS = quick ? 2 : 9;
  const DEV_REPS = quick ? 2 : 9;
  const RSS_REPS = quick ? 1 : 3;
  const BREAKDOWN_REPS = quick ? 1 : 3;
  const dist = join(root, 'dist');
  const child = join(root, 'bench', 'engine-child.mjs');

  // ---- fixture: the schema as a Prisma project with one environment --------------------------------
  const { text, stats } = generateSchema({ models: 100 });
  const dir = join(work, 'engine');
  const project = join(dir, 'project');
  const schemaPath = join(project, 'prisma', 'schema.prisma');
  const migrationsDir = join(project, 'prisma', 'migrations');
  mkdirSync(join(project, 'prisma'), { recursive: true });
  writeFileSync(schemaPath, text);
  writeFileSync(join(project, 'package.json'), '{ "name": "bench-engine-project", "private": true }\n');
  writeFileSync(join(project, 'stagedb.config.json'), `${JSON.stringify({ environments: { development: { url: { $env: 'DEV_URL' } } } }, null, 2)}\n`);

  // The floor's SQL: the engine's own script from nothing to the schema, computed here, untimed.
  const { openEngine } = await import(pathToFileURL(join(dist, 'engine', 'index.js')).href);
  const scratch = await freshDb('engine_scratch');
  const engine = await openEngine({ url: urlOf(scratch), schema: schemaPath });
  let initSql;
  try {
    initSql = (await engine.diff({ kind: 'empty' }, { kind: 'schema' })).script;
  } finally {
    await engine.close();
  }
  await dropDb(scratch);
  const floorFile = join(dir, 'init.sql');
  writeFileSync(floorFile, initSql);
  const statements = initSql.match(/;\s*$/gm)?.length ?? 0;
  log(`bench: engine — ${stats.models} models, ${text.split('\n').length} lines of schema, ${statements} statements of SQL`);

  const engineEnv = (db) => childEnv({ BENCH_URL: urlOf(db), BENCH_SCHEMA: schemaPath, BENCH_MIGRATIONS: migrationsDir, BENCH_DIST: dist, DEV_URL: urlOf(db) });
  const parseChild = (r) => {
    const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_CHILD '));
    return line ? JSON.parse(line.slice('BENCH_CHILD '.length)) : undefined;
  };
  const resetMigrations = () => rmSync(migrationsDir, { recursive: true, force: true });

  // Everything a table in the public schema is made of; equal on both sides or the bench stops.
  const fingerprint = async (db) =>
    JSON.stringify(
      await sql(
        urlOf(db),
        `SELECT 'rel:' || c.relkind::text AS k, count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relname NOT LIKE '\\_prisma\\_migrations%' GROUP BY 1
         UNION ALL
         SELECT 'con:' || co.contype::text, count(*)::int FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations' GROUP BY 1
         UNION ALL
         SELECT 'col', count(*)::int FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
         UNION ALL
         SELECT 'enum', count(*)::int FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'
         ORDER BY 1`,
      ),
    );

  const floorArgs = (db) => ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1', '-d', urlOf(db), '-f', floorFile];
  const runFloor = (db) => mustSucceed('psql floor (engine SQL)', timed(psql, floorArgs(db), { cwd: dir, env: childEnv() }));

  // ---- which way push and migrate dev run: the CLI if built, else the library driver ---------------
  const cliArgs = { push: [cli, 'push', '--env', 'development', '--accept-data-loss'], dev: [cli, 'migrate', 'dev', '--name', 'init', '--env', 'development'] };
  const driverArgs = { push: [child, 'push'], dev: [child, 'migrate-dev'] };
  const way = {};
  for (const op of ['push', 'dev']) {
    const db = await freshDb(`engine_probe_${op}`);
    resetMigrations();
    const r = timed(node, cliArgs[op], { cwd: project, env: engineEnv(db) });
    if (r.code === 0) way[op] = 'cli';
    else if (/E_NOT_BUILT|not built yet/.test(r.stderr + r.stdout)) way[op] = 'library';
    else mustSucceed(`stagedb ${op === 'dev' ? 'migrate dev' : 'push'} (CLI probe)`, r);
    await dropDb(db);
  }
  const argsOf = (op) => (way[op] === 'cli' ? cliArgs[op] : driverArgs[op]);
  const runOp = (op, db) => {
    if (op === 'dev') resetMigrations();
    const r = mustSucceed(`${op === 'dev' ? 'migrate dev' : 'push'} (${way[op]})`, timed(node, argsOf(op), { cwd: project, env: engineEnv(db) }));
    return { ms: r.ms, child: parseChild(r) };
  };
  log(`bench: engine — push via ${way.push}, migrate dev via ${way.dev}`);

  // ---- cross-check: push, migrate dev and the floor build the same schema --------------------------
  const check = {};
  let startupDb;
  {
    const f = await freshDb('engine_floor');
    runFloor(f);
    const p = await freshDb('engine_push');
    runOp('push', p);
    const d = await freshDb('engine_dev');
    runOp('dev', d);
    const [ff, fp, fd] = [await fingerprint(f), await fingerprint(p), await fingerprint(d)];
    if (fp !== ff) throw new Error(`push and the psql floor built different schemas:\n${fp}\n${ff}`);
    if (fd !== ff) throw new Error(`migrate dev and the psql floor built different schemas:\n${fd}\n${ff}`);
    const rows = await sql(urlOf(d), 'SELECT migration_name, finished_at IS NOT NULL AS done FROM _prisma_migrations');
    const dirs = readdirSync(migrationsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    if (rows.length !== 1 || !rows[0].done || dirs.length !== 1 || rows[0].migration_name !== dirs[0] || !/_init$/.test(dirs[0])) {
      throw new Error(`migrate dev should leave one applied *_init migration: rows ${JSON.stringify(rows)}, folders ${dirs.join(', ')}`);
    }
    check.shape = JSON.parse(ff);
    // The engine's diff from empty starts with `CREATE SCHEMA IF NOT EXISTS "public"`; migrations do not.
    const written = readFileSync(join(migrationsDir, dirs[0], 'migration.sql'), 'utf8');
    check.migrationVsDiff =
      written === initSql ? 'byte-identical to' : written === initSql.replace(/^-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n/, '') ? 'byte-identical to' : '**not** identical to';
    check.diffHasCreateSchema = initSql.startsWith('-- CreateSchema\n');
    // Start-up runs against this database: a project on its second `migrate dev`, history in place.
    const startupMigrations = join(dir, 'startup-migrations');
    rmSync(startupMigrations, { recursive: true, force: true });
    cpSync(migrationsDir, startupMigrations, { recursive: true });
    startupDb = { db: d, migrations: startupMigrations };
    await dropDb(f);
    await dropDb(p);
  }

  // ---- 4. start-up: node -e 0, then the engine's first call, two variants --------------------------
  log('bench: engine start-up…');
  const startupEnv = childEnv({ BENCH_URL: urlOf(startupDb.db), BENCH_SCHEMA: schemaPath, BENCH_MIGRATIONS: startupDb.migrations, BENCH_DIST: dist });
  // diagnose and diff carry the targets; the others show, in the same run, what changes inside
  // src/engine would buy (see STARTUP_VARIANTS).
  const startupArgs = (k) => {
    if (k === 'node') return ['-e', '0'];
    const v = STARTUP_VARIANTS[k];
    return [...(v.liftoff ? ['--liftoff-only'] : []), child, 'first-call', v.call];
  };
  const startupRun = (k) => {
    const r = mustSucceed(`first call (${k})`, timed(node, startupArgs(k), { cwd: k === 'node' ? root : project, env: k === 'node' ? childEnv() : startupEnv }));
    if (k === 'node') return { ms: r.ms };
    const c = parseChild(r);
    if (STARTUP_VARIANTS[k].call.startsWith('diagnose') && !c.upToDate) {
      throw new Error(`diagnoseMigrationHistory (${k}): the start-up database should be up to date: ${JSON.stringify(c.diagnosis)}`);
    }
    if (STARTUP_VARIANTS[k].call.startsWith('diff') && c.scriptBytes !== initSql.length) throw new Error(`diff empty → schema (${k}): ${c.scriptBytes} bytes, expected ${initSql.length}`);
    return { ms: r.ms, child: c };
  };
  const kinds = ['node', ...Object.keys(STARTUP_VARIANTS)];
  for (const k of kinds) startupRun(k);
  const startup = Object.fromEntries(kinds.map((k) => [k, []]));
  // Rotate the order every repetition, so no variant always follows the same one.
  for (let i = 0; i < STARTUP_REPS; i++) for (let j = 0; j < kinds.length; j++) {
    const k = kinds[(i + j) % kinds.length];
    startup[k].push(startupRun(k));
  }
  const rssOf = (reps, cmd, args, opts) => Math.max(...Array.from({ length: reps }, () => peakRssKiB(cmd, args, opts) ?? NaN));
  // Several runs for the processes with a target, one for the informational variants.
  const rss = Object.fromEntries(
    kinds.map((k) => [k, rssOf(k === 'diagnose' || k === 'diff' ? RSS_REPS : 1, node, startupArgs(k), { cwd: k === 'node' ? root : project, env: k === 'node' ? childEnv() : startupEnv })]),
  );
  log(`  start-up: node ${med(startup.node.map((x) => x.ms)).toFixed(0)} ms, first call diagnose ${med(startup.diagnose.map((x) => x.child.marks.firstCall)).toFixed(0)} ms, diff ${med(startup.diff.map((x) => x.child.marks.firstCall)).toFixed(0)} ms`);

  // ---- 5./6. push and migrate dev vs the floor, interleaved -----------------------------------------
  const ops = {};
  for (const [op, reps] of [['push', PUSH_REPS], ['dev', DEV_REPS]]) {
    log(`bench: engine ${op === 'dev' ? 'migrate dev' : 'push'}…`);
    const runs = { floor: [], ours: [], library: [] };
    // Through the CLI there are no marks: every few repetitions, one more run of the library driver
    // (the dist/develop functions the command calls), in the same conditions, shows where the time goes.
    const every = Math.ceil(reps / BREAKDOWN_REPS);
    for (let i = 0; i < reps; i++) {
      const order = i % 2 ? ['floor', 'ours'] : ['ours', 'floor'];
      if (way[op] === 'cli' && i % every === 0) order.push('library');
      for (const side of order) {
        const db = await freshDb(`engine_${op}_${side}`);
        if (side === 'floor') runs.floor.push({ ms: runFloor(db).ms });
        else if (side === 'ours') runs.ours.push(runOp(op, db));
        else {
          resetMigrations();
          const r = mustSucceed(`${op} (library driver)`, timed(node, driverArgs[op], { cwd: project, env: engineEnv(db) }));
          runs.library.push({ ms: r.ms, child: parseChild(r) });
        }
        await dropDb(db);
      }
      log(`  ${op} rep ${i + 1}/${reps}: psql ${runs.floor.at(-1).ms.toFixed(0)} ms, stagedb ${runs.ours.at(-1).ms.toFixed(0)} ms`);
    }
    const r1 = [];
    for (let i = 0; i < RSS_REPS; i++) {
      const db = await freshDb(`engine_${op}_rss`);
      if (op === 'dev') resetMigrations();
      r1.push(peakRssKiB(node, argsOf(op), { cwd: project, env: engineEnv(db) }));
      await dropDb(db);
    }
    const db = await freshDb(`engine_${op}_rss_floor`);
    runs.rss = { ours: Math.max(...r1), floor: peakRssKiB(psql, floorArgs(db), { cwd: dir, env: childEnv() }) };
    await dropDb(db);
    if (!runs.library.length) runs.library = runs.ours;
    ops[op] = runs;
  }
  // Leave no databases behind the cluster would otherwise keep until it is stopped.
  await dropDb(startupDb.db);
  resetMigrations();
  // Every migrate dev made a shadow database; none may outlive its process.
  check.leftoverShadows = (await sql(urlOf('postgres'), "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'prisma\\_migrate\\_shadow\\_db\\_%'"))[0].n;
  return { stats, lines: text.split('\n').length, bytes: text.length, statements, check, way, startup, rss, rssReps: RSS_REPS, ops };
}

function med(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Verdicts for the summary line of RESULTS.md. */
export function engineVerdicts(e) {
  const firstCall = (k) => med(e.startup[k].map((x) => x.child.marks.firstCall));
  const out = [
    { name: 'first engine call (diagnose)', pass: firstCall('diagnose') <= ENGINE_TARGETS.firstCallMs },
    { name: 'first engine call (diff of the 100-model schema)', pass: firstCall('diff') <= ENGINE_TARGETS.firstCallMs },
  ];
  const peak = Math.max(e.rss.diagnose, e.rss.diff, e.ops.push.rss.ours, e.ops.dev.rss.ours);
  out.push({ name: 'engine RSS', pass: MB(peak) <= ENGINE_TARGETS.rssMB });
  return out;
}

/** Sections 4–6 of RESULTS.md, and the engine's paragraph of the method. */
export function renderEngine(e) {
  const ms = (x) => `${x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`;
  const spread = (xs) => `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;
  const mb = (kib) => `${MB(kib).toFixed(0)} MB`;
  const verdict = (ok) => (ok ? 'pass' : '**FAIL**');
  const T = ENGINE_TARGETS;
  const s = e.startup;
  const wall = (k) => s[k].map((x) => x.ms);
  const mark = (k, m) => s[k].map((x) => x.child.marks[m]);
  const fc = { diagnose: mark('diagnose', 'firstCall'), diff: mark('diff', 'firstCall') };
  const n = s.node.length;
  const ratio = (a, b) => `**${(med(a) / med(b)).toFixed(2)}×**`;
  const phase = (k) => {
    const m = (name) => med(mark(k, name));
    const exitTail = med(s[k].map((x) => x.ms - x.child.marks.closed));
    return [m('start'), m('imported') - m('start'), m('opened') - m('imported'), m('firstCall') - m('opened'), m('closed') - m('firstCall'), exitTail];
  };
  const pd = phase('diagnose');
  const pf = phase('diff');
  const po = phase('diff-optimizing');
  const variantRows = Object.entries(STARTUP_VARIANTS)
    .map(([k, v]) => `| \`${k}\`: ${v.label} | ${ms(med(mark(k, 'firstCall')))} | ${spread(mark(k, 'firstCall'))} | ${ms(med(wall(k)))} | ${mb(e.rss[k])} |`)
    .join('\n');
  const LABELS = {
    start: 'Node up to the first line of the script',
    imported: 'import dist/engine',
    opened: '`openEngine`',
    planned: '`diff` database → schema',
    created: 'createMigration',
    applied: 'running the SQL (one query)',
    closed: '`close`',
  };
  const VIA_LABELS = {
    'develop.push': { opened: 'load config + resolve the environment', planned: '`planPush` (engine opened read-only: diff + dry push)', applied: '`push` (engine opened again: push)' },
    'develop.migrateDev': { opened: 'load config + resolve the environment', applied: '`migrateDev` (engine: checkDevDatabase, evaluateDataLoss, generateMigration; write; stagedb deploy)' },
    'engine.push': { applied: "`engine.push` (the engine's schemaPush: compare and apply)" },
    'engine.diff': {},
    'engine.createMigration': { created: '`createMigration` (shadow database, devDiagnostic, apply pending, generate)', applied: 'write the files + `applyMigrations`' },
    'engine.generateMigration': { created: '`checkDevDatabase` + `applyMigrations` + `generateMigration` (shadow database)', applied: 'write the files + `applyMigrations`' },
  };
  const VIA_TEXT = {
    'develop.push': "dist/develop's `planPush` then `push` with `acceptDataLoss`, as src/commands/push.ts calls them, without printing or the protection guard",
    'develop.migrateDev': "dist/develop's `migrateDev` with `name: 'init'`, config and environment loaded as the CLI loads them, without printing",
    'engine.push': '`openEngine` → `engine.push({ force: true })`',
    'engine.diff': '`openEngine` → `diff` database → schema → the script sent in one query (the engine had no `push` yet)',
    'engine.createMigration': '`openEngine` → `createMigration` → `writeMigrationFiles` → `applyMigrations`',
    'engine.generateMigration': '`openEngine` → `checkDevDatabase` → `applyMigrations` → `generateMigration` → `writeMigrationFiles` → `applyMigrations`',
  };
  const how = (op, via) =>
    e.way[op] === 'cli'
      ? `the CLI: \`node bin/stagedb.js ${op === 'push' ? 'push --env development --accept-data-loss' : 'migrate dev --name init --env development'}\``
      : `the library, because the CLI's \`${op === 'push' ? 'push' : 'migrate dev'}\` was not built yet when this ran: \`node bench/engine-child.mjs ${op === 'push' ? 'push' : 'migrate-dev'}\` (${VIA_TEXT[via] ?? via}), ${
          via?.startsWith('develop.') ? "which leaves out only the CLI's argument parsing and output" : "which leaves out the CLI's argument parsing, config loading and output"
        }`;
  const opSection = (op, title) => {
    const r = e.ops[op];
    const f = r.floor.map((x) => x.ms);
    const o = r.ours.map((x) => x.ms);
    const lib = r.library;
    const via = r.ours[0]?.child?.via;
    let breakdown = '';
    if (lib.length > 0) {
      const libVia = lib[0].child.via;
      const first = lib[0].child.marks;
      const names = Object.keys(first).sort((a, b) => first[a] - first[b]);
      const parts = [];
      let prev;
      for (const name of names) {
        const t = med(lib.map((x) => x.child.marks[name] - (prev ? x.child.marks[prev] : 0)));
        if (!(prev && first[name] === first[prev])) parts.push(`${(VIA_LABELS[libVia] ?? {})[name] ?? LABELS[name] ?? name} ${ms(t)}`);
        prev = name;
      }
      parts.push(`exit ${ms(med(lib.map((x) => x.ms - x.child.marks[prev])))}`);
      const source =
        e.way[op] === 'cli'
          ? ` ${lib.length} extra runs (interleaved with the timed ones) of \`node bench/engine-child.mjs ${op === 'push' ? 'push' : 'migrate-dev'}\`, which calls ${VIA_TEXT[libVia] ?? libVia} (whole process: ${ms(med(lib.map((x) => x.ms)))} median). Medians of its`
          : ' medians of the';
      breakdown = `\nWhere the time goes:${source} \`performance.now()\` marks: ${parts.join(', ')}.\n`;
    }
    return `## ${title}

Run through ${how(op, via)}.

| | floor median | stagedb median | ratio | target | result |
|---|---:|---:|---:|---:|---|
| ${op === 'push' ? '`push`' : '`migrate dev --name init`'}, 100 models, empty database (n=${o.length}) | ${ms(med(f))} | ${ms(med(o))} | ${ratio(o, f)} | none (reported) | — |
| peak RSS of one process (max of ${e.rssReps} runs, GNU time) | ${mb(r.rss.floor)} | ${mb(r.rss.ours)} | | ≤ ${T.rssMB} MB | ${verdict(MB(r.rss.ours) <= T.rssMB)} |

Spread (min–max): psql ${spread(f)}, stagedb ${spread(o)}; fastest run over fastest run: ${(Math.min(...o) / Math.min(...f)).toFixed(2)}×.
${breakdown}`;
  };

  const md = `## 4. Engine start-up: the first call after process start (100-model schema)

A fresh process imports dist/engine, opens the engine (loads and compiles the WebAssembly, connects
through the \`pg\` adapter), makes one call and closes it. Two first calls: \`diagnoseMigrationHistory\`
(what every history command starts with; the database and folder hold the \`init\` migration, up to date)
and \`diff\` from empty to the 100-model schema (parses and validates the whole schema, as push and
migrate dev must). "First call done" is \`performance.now()\` in the process when the call returns
(Node's clock starts at process start).

| measure | median | spread (min–max) | target | result |
|---|---:|---:|---:|---|
| first call done: \`diagnoseMigrationHistory\` (n=${fc.diagnose.length}) | ${ms(med(fc.diagnose))} | ${spread(fc.diagnose)} | ≤ ${T.firstCallMs} ms | ${verdict(med(fc.diagnose) <= T.firstCallMs)} |
| first call done: \`diff\` empty → schema (n=${fc.diff.length}) | ${ms(med(fc.diff))} | ${spread(fc.diff)} | ≤ ${T.firstCallMs} ms | ${verdict(med(fc.diff) <= T.firstCallMs)} |
| peak RSS, \`diagnoseMigrationHistory\` process (max of ${e.rssReps} runs, GNU time) | ${mb(e.rss.diagnose)} | | ≤ ${T.rssMB} MB | ${verdict(MB(e.rss.diagnose) <= T.rssMB)} |
| peak RSS, \`diff\` process (max of ${e.rssReps} runs, GNU time) | ${mb(e.rss.diff)} | | ≤ ${T.rssMB} MB | ${verdict(MB(e.rss.diff) <= T.rssMB)} |

Whole processes against bare \`node -e 0\` (spawn to exit, interleaved, n=${n}; no target for the ratio):

| | \`node -e 0\` median | engine process median | ratio |
|---|---:|---:|---:|
| open + \`diagnoseMigrationHistory\` + close | ${ms(med(wall('node')))} | ${ms(med(wall('diagnose')))} | ${ratio(wall('diagnose'), wall('node'))} |
| open + \`diff\` empty → schema + close | ${ms(med(wall('node')))} | ${ms(med(wall('diff')))} | ${ratio(wall('diff'), wall('node'))} |

Peak RSS of \`node -e 0\`: ${mb(e.rss.node)}. Spread (min–max): node ${spread(wall('node'))}, diagnose ${spread(wall('diagnose'))}, diff ${spread(wall('diff'))}.

Where the time goes (medians, \`performance.now()\` marks in the process):

| phase | \`diagnose\` | \`diff\` | \`diff-optimizing\` |
|---|---:|---:|---:|
| Node start-up, up to the first line of the script | ${ms(pd[0])} | ${ms(pf[0])} | ${ms(po[0])} |
| import dist/engine/index.js | ${ms(pd[1])} | ${ms(pf[1])} | ${ms(po[1])} |
| \`openEngine\`: read the schema, load + compile + instantiate the WASM, import pg and the adapter, connect, \`SchemaEngine.new\` (which parses the schema when given one) | ${ms(pd[2])} | ${ms(pf[2])} | ${ms(po[2])} |
| the first call | ${ms(pd[3])} | ${ms(pf[3])} | ${ms(po[3])} |
| \`close\` | ${ms(pd[4])} | ${ms(pf[4])} | ${ms(po[4])} |
| from \`close\` to process exit (measured by the parent) | ${ms(pd[5])} | ${ms(pf[5])} | ${ms(po[5])} |

Informational, same run and same n: the same first call opened other ways (bench/engine-child.mjs
variants). \`--liftoff-only\` is a V8 flag, given here to \`node\`; stagedb's engine commands set it for their
own process with \`v8.setFlagsFromString\` (src/commands/wasm-tier.ts), the library leaves V8 alone.

| variant | first call done, median | spread | spawn → exit, median | peak RSS |
|---|---:|---:|---:|---:|
${variantRows}

Schema: ${e.stats.models} models, ${e.stats.enums} enums, ${e.lines} lines (${(e.bytes / 1024).toFixed(0)} KiB); ${e.stats.scalarFields} scalar fields (8–12 per model),
${e.stats.relations} relations (${e.stats.oneToOne} one-to-one, ${e.stats.selfRelations} self-relations) plus ${e.stats.manyToMany} implicit many-to-many, ${e.stats.indexes} \`@@index\`,
${e.stats.uniques} \`@unique\`/\`@@unique\`, \`@@map\` on ${e.stats.mappedModels} models and \`@map\` on ${e.stats.mappedFields} fields (bench/schema.mjs, deterministic).
The engine's SQL for it: ${e.statements} statements; resulting schema, identical for psql, push and migrate dev:
${e.check.shape.map((x) => `${x.k}: ${x.n}`).join(', ')} (rel = relkind, con = contype). The \`init\` migration.sql that
migrate dev wrote is ${e.check.migrationVsDiff} the engine's diff from empty to the schema${e.check.diffHasCreateSchema ? ' (apart from the diff\'s leading `CREATE SCHEMA IF NOT EXISTS "public"`, which the floor runs and migrations leave out)' : ''}.
Shadow databases left on the server after all the migrate dev runs: ${e.check.leftoverShadows}.

${opSection('push', '5. `push` of the 100-model schema vs the psql floor')}
${opSection('dev', '6. `migrate dev` (the `init` migration) vs the psql floor')}`;
  return md;
}

/** The engine's part of the method paragraph. */
export const ENGINE_METHOD = `**Engine (4–6):** a deterministic 100-model schema (bench/schema.mjs) in a
project of its own. Start-up runs \`bench/engine-child.mjs first-call\` (Node, dist/engine, one call,
nothing else; under \`node --liftoff-only\`, as stagedb's engine commands run, except the \`-optimizing\`
rows) interleaved with \`node -e 0\` (the order rotating every repetition), after one untimed
warm-up of each; the process reports its \`performance.now()\` marks and the parent times spawn to
exit. The floor for push and migrate dev is ONE \`psql -X -q -1 -v ON_ERROR_STOP=1 -f\` session running
the engine's own SQL for the schema (its \`diff\` from empty, computed before timing) in one
transaction: the least any tool could do. push and
migrate dev start from a fresh empty database each repetition (migrate dev also from an empty
migrations folder) and alternate with the floor; migrate dev creates and drops Prisma's shadow
database as part of its work. Before timing, the schemas built by psql, push and migrate dev are
compared (relations, constraints, columns, enums) and migrate dev's folder and \`_prisma_migrations\` row
checked. Peak RSS is GNU time's \`%M\` (the whole process, to exit), the maximum of several runs; MB
here is 10^6 bytes, the stricter reading of the target. bench/engine-child.mjs ends with \`process.exit\`,
as bin/stagedb.js does. (The WASM engine arms a 10 s \`setTimeout\`, its lock timeout, per lock and never
clears it; stagedb's engine module unrefs those timers, so a library caller no longer lingers after \`close()\`.)`;
