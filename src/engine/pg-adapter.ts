import { randomUUID } from 'node:crypto';
import type { Pool, PoolConfig, QueryResult } from 'pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { StagedbError } from '../errors.js';
import { clientConfig, connect, loadSharedPg } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { splitStatements } from '../history/split.js';

/** PostgreSQL's `"char"` (one byte; pg_catalog uses it for relkind, contype, confdeltype, …) and `text`. */
const CHAR_OID = 18;
const TEXT_OID = 25;

/**
 * `@prisma/adapter-pg` 7.10.1 has no column type for OID 18 and throws, which the engine reports as
 * "Column type 'char' could not be deserialized from the database" as soon as it describes a schema
 * (diff against the database, createMigration, introspection). Result columns of type `"char"` are
 * relabelled `text` before the adapter sees them: pg already decodes both as JS strings, and text
 * also carries the empty value (`attidentity = ''`) that a one-character type could not. Measured:
 * the engine then reads FK actions, constraint kinds and relation kinds correctly.
 */
function relabelCharColumns<T extends QueryResult | undefined>(result: T): T {
  const fields = (result as QueryResult | undefined)?.fields;
  if (Array.isArray(fields)) for (const f of fields) if (f.dataTypeID === CHAR_OID) f.dataTypeID = TEXT_OID;
  return result;
}

let charAwareClient: (new (config?: PoolConfig) => unknown) | undefined;

/** A pg.Client whose query results never show a `"char"` column (see {@link relabelCharColumns}). */
async function charAwareClientClass(): Promise<new (config?: PoolConfig) => unknown> {
  if (charAwareClient) return charAwareClient;
  const pg = await loadSharedPg();
  class CharAwareClient extends pg.Client {
    // pg's overloads cannot be restated in a subclass; the arguments go through untouched.
    override query(...args: unknown[]): never {
      const cb = args.findIndex((a) => typeof a === 'function');
      if (cb >= 0) {
        const original = args[cb] as (err: Error | null, res: QueryResult) => void;
        args[cb] = (err: Error | null, res: QueryResult) => original(err, err ? res : relabelCharColumns(res));
        return (super.query as (...a: unknown[]) => never)(...args);
      }
      const out = (super.query as (...a: unknown[]) => unknown)(...args);
      return (out instanceof Promise ? out.then(relabelCharColumns) : out) as never;
    }
  }
  charAwareClient = CharAwareClient as unknown as new (config?: PoolConfig) => unknown;
  return charAwareClient;
}

/**
 * Error kinds `@prisma/adapter-pg` 7.10.1 reports that the pinned engine (8.1) cannot deserialize: it
 * then fails with "unknown variant `InvalidInputValue`" instead of PostgreSQL's message. They are
 * handed to the engine as its generic `postgres` kind, with the server's code and message.
 */
const KINDS_THE_ENGINE_LACKS = new Set(['InvalidInputValue', 'RestrictViolation', 'SocketTimeout']);

interface AdapterErrorCause {
  kind: string;
  originalCode?: string;
  originalMessage?: string;
  message?: string;
  cause?: string;
}

function translateAdapterError(e: unknown): unknown {
  const err = e as { name?: string; cause?: AdapterErrorCause };
  const cause = err?.name === 'DriverAdapterError' ? err.cause : undefined;
  if (cause && typeof cause === 'object' && KINDS_THE_ENGINE_LACKS.has(cause.kind)) {
    err.cause = {
      kind: 'postgres',
      code: cause.originalCode ?? 'N/A',
      severity: 'ERROR',
      message: cause.originalMessage ?? cause.message ?? cause.cause ?? cause.kind,
    } as AdapterErrorCause;
  }
  return e;
}

const QUERY_METHODS = ['queryRaw', 'executeRaw', 'executeScript', 'commit', 'rollback', 'createSavepoint', 'rollbackToSavepoint', 'releaseSavepoint'];

/** ColumnTypeEnum.Text and ColumnTypeEnum.Character of @prisma/driver-adapter-utils. */
const COLUMN_TYPE_TEXT = 7;
const COLUMN_TYPE_CHARACTER = 6;

/**
 * Catalog `"char"` columns the engine reads with `as_char()`, which accepts a Character value only:
 * sql-schema-describer's `get_constraints` reads `constraint_type` (pg_constraint.contype) with
 * `get_expect_char` and panics on text ("Getting constraint_type … as char failed") as soon as a
 * table has a CHECK or EXCLUDE constraint; the foreign key actions are read as char, else as text.
 * Every other `"char"` column stays text (see {@link relabelCharColumns}): the engine reads those
 * as strings, and some hold the empty value.
 */
export const ENGINE_CHAR_COLUMNS = new Set(['constraint_type', 'confdeltype', 'confupdtype']);

interface RawResult {
  columnNames?: string[];
  columnTypes?: number[];
}

function charColumnsAsCharacter<T>(result: T): T {
  const r = result as RawResult;
  if (Array.isArray(r?.columnNames) && Array.isArray(r.columnTypes)) {
    r.columnNames.forEach((name, i) => {
      if (ENGINE_CHAR_COLUMNS.has(name) && r.columnTypes![i] === COLUMN_TYPE_TEXT) r.columnTypes![i] = COLUMN_TYPE_CHARACTER;
    });
  }
  return result;
}

interface ScriptAdapter {
  underlyingDriver(): Pool;
  /** adapter-pg's own error conversion: throws a DriverAdapterError the engine can read. */
  onError(error: unknown): never;
}

/**
 * The engine runs every migration script (on the shadow database, and in `applyMigrations`) through
 * the adapter's `executeScript`, which in adapter-pg 7.10.1 splits the text on every `;`: a semicolon
 * in a string ('a;b'), a comment or a function body cut the statement in two ("unterminated quoted
 * string"), so such a history could not be replayed at all. Split with stagedb's own lexer instead
 * (strings, dollar quotes, comments, BEGIN ATOMIC), and run the statements one by one on one
 * connection, as the engine meant: a BEGIN … COMMIT in the file stays on the connection it opened.
 */
async function executeStatements(adapter: ScriptAdapter, script: string): Promise<void> {
  const client = await adapter.underlyingDriver().connect().catch((e: unknown) => adapter.onError(e));
  let failed: unknown;
  try {
    for (const statement of splitStatements(script)) {
      try {
        await client.query(statement.text);
      } catch (e) {
        failed = e;
        adapter.onError(e);
      }
    }
  } finally {
    // A failure may leave the connection inside the file's own transaction: never reuse it.
    client.release(failed instanceof Error ? failed : undefined);
  }
}

/**
 * Wraps an adapter's (or transaction's) methods in place so that the engine can read what they
 * return (see {@link charColumnsAsCharacter}) and their errors reach it in kinds it knows.
 */
function withKnownErrorKinds<T extends object>(adapter: T): T {
  const target = adapter as Record<string, unknown>;
  const raw = target.queryRaw;
  for (const name of QUERY_METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = async (...args: unknown[]) => {
      try {
        return await (original as (...a: unknown[]) => Promise<unknown>).apply(adapter, args);
      } catch (e) {
        throw translateAdapterError(e);
      }
    };
  }
  if (typeof raw === 'function') {
    const wrapped = target.queryRaw as (...a: unknown[]) => Promise<unknown>;
    target.queryRaw = async (...args: unknown[]) => charColumnsAsCharacter(await wrapped(...args));
  }
  if (typeof target.executeScript === 'function' && typeof target.underlyingDriver === 'function') {
    target.executeScript = (script: string) => executeStatements(adapter as unknown as ScriptAdapter, script);
  }
  const start = target.startTransaction;
  if (typeof start === 'function') {
    target.startTransaction = async (...args: unknown[]) => {
      try {
        return withKnownErrorKinds((await (start as (...a: unknown[]) => Promise<object>).apply(adapter, args)) as object);
      } catch (e) {
        throw translateAdapterError(e);
      }
    };
  }
  return adapter;
}

export interface EngineConnection {
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** The PostgreSQL schema (`?schema=` of the URL, default public). */
  schema: string;
  /** Ends the pools and drops shadow databases the engine left behind. The engine must have been freed first. */
  end(): Promise<void>;
}

export interface EngineConnectionOptions {
  /** Starts every message, e.g. the environment name. */
  label: string;
  /**
   * A database to replay migrations on instead of a temporary one (Prisma's `shadowDatabaseUrl`). Its
   * schema (its own `?schema=`, else the main URL's) is emptied before each use and again after.
   */
  shadowDatabaseUrl?: string;
  /** The environment, for the config key named in a shadow database error. */
  env?: string;
  /** Every transaction READ ONLY (`default_transaction_read_only`), enforced by the server. Not the shadow database. */
  readOnly?: boolean;
}

/**
 * The engine's connection: pg pools built with stagedb's own URL rules (libpq `sslmode`, Prisma's
 * `?schema=`, application_name `stagedb engine`), wrapped in `PrismaPg`. One plain connection is made
 * first so that an unreachable server or a wrong password fails with stagedb's connection messages
 * rather than the engine's, and so that `sslmode=prefer` can be settled (TLS if the server offers it).
 *
 * The shadow database (createMigration, diff from migrations) is made here rather than by
 * `PrismaPg.connectToShadowDb`, which in 7.10.1, given a pool, loses the password (pg-pool keeps it
 * as a non-enumerable property, and the adapter spreads the pool's options) and, given a config,
 * drops the database before closing its own connections to it, so the drop fails and the database
 * stays. Ours ends the pool first and drops with FORCE; `end()` drops any the engine did not dispose.
 */
export async function openEngineConnection(url: string, labelOrOptions: string | EngineConnectionOptions): Promise<EngineConnection> {
  const opts: EngineConnectionOptions = typeof labelOrOptions === 'string' ? { label: labelOrOptions } : labelOrOptions;
  const { label } = opts;
  // Imported while the first connection is made (it is ~40 ms of module loading).
  const adapterModule = import('@prisma/adapter-pg');
  adapterModule.catch(() => {});
  const pg = await loadSharedPg();
  const options = { label, purpose: 'engine' };
  const probe = await connect(url, options);
  const tls = probe.ssl;
  const serverVersionNum = Number((await probe.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? 0);
  await probe.end().catch(() => {});
  const { config, sslmode, schema } = await clientConfig(url, options);
  const Client = (await charAwareClientClass()) as PoolConfig['Client'];
  const poolConfig: PoolConfig = {
    ...config,
    ...(opts.readOnly ? { options: [config.options, '-c default_transaction_read_only=on'].filter(Boolean).join(' ') } : {}),
    ...(sslmode === 'prefer' && !config.ssl && tls ? { ssl: { rejectUnauthorized: false } } : {}),
    Client,
    // Never close an idle connection behind the engine's back: the one that took Prisma's advisory
    // lock sits idle between queries, and closing it would drop the lock in the middle of a deploy.
    // close() ends the pool; allowExitOnIdle keeps a forgotten engine from holding the process open.
    idleTimeoutMillis: 0,
    allowExitOnIdle: true,
  };
  const { PrismaPg } = await adapterModule;
  const newPool = (cfg: PoolConfig): Pool => {
    const pool = new pg.Pool(cfg);
    pool.on('error', () => {});
    return pool;
  };
  const main = newPool(poolConfig);
  // CREATE/DROP DATABASE for shadow databases: a read-only engine's own pool would be refused them.
  let admin: Pool | undefined;
  const adminPool = () => (opts.readOnly ? (admin ??= newPool({ ...poolConfig, options: config.options, max: 1 })) : main);
  const adapterOptions = schema !== 'public' ? { schema } : undefined;
  const mainFactory = new PrismaPg(main, adapterOptions);
  const shadows = new Map<string, Pool>();
  const external = opts.shadowDatabaseUrl ? await externalShadow(opts.shadowDatabaseUrl, url, schema, opts, Client) : undefined;

  const dropShadow = async (name: string) => {
    const pool = shadows.get(name);
    shadows.delete(name);
    await pool?.end().catch(() => {});
    const force = serverVersionNum >= 130000 ? ' WITH (FORCE)' : '';
    await adminPool().query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`);
  };

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: mainFactory.provider,
    adapterName: mainFactory.adapterName,
    connect: async () => withKnownErrorKinds(await mainFactory.connect()),
    async connectToShadowDb() {
      if (external) return external.connect();
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      try {
        await adminPool().query(`CREATE DATABASE ${quoteIdent(name)}`);
      } catch (e) {
        throw shadowError(e, label, opts.env, config.user);
      }
      // Not read-only, even for a read-only engine: migrations are replayed there.
      const pool = newPool({ ...poolConfig, database: name, options: config.options });
      shadows.set(name, pool);
      const adapter = withKnownErrorKinds(await new PrismaPg(pool, adapterOptions).connect());
      adapter.dispose = () => dropShadow(name);
      return adapter;
    },
  };
  return {
    factory,
    schema,
    async end() {
      for (const name of [...shadows.keys()]) await dropShadow(name).catch(() => {});
      await external?.end().catch(() => {});
      await admin?.end().catch(() => {});
      await main.end();
    },
  };
}

/**
 * The configured shadow database. Prisma empties it before replaying migrations; so do we, and again
 * afterwards, so no copy of the history's objects lingers there. Only one schema is emptied: the
 * shadow URL's `?schema=`, or else the main URL's, since the migrations were written for that one.
 */
async function externalShadow(shadowUrl: string, mainUrl: string, mainSchema: string, opts: EngineConnectionOptions, Client: PoolConfig['Client']) {
  const pg = await loadSharedPg();
  const label = `${opts.label} (shadowDatabaseUrl)`;
  const explicitSchema = new URL(shadowUrl).searchParams.get('schema');
  const probe = await connect(shadowUrl, { label, purpose: 'engine shadow' });
  const tls = probe.ssl;
  let same: boolean;
  try {
    same = await sameDatabase(probe, mainUrl, opts.label);
  } finally {
    await probe.end().catch(() => {});
  }
  if (same) {
    throw new StagedbError('config', 'E_SHADOW_DB', `${opts.label}: shadowDatabaseUrl points at the environment's own database; the shadow database is emptied on every use, so it must be a separate, disposable database`, {
      fix: `create an empty database for it (createdb <name>_shadow) and set shadowDatabaseUrl${opts.env ? ` under environments.${opts.env}` : ''} in stagedb.config.ts to its URL`,
    });
  }
  const schema = explicitSchema ?? mainSchema;
  const withSchema = new URL(shadowUrl);
  withSchema.searchParams.set('schema', schema);
  const { config, sslmode } = await clientConfig(withSchema.toString(), { label, purpose: 'engine shadow' });
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const poolConfig: PoolConfig = {
    ...config,
    ...(sslmode === 'prefer' && !config.ssl && tls ? { ssl: { rejectUnauthorized: false } } : {}),
    Client,
    idleTimeoutMillis: 0,
    allowExitOnIdle: true,
  };
  let pool: Pool | undefined;
  const empty = async (p: Pool) => {
    await p.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await p.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  };
  const release = async () => {
    const p = pool;
    pool = undefined;
    if (!p) return;
    try {
      await empty(p);
    } finally {
      await p.end().catch(() => {});
    }
  };
  return {
    async connect() {
      await release();
      pool = new pg.Pool(poolConfig);
      pool.on('error', () => {});
      try {
        await empty(pool);
      } catch (e) {
        await pool.end().catch(() => {});
        pool = undefined;
        throw new StagedbError('config', 'E_SHADOW_DB', `${label}: cannot empty schema "${schema}" of the shadow database: ${(e as Error).message}`, {
          cause: e,
          fix: `the shadow database's user must own it (ALTER DATABASE <shadow> OWNER TO ${config.user ?? '<user>'}), or point shadowDatabaseUrl${opts.env ? ` under environments.${opts.env}` : ''} at a database it owns`,
        });
      }
      const adapter = withKnownErrorKinds(await new PrismaPg(pool, schema !== 'public' ? { schema } : undefined).connect());
      adapter.dispose = release;
      return adapter;
    },
    end: release,
  };
}

/** Whether the probe's connection reaches the same database as `mainUrl` (same server, same database oid). */
async function sameDatabase(probe: Awaited<ReturnType<typeof connect>>, mainUrl: string, label: string): Promise<boolean> {
  const main = await connect(mainUrl, { label, purpose: 'engine' });
  try {
    // Readable by any user (data_directory and pg_control_system() are not): a server is its start time to the microsecond.
    const q = `SELECT (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid,
                      current_setting('port') || ' ' || pg_postmaster_start_time()::text AS server`;
    const [a, b] = [(await probe.query(q)).rows[0], (await main.query(q)).rows[0]];
    return a.server === b.server && a.oid === b.oid;
  } finally {
    await main.end().catch(() => {});
  }
}

/** CREATE DATABASE for the shadow database failed: say why, and what to configure instead. */
function shadowError(e: unknown, label: string, env: string | undefined, user: string | undefined): StagedbError {
  const err = e as { code?: string; message?: string };
  const where = env ? `environments.${env}.shadowDatabaseUrl` : 'shadowDatabaseUrl (in the environment of stagedb.config.ts)';
  const permission = err.code === '42501';
  return new StagedbError(
    'config',
    'E_SHADOW_DB',
    permission
      ? `${label}: cannot create the temporary shadow database this needs: user "${user ?? '?'}" may not create databases (no CREATEDB)`
      : `${label}: cannot create the temporary shadow database this needs: ${err.message ?? String(e)}`,
    {
      details: ['the shadow database is where the migrations are replayed to compute what they produce; it is dropped right after'],
      fix: permission
        ? `either grant it (as a superuser: ALTER ROLE ${quoteIdent(user ?? 'user')} CREATEDB), or create an empty database for it and set ${where}: env('SHADOW_DATABASE_URL') in stagedb.config.ts (SHADOW_DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DB_shadow")`
        : `check the server, or set ${where}: env('SHADOW_DATABASE_URL') in stagedb.config.ts to an empty database`,
      cause: e,
    },
  );
}
