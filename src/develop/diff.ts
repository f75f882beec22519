/**
 * `stagedb migrate diff` and drift (`status --drift`): the SQL between any two of: nothing, a Prisma
 * schema, a migrations folder (replayed on a shadow database) and an environment's live database.
 */
import { existsSync } from 'node:fs';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { DiffSource, OpenEngineOptions } from '../engine/index.js';
import { usageError } from '../errors.js';
import { readLocalHistory, type LocalMigration } from '../history/local.js';
import { compareHistory } from '../history/state.js';
import { readStatus } from '../history/table.js';
import { connect } from '../pg/connect.js';
import type { Client } from 'pg';
import { engineOptionsFor, scriptOrEmpty } from './shared.js';

/** One side of a diff. */
export type DiffSide =
  | { kind: 'empty' }
  | { kind: 'schema'; path: string }
  /** Every migration of the folder, replayed on a shadow database. */
  | { kind: 'migrations'; dir: string }
  | { kind: 'database'; env: ResolvedEnvironment };

export interface DiffSchemasOptions {
  from: DiffSide;
  to: DiffSide;
  /**
   * Where the engine connects when no side is a database: the schema engine computes every diff
   * through a PostgreSQL connection, and replays migrations on a temporary shadow database created
   * on that server (or on its `shadowDatabaseUrl`). Only read; nothing of it changes.
   */
  shadowEnv?: ResolvedEnvironment;
}

export interface DiffOutcome {
  /** The SQL that turns `from` into `to`, exactly as `prisma migrate diff --script` prints it ("-- This is an empty migration." when they match). */
  script: string;
  empty: boolean;
}

const describe = (s: DiffSide) =>
  s.kind === 'empty' ? 'empty' : s.kind === 'schema' ? `schema ${s.path}` : s.kind === 'migrations' ? `migrations ${s.dir}` : `database of ${s.env.name}`;

/** The SQL from one schema source to another (Prisma's `migrate diff --script`). */
export async function diffSchemas(o: DiffSchemasOptions): Promise<DiffOutcome> {
  const databases = [o.from, o.to].filter((s): s is Extract<DiffSide, { kind: 'database' }> => s.kind === 'database');
  if (databases.length === 2 && databases[0]!.env.directUrl !== databases[1]!.env.directUrl) {
    throw usageError(
      'E_DIFF_TWO_DATABASES',
      `cannot compare the databases of ${databases[0]!.env.name} and ${databases[1]!.env.name} directly: the schema engine connects to one database at a time`,
      `compare each with the migrations instead: stagedb status --env ${databases[0]!.env.name},${databases[1]!.env.name} --drift`,
    );
  }
  const env = databases[0]?.env ?? o.shadowEnv;
  if (!env) {
    throw usageError(
      'E_DIFF_NEEDS_SERVER',
      `comparing ${describe(o.from)} with ${describe(o.to)} needs a PostgreSQL server: the schema engine computes every diff through a connection${[o.from, o.to].some((s) => s.kind === 'migrations') ? ', and replays the migrations on a temporary shadow database there' : ''}`,
      'name an environment whose server may create a temporary database: --shadow-env development',
    );
  }
  const schemaSide = [o.from, o.to].find((s): s is Extract<DiffSide, { kind: 'schema' }> => s.kind === 'schema');
  const { withEngine, readSchemaFiles } = await import('../engine/index.js');
  const side = (s: DiffSide): DiffSource => {
    switch (s.kind) {
      case 'empty':
        return { kind: 'empty' };
      case 'schema':
        return { kind: 'schema', files: readSchemaFiles(s.path) };
      case 'migrations':
        if (!existsSync(s.dir)) throw usageError('E_MIGRATIONS_MISSING', `migrations folder ${s.dir} does not exist`, 'point --from-migrations / --to-migrations at the folder that holds the <timestamp>_<name> directories');
        readLocalHistory(s.dir); // refuses a folder for another provider or with a directory without migration.sql
        return { kind: 'migrations', dir: s.dir };
      case 'database':
        return { kind: 'database' };
    }
  };
  const [from, to] = [side(o.from), side(o.to)];
  // The database side takes its datasource settings (extensions, schemas) from the schema, when there is
  // one. Read-only: a diff never writes to the database it is connected to (the shadow database is apart).
  const options: OpenEngineOptions = engineOptionsFor(env, { ...(schemaSide ? { schema: schemaSide.path } : {}), readOnly: true });
  return withEngine(options, async (engine) => {
    const d = await engine.diff(from, to);
    return { script: d.script, empty: d.empty };
  });
}

/** An environment's drift, in SQL. */
export interface DriftReport {
  env: string;
  /** From what the applied migrations produce to the live database: changes made outside the history; `''` if none. */
  migrationsToDatabase: string;
  /** From the live database to schema.prisma: what a new migration would contain; `''` if none. */
  databaseToSchema: string;
  /** The live database differs from what its applied migrations produce (`migrationsToDatabase` is not empty). */
  drifted: boolean;
  /** The migrations the database has applied (finished, not rolled back) that were replayed to compare it with. */
  appliedMigrations: string[];
  /**
   * `hit`: answered from `.stagedb/drift-cache/` without replaying (see drift-cache.ts); `miss`: replayed
   * now (and stored); absent: checked without the cache.
   */
  cache?: 'hit' | 'miss';
}

/**
 * Compares an environment's live database with what its applied migrations produce (replayed on a
 * shadow database: CREATEDB on its server, or `shadowDatabaseUrl`) and with schema.prisma. Reads only.
 */
export async function detectDrift(o: { env: ResolvedEnvironment; schemaPath: string; migrationsDir: string }): Promise<DriftReport> {
  const { env } = o;
  const local = existsSync(o.migrationsDir) ? readLocalHistory(o.migrationsDir).migrations : [];
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'drift' });
  let applied: string[];
  try {
    applied = await appliedForDrift(client, env, local);
  } finally {
    await client.end().catch(() => {});
  }
  return driftFromEngine(o, applied);
}

/** The folder's migrations that the database records as finished, in order: what a drift check replays. */
export async function appliedForDrift(client: Client, env: ResolvedEnvironment, local: LocalMigration[]): Promise<string[]> {
  // status's one round trip (the columns compareHistory reads, as one JSON value); no rows when the table is missing.
  const rows = (await readStatus(client, env.directInfo.schema)).rows ?? [];
  // As Prisma's drift check: the folder's migrations that the table records as finished (an edited one is replayed as it is now).
  return compareHistory(local, rows)
    .entries.filter((e) => (e.state === 'applied' || e.state === 'modified') && e.local)
    .map((e) => e.name);
}

/** The engine's half of a drift check: replays `applied` on a shadow database and diffs it (and schema.prisma) with the live database. */
export async function driftFromEngine(o: { env: ResolvedEnvironment; schemaPath: string; migrationsDir: string }, applied: string[]): Promise<DriftReport> {
  const { env } = o;
  const { withEngine } = await import('../engine/index.js');
  return withEngine(engineOptionsFor(env, { schema: o.schemaPath, migrationsDir: o.migrationsDir, readOnly: true }), async (engine) => {
    const migrationsToDatabase = await historyToDatabase(engine, applied);
    const databaseToSchema = scriptOrEmpty(await engine.diff({ kind: 'database' }, { kind: 'schema' }));
    return { env: env.name, migrationsToDatabase, databaseToSchema, drifted: migrationsToDatabase !== '', appliedMigrations: applied };
  });
}

/**
 * One half of `driftFromEngine`, in an engine of its own (the drift cache runs the halves concurrently
 * with its own replay): `history` is the SQL from what `applied` produce to the live database, `schema`
 * the SQL from the live database to schema.prisma.
 */
export async function driftHalfFromEngine(o: { env: ResolvedEnvironment; schemaPath: string; migrationsDir: string }, applied: string[], half: 'history' | 'schema'): Promise<string> {
  const { withEngine } = await import('../engine/index.js');
  const options = engineOptionsFor(o.env, { schema: o.schemaPath, ...(half === 'history' ? { migrationsDir: o.migrationsDir } : {}), readOnly: true });
  return withEngine(options, async (engine) =>
    half === 'history' ? historyToDatabase(engine, applied) : scriptOrEmpty(await engine.diff({ kind: 'database' }, { kind: 'schema' })),
  );
}

async function historyToDatabase(engine: import('../engine/index.js').SchemaEngine, applied: string[]): Promise<string> {
  // No migration applied: nothing to replay, and no shadow database to create.
  const history: DiffSource = applied.length === 0 ? { kind: 'empty' } : { kind: 'migrations', only: applied };
  return scriptOrEmpty(await engine.diff(history, { kind: 'database' }));
}
