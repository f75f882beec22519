/**
 * `stagedb migrate dev` (the guide's db:migrate): Prisma's `migrate dev` through the WASM engine. The
 * engine judges the database and generates the migration (so the file is the one the Prisma CLI
 * would write, byte for byte); stagedb's own deploy applies migrations, as `stagedb deploy` does on
 * every other environment, so development runs the same code path and the same transactions.
 */
import { existsSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { GeneratedMigration, SchemaEngine } from '../engine/index.js';
import { StagedbError, usageError } from '../errors.js';
import { deploy } from '../history/deploy.js';
import { readLocalHistory } from '../history/local.js';
import { refuseUnbaselinedDevDatabase } from './baseline.js';
import { migrationNameSlug } from './name.js';
import { zeroDowntimeMigrations } from './zero-downtime.js';
import { recreateSchemas } from './reset.js';
import { engineOptionsFor, refuseOnProduction, refuseResetUnlessUnprotected, resetSchemas, scriptOrEmpty, type DevelopEvent } from './shared.js';
import { shellQuote } from '../shell-quote.js';

/** Why the development database must be reset before a migration can be generated. */
export type DevProblem =
  /** The database differs from what its applied migrations produce; `script` is the SQL from the latter to the former. */
  | { kind: 'drift'; script: string }
  /** Applied migrations that failed and were not resolved. */
  | { kind: 'failed'; names: string[] }
  /** Applied migrations whose migration.sql changed since. */
  | { kind: 'edited'; names: string[] }
  /** Migrations recorded in the database but absent from the folder. */
  | { kind: 'missing'; names: string[] };

export interface MigrateDevOptions {
  env: ResolvedEnvironment;
  schemaPath: string;
  migrationsDir: string;
  /**
   * The migration's name, made into a directory name as the Prisma CLI does (`Add posts` →
   * `<timestamp>_add_posts`). Without it: `init` for the first migration of the folder, else
   * `askName` is called, else E_NAME_REQUIRED (only when there is a migration to create).
   */
  name?: string;
  /** Asked for a name when none was given and the folder already has migrations (the CLI's prompt). */
  askName?: () => Promise<string | undefined>;
  /** Write the migration without applying it (also when nothing changed: then it is empty, as in Prisma). */
  createOnly?: boolean;
  /**
   * Called when the dev database must be reset to continue (drift, failed/edited/missing migrations),
   * like Prisma's migrate dev prompt, with the schemas a reset drops (the URL's, and a multiSchema
   * datasource's others). Return true to reset (all data in them is lost), false to abort (E_ABORTED,
   * nothing changed). Never called on an environment whose protection is not 'none': there the reset
   * is refused (E_REFUSED) instead.
   */
  confirmReset: (problems: DevProblem[], schemas: string[]) => Promise<boolean>;
  /**
   * Called with the data-loss warnings of the NEW migration before it is written; return false to
   * abort (E_ABORTED, no file written). Without it, warnings are refused (E_DATA_LOSS).
   */
  confirmDataLoss?: (warnings: string[]) => Promise<boolean>;
  /**
   * Write the new migration as zero-downtime steps (docs/zero-downtime.md): default true. False (config
   * `zeroDowntime: false`, `--prisma-sql`) writes Prisma's SQL as it is.
   */
  zeroDowntime?: boolean;
  /**
   * Progress: `reset-needed` ({ problems }), `reset` ({ schema }), deploy's events (`apply-start`,
   * `apply-done`, …), `data-loss` ({ warnings }), `unexecutable` ({ steps }, with createOnly),
   * `lock-file` ({ path }), `zero-downtime` ({ changes, unsafe, folders }: what the rewrite changed and
   * what it could not make safe), `created` ({ directoryName, path }, once per folder).
   */
  onEvent?: (e: DevelopEvent) => void;
}

export interface MigrateDevResult {
  /** The migration written in this run (its first folder, when the zero-downtime rewrite made several). */
  created?: { directoryName: string; path: string };
  /** Every folder written, in order, when the zero-downtime rewrite made more than one. */
  steps?: Array<{ directoryName: string; path: string }>;
  /** Migrations applied in this run, in order: pending ones of the folder, then the new one. */
  applied: string[];
  /** The database was reset: the caller runs the seed. */
  reset: boolean;
  /** Nothing to create: the schema matches the history (pending migrations may still have been applied). */
  inSync: boolean;
}

const PRODUCTION_WHY = 'it generates migrations from the database it runs on and may offer to reset it';
const productionFix = (env: string) => `run it on development (stagedb migrate dev --env development --name <change>), commit the migration, then: stagedb deploy --env ${env}`;

/**
 * Prisma's `migrate dev`, step by step: the engine checks the database against the folder (a reset,
 * confirmed by `confirmReset`, when it drifted or a migration failed, was edited or is missing); the
 * folder's pending migrations are applied; the engine evaluates the next migration against the live
 * data (`confirmDataLoss`); the engine generates it; it is written (complete, or not at all) and applied.
 */
export async function migrateDev(o: MigrateDevOptions): Promise<MigrateDevResult> {
  const { env } = o;
  refuseOnProduction(env, 'migrate dev', PRODUCTION_WHY, productionFix(env.name));
  const emit = (e: DevelopEvent) => o.onEvent?.(e);
  const { withEngine } = await import('../engine/index.js');
  const { writeMigrationFiles, ensureMigrationLock } = await import('../history/write.js');
  // The folder is checked before the database is touched (stagedb's rules: no directory without migration.sql).
  const existing = existsSync(o.migrationsDir) ? readLocalHistory(o.migrationsDir).migrations : [];

  return withEngine(engineOptionsFor(env, { schema: o.schemaPath, migrationsDir: o.migrationsDir }), async (engine) => {
    let reset = false;
    const check = await engine.checkDevDatabase();
    if (check.resetNeeded) {
      const problems = await describeProblems(engine, check.reason, existing.map((m) => m.name));
      emit({ type: 'reset-needed', env: env.name, problems, reason: check.reason });
      const schemas = resetSchemas(env, o.schemaPath);
      refuseResetUnlessUnprotected(env, 'the reset migrate dev needs', problemLines(problems, env.name), schemas);
      if (!(await o.confirmReset(problems, schemas))) {
        throw new StagedbError('aborted', 'E_ABORTED', `${env.name}: migrate dev stopped: the database must be reset to continue, and the reset was declined; nothing was changed`, {
          details: problemLines(problems, env.name),
          fix: resetAlternatives(problems, env.name, o.migrationsDir),
        });
      }
      await recreateSchemas(env, schemas);
      reset = true;
      emit({ type: 'reset', env: env.name, schema: schemas[0], schemas });
    }

    // Deploy's baseline check, before the first migration is written rather than when it is applied
    // (with migrations in the folder, the deploy below makes it before anything is written).
    if (existing.length === 0 && !reset && !o.createOnly) await refuseUnbaselinedDevDatabase(env);

    const applied: string[] = [];
    if (existing.length > 0) {
      if (ensureMigrationLock(o.migrationsDir)) emit({ type: 'lock-file', path: join(o.migrationsDir, 'migration_lock.toml') });
      // As Prisma's migrate dev: pending migrations are applied even when older than the last applied one (a merged branch).
      const r = await deploy({ env, migrationsDir: o.migrationsDir, allowOutOfOrder: true, onEvent: o.onEvent });
      applied.push(...r.applied.map((a) => a.name));
    }

    const evaluation = await engine.evaluateDataLoss();
    if (evaluation.unexecutable.length > 0) {
      if (!o.createOnly) {
        throw new StagedbError('history', 'E_MIGRATION_UNEXECUTABLE', `${env.name}: the next migration cannot run on this database as it is; no file was written`, {
          details: evaluation.unexecutable,
          fix: `create it without applying it (stagedb migrate dev --create-only${o.name ? ` --name ${shellQuote(o.name)}` : ''}), edit migration.sql to deal with the existing rows, then: stagedb migrate dev`,
        });
      }
      emit({ type: 'unexecutable', env: env.name, steps: evaluation.unexecutable });
    }
    if (evaluation.warnings.length > 0) {
      emit({ type: 'data-loss', env: env.name, warnings: evaluation.warnings });
      if (!o.confirmDataLoss) {
        throw new StagedbError('guard', 'E_DATA_LOSS', `${env.name}: the next migration would lose data; no file was written`, {
          details: evaluation.warnings,
          fix: 'run stagedb migrate dev in a terminal to confirm, or write it with --create-only, review migration.sql, then run stagedb migrate dev',
        });
      }
      if (!(await o.confirmDataLoss(evaluation.warnings))) {
        throw new StagedbError('aborted', 'E_ABORTED', `${env.name}: migrate dev stopped before writing the migration (data loss declined); no file was written`, {
          details: evaluation.warnings,
          fix: 'change schema.prisma so nothing is lost, or write it with --create-only and edit migration.sql to keep the data',
        });
      }
    }
    if (evaluation.steps === 0 && !o.createOnly) return { applied, reset, inSync: true };

    const name = await migrationName(o, existing.length === 0);
    const generated = await engine.generateMigration({ name, draft: o.createOnly ?? false });
    if (!generated) return { applied, reset, inSync: true };
    const migration = { ...generated, directoryName: sortedLast(generated.directoryName, existing.map((m) => m.name)) };
    const safe = await zeroDowntimeMigrations(migration, o.zeroDowntime ?? true, env);
    if (safe.changes.length > 0 || safe.unsafe.length > 0) emit({ type: 'zero-downtime', env: env.name, changes: safe.changes, unsafe: safe.unsafe, folders: safe.migrations.map((m) => m.directoryName) });
    const steps = writeAll(o.migrationsDir, safe.migrations, writeMigrationFiles);
    for (const step of steps) emit({ type: 'created', env: env.name, ...step });
    const created = steps[0]!;
    const extra = steps.length > 1 ? { steps } : {};
    if (o.createOnly) return { created, ...extra, applied, reset, inSync: false };

    const r = await deploy({ env, migrationsDir: o.migrationsDir, allowOutOfOrder: true, onEvent: o.onEvent });
    applied.push(...r.applied.map((a) => a.name));
    return { created, ...extra, applied, reset, inSync: false };
  });
}

/** Writes the folders in order; when one fails, the ones written before it are removed: all or nothing. */
function writeAll(dir: string, migrations: GeneratedMigration[], write: (dir: string, m: GeneratedMigration) => string): Array<{ directoryName: string; path: string }> {
  const done: Array<{ directoryName: string; path: string }> = [];
  try {
    for (const m of migrations) done.push({ directoryName: m.directoryName, path: write(dir, m) });
  } catch (e) {
    for (const d of done) rmSync(d.path, { recursive: true, force: true });
    throw e;
  }
  return done;
}

/**
 * The engine stamps a migration with the current second. Two runs within one second (a script, a
 * test, a fast typist after --create-only) would give two migrations the same timestamp, and the
 * folder's order, which is the name's, would then put `…_add_posts` before `…_init`. The new one
 * must sort after every existing one: if it would not, its timestamp becomes the latest one's plus
 * one second. The script is untouched.
 */
export function sortedLast(directoryName: string, existing: readonly string[]): string {
  const m = /^(\d{14})(_.*)?$/.exec(directoryName);
  const latest = [...existing].sort().at(-1);
  if (!m || latest === undefined || directoryName > latest) return directoryName;
  const stamp = /^(\d{14})/.exec(latest)?.[1];
  if (!stamp) return directoryName;
  const t = Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(8, 10), +stamp.slice(10, 12), +stamp.slice(12, 14)) + 1000;
  const next = new Date(t).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${next}${m[2] ?? ''}`;
}

async function migrationName(o: MigrateDevOptions, first: boolean): Promise<string> {
  const given = o.name ?? (first ? 'init' : await o.askName?.());
  if (given === undefined) {
    throw usageError('E_NAME_REQUIRED', `${o.env.name}: the new migration needs a name; no file was written`, 'stagedb migrate dev --name <what-changed>   (e.g. --name add_posts)');
  }
  const slug = migrationNameSlug(given);
  if (slug === '') {
    throw usageError('E_NAME_INVALID', `migration name ${JSON.stringify(given)} has no letters or digits to make a directory name from; no file was written`, 'stagedb migrate dev --name <what-changed>   (Latin letters, digits; e.g. --name add_posts)');
  }
  return slug;
}

/**
 * The engine explains a reset in prose; the caller gets it as data. Failed, edited and missing
 * migrations come from the engine's history diagnosis; drift is the SQL from what the applied
 * migrations produce (replayed on a shadow database) to the live database.
 */
async function describeProblems(engine: SchemaEngine, reason: string, local: string[]): Promise<DevProblem[]> {
  const d = await engine.diagnoseMigrationHistory();
  const problems: DevProblem[] = [];
  if (d.failed.length > 0) problems.push({ kind: 'failed', names: d.failed });
  if (d.edited.length > 0) problems.push({ kind: 'edited', names: d.edited });
  if (d.unpersisted.length > 0) problems.push({ kind: 'missing', names: d.unpersisted });
  if (/^(- )?Drift detected/m.test(reason)) {
    const notApplied = new Set([...d.unapplied, ...d.failed]);
    const applied = local.filter((n) => !notApplied.has(n));
    const script = scriptOrEmpty(await engine.diff(applied.length > 0 ? { kind: 'migrations', only: applied } : { kind: 'empty' }, { kind: 'database' }));
    problems.push({ kind: 'drift', script: script || commentOut(reason) });
  }
  // A reason this code does not know yet: pass the engine's words on rather than nothing.
  if (problems.length === 0) problems.push({ kind: 'drift', script: commentOut(reason) });
  return problems;
}

function commentOut(text: string): string {
  return `${text.trim().split('\n').map((l) => `-- ${l}`.trimEnd()).join('\n')}\n`;
}

/** SQL lines of a drift shown in a message; the rest is a `migrate diff` away. */
const DRIFT_LINES_SHOWN = 20;

/**
 * One line per problem, for error details; a drift is followed by its SQL (what Prisma prints as its
 * drift summary), indented, at most {@link DRIFT_LINES_SHOWN} lines.
 */
export function problemLines(problems: DevProblem[], env = 'development'): string[] {
  return problems.flatMap((p) => {
    switch (p.kind) {
      case 'drift': {
        const sql = p.script.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'));
        // No SQL: the engine's own explanation, commented out by describeProblems.
        const shown = sql.length > 0 ? sql : p.script.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^-- ?/, ''));
        const more = shown.length - DRIFT_LINES_SHOWN;
        return [
          `drift: the database differs from what its migrations produce${sql.length > 0 ? ' (changes made outside them, as SQL)' : ''}:`,
          ...shown.slice(0, DRIFT_LINES_SHOWN).map((l) => `    ${l}`),
          ...(more > 0 ? [`    … ${more} more line${more === 1 ? '' : 's'}: stagedb migrate diff --from migrations --to env:${env}`] : []),
        ];
      }
      case 'failed':
        return [`failed: ${p.names.join(', ')}`];
      case 'edited':
        return [`edited after being applied: ${p.names.join(', ')}`];
      case 'missing':
        return [`applied but missing from the folder: ${p.names.join(', ')}`];
    }
  });
}

/**
 * What works instead of the reset, problem by problem (a migration created with --create-only would
 * meet the same check, so it is no way out), then the reset itself.
 */
export function resetAlternatives(problems: DevProblem[], env: string, migrationsDir = 'prisma/migrations', reset = `stagedb migrate reset --env ${env}`): string {
  const dir = (isAbsolute(migrationsDir) ? relative(process.cwd(), migrationsDir) : migrationsDir) || '.';
  const ways = problems.map((p) => {
    switch (p.kind) {
      case 'drift':
        return `keep the drift as a migration: mkdir ${dir}/<timestamp>_<name> && stagedb migrate diff --from migrations --to env:${env} > ${dir}/<timestamp>_<name>/migration.sql, add the change to schema.prisma, then stagedb migrate resolve --applied <timestamp>_<name> --env ${env}; or undo it by hand`;
      case 'failed':
        return `undo what ${p.names.join(', ')} did, fix the file, then stagedb migrate resolve --rolled-back ${p.names[0]} --env ${env}`;
      case 'edited':
        return `restore the applied file${p.names.length === 1 ? '' : 's'} from git (git checkout -- ${dir}/${p.names[0]}/migration.sql)`;
      case 'missing':
        return `bring back ${p.names.join(', ')} into the migrations folder (pull the branch that added ${p.names.length === 1 ? 'it' : 'them'})`;
    }
  });
  return `${ways.join('; ')}; then run stagedb migrate dev again. Or reset (drops every row): ${reset}`;
}
