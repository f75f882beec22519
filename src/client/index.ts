/**
 * `stagedb/client`: the application's own Prisma 7 client, built for the current environment from
 * the same `stagedb.config.ts` the CLI uses.
 *
 * ```ts
 * import { PrismaClient } from './generated/prisma/client.js';
 * import { createPrismaClient } from 'stagedb/client';
 * export const db = await createPrismaClient({ PrismaClient });
 * ```
 *
 * - a direct `postgresql://` url → `@prisma/adapter-pg` over a bounded node-postgres pool (size: see
 *   `./pool.ts`); a pooler url → adapter-pg too, 10 connections unless configured;
 * - `prisma+postgres://` → Prisma's `accelerateUrl` (a local `prisma dev` URL connects to the direct
 *   URL inside its api_key unless `localAccelerate: 'http'`);
 * - `replicas` → one adapter-pg PrismaClient per replica; reads routed to them with the semantics of
 *   `@prisma/extension-read-replicas` (by a thin proxy, or the extension itself with `routing: 'extension'`);
 *   an unreachable replica's reads go to the primary (warned once).
 *
 * Nothing here is imported by the CLI; adapter-pg and the extension load only when a client is made.
 */
import type { ResolvedEnvironment } from '../config/environments.js';
import { configError } from '../errors.js';
import { redact } from '../redact.js';
import { planClient, type ClientPlan, type PlanOptions, type PoolTarget, type PoolTargetPlan } from './plan.js';
import type { PoolSize } from './pool-size.js';
import { routeReads } from './router.js';
import { PoolRuntime, poolSizeFor, probeServer, type ClientLogger, type PoolContext } from './pool-runtime.js';
import { ReplicaAdapter, replicaFactory } from './replica-adapter.js';

export { computePoolSize, POOL_MAX, POOL_MIN, POOL_RESERVE_FRACTION, POOL_RESERVE_MIN, POOLER_DEFAULT, type PoolSize, type ServerLimits } from './pool-size.js';
export type { ClientPlan, PoolTargetPlan, PlanOptions } from './plan.js';
export type { ClientLogger } from './pool-runtime.js';

/** Any generated Prisma 7 client class (`prisma-client` or `prisma-client-js` generator). */
// Generated classes have a generic constructor; `any` is what lets every one of them in.
export type PrismaClientClass = new (options: any) => object;

/**
 * The client `createPrismaClient` returns: the application's PrismaClient, plus `$primary()` and
 * `$replica()`. Without replicas both return the client itself, so code written for replicas runs in
 * every environment.
 */
export type StagedbPrismaClient<C extends PrismaClientClass> = InstanceType<C> & {
  /** The primary: for a read that must see this process's own last write. */
  $primary(): InstanceType<C>;
  /** A replica, chosen at random (the primary when there are none). Not inside a transaction. */
  $replica(): InstanceType<C>;
  /**
   * Runs `fn` as one session (a request, a job) for `readYourWrites`: after a write inside it, its reads
   * go to the primary for the window. Without `readYourWrites` (or replicas) it just runs `fn`.
   */
  $session<R>(fn: () => R): R;
};

/** Which environment, from which config: the same rules as the CLI. */
export interface EnvironmentSelection {
  /** Environment name or alias; default `STAGEDB_ENV`, else `development`. */
  env?: string;
  /** Where to look for `stagedb.config.*` (and the env files); default `process.cwd()`. */
  cwd?: string;
  /** An explicit config file, like `--config`. */
  configFile?: string;
  /** Variables to read instead of `process.env`. */
  processEnv?: NodeJS.ProcessEnv;
  /** An environment already resolved (e.g. by `resolveEnvironment`): config is not read at all. */
  environment?: ResolvedEnvironment;
}

export interface CreatePrismaClientOptions<C extends PrismaClientClass> extends EnvironmentSelection, PlanOptions {
  /** The application's generated PrismaClient class: stagedb cannot know where it was generated. */
  PrismaClient: C;
  /** Other PrismaClient options (`log`, `errorFormat`, `transactionOptions`, `omit`, …), given to every client. */
  clientOptions?: Record<string, unknown>;
  /** Where warnings go (unreachable replica, a server too small for the pools); default `console`. */
  logger?: ClientLogger;
  /** application_name of the pools' connections (replicas add " replica N"); default `stagedb client`. A URL's own wins. */
  applicationName?: string;
  /**
   * The longest wait between two background checks of a replica that could not take reads, in ms
   * (the first comes after 0.25 s, then 0.5 s, 1 s … up to this); default 5 000. Its reads go to the
   * primary meanwhile, and back to it as soon as a check succeeds.
   */
  replicaRetryMs?: number;
  /** Connect timeout for replicas, in ms (a URL's `connect_timeout` wins); default 5 000. */
  replicaConnectTimeoutMs?: number;
  /**
   * How reads reach the replicas. `proxy` (default): stagedb's router, the semantics of
   * `@prisma/extension-read-replicas` without Prisma's `$extends` pipeline (~1 % per query instead of
   * ~15–20 % on loopback; see bench/RESULTS.md). `extension`: `$extends(readReplicas({ replicas }))` itself.
   */
  routing?: 'proxy' | 'extension';
  /**
   * Read-your-writes for sessions (`db.$session(fn)` around a request or job): after a write in a
   * session, its reads go to the primary for this many ms. Default 0 (off): reads always go to a
   * replica, and `$primary()` is the way to read a write at once. Needs `routing: 'proxy'`.
   */
  readYourWrites?: number;
}

export const DEFAULT_APPLICATION_NAME = 'stagedb client';
export const DEFAULT_REPLICA_RETRY_MS = 5_000;
export const DEFAULT_REPLICA_CONNECT_TIMEOUT_MS = 5_000;

async function selectEnvironment(options: EnvironmentSelection): Promise<ResolvedEnvironment> {
  if (options.environment) return options.environment;
  const processEnv = options.processEnv ?? process.env;
  const { loadConfig } = await import('../config/load.js');
  const { resolveEnvironment, selectEnvironments } = await import('../config/environments.js');
  const config = await loadConfig({ cwd: options.cwd ?? process.cwd(), configFile: options.configFile });
  const names = selectEnvironments(config, options.env, processEnv);
  if (names.length !== 1) {
    throw configError('E_CLIENT_ONE_ENV', `the runtime client connects to one environment, not ${names.join(', ')}`, {
      fix: `pass env: '${names[0]}' (or set STAGEDB_ENV=${names[0]})`,
    });
  }
  const { loadSecrets } = await import('../aws/secrets.js');
  await loadSecrets(config, names, processEnv);
  return resolveEnvironment(config, names[0]!, { processEnv });
}

/**
 * Builds the application's PrismaClient for the selected environment. Reads the config (async, as the
 * CLI does); opens no connection: each pool connects, probes its server and sizes itself on first use.
 */
export async function createPrismaClient<C extends PrismaClientClass>(options: CreatePrismaClientOptions<C>): Promise<StagedbPrismaClient<C>> {
  const env = await selectEnvironment(options);
  const { plan, targets, accelerateUrl } = planClient(env, options);
  const logger = options.logger ?? console;
  for (const w of plan.warnings) logger.warn(redact(`stagedb/client (${env.name}): ${w}`));
  const Client = options.PrismaClient;
  const base = options.clientOptions ?? {};
  if (plan.mode === 'accelerate') return routeReads(new Client({ ...base, accelerateUrl }), []) as StagedbPrismaClient<C>;

  const ctx: PoolContext = {
    environment: env.name,
    instances: plan.instances,
    logger,
    applicationName: options.applicationName ?? DEFAULT_APPLICATION_NAME,
    replicaConnectTimeoutMs: options.replicaConnectTimeoutMs ?? DEFAULT_REPLICA_CONNECT_TIMEOUT_MS,
  };
  const [primaryTarget, ...replicaTargets] = targets;
  const primaryPool = new PoolRuntime(primaryTarget!, ctx);
  const primary = new Client({ ...base, adapter: primaryPool.factory() });
  if (replicaTargets.length === 0) return routeReads(primary, []) as StagedbPrismaClient<C>;

  const retryMs = options.replicaRetryMs ?? DEFAULT_REPLICA_RETRY_MS;
  const replicas = replicaTargets.map((t) => {
    const adapter = new ReplicaAdapter(new PoolRuntime(t, ctx), primaryPool, ctx, { retryMs });
    return new Client({ ...base, adapter: replicaFactory(adapter) });
  });
  if (options.routing === 'extension') {
    if (options.readYourWrites) {
      throw configError('E_CLIENT_RYW_ROUTING', "readYourWrites needs stagedb's own routing, not @prisma/extension-read-replicas", {
        fix: "remove routing: 'extension' (or readYourWrites)",
      });
    }
    const { readReplicas } = await import('@prisma/extension-read-replicas');
    // The extension's types name @prisma/client's own PrismaClient; the application's generated class is the same at runtime.
    const extendable = primary as unknown as { $extends(ext: unknown): object };
    const extended = extendable.$extends(readReplicas({ replicas: replicas as never }));
    // `$session` exists on every client stagedb returns; with the extension it only runs fn.
    return new Proxy(extended, { get: (t, prop) => (prop === '$session' ? (fn: () => unknown) => fn() : Reflect.get(t, prop)) }) as StagedbPrismaClient<C>;
  }
  return routeReads(primary, replicas, options.readYourWrites ?? 0) as StagedbPrismaClient<C>;
}

/** A pool as `describeClientPlan` shows it. */
export interface DescribedPool extends PoolTargetPlan {
  /** The pool size the client uses (undefined when the server could not be probed). */
  pool?: PoolSize;
  /** What the probe read (when probed). */
  settings?: { maxConnections: number; superuserReserved: number; reserved: number; inRecovery: boolean };
  /** Why the server could not be probed. */
  error?: string;
}

export interface DescribedClientPlan extends Omit<ClientPlan, 'primary' | 'replicas'> {
  primary?: DescribedPool;
  replicas: DescribedPool[];
}

/**
 * What `createPrismaClient` builds for an environment, with each pool's size and the arithmetic behind
 * it. With `probe` (default true) each server is asked for its connection settings — the same one query,
 * cached the same way, as the client's first connection. No password appears in the result.
 */
export async function describeClientPlan(options: EnvironmentSelection & PlanOptions & { probe?: boolean; applicationName?: string } = {}): Promise<DescribedClientPlan> {
  const env = await selectEnvironment(options);
  const { plan, targets } = planClient(env, options);
  const ctx = {
    environment: env.name,
    applicationName: options.applicationName ?? DEFAULT_APPLICATION_NAME,
    replicaConnectTimeoutMs: DEFAULT_REPLICA_CONNECT_TIMEOUT_MS,
  };
  const describe = async (t: PoolTarget): Promise<DescribedPool> => {
    const { url: _url, ...shown } = t;
    if (options.probe === false) return { ...shown, ...(t.fixedPool ? { pool: t.fixedPool } : {}) };
    try {
      const probe = await probeServer(t, ctx);
      return { ...shown, pool: poolSizeFor(t, probe, plan.instances), settings: { ...probe.limits, inRecovery: probe.inRecovery } };
    } catch (e) {
      return { ...shown, ...(t.fixedPool ? { pool: t.fixedPool } : {}), error: redact((e as Error).message) };
    }
  };
  const described = await Promise.all(targets.map(describe));
  const [primary, ...replicas] = described;
  return { ...plan, ...(primary ? { primary } : {}), replicas };
}
