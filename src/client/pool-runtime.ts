import type { ClientConfig, PoolConfig } from 'pg';
import type { IsolationLevel, SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import { StagedbError } from '../errors.js';
import { clientConfig, connect, loadSharedPg } from '../pg/connect.js';
import { redact } from '../redact.js';
import { headroomPoolClass } from './headroom-pool.js';
import type { PoolTarget } from './plan.js';
import { SERVER_LIMITS_SQL, computePoolSize, type PoolSize, type ServerLimits } from './pool-size.js';

/** Where the client's warnings go (default `console`). Every message is already redacted. */
export interface ClientLogger {
  warn(message: string): void;
  /** Good news (a replica answering again); `warn` when absent. */
  info?(message: string): void;
}

/** What a pool's first connection learns about its server. */
export interface ServerProbe {
  limits: ServerLimits;
  /** `pg_is_in_recovery()`: true on a hot standby. */
  inRecovery: boolean;
  /** node-postgres settings for this URL (libpq sslmode, `?schema=`), TLS settled by the probe itself. */
  poolConfig: PoolConfig;
  /** Prisma's `?schema=`. */
  schema: string;
}

/** Settings shared by every pool of one client. */
export interface PoolContext {
  environment: string;
  instances: number;
  logger: ClientLogger;
  /** application_name of the primary's connections (replicas add " replica N"); a URL's own `application_name` wins. */
  applicationName: string;
  /** Replicas: connect timeout, so a replica that drops packets delays one read by this much, not the OS's minutes. */
  replicaConnectTimeoutMs: number;
}

/**
 * One probe per pool per process, for the life of the process: the server's connection settings do
 * not change without a restart, and a restart is rare enough that a process started before it keeps
 * its pool size. A failed probe is not remembered, so the next connection attempt probes again.
 */
const probes = new Map<string, Promise<ServerProbe>>();

export function probeServer(target: Pick<PoolTarget, 'url' | 'role'>, ctx: Pick<PoolContext, 'environment' | 'applicationName' | 'replicaConnectTimeoutMs'>): Promise<ServerProbe> {
  const key = `${target.role}\n${ctx.applicationName}\n${target.url}`;
  let p = probes.get(key);
  if (!p) {
    p = runProbe(target, ctx);
    probes.set(key, p);
    p.catch(() => probes.delete(key));
  }
  return p;
}

async function runProbe(target: Pick<PoolTarget, 'url' | 'role'>, ctx: Pick<PoolContext, 'environment' | 'applicationName' | 'replicaConnectTimeoutMs'>): Promise<ServerProbe> {
  const isReplica = target.role !== 'primary';
  const ownName = new URL(target.url).searchParams.get('application_name');
  const options = {
    label: `${ctx.environment} ${target.role}`,
    ...(isReplica ? { connectTimeoutMs: ctx.replicaConnectTimeoutMs } : {}),
  };
  const client = await connect(target.url, options);
  let row: { max_connections: number; superuser_reserved: number; reserved: number; in_recovery: boolean } | undefined;
  const usedTls = Boolean((client as unknown as { ssl?: unknown }).ssl);
  try {
    row = (await client.query(SERVER_LIMITS_SQL)).rows[0];
  } finally {
    await client.end().catch(() => {});
  }
  const { config, sslmode, schema, tls } = await clientConfig(target.url, options);
  // prefer and allow try two ways; the probe found the one that works, and the pool keeps to it.
  const ssl = sslmode === 'prefer' || sslmode === 'allow' ? (usedTls ? config.ssl || tls || { rejectUnauthorized: false } : false) : config.ssl;
  // Connecting is bounded (connect_timeout, default 10 s; replicas 5 s), but not waiting for a free
  // connection: node-postgres's pool uses one option for both, and for the second it arms and clears a
  // timer on every query (~2 % of a findUnique on loopback). Plain adapter-pg bounds neither.
  const pg = await loadSharedPg();
  const connectTimeout = config.connectionTimeoutMillis;
  class ClientWithConnectTimeout extends pg.Client {
    constructor(c?: ClientConfig) {
      // pg-pool keeps the password as a non-enumerable property: a spread alone would drop it.
      super({ ...c, password: c?.password, connectionTimeoutMillis: connectTimeout });
    }
  }
  return {
    limits: { maxConnections: row!.max_connections, superuserReserved: row!.superuser_reserved, reserved: row!.reserved },
    inRecovery: row!.in_recovery,
    poolConfig: {
      ...config,
      connectionTimeoutMillis: undefined,
      Client: ClientWithConnectTimeout as unknown as PoolConfig['Client'],
      ssl,
      application_name: ownName ?? (isReplica ? `${ctx.applicationName} ${target.role}` : ctx.applicationName),
    },
    schema,
  };
}

/** The pool size for a target once its server is known. */
export function poolSizeFor(target: PoolTarget, probe: ServerProbe | undefined, instances: number): PoolSize | undefined {
  if (target.fixedPool) return target.fixedPool;
  return probe ? computePoolSize(probe.limits, { instances, poolsOnServer: target.poolsOnServer }) : undefined;
}

/**
 * One server's bounded pool, opened on first use: the probe (one connection, one query), then a
 * `PrismaPg` adapter over a node-postgres pool of the computed size. Prisma's `$disconnect` ends the
 * pool; the next query opens a new one (the probe is not repeated).
 */
export class PoolRuntime {
  /** The open adapter, once there is one (read without awaiting on the hot path). */
  adapter: SqlDriverAdapter | undefined;
  private pending: Promise<SqlDriverAdapter> | undefined;
  size: PoolSize | undefined;
  private warned = false;

  constructor(
    readonly target: PoolTarget,
    private readonly ctx: PoolContext,
  ) {}

  get(): Promise<SqlDriverAdapter> {
    if (this.adapter) return Promise.resolve(this.adapter);
    this.pending ??= this.open().then(
      (a) => (this.adapter = a),
      (e: unknown) => {
        this.pending = undefined;
        throw e;
      },
    );
    return this.pending;
  }

  /**
   * An adapter factory for `new PrismaClient({ adapter })`. Its adapter opens the pool on the first
   * query rather than in `connect()`: a server that cannot be reached then fails that query — as
   * P1001 and friends, like plain adapter-pg, whose pool is lazy too — and the next query tries again.
   */
  factory(): SqlDriverAdapterFactory {
    return { provider: 'postgres', adapterName: ADAPTER_NAME, connect: async () => new LazyAdapter(this) };
  }

  /** `getConnectionInfo()` without a connection: what adapter-pg reports. */
  connectionInfo() {
    const schema = new URL(this.target.url).searchParams.get('schema');
    return { schemaName: schema && schema !== 'public' ? schema : undefined, supportsRelationJoins: true };
  }

  async dispose(): Promise<void> {
    const a = this.adapter ?? (await this.pending?.catch(() => undefined));
    await a?.dispose();
  }

  private async open(): Promise<SqlDriverAdapter> {
    // Loaded while the probe connects: adapter-pg is ~40 ms of module loading.
    const adapterModule = import('@prisma/adapter-pg');
    adapterModule.catch(() => {});
    const probe = await probeServer(this.target, this.ctx).catch(async (e: unknown) => {
      // A replica's failure never reaches the application (its reads fall back): no second attempt to
      // wait for, and the warning keeps stagedb's own message.
      throw this.target.role === 'primary' ? await asPrismaError(e, this.target, this.ctx, (await adapterModule).PrismaPg) : e;
    });
    const size = poolSizeFor(this.target, probe, this.ctx.instances)!;
    this.size = size;
    if (size.warning && !this.warned) {
      this.warned = true;
      this.ctx.logger.warn(redact(`stagedb/client (${this.ctx.environment}): ${this.target.role} pool: ${size.warning}`));
    }
    if (this.target.role === 'primary' && probe.inRecovery) {
      this.ctx.logger.warn(redact(`stagedb/client (${this.ctx.environment}): the primary URL ${this.target.display} is a standby (pg_is_in_recovery() is true): every write will fail with 25006`));
    }
    const { PrismaPg } = await adapterModule;
    const HeadroomPool = headroomPoolClass(await loadSharedPg());
    const pool = new HeadroomPool(probe.poolConfig, {
      max: size.max,
      limits: probe.limits,
      onFull: (message) => this.ctx.logger.warn(redact(`stagedb/client (${this.ctx.environment}): ${this.target.role} (${this.target.display}): ${message}`)),
    });
    const factory = new PrismaPg(pool, { disposeExternalPool: true, ...(probe.schema !== 'public' ? { schema: probe.schema } : {}) });
    const adapter = await factory.connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      if (this.adapter === adapter) {
        this.adapter = undefined;
        this.pending = undefined;
      }
      await dispose();
    };
    return adapter;
  }
}

export const ADAPTER_NAME = '@prisma/adapter-pg';

/**
 * A server the probe could not reach fails the application's query the way plain adapter-pg would
 * (P1001 "Can't reach database server", P1000 authentication, …), so error handling written for
 * Prisma keeps working: adapter-pg itself makes the one attempt and maps its failure. Anything else,
 * or an attempt that unexpectedly works, keeps stagedb's own error.
 */
async function asPrismaError(
  e: unknown,
  target: PoolTarget,
  ctx: Pick<PoolContext, 'environment' | 'replicaConnectTimeoutMs'>,
  PrismaPg: typeof import('@prisma/adapter-pg').PrismaPg,
): Promise<unknown> {
  if (!(e instanceof StagedbError) || e.kind !== 'connection') return e;
  const options = { label: `${ctx.environment} ${target.role}`, ...(target.role !== 'primary' ? { connectTimeoutMs: ctx.replicaConnectTimeoutMs } : {}) };
  const { config } = await clientConfig(target.url, options);
  const adapter = await new PrismaPg({ ...config, max: 1 }).connect();
  try {
    await adapter.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] });
    return e;
  } catch (native) {
    return (native as { name?: unknown }).name === 'DriverAdapterError' ? native : e;
  } finally {
    await adapter.dispose().catch(() => {});
  }
}

/** A pool's adapter as Prisma holds it: every call goes to the pool's adapter, opened on first use. */
class LazyAdapter implements SqlDriverAdapter {
  readonly provider = 'postgres' as const;
  readonly adapterName = ADAPTER_NAME;

  constructor(private readonly pool: PoolRuntime) {}

  // No async frame when the pool is open: this wraps every query of the application.
  queryRaw(query: SqlQuery) {
    const a = this.pool.adapter;
    return a ? a.queryRaw(query) : this.pool.get().then((b) => b.queryRaw(query));
  }

  executeRaw(query: SqlQuery) {
    const a = this.pool.adapter;
    return a ? a.executeRaw(query) : this.pool.get().then((b) => b.executeRaw(query));
  }

  executeScript(script: string) {
    const a = this.pool.adapter;
    return a ? a.executeScript(script) : this.pool.get().then((b) => b.executeScript(script));
  }

  startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    const a = this.pool.adapter;
    return a ? a.startTransaction(isolationLevel) : this.pool.get().then((b) => b.startTransaction(isolationLevel));
  }

  getConnectionInfo() {
    return this.pool.connectionInfo();
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
