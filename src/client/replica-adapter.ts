import type { IsolationLevel, SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';
import { isServerFull } from './headroom-pool.js';
import { ADAPTER_NAME, type PoolContext, type PoolRuntime } from './pool-runtime.js';

/**
 * Why a replica cannot take a read now — each handled the way a person running the app would expect:
 * - `full`: the server refuses more clients (53300). Nothing is wrong with it; a pool that holds
 *   connections waits for them (see ./headroom-pool.ts), and only a pool with none sends reads to the
 *   primary, checking again within a second.
 * - `down`: refused, reset, timed out, shutting down or starting up. Reads go to the primary; the replica
 *   is checked in the background, soon at first and then less often, and its reads return as soon as it
 *   answers.
 * - `refused`: it answers but will not let this client in (password, database, TLS). That is
 *   configuration: it will not fix itself, so it is checked at the slowest pace, and the warning says what
 *   to fix.
 */
export type ReplicaTrouble = 'full' | 'down' | 'refused';

const REFUSED_KINDS = new Set(['AuthenticationFailed', 'DatabaseDoesNotExist', 'DatabaseAccessDenied', 'TlsConnectionError']);
const DOWN_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout']);
/** SQLSTATEs of a server going away or not yet accepting: admin/crash shutdown, cannot connect now, connection exceptions. */
const DOWN_SQLSTATE = /^(57P0[123]|08...)$/;
const REFUSED_SQLSTATE = /^(28...|3D000|42501)$/;
/** Node's socket codes for a server that went away; adapter-pg passes some through raw (a TLS handshake cut off: ECONNRESET without a syscall). */
const DOWN_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

/** What kind of trouble a failed read on a replica means; undefined when the read itself was wrong. */
export function classifyFailure(e: unknown): ReplicaTrouble | undefined {
  if (isServerFull(e)) return 'full';
  if (e instanceof StagedbError) {
    if (e.kind !== 'connection') return undefined;
    return e.code === 'E_AUTH' || e.code === 'E_DB_MISSING' || e.code === 'E_TLS' ? 'refused' : 'down';
  }
  const err = e as { name?: unknown; cause?: { kind?: unknown; code?: unknown; originalCode?: unknown }; message?: unknown; code?: unknown } | null;
  if (!err || typeof err !== 'object') return undefined;
  if (err.name === 'DriverAdapterError' && err.cause && typeof err.cause === 'object') {
    const kind = String(err.cause.kind);
    if (kind === 'TooManyConnections') return 'full';
    if (REFUSED_KINDS.has(kind)) return 'refused';
    if (DOWN_KINDS.has(kind)) return 'down';
    const code = String(err.cause.originalCode ?? err.cause.code ?? '');
    if (kind !== 'postgres') return undefined;
    return DOWN_SQLSTATE.test(code) ? 'down' : REFUSED_SQLSTATE.test(code) ? 'refused' : undefined;
  }
  // Raw node-postgres errors that adapter-pg does not map: a connect timeout, a connection dropped mid-query.
  if (typeof err.code === 'string') {
    if (DOWN_SQLSTATE.test(err.code) || DOWN_SOCKET_CODES.has(err.code)) return 'down';
    if (REFUSED_SQLSTATE.test(err.code)) return 'refused';
  }
  return /timeout exceeded when trying to connect|Connection terminated|socket disconnected before secure TLS|connection timeout|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT/i.test(String(err.message ?? '')) ? 'down' : undefined;
}

/** Errors that mean "this server cannot be used now", as opposed to "this query is wrong". */
export function isUnreachable(e: unknown): boolean {
  return classifyFailure(e) !== undefined;
}

/** The reason in a person's words: PostgreSQL's own message and code, never just an error class. */
export function reasonOf(e: unknown): string {
  if (e instanceof StagedbError) return e.message;
  const err = e as { cause?: { kind?: string; host?: string; port?: number; user?: string; db?: string; message?: string; code?: string; originalMessage?: string; reason?: string; cause?: string }; message?: string; code?: string };
  const c = err.cause;
  if (c?.kind === 'DatabaseNotReachable') return `nothing accepts connections at ${c.host ?? '?'}:${c.port ?? '?'}`;
  if (c?.kind === 'postgres') return `${c.message ?? err.message ?? 'error'}${c.code ? ` (${c.code})` : ''}`;
  if (c?.kind === 'TooManyConnections') return 'too many clients already (53300)';
  if (c?.kind === 'AuthenticationFailed') return `authentication failed${c.user ? ` for user "${c.user}"` : ''}`;
  if (c?.kind === 'DatabaseDoesNotExist') return `database${c.db ? ` "${c.db}"` : ''} does not exist`;
  if (c?.kind) return `${c.kind}${c.reason ? `: ${c.reason}` : c.cause ? `: ${c.cause}` : c.originalMessage ? `: ${c.originalMessage}` : ''}`;
  return `${err.message ?? String(e)}${err.code && /^[0-9A-Z]{5}$/.test(err.code) ? ` (${err.code})` : ''}`;
}

export interface ReplicaTiming {
  /** The longest wait between two background checks of a replica in trouble, in ms. */
  retryMs: number;
  /** The first check's delay, doubled after each failed one up to `retryMs`; default 250. */
  firstRetryMs?: number;
}

/**
 * A replica's adapter with a way out. A read that the replica cannot take runs on the primary's pool
 * instead, once — reads are safe to repeat, and a write could not have succeeded on a standby. While the
 * replica is in trouble, reads go straight to the primary and a background check (`SELECT 1`, 0.25 s,
 * 0.5 s, 1 s … at most `retryMs` apart) watches for its return, so no application read waits on a dead
 * server, and reads go back to the replica the moment it answers. The logger hears once when trouble
 * starts and once when it ends. A failure of a read that started before the last change of state (an
 * old connection the outage broke, noticed late) changes nothing: one outage, one warning.
 */
export class ReplicaAdapter implements SqlDriverAdapter {
  readonly provider = 'postgres' as const;
  readonly adapterName = ADAPTER_NAME;
  private state: 'up' | ReplicaTrouble = 'up';
  /** Bumped on every change of state: a read remembers the epoch it started in. */
  private epoch = 0;
  private since = 0;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly firstRetryMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly replica: PoolRuntime,
    private readonly primary: PoolRuntime,
    private readonly ctx: PoolContext,
    timing: ReplicaTiming,
  ) {
    this.retryMs = timing.retryMs;
    this.firstRetryMs = Math.min(timing.firstRetryMs ?? 250, timing.retryMs);
  }

  queryRaw(query: SqlQuery) {
    // Every routed read comes through here: the common case (replica up, pool open) without an async frame.
    const open = this.state === 'up' ? this.replica.adapter : undefined;
    if (open) {
      const epoch = this.epoch;
      return open.queryRaw(query).then(undefined, (e: unknown) => this.failover(e, epoch, (a) => a.queryRaw(query)));
    }
    return this.slowRoute((a) => a.queryRaw(query));
  }

  executeRaw(query: SqlQuery) {
    return this.route((a) => a.executeRaw(query));
  }

  executeScript(script: string) {
    return this.route((a) => a.executeScript(script));
  }

  startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    return this.route((a) => a.startTransaction(isolationLevel));
  }

  getConnectionInfo() {
    return this.replica.connectionInfo();
  }

  async dispose(): Promise<void> {
    // $disconnect: the next query starts afresh, with no check left running.
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state !== 'up') this.epoch++;
    this.state = 'up';
    await this.replica.dispose();
  }

  /** True while reads skip this replica. */
  get isDown(): boolean {
    return this.state !== 'up';
  }

  private route<T>(run: (a: SqlDriverAdapter) => Promise<T>): Promise<T> {
    const open = this.state === 'up' ? this.replica.adapter : undefined;
    if (open) {
      const epoch = this.epoch;
      return run(open).then(undefined, (e: unknown) => this.failover(e, epoch, run));
    }
    return this.slowRoute(run);
  }

  private async slowRoute<T>(run: (a: SqlDriverAdapter) => Promise<T>): Promise<T> {
    if (this.state !== 'up') return run(this.primary.adapter ?? (await this.primary.get()));
    const epoch = this.epoch;
    try {
      return await run(this.replica.adapter ?? (await this.replica.get()));
    } catch (e) {
      return this.failover(e, epoch, run);
    }
  }

  private async failover<T>(e: unknown, epoch: number, run: (a: SqlDriverAdapter) => Promise<T>): Promise<T> {
    const trouble = classifyFailure(e);
    if (!trouble) throw e;
    if (this.state === 'up' && epoch === this.epoch) this.enter(trouble, e);
    return run(this.primary.adapter ?? (await this.primary.get()));
  }

  private enter(trouble: ReplicaTrouble, e: unknown): void {
    this.state = trouble;
    this.epoch++;
    this.since = Date.now();
    // Configuration does not fix itself: check it at the slowest pace from the start.
    this.attempt = trouble === 'refused' ? 30 : 0;
    const { role, display } = this.replica.target;
    const who = `stagedb/client (${this.ctx.environment}): read ${role} (${display})`;
    const fix = e instanceof StagedbError && e.fix ? ` Fix: ${e.fix}.` : trouble === 'refused' ? " Fix: check the replica URL's user, password, database and sslmode." : '';
    const message =
      trouble === 'full'
        ? `${who} has no connection slot free — ${reasonOf(e)}; its reads go to the primary until it has room`
        : trouble === 'refused'
          ? `${who} refuses this client — ${reasonOf(e)}; its reads go to the primary.${fix}`
          : `${who} is unreachable — ${reasonOf(e)}; its reads go to the primary until it answers (checked in the background, at most ${fmtSeconds(this.retryMs)} apart)`;
    this.ctx.logger.warn(redact(message));
    // The connections an outage broke would each fail one more read later: drop them now. A full server's are fine.
    if (trouble !== 'full') void this.replica.dispose().catch(() => {});
    this.schedule();
  }

  private schedule(): void {
    const delay = Math.min(this.retryMs, this.firstRetryMs * 2 ** Math.min(this.attempt++, 30));
    this.timer = setTimeout(() => void this.check(), delay);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const epoch = this.epoch;
    try {
      const a = this.replica.adapter ?? (await this.replica.get());
      await a.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] });
    } catch {
      if (epoch === this.epoch && this.state !== 'up') this.schedule();
      return;
    }
    if (epoch !== this.epoch || this.state === 'up') return;
    const was = this.state;
    this.state = 'up';
    this.epoch++;
    const { role, display } = this.replica.target;
    const message = `stagedb/client (${this.ctx.environment}): read ${role} (${display}) ${was === 'full' ? 'has room again' : 'answers again'} after ${fmtSeconds(Date.now() - this.since)}: its reads go back to it`;
    (this.ctx.logger.info ?? this.ctx.logger.warn).call(this.ctx.logger, redact(message));
  }
}

function fmtSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** The factory a replica's PrismaClient is built with. */
export function replicaFactory(adapter: ReplicaAdapter): SqlDriverAdapterFactory {
  return { provider: 'postgres', adapterName: ADAPTER_NAME, connect: async () => adapter };
}
