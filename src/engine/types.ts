/**
 * stagedb's own view of the schema engine: the options it opens with and the operations it offers.
 * Apart from index.ts (which re-exports them), so the engine's implementation (wasm-engine.ts) and the
 * door it is loaded through import the same types without importing each other.
 */
import type { GeneratedMigration } from '../history/write.js';
import type { SchemaFile, StrippedSetting } from './schema.js';

export interface OpenEngineOptions {
  /** Direct PostgreSQL URL of the database to work on (an environment's `directUrl`); `?schema=` is honoured. */
  url: string;
  /**
   * The Prisma schema: a `.prisma` file, a folder of them, or the files themselves. Needed by
   * `createMigration` and by `diff` from or to the schema. Prisma 6 settings the engine refuses are
   * removed first (see `prepareSchemaForEngine`); what was removed is in `SchemaEngine.stripped`.
   */
  schema?: string | readonly SchemaFile[];
  /** The migrations folder (`prisma/migrations`). Needed by every history operation. */
  migrationsDir?: string;
  /** Starts every message (default: host:port/database of the URL). */
  label?: string;
  /** The environment, for the `--env` of commands suggested in errors. */
  env?: string;
  /** Receives the engine's log lines (JSON tracing events), e.g. for `--verbose`. */
  onLog?: (line: string) => void;
  /**
   * A database to replay migrations on (Prisma's `shadowDatabaseUrl`) instead of a temporary one
   * created and dropped on the same server (which needs CREATEDB). It must be a separate database:
   * its schema is emptied before and after each use.
   */
  shadowDatabaseUrl?: string;
  /**
   * Every transaction of the connection is READ ONLY, enforced by the server: nothing the engine does
   * can change the database. `push` then only reports what it would do (see {@link SchemaEngine.push}).
   */
  readOnly?: boolean;
}

/** A database schema the engine can compare. */
export type DiffSource =
  | { kind: 'empty' }
  /** The Prisma schema (the one given to openEngine, or these files). */
  | { kind: 'schema'; files?: readonly SchemaFile[] }
  /** The live database the engine is connected to. */
  | { kind: 'database' }
  /**
   * The migrations folder (the engine's own `migrationsDir`, or `dir`), replayed on a shadow database.
   * `only`: just these migrations, in folder order (e.g. the ones applied to a database).
   */
  | { kind: 'migrations'; dir?: string; only?: readonly string[] };

export interface DiffResult {
  /** The SQL that turns `from` into `to`, as Prisma writes it (a comment only when nothing differs). */
  script: string;
  empty: boolean;
}

/** The engine's view of the history (what `prisma migrate status` prints). */
export interface HistoryDiagnosis {
  hasMigrationsTable: boolean;
  /** Applied, not rolled back, and never finished. Block deploys (P3009). */
  failed: string[];
  /** Applied, but the file's checksum no longer matches. */
  edited: string[];
  /** In the folder, not (successfully) applied. */
  unapplied: string[];
  /** Applied, but not in the folder. */
  unpersisted: string[];
  /** Only when the two histories diverge: the last migration both have. */
  lastCommon?: string | null;
  /**
   * With `{ drift: true }`: the SQL that turns the schema the migrations produce (replayed on a shadow
   * database) into the live one, i.e. changes made outside the history; `''` when there are none.
   */
  drift?: string;
  /** Nothing failed, edited, unapplied or unpersisted (and no drift, when checked). */
  upToDate: boolean;
}

/** What `createMigration` did. */
export interface CreatedMigration {
  /** The new migration; absent when the schema matches the history (and `draft` was not set). */
  migration?: GeneratedMigration;
  /** Pending migrations applied to the development database before generating. */
  appliedFirst: string[];
}

/** What `db push` did (or, refused, would have done). */
export interface PushOutcome {
  /** Steps executed: 0 when refused (warnings without `force`, or unexecutable steps) or when in sync. */
  executedSteps: number;
  /** Data-loss warnings, as the engine words them. */
  warnings: string[];
  /** Steps that cannot run on this database as it is (e.g. a required column without default on a non-empty table). */
  unexecutable: string[];
}

/** The engine's verdict on the next migration `migrate dev` would generate, checked against the live database. */
export interface DataLossEvaluation {
  /** Steps the migration would have; 0 = the schema matches the history. */
  steps: number;
  warnings: string[];
  unexecutable: string[];
}

/** Whether `migrate dev` can go on with this development database (the engine's devDiagnostic). */
export type DevDatabaseCheck =
  | { resetNeeded: false }
  /** Drift, failed, edited or missing migrations: the engine's own explanation. */
  | { resetNeeded: true; reason: string };

/**
 * An open engine, connected to one database. Close it as soon as the work is done (or use
 * {@link withEngine}): from its first history operation until `close()`, it holds Prisma's advisory
 * lock (72707369) on that database, so a second engine or a `prisma migrate` there waits and gives
 * up after 10 s (P1002, E_LOCKED). stagedb's own workflow lock uses another key and is not affected.
 */
export interface SchemaEngine {
  /** prisma-engines commit of the loaded engine. */
  readonly engineVersion: string;
  /** What was removed from the schema before the engine saw it. */
  readonly stripped: readonly StrippedSetting[];
  /** `migrate deploy`: applies every pending migration of the folder; returns their names. */
  applyMigrations(): Promise<{ applied: string[] }>;
  /** `migrate status`: compares the folder and `_prisma_migrations`, optionally checks drift. */
  diagnoseMigrationHistory(options?: { drift?: boolean }): Promise<HistoryDiagnosis>;
  /**
   * `migrate dev --create-only`, on a development database: applies the folder's pending migrations
   * to it first (as Prisma does; refuses if it drifted from the folder), then generates the migration
   * from the folder's history, replayed on a temporary shadow database, to the schema. Writes no file:
   * pass `migration` to `writeMigrationFiles`. No `migration` when nothing changed (unless `draft`).
   */
  createMigration(options: { name: string; draft?: boolean; schema?: readonly SchemaFile[] }): Promise<CreatedMigration>;
  /** `migrate resolve --applied`: records a migration as applied without running it. */
  markMigrationApplied(name: string): Promise<void>;
  /** `migrate resolve --rolled-back`: marks a failed migration rolled back. */
  markMigrationRolledBack(name: string): Promise<void>;
  /** `migrate diff --script`. */
  diff(from: DiffSource, to: DiffSource): Promise<DiffResult>;
  /**
   * `db push`: brings the database to the schema without migrations. Without `force`, nothing is
   * executed when there are data-loss warnings; never when there are unexecutable steps.
   * On a `readOnly` engine it is a dry run: the engine checks and reports as usual, and its first
   * change is refused by the server; `executedSteps` is then 0 (and the warnings empty, since the
   * engine applies only when there are none, or with `force`).
   */
  push(options: { force: boolean; schema?: readonly SchemaFile[] }): Promise<PushOutcome>;
  /** The first step of `migrate dev`: can a migration be generated against this database, or must it be reset? */
  checkDevDatabase(): Promise<DevDatabaseCheck>;
  /**
   * The data loss of the migration `generateMigration` would write, against the live database.
   * Assumes every migration of the folder is applied (apply pending ones first).
   */
  evaluateDataLoss(options?: { schema?: readonly SchemaFile[] }): Promise<DataLossEvaluation>;
  /**
   * Generates the next migration from the folder's history to the schema, exactly as `prisma migrate
   * dev` would, and writes nothing and applies nothing. Assumes every migration of the folder is
   * applied. No migration when nothing changed (unless `draft`, which gives an empty one).
   */
  generateMigration(options: { name: string; draft?: boolean; schema?: readonly SchemaFile[] }): Promise<GeneratedMigration | undefined>;
  /** Frees the engine and ends its connections. Safe to call twice. */
  close(): Promise<void>;
}
