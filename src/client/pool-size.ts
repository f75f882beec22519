/**
 * The runtime client's pool size: how many connections one pool in one application process may hold.
 * Pure arithmetic, so the formula is pinned by unit tests and shown by `describeClientPlan`.
 *
 *   budget   = max_connections − superuser_reserved_connections − reserved_connections (PostgreSQL 16+)
 *   reserve  = max(5, ⌈10 % of budget⌉)            kept free for deploys, backups, Studio and a psql session
 *   per pool = ⌊(budget − reserve) / (instances × pools on that server)⌋, clamped to [2, 10]
 *
 * `instances` is config `pool.instances` (processes that share the server: pods, tasks, serverless
 * concurrency). "Pools on that server" counts this process's pools that reach the same host:port —
 * 1 normally; 2 when a replica URL names the primary itself. A replica's pool is sized from the replica
 * server's own settings (a hot standby's max_connections is never below its primary's).
 */

/** Connections always left free on the server, whatever its size: `stagedb deploy` (its lock and
 * migration sessions), a backup (`pg_dump -j2` holds three), Studio and one person's psql. */
export const POOL_RESERVE_MIN = 5;
/** …or this share of the server's budget when that is more. */
export const POOL_RESERVE_FRACTION = 0.1;
/** Fewer than two connections serialises everything behind one interactive transaction. */
export const POOL_MIN = 2;
/**
 * node-postgres's own default. One Node process is one thread: more connections than this rarely
 * makes it faster, and every extra idle connection costs the server memory (RDS bills it as RAM).
 */
export const POOL_MAX = 10;
/** A pooler URL (PgBouncer, RDS Proxy, Supavisor): the pooler, not this number, bounds server connections. */
export const POOLER_DEFAULT = 10;

/** What one query reads from the server (see `SERVER_LIMITS_SQL`). */
export interface ServerLimits {
  maxConnections: number;
  superuserReserved: number;
  /** `reserved_connections` (PostgreSQL 16+, for roles with pg_use_reserved_connections); 0 before 16. */
  reserved: number;
}

/** A pool size and where it came from. */
export interface PoolSize {
  max: number;
  /** `config`: `pool.max`; `url`: the URL's `connection_limit`; `computed`: the formula; `pooler`: the pooler default. */
  source: 'config' | 'url' | 'computed' | 'pooler';
  /** The arithmetic in one line, e.g. `(100 − 3 − 0 − 10 reserve) / (1 instance × 1 pool) = 87 → 10 (at most 10)`. */
  explain: string;
  /** Set when the server cannot give every pool even the minimum: it may refuse connections (53300). */
  warning?: string;
}

/** Connections kept free on a server whose ordinary roles may use `budget`. */
export function reserveOf(budget: number): number {
  return Math.max(POOL_RESERVE_MIN, Math.ceil(budget * POOL_RESERVE_FRACTION));
}

export function computePoolSize(limits: ServerLimits, opts: { instances: number; poolsOnServer: number }): PoolSize {
  const budget = limits.maxConnections - limits.superuserReserved - limits.reserved;
  const reserve = reserveOf(budget);
  const divisor = opts.instances * opts.poolsOnServer;
  const raw = Math.floor((budget - reserve) / divisor);
  const max = Math.min(POOL_MAX, Math.max(POOL_MIN, raw));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const clamp = raw > POOL_MAX ? ` → ${max} (at most ${POOL_MAX})` : raw < POOL_MIN ? ` → ${max} (at least ${POOL_MIN})` : '';
  const explain =
    `(${limits.maxConnections} max_connections − ${limits.superuserReserved} superuser_reserved − ${limits.reserved} reserved − ${reserve} kept free) / ` +
    `(${plural(opts.instances, 'instance')} × ${plural(opts.poolsOnServer, 'pool')}) = ${raw}${clamp}`;
  const warning =
    raw < POOL_MIN
      ? `the server allows ${budget - reserve} application connections, fewer than ${divisor} pools × ${POOL_MIN}: under load it will refuse connections (53300 too many clients); raise max_connections, lower pool.instances, or put a pooler (RDS Proxy, PgBouncer) or Accelerate in front`
      : undefined;
  return { max, source: 'computed', explain, ...(warning ? { warning } : {}) };
}

/** The one query a pool's first connection makes. `reserved_connections` is read leniently (16+). */
export const SERVER_LIMITS_SQL = `SELECT current_setting('max_connections')::int AS max_connections,
  current_setting('superuser_reserved_connections')::int AS superuser_reserved,
  coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
  pg_is_in_recovery() AS in_recovery`;

/**
 * The client sessions in `pg_stat_activity`, whatever the role may see: to a role without
 * pg_read_all_stats another role's session shows a NULL `backend_type` (as does the logical replication
 * launcher, so a count errs on the safe side by one).
 */
export const CLIENT_SESSIONS_SQL = `(backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL))`;
