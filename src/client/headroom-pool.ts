import type { Pool as PgPool, PoolClient, PoolConfig } from 'pg';
import type { ServerLimits } from './pool-size.js';
import { CLIENT_SESSIONS_SQL, reserveOf } from './pool-size.js';

/**
 * A node-postgres pool that watches the server fill up instead of trusting a number.
 *
 * The computed pool size assumes `pool.instances` processes share the server, and nobody tells the
 * client how many there really are (cluster mode, several containers, serverless). So every connection
 * after a pool's first asks the server, once, how many client connections it holds in all
 * (`pg_stat_activity`, which every role can count): when keeping this one would leave fewer free than the
 * reserve that deploys, backups and a person's psql need, the pool gives it back and stops growing. And
 * when the server refuses a connection outright (53300 "too many clients", from other processes), a pool
 * that already holds connections waits for one of its own instead of failing the query; a pool with none
 * retries a few times over ~1.5 s before it reports the refusal.
 *
 * The ceiling goes back up after `regrowMs`, so a pool grows again once the others have shrunk (their
 * idle connections close after node-postgres's `idleTimeoutMillis`, 10 s).
 *
 * This overrides pg-pool's `newClient` (pg-pool 3.x, pinned through pg 8.23.1): the one place where a
 * pool's connection attempt either joins the pool or fails a waiting query.
 */
export interface HeadroomOptions {
  /** The pool's size when the server has room: the computed or configured size. */
  max: number;
  /** The server's settings, from the probe. */
  limits: ServerLimits;
  /** How long a lowered ceiling stays lowered, in ms (default 5 000). */
  regrowMs?: number;
  /** Told when the pool stops growing because the server is full (once per episode). */
  onFull?: (message: string) => void;
}

/** The client connections the server holds, this one included (every role may count pg_stat_activity's rows). */
export const HEADROOM_SQL = `SELECT count(*)::int AS used FROM pg_stat_activity WHERE ${CLIENT_SESSIONS_SQL}`;

/** SQLSTATE 53300: too_many_connections. */
const TOO_MANY = '53300';

/** A connection given back because keeping it would eat into the reserve. */
class HeadroomRefusal extends Error {
  readonly code = TOO_MANY;
  constructor(used: number, budget: number, reserve: number) {
    super(`${used} client connections are open, ordinary roles may have ${budget}, and ${reserve} are kept free for deploys, backups and psql`);
  }
}

export function isServerFull(e: unknown): boolean {
  const err = e as { code?: unknown; cause?: { code?: unknown } } | null;
  return !!err && (err.code === TOO_MANY || err.cause?.code === TOO_MANY || /too many clients already|remaining connection slots are reserved/.test(String((e as Error)?.message)));
}

interface PendingItem {
  callback: (err: Error | undefined, client?: PoolClient, release?: () => void) => void;
  timedOut?: boolean;
  fullRetries?: number;
}

/** pg-pool's internals this class relies on (pg-pool 3.x). */
interface PoolInternals {
  _clients: unknown[];
  _pendingQueue: PendingItem[];
  _pulseQueue(): void;
  ending: boolean;
  options: PoolConfig & { max: number };
}

/** Retries of a pool with no connection of its own, when the server refuses: 100, 200, 400, 800 ms. */
const EMPTY_POOL_RETRIES = 4;

/** Builds the pool class on the application's `pg` (loaded lazily: adapter-pg requires the same module). */
export function headroomPoolClass(pg: typeof import('pg')): new (config: PoolConfig, headroom: HeadroomOptions) => PgPool {
  const Base = pg.Pool as unknown as new (config: PoolConfig) => PgPool & PoolInternals & { newClient(item: PendingItem): void; _isFull(): boolean };
  class HeadroomPool extends Base {
    private readonly target: number;
    private regrow: NodeJS.Timeout | undefined;
    private announced = false;
    /** Connections being added beyond the first: at most one at a time, so that several processes
     * growing at once cannot fill the server before any of them has looked at it. */
    private growing = 0;

    constructor(config: PoolConfig, private readonly headroom: HeadroomOptions) {
      const budget = headroom.limits.maxConnections - headroom.limits.superuserReserved - headroom.limits.reserved;
      const reserve = reserveOf(budget);
      super({ ...config, max: headroom.max });
      this.target = headroom.max;
      // pg-pool runs this on every new connection before it serves a query. A pool's first connection is
      // always kept (a pool needs one); each later one costs one query, only when the pool grows.
      (this.options as { onConnect?: (c: PoolClient) => Promise<void> }).onConnect = async (client) => {
        if (this._clients.length <= 1) return;
        const { rows } = await client.query<{ used: number }>(HEADROOM_SQL);
        const used = rows[0]!.used;
        if (budget - used < reserve) throw new HeadroomRefusal(used, budget, reserve);
      };
    }

    override _isFull(): boolean {
      return this._clients.length >= this.options.max || this.growing > 0;
    }

    override newClient(item: PendingItem): void {
      const callback = item.callback;
      const growth = this._clients.length > 0;
      if (growth) this.growing++;
      item.callback = (err, client, release) => {
        if (growth) this.growing--;
        // pg-pool pulses its queue before it calls back, while this attempt still counted as growing: the
        // queries waiting behind it would wait for the next release, which an idle pool may never have.
        // After a growth, too: queries already queued are otherwise handed the connections that come free,
        // and the pool would stop growing while they wait.
        if (growth) process.nextTick(() => this._pulseQueue());
        if (!err || !isServerFull(err) || this.ending || item.timedOut) return callback(err, client, release);
        item.callback = callback;
        this.lowerCeiling(err);
        if (this._clients.length > 0) {
          // Wait for one of the pool's own connections: served by pg-pool when the next one is released.
          this._pendingQueue.unshift(item);
          this._pulseQueue();
          return;
        }
        const n = item.fullRetries ?? 0;
        if (n >= EMPTY_POOL_RETRIES) return callback(err, client, release);
        item.fullRetries = n + 1;
        setTimeout(() => {
          if (this.ending) return callback(err, client, release);
          this._pendingQueue.unshift(item);
          this._pulseQueue();
        }, 100 * 2 ** n).unref();
      };
      super.newClient(item);
    }

    private lowerCeiling(err: Error): void {
      this.options.max = Math.max(1, this._clients.length);
      if (!this.announced) {
        this.announced = true;
        this.headroom.onFull?.(`the server is full (${err.message}): this pool stays at ${this.options.max} connection${this.options.max === 1 ? '' : 's'} and queries wait for them`);
      }
      clearTimeout(this.regrow);
      this.regrow = setTimeout(() => {
        this.options.max = this.target;
        this.announced = false;
      }, this.headroom.regrowMs ?? 5_000);
      this.regrow.unref();
    }

    /**
     * pg-pool's `end()` leaves queries that wait for a connection waiting forever. Those are failed
     * here, as a dropped connection would fail them, so a replica's reads move to the primary when its
     * broken pool is closed, and `$disconnect` never strands a query.
     */
    override end(): Promise<void> {
      clearTimeout(this.regrow);
      for (const item of this._pendingQueue.splice(0)) {
        if (!item.timedOut) item.callback(new Error('Connection terminated: the pool was closed while the query waited for a connection'));
      }
      return super.end();
    }
  }
  return HeadroomPool as unknown as new (config: PoolConfig, headroom: HeadroomOptions) => PgPool;
}
