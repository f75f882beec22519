import type { ResolvedEnvironment } from '../config/environments.js';
import { parseDatabaseUrl, type UrlKind } from '../config/url.js';
import { configError } from '../errors.js';
import { redact } from '../redact.js';
import { POOLER_DEFAULT, type PoolSize } from './pool-size.js';

/** How `stagedb/client` reaches one database server. */
export interface PoolTargetPlan {
  /** `primary`, or `replica 1`, `replica 2`, … in config order. */
  role: string;
  /** The URL with its password masked. */
  display: string;
  kind: UrlKind;
  /** host:port, to count the pools this process opens on one server. */
  server: string;
  /** How many of this process's pools reach the same server (the formula's divisor). */
  poolsOnServer: number;
  /** Known before any connection: `pool.max` or the URL's `connection_limit`, or the pooler default. */
  fixedPool?: PoolSize;
}

/** What the client for one environment is made of. No I/O: `describeClientPlan` adds the measured pool sizes. */
export interface ClientPlan {
  environment: string;
  /** `adapter-pg`: a bounded node-postgres pool per server; `accelerate`: Prisma's `accelerateUrl` (HTTP, pooled by Accelerate). */
  mode: 'adapter-pg' | 'accelerate';
  /** For adapter-pg: the primary's pool. */
  primary?: PoolTargetPlan;
  /** For accelerate: the URL with its api_key masked. */
  accelerateUrl?: string;
  replicas: PoolTargetPlan[];
  /** Config `pool.instances` (or the option). */
  instances: number;
  /** Facts worth knowing about this setup (pooler caveats, local Accelerate). */
  notes: string[];
  /** The environment's own resolution warnings (unset replica variables, shell overriding a file). */
  warnings: string[];
}

/** Options that change the plan. */
export interface PlanOptions {
  /** Overrides config `pool`: `max` connections per pool, `instances` processes sharing the server. */
  pool?: { max?: number; instances?: number };
  /**
   * A local `prisma dev` URL (`prisma+postgres://localhost:…/?api_key=…` whose key holds a direct
   * URL): `direct` (default) connects to that direct URL with adapter-pg; `http` uses `accelerateUrl`.
   * prisma dev's HTTP endpoint answers only the exact Prisma Client version it bundles (7.2.0 in
   * @prisma/dev 0.24–0.25; 7.10 clients get P6000) and caches nothing, so direct is the useful default.
   */
  localAccelerate?: 'direct' | 'http';
}

/** A pool target with the URL it connects with: internal, never part of a plan that may be printed. */
export interface PoolTarget extends PoolTargetPlan {
  url: string;
}

/** The plan and, for adapter-pg, the pools' targets (primary first). */
export function planClient(env: ResolvedEnvironment, options: PlanOptions = {}): { plan: ClientPlan; targets: PoolTarget[]; accelerateUrl?: string } {
  const instances = options.pool?.instances ?? env.pool.instances;
  const configMax = options.pool?.max ?? env.pool.max;
  const notes: string[] = [];
  if (env.url === undefined) {
    // stagedb also accepts an environment with only a directUrl (DDL): the application then uses it.
    notes.push('the environment has no url: the application connects with its directUrl');
  }
  const url = env.url ?? env.directUrl;
  const info = env.url !== undefined && env.urlInfo ? env.urlInfo : env.directInfo;
  let primaryUrl = url;
  let kind = info.kind;
  if (kind === 'accelerate' && info.embeddedDirectUrl && (options.localAccelerate ?? 'direct') === 'direct') {
    primaryUrl = info.embeddedDirectUrl;
    kind = parseDatabaseUrl(primaryUrl, `environments.${env.name}.url (api_key)`).kind;
    notes.push(
      "url is a local `prisma dev` URL: connecting to the direct URL inside its api_key (its HTTP endpoint answers only the Prisma Client version it bundles, and caches nothing); localAccelerate: 'http' uses the HTTP endpoint instead",
    );
  }
  if (kind === 'accelerate') {
    if (env.replicas.length > 0) {
      throw configError(
        'E_CLIENT_REPLICAS_WITH_ACCELERATE',
        `environments.${env.name}: replicas need a direct or pooler url; url is a Prisma Accelerate URL, which pools and routes connections itself`,
        { fix: `remove environments.${env.name}.replicas, or set url to the primary's postgresql:// URL` },
      );
    }
    notes.push('Accelerate pools connections itself: no client-side pool; caching (cacheStrategy) needs the app to add withAccelerate() from @prisma/extension-accelerate');
    return {
      plan: { environment: env.name, mode: 'accelerate', accelerateUrl: redact(url), replicas: [], instances, notes, warnings: [...env.warnings] },
      targets: [],
      accelerateUrl: url,
    };
  }
  const targets = [
    { role: 'primary', url: primaryUrl, at: `environments.${env.name}.url` },
    ...env.replicas.map((u, i) => ({ role: `replica ${i + 1}`, url: u, at: `environments.${env.name}.replicas.${i}` })),
  ].map((t) => {
    const parsed = parseDatabaseUrl(t.url, t.at);
    return { ...t, parsed, server: `${parsed.host.toLowerCase()}:${parsed.port}` };
  });
  const perServer = new Map<string, number>();
  for (const t of targets) perServer.set(t.server, (perServer.get(t.server) ?? 0) + 1);
  const pools = targets.map((t): PoolTarget => {
    const limitParam = new URL(t.url).searchParams.get('connection_limit');
    const urlLimit = limitParam !== null && /^[1-9][0-9]*$/.test(limitParam) ? Number(limitParam) : undefined;
    const fixedPool: PoolSize | undefined =
      configMax !== undefined
        ? { max: configMax, source: 'config', explain: `pool.max = ${configMax}` }
        : urlLimit !== undefined
          ? { max: urlLimit, source: 'url', explain: `connection_limit=${urlLimit} in the URL` }
          : t.parsed.kind === 'pooler'
            ? { max: POOLER_DEFAULT, source: 'pooler', explain: `${POOLER_DEFAULT}, node-postgres's default: the pooler (${t.parsed.reason}) bounds the server's connections` }
            : undefined;
    if (t.parsed.kind === 'pooler') {
      notes.push(
        `${t.role} goes through a pooler (${t.parsed.reason}): with transaction pooling, session state (SET, advisory locks, LISTEN, temporary tables) does not outlive a transaction; queries and interactive transactions work (adapter-pg uses unnamed prepared statements)`,
      );
    }
    return {
      role: t.role,
      url: t.url,
      display: redact(t.url),
      kind: t.parsed.kind,
      server: t.server,
      poolsOnServer: perServer.get(t.server) ?? 1,
      ...(fixedPool ? { fixedPool } : {}),
    };
  });
  const [primary, ...replicas] = pools.map(({ url: _url, ...rest }) => rest);
  if (replicas.some((r) => r.server === primary!.server)) notes.push('a replica URL names the primary server itself: its reads are not offloaded');
  return { plan: { environment: env.name, mode: 'adapter-pg', primary, replicas, instances, notes, warnings: [...env.warnings] }, targets: pools };
}
