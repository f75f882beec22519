#!/usr/bin/env node
/**
 * The processes bench/engine.mjs times when it measures the engine through stagedb's library rather
 * than the CLI. Kept tiny and free of bench code so that the process is what a stagedb command would
 * be minus argument parsing and config loading: Node, dist/engine (or dist/develop), the work, exit.
 *
 *   node bench/engine-child.mjs first-call <variant>       engine start-up and its first call
 *       (diagnose, diff, diagnose-bare, diff-once: see below)
 *   node bench/engine-child.mjs push                       push the schema to the database
 *   node bench/engine-child.mjs migrate-dev                create the `init` migration and apply it
 *
 * The library is growing while this is written: push and migrate dev call stagedb's dist/develop
 * functions when they exist (what the CLI commands call), else the engine's own operations, and say
 * which in their output (`via`).
 *
 * Input from the environment: BENCH_URL, BENCH_SCHEMA (schema.prisma), BENCH_MIGRATIONS (folder),
 * BENCH_DIST (stagedb's dist/). Prints one line, `BENCH_CHILD {json}`, with `performance.now()`
 * marks (milliseconds since this process started) and the peak RSS so far (KiB).
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const marks = { start: performance.now() };
const [mode, variant] = process.argv.slice(2);
const { BENCH_URL: url, BENCH_SCHEMA: schema, BENCH_MIGRATIONS: migrationsDir, BENCH_DIST: dist } = process.env;
const load = (rel) => import(pathToFileURL(join(dist, rel)).href);
const out = {};

const { existsSync } = await import('node:fs');
/** stagedb's library for the development commands, when the loaded dist/ has it. */
const hasDevelop = (file) => existsSync(join(dist, 'develop', file));
/** The development environment of the project in the working directory, as the CLI resolves it. */
async function developmentEnv() {
  const { loadConfig, resolveEnvironment } = await load('index.js');
  const config = await loadConfig({ cwd: process.cwd() });
  return { config, env: resolveEnvironment(config, 'development', { processEnv: process.env }) };
}

const engineModule = await load('engine/index.js');
// writeMigrationFiles moved from engine/ to history/ (issue 17); an older dist/ under comparison has it in engine/.
const historyWrite = existsSync(join(dist, 'history', 'write.js')) ? await load('history/write.js') : engineModule;
marks.imported = performance.now();

if (mode === 'first-call') {
  // diagnose, diff: the engine opened with the schema, as push and migrate dev open it.
  // diagnose-bare: opened without a schema (what a history-only command needs).
  // diff-once: opened without a schema, which is handed to the diff call itself instead.
  const withSchema = variant === 'diagnose' || variant === 'diff';
  const engine = await engineModule.openEngine({ url, migrationsDir, ...(withSchema ? { schema } : {}) });
  marks.opened = performance.now();
  try {
    if (variant.startsWith('diagnose')) {
      const d = await engine.diagnoseMigrationHistory();
      out.upToDate = d.upToDate;
      if (!d.upToDate) out.diagnosis = d;
    } else {
      const { readFileSync } = await import('node:fs');
      const files = withSchema ? undefined : [{ path: 'prisma/schema.prisma', content: readFileSync(schema, 'utf8') }];
      const d = await engine.diff({ kind: 'empty' }, { kind: 'schema', ...(files ? { files } : {}) });
      out.scriptBytes = d.script.length;
    }
    marks.firstCall = performance.now();
  } finally {
    await engine.close();
  }
  marks.closed = performance.now();
} else if (mode === 'push' && hasDevelop('push.js')) {
  // What the CLI's push does (src/commands/push.ts), minus printing and the guard: plan, then push.
  out.via = 'develop.push';
  const { env, config } = await developmentEnv();
  marks.opened = performance.now();
  const { planPush, push } = await load('develop/push.js');
  const plan = await planPush({ env, schemaPath: config.schemaPath });
  marks.planned = performance.now();
  const r = await push({ env, schemaPath: config.schemaPath, acceptDataLoss: true });
  marks.applied = performance.now();
  out.executedSteps = r.executedSteps;
  out.scriptBytes = plan.script.length;
} else if (mode === 'push') {
  const engine = await engineModule.openEngine({ url, schema });
  marks.opened = performance.now();
  try {
    if (typeof engine.push === 'function') {
      // The engine's own db push (schemaPush), when the engine module offers it.
      out.via = 'engine.push';
      const r = await engine.push({ force: true });
      out.executedSteps = r.executedSteps;
      marks.applied = performance.now();
    } else {
      // Push as the engine does it: compare the live database with the schema, run the difference.
      out.via = 'engine.diff';
      const script = (await engine.diff({ kind: 'database' }, { kind: 'schema' })).script;
      marks.planned = performance.now();
      // One simple-query message: PostgreSQL runs it as one implicit transaction.
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(script);
      } finally {
        await client.end();
      }
      marks.applied = performance.now();
    }
  } finally {
    await engine.close();
  }
  marks.closed = performance.now();
} else if (mode === 'migrate-dev' && hasDevelop('migrate-dev.js')) {
  // What the CLI's migrate dev will do: stagedb's library function, non-interactive.
  out.via = 'develop.migrateDev';
  const { env, config } = await developmentEnv();
  marks.opened = performance.now();
  const { migrateDev } = await load('develop/migrate-dev.js');
  const r = await migrateDev({
    env,
    schemaPath: config.schemaPath,
    migrationsDir: config.migrationsDir,
    name: 'init',
    confirmReset: async () => false,
  });
  marks.applied = performance.now();
  out.directoryName = r.created?.directoryName;
  out.applied = r.applied;
} else if (mode === 'migrate-dev') {
  const engine = await engineModule.openEngine({ url, schema, migrationsDir });
  marks.opened = performance.now();
  try {
    let migration;
    if (typeof engine.createMigration === 'function') {
      out.via = 'engine.createMigration';
      migration = (await engine.createMigration({ name: 'init' })).migration;
    } else {
      // Prisma's migrate dev order with the finer-grained engine interface.
      out.via = 'engine.generateMigration';
      const check = await engine.checkDevDatabase();
      if (check.resetNeeded) throw new Error(`the development database needs a reset: ${check.reason}`);
      await engine.applyMigrations();
      migration = await engine.generateMigration({ name: 'init' });
    }
    marks.created = performance.now();
    if (!migration) throw new Error('migrate dev generated no migration');
    historyWrite.writeMigrationFiles(migrationsDir, migration);
    out.directoryName = migration.directoryName;
    const { applied } = await engine.applyMigrations();
    marks.applied = performance.now();
    out.applied = applied;
  } finally {
    await engine.close();
  }
  marks.closed = performance.now();
} else {
  throw new Error(`unknown mode ${mode}`);
}

process.stdout.write(`BENCH_CHILD ${JSON.stringify({ ...out, marks, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
// Exit as bin/stagedb.js does (src/cli/main.ts ends with process.exit). Without it the process would
// linger up to 10 s: the WASM engine arms a 10 s setTimeout (its advisory-lock timeout) each time it
// takes Prisma's lock and never clears it, and engine.close() cannot reach those timers.
process.exit(0);
