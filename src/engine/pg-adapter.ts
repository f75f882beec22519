import { randomUUID } from 'node:crypto';
import type { Pool, PoolConfig, QueryResult } from 'pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { clientConfig, connect, loadPg } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';

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
  const pg = await loadPg();
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

export interface EngineConnection {
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** The PostgreSQL schema (`?schema=` of the URL, default public). */
  schema: string;
  /** Ends the pools and drops shadow databases the engine left behind. The engine must have been freed first. */
  end(): Promise<void>;
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
export async function openEngineConnection(url: string, label: string): Promise<EngineConnection> {
  const pg = await loadPg();
  const options = { label, purpose: 'engine' };
  const probe = await connect(url, options);
  const tls = probe.ssl;
  const serverVersionNum = Number((await probe.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? 0);
  await probe.end().catch(() => {});
  const { config, sslmode, schema } = await clientConfig(url, options);
  const poolConfig: PoolConfig = {
    ...config,
    ...(sslmode === 'prefer' && !config.ssl && tls ? { ssl: { rejectUnauthorized: false } } : {}),
    Client: (await charAwareClientClass()) as PoolConfig['Client'],
    // Never close an idle connection behind the engine's back: the one that took Prisma's advisory
    // lock sits idle between queries, and closing it would drop the lock in the middle of a deploy.
    // close() ends the pool; allowExitOnIdle keeps a forgotten engine from holding the process open.
    idleTimeoutMillis: 0,
    allowExitOnIdle: true,
  };
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const newPool = (cfg: PoolConfig): Pool => {
    const pool = new pg.Pool(cfg);
    pool.on('error', () => {});
    return pool;
  };
  const main = newPool(poolConfig);
  const adapterOptions = schema !== 'public' ? { schema } : undefined;
  const mainFactory = new PrismaPg(main, adapterOptions);
  const shadows = new Map<string, Pool>();

  const dropShadow = async (name: string) => {
    const pool = shadows.get(name);
    shadows.delete(name);
    await pool?.end().catch(() => {});
    const force = serverVersionNum >= 130000 ? ' WITH (FORCE)' : '';
    await main.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`);
  };

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: mainFactory.provider,
    adapterName: mainFactory.adapterName,
    connect: () => mainFactory.connect(),
    async connectToShadowDb() {
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await main.query(`CREATE DATABASE ${quoteIdent(name)}`);
      const pool = newPool({ ...poolConfig, database: name });
      shadows.set(name, pool);
      const adapter = await new PrismaPg(pool, adapterOptions).connect();
      adapter.dispose = () => dropShadow(name);
      return adapter;
    },
  };
  return {
    factory,
    schema,
    async end() {
      for (const name of [...shadows.keys()]) await dropShadow(name).catch(() => {});
      await main.end();
    },
  };
}
