import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { DEFAULT_LOCK_RETRIES, DEFAULT_LOCK_TIMEOUT_MS, type ResolvedEnvironment } from '../config/environments.js';
import { StagedbError, usageError } from '../errors.js';
import { acquireWorkflowLock, findLockBlocker, releaseWorkflowLock, type LockBlocker, type LockHolder } from '../guard/lock.js';
import { connect } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { describeFailure, failureLogs, type StatementFailure } from './failure.js';
import { readLocalHistory, type LocalHistory, type LocalMigration } from './local.js';
import { chooseMode, planUnits, type ApplyMode, type ModeChoice } from './mode.js';
import { describeProgress, humanLogs, nothingCommitted, progressLogs, readProgress, type Progress } from './progress.js';
import { splitStatements, type SqlStatement } from './split.js';
import { compareHistory, type HistoryState } from './state.js';
import { createTableSql, listRows, probe, tableRef, type MigrationRow } from './table.js';
import { fixCommand, partialAdvice, withPasswordNote } from './fix.js';
import { shellQuote } from '../shell-quote.js';
import { redact } from '../redact.js';

export interface DeployOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  /** Apply even though an applied migration's file changed since. */
  allowModified?: boolean;
  /** Apply even though the database has migrations the folder does not. */
  allowMissing?: boolean;
  /** Apply pending migrations that sort before the newest applied one. */
  allowOutOfOrder?: boolean;
  /**
   * How long to wait for another stagedb run's deploy lock (default 30 s): the workflow lock, not
   * PostgreSQL's `lock_timeout` (that is `ddlLockTimeoutMs`).
   */
  deployLockWaitMs?: number;
  /**
   * `lock_timeout` for the migrations' statements, in ms: how long one may wait for a table lock
   * before it is cancelled (and retried). Default: the environment's (`lockTimeout`, 5000); 0 = forever.
   */
  ddlLockTimeoutMs?: number;
  /** `statement_timeout` for the migrations, in ms; 0 = none. Default: the environment's, else the server's own. */
  statementTimeoutMs?: number;
  /** Retries of a migration that failed only on `lock_timeout`. Default: the environment's (`lockRetries`, 3). */
  lockRetries?: number;
  /** Back-off before the first lock retry, doubled for each next one, ±25 % jitter (default 1000 ms). */
  lockRetryDelayMs?: number;
  /**
   * The backup taken before this deploy, when there was one: a pg_dump backup's id, or an RDS
   * snapshot or point in time (`backupBeforeDeploy: 'snapshot' | 'pitr'`) with the command that
   * restores it. A failed migration's report names it as the restore point, with that command.
   */
  restorePoint?: RestorePoint;
  /**
   * How often a long `CREATE INDEX CONCURRENTLY` reports its progress (`index-progress` events, from
   * pg_stat_progress_create_index on a second connection opened only once a build outlasts it), in
   * ms. Default 2000; 0 = never.
   */
  progressIntervalMs?: number;
  /** The migrations folder, when the caller has read it already (one deploy reads it once). */
  local?: LocalHistory;
  onEvent?: (event: DeployEvent) => void;
}

/** A pg_dump backup's id, or what else was taken before the deploy (an RDS snapshot, a point in time) and the command that restores it. */
export type RestorePoint = string | { what: string; command: string };

function restorePointWhat(r: RestorePoint): string {
  return typeof r === 'string' ? `backup ${r}` : r.what;
}

export type DeployEvent =
  | { type: 'connected'; env: string; serverVersion: string; pending: number }
  | { type: 'lock-wait'; env: string; holder?: LockHolder }
  | { type: 'created-table'; env: string }
  | { type: 'apply-start'; env: string; name: string; mode: ApplyMode; reason: string }
  | { type: 'apply-done'; env: string; name: string; ms: number }
  /**
   * A migration whose failed attempt (started `startedAt`) provably committed nothing runs again: that
   * attempt's row is marked rolled back first, as `migrate resolve --rolled-back` would.
   */
  | { type: 'retry'; env: string; name: string; startedAt: Date }
  /**
   * A migration (or, outside a transaction, one of its statements) waited `lock_timeout` for a lock and
   * was cancelled, with nothing of it committed; it runs again after `waitMs`. `attempt` counts the
   * retries of this migration (1 … `of`). `blocker`: the session it most probably queued behind.
   */
  | { type: 'lock-retry'; env: string; name: string; attempt: number; of: number; waitMs: number; lockTimeoutMs: number; blocker?: LockBlocker; cause?: 'lock_timeout' | 'deadlock' }
  /** An invalid index left by an interrupted CREATE INDEX CONCURRENTLY of the same name was dropped (concurrently) before the build ran again. */
  | { type: 'invalid-index-dropped'; env: string; name: string; index: string }
  /** A concurrent index build still running: PostgreSQL's own progress report (pg_stat_progress_create_index). */
  | { type: 'index-progress'; env: string; name: string; index?: string; phase: string; blocksDone: number; blocksTotal: number; tuplesDone: number; tuplesTotal: number; elapsedMs: number };

export interface AppliedMigration {
  name: string;
  mode: ApplyMode;
  ms: number;
}

export interface DeployResult {
  env: string;
  serverVersion: string;
  applied: AppliedMigration[];
  /** Migrations that were already applied before this run. */
  alreadyApplied: number;
}

const DEFAULT_DEPLOY_LOCK_WAIT_MS = 30_000;
const DEFAULT_LOCK_RETRY_DELAY_MS = 1000;
const DEFAULT_PROGRESS_INTERVAL_MS = 2000;

/**
 * `migrate deploy` without the Prisma engine: applies every pending migration, each in its own
 * transaction where PostgreSQL allows it, and records each in `_prisma_migrations` exactly as
 * Prisma's engine does, so either tool can run next. Refuses (before changing anything) when the
 * history is failed, modified, missing files or out of order, unless told to allow the last three.
 *
 * Lock-safe DDL: the session runs with `lock_timeout` (and `statement_timeout` when configured), so
 * a migration never queues behind a long transaction for longer than that, and with it the
 * application's queries on the same table; a migration cancelled only by the lock timeout is rolled
 * back and retried with back-off, a bounded number of times, each retry reported as a `lock-retry` event.
 */
export async function deploy(options: DeployOptions): Promise<DeployResult> {
  try {
    return await deployOnce(options);
  } catch (e) {
    throw withPasswordNote(options.env, e);
  }
}

async function deployOnce(options: DeployOptions): Promise<DeployResult> {
  const { env } = options;
  const lock: LockPolicy = {
    timeoutMs: checkedInt('ddlLockTimeoutMs', options.ddlLockTimeoutMs ?? env.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, PG_MAX_MS),
    retries: checkedInt('lockRetries', options.lockRetries ?? env.lockRetries ?? DEFAULT_LOCK_RETRIES, 10),
    delayMs: checkedInt('lockRetryDelayMs', options.lockRetryDelayMs ?? DEFAULT_LOCK_RETRY_DELAY_MS, PG_MAX_MS),
  };
  const statementTimeout = options.statementTimeoutMs ?? env.statementTimeoutMs;
  if (statementTimeout !== undefined) checkedInt('statementTimeoutMs', statementTimeout, PG_MAX_MS);
  const local = options.local ?? readLocalHistory(options.migrationsDir);
  const schema = env.directInfo.schema;
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'deploy' });
  let locked = false;
  try {
    // pg_try_advisory_lock never waits on the server, so the workflow lock is outside lock_timeout's
    // reach whatever the session's settings; they are set after it anyway, once the server is known.
    await acquireWorkflowLock(client, {
      timeoutMs: options.deployLockWaitMs ?? DEFAULT_DEPLOY_LOCK_WAIT_MS,
      label: env.name,
      onWait: (holder) => options.onEvent?.({ type: 'lock-wait', env: env.name, holder }),
    });
    locked = true;
    const p = await probe(client, schema);
    await setSessionLimits(client, lock.timeoutMs, statementTimeout, p.serverVersionNum);
    if (!p.tableExists) {
      if (p.otherObjects > 0) {
        const first = local.migrations[0]?.name ?? '<first-migration>';
        throw new StagedbError(
          'history',
          'E_NOT_BASELINED',
          `${env.name}: schema "${schema}" already has ${p.otherObjects} objects but no _prisma_migrations table, so stagedb cannot tell which migrations it already has (Prisma P3005)`,
          { fix: `baseline it: ${fixCommand(env, 'migrate', 'resolve', '--applied', first)}   (for each migration already reflected in the database), then deploy again` },
        );
      }
      if (!p.schemaExists) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(createTableSql(schema));
      options.onEvent?.({ type: 'created-table', env: env.name });
    }
    const rows = p.tableExists ? await listRows(client, schema) : [];
    const state = compareHistory(local.migrations, rows);
    refuseBlockedHistory(state, options);
    const pendingEntries = state.entries.filter((e) => e.state === 'pending');
    const pending = pendingEntries.map((e) => e.local!);
    options.onEvent?.({ type: 'connected', env: env.name, serverVersion: p.serverVersion, pending: pending.length });

    const applied: AppliedMigration[] = [];
    const ctx: ApplyContext = {
      client,
      target: env,
      schema,
      env: env.name,
      applied,
      retries: new Map(),
      lock,
      restorePoint: options.restorePoint,
      emit: (e) => options.onEvent?.(e),
      monitor: { url: env.directUrl, label: `${env.name} (${env.directSource})`, intervalMs: checkedInt('progressIntervalMs', options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, PG_MAX_MS) },
    };
    for (const e of pendingEntries) if (e.retry) ctx.retries.set(e.name, e.retry);
    try {
      await applyPending(ctx, pending, p.serverVersionNum, options);
    } catch (e) {
      if (isConnectionLost(e)) throw await connectionLost(ctx, options, pending, e);
      throw e;
    }
    return { env: env.name, serverVersion: p.serverVersion, applied, alreadyApplied: state.applied };
  } finally {
    if (locked) await releaseWorkflowLock(client).catch(() => {});
    await client.end().catch(() => {});
  }
}

/** Applies `pending` in order, batching consecutive transactional files; fills `ctx.applied`. */
async function applyPending(ctx: ApplyContext, pending: LocalMigration[], serverVersionNum: number, options: DeployOptions): Promise<void> {
  const { env } = options;
  const applied = ctx.applied;
  const plans = pending.map((m) => ({ m, choice: chooseMode(m.script, serverVersionNum) }));
  // Lock retries so far, per migration; and which migrations were announced (a retried batch is re-sent).
  const lockAttempts = new Map<string, number>();
  const started = new Set<string>();
  // Sizes imposed on the next batches after a syntax error stopped a whole batch (see applyTransactional).
  const caps: number[] = [];
  for (let i = 0; i < plans.length; ) {
    const { m, choice } = plans[i]!;
    if (choice.mode !== 'transaction') {
      ctx.current = { name: m.name, mode: choice.mode };
      await retireAttempts(ctx, [m.name]);
      options.onEvent?.({ type: 'apply-start', env: env.name, name: m.name, mode: choice.mode, reason: choice.reason });
      const t0 = performance.now();
      await applyOne(ctx, m, choice, serverVersionNum);
      const ms = performance.now() - t0;
      applied.push({ name: m.name, mode: choice.mode, ms });
      options.onEvent?.({ type: 'apply-done', env: env.name, name: m.name, ms });
      i++;
      continue;
    }
    // Consecutive transactional migrations go to the server together (bounded, so progress keeps flowing).
    let j = i;
    let bytes = 0;
    const cap = caps.shift() ?? BATCH_MAX_MIGRATIONS;
    while (j < plans.length && plans[j]!.choice.mode === 'transaction' && j - i < cap && bytes < BATCH_MAX_BYTES) {
      bytes += plans[j]!.m.script.length;
      j++;
    }
    const batch = plans.slice(i, j);
    ctx.current = { name: batch[0]!.m.name, mode: 'transaction' };
    await retireAttempts(ctx, batch.map((b) => b.m.name));
    for (const b of batch) {
      if (started.has(b.m.name)) continue;
      started.add(b.m.name);
      options.onEvent?.({ type: 'apply-start', env: env.name, name: b.m.name, mode: 'transaction', reason: b.choice.reason });
    }
    const outcome = await applyTransactional(ctx, batch, lockAttempts, (name, ms) => {
      applied.push({ name, mode: 'transaction', ms });
      options.onEvent?.({ type: 'apply-done', env: env.name, name, ms });
    });
    if (outcome === undefined) i = j;
    // The batch's first `retryFrom` migrations committed; the next one was cancelled by lock_timeout.
    else if ('retryFrom' in outcome) i += outcome.retryFrom;
    // Nothing ran: the files before `splitAt` go again together, then the one that did not parse alone.
    else caps.unshift(...(outcome.splitAt > 0 ? [outcome.splitAt, 1] : [1]));
  }
  ctx.current = undefined;
}

/**
 * Marks the failed attempts of `names` that committed nothing rolled back (Prisma's own way of
 * retiring an attempt), so the migrations run again as new. Once per migration and run.
 */
async function retireAttempts(ctx: ApplyContext, names: string[]): Promise<void> {
  const ids: string[] = [];
  for (const name of names) {
    const r = ctx.retries.get(name);
    if (!r) continue;
    ctx.retries.delete(name);
    ids.push(...r.ids);
    ctx.emit({ type: 'retry', env: ctx.env, name, startedAt: r.startedAt });
  }
  if (ids.length === 0) return;
  await ctx.client.query(`UPDATE ${tableRef(ctx.schema)} SET rolled_back_at = now() WHERE id = ANY($1) AND finished_at IS NULL AND rolled_back_at IS NULL`, [ids]);
}

/**
 * The connection itself is gone: the server ended the session (pg_terminate_backend, a restart, a
 * failover: SQLSTATE class 57P0x, 08xxx) or the socket broke. Nothing more can be learnt on it.
 */
export function isConnectionLost(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (/^(57P0[1-3]|08...)$/.test(code) || ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH'].includes(code)) return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|connection error and is not queryable|Client was closed and is not queryable/i.test(message);
}

/**
 * The report for a deploy whose connection was lost: what this run committed and what it did not,
 * read on a new connection (the server's word, not this process's guess), and how to go on.
 */
async function connectionLost(ctx: ApplyContext, options: DeployOptions, pending: LocalMigration[], e: unknown): Promise<StagedbError> {
  const { env } = options;
  const current = ctx.current;
  const cause = e as { code?: string; message?: string };
  const why = redact(`${cause.message ?? String(e)}${cause.code && /^[0-9A-Z]{5}$/.test(cause.code) ? `, PostgreSQL error ${cause.code}` : ''}`);
  const details: string[] = [];
  let rows: MigrationRow[] | undefined;
  let reconnectError: string | undefined;
  try {
    const c = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'deploy', connectTimeoutMs: 5_000 });
    try {
      rows = await listRows(c, ctx.schema);
    } finally {
      await c.end().catch(() => {});
    }
  } catch (again) {
    reconnectError = redact((again as Error).message ?? String(again));
  }
  // `status` takes no --url: after a --url run, deploy itself reports the history before it applies anything.
  const status = env.directSource === '--url flag' ? `${fixCommand(env, 'deploy')} (it refuses a failed migration before applying anything, and says why)` : fixCommand(env, 'status');
  const resume = fixCommand(env, 'deploy');
  if (!rows) {
    details.push(`could not reconnect to see what was committed (${reconnectError})`);
    if (ctx.applied.length > 0) details.push(`committed before the connection was lost: ${ctx.applied.map((a) => a.name).join(', ')}`);
    return new StagedbError('connection', 'E_CONNECTION_LOST', `${env.name}: the connection to the database was lost${current ? ` during migration ${current.name}` : ''} (${why})`, {
      details,
      fix: `once the database accepts connections again, see what was committed: ${status}; then resume: ${resume}`,
      cause: e,
    });
  }
  const live = rows.filter((r) => r.rolled_back_at === null);
  const finished = new Set(live.filter((r) => r.finished_at !== null).map((r) => r.migration_name));
  const committed = pending.filter((m) => finished.has(m.name)).map((m) => m.name);
  const notCommitted = pending.filter((m) => !finished.has(m.name)).map((m) => m.name);
  details.push(`committed in this run: ${committed.length > 0 ? committed.join(', ') : 'none'}`);
  if (notCommitted.length > 0) details.push(`not committed: ${notCommitted.join(', ')}`);
  // A file that does not run in one transaction: its row says how far it got (progress.ts).
  const attempt = current && current.mode !== 'transaction' && !finished.has(current.name) ? live.filter((r) => r.migration_name === current.name && r.finished_at === null).at(-1) : undefined;
  const p = readProgress(attempt?.logs);
  const half = attempt !== undefined && !nothingCommitted(p);
  // In a batch, `current` is its first file; the one cut off is the first that did not commit.
  const cut = current?.mode === 'transaction' ? (notCommitted.find((n) => !ctx.applied.some((a) => a.name === n)) ?? current.name) : current?.name;
  if (current && cut && !finished.has(cut)) {
    const m = pending.find((x) => x.name === current.name);
    details.push(
      current.mode === 'transaction'
        ? `${cut} ran in one transaction: the server rolled it back, nothing of it was committed`
        : p && m
          ? `${current.name} does not run in one transaction: ${describeProgress(p, splitStatements(m.script), m.script)}${half ? '' : '; the next deploy runs it again'}`
          : `${current.name} does not run in one transaction: its row is left failed; see which of its statements were committed: ${status}`,
    );
  }
  if (ctx.restorePoint) details.push(`restore point: ${restorePointWhat(ctx.restorePoint)}, taken just before this deploy`);
  return new StagedbError('connection', 'E_CONNECTION_LOST', `${env.name}: the connection to the database was lost${cut ? ` during migration ${cut}` : ''} (${why})`, {
    details,
    fix: half ? (p ? partialAdvice(env, current!.name, p) : `see what of ${current!.name} was committed and follow its advice: ${status}`) : `resume (it applies what was not committed): ${resume}`,
    cause: e,
  });
}

/** PostgreSQL's timeouts are int4 milliseconds. */
const PG_MAX_MS = 2_147_483_647;

function checkedInt(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw usageError('E_USAGE', `${name} must be a whole number from 0 to ${max}, not ${v}`);
  return v;
}

/**
 * Session settings for the rest of the run, in one round trip. Besides the timeouts: from
 * PostgreSQL 14, `client_connection_check_interval` makes the server notice within a second that a
 * killed deploy (Ctrl-C, a cancelled CI job, SIGKILL) has gone, and roll back the migration it was
 * running, instead of finishing the rest of a batch nobody waits for while holding the deploy lock.
 * Some platforms cannot check; there the setting is refused and left out.
 */
async function setSessionLimits(client: Client, lockTimeoutMs: number, statementTimeoutMs: number | undefined, serverVersionNum: number): Promise<void> {
  const sets = [`SET lock_timeout = ${lockTimeoutMs}`];
  if (statementTimeoutMs !== undefined) sets.push(`SET statement_timeout = ${statementTimeoutMs}`);
  if (serverVersionNum >= 140000) {
    try {
      await client.query([...sets, 'SET client_connection_check_interval = 1000'].join(';'));
      return;
    } catch {
      // not available on this server's platform: the timeouts alone, below
    }
  }
  await client.query(sets.join(';'));
}

/** How a lock wait is bounded and retried. */
interface LockPolicy {
  /** `lock_timeout`, ms; 0 = wait forever (then nothing is ever retried). */
  timeoutMs: number;
  retries: number;
  /** Back-off before the first retry, ms; doubled for each next one. */
  delayMs: number;
}

/** What every apply step needs. */
interface ApplyContext {
  client: Client;
  /** The environment, for the commands in fix lines. */
  target: ResolvedEnvironment;
  schema: string;
  env: string;
  /** Migrations applied so far in this run (for the failure report). */
  applied: AppliedMigration[];
  lock: LockPolicy;
  /** The backup taken before this deploy, for the failure report. */
  restorePoint?: RestorePoint;
  emit: (event: DeployEvent) => void;
  /** Failed attempts that committed nothing, by migration: marked rolled back just before it runs again. */
  retries: Map<string, { ids: string[]; startedAt: Date }>;
  /** The migration being applied (for a batch: its first not yet committed), for a lost connection's report. */
  current?: { name: string; mode: ApplyMode };
  /** Where and how often to watch a long concurrent index build. */
  monitor: { url: string; label: string; intervalMs: number; pid?: number };
}

/** SQLSTATE 55P03 lock_not_available: `lock_timeout` fired (or a NOWAIT lock was taken; also only a matter of waiting). */
const isLockTimeout = (e: unknown): boolean => (e as { code?: unknown } | undefined)?.code === '55P03';
/**
 * SQLSTATE 40P01 deadlock_detected: the migration was the victim, and PostgreSQL rolled back what the
 * failed transaction (or statement) did — also only a matter of timing. It happens when DDL locks
 * tables in another order than the app's transactions (dropping and re-adding a foreign key locks the
 * referencing table, then the referenced one; the app writes the referenced one, then the other).
 */
const isDeadlock = (e: unknown): boolean => (e as { code?: unknown } | undefined)?.code === '40P01';
const retryableLockFailure = (e: unknown): boolean => isLockTimeout(e) || isDeadlock(e);

/**
 * Waits before lock retry `attempt` (1-based): `delayMs` × 2^(attempt−1), ±25 % so that several
 * deploys (or a deploy and a cron job) that collided once do not collide again in step. Names the
 * session that most probably held the lock, while it probably still does.
 */
async function backOff(ctx: ApplyContext, name: string, attempt: number, sqlText: string, cause: unknown): Promise<void> {
  const blocker = await findLockBlocker(ctx.client, sqlText).catch(() => undefined);
  const waitMs = Math.round(ctx.lock.delayMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
  ctx.emit({ type: 'lock-retry', env: ctx.env, name, attempt, of: ctx.lock.retries, waitMs, lockTimeoutMs: ctx.lock.timeoutMs, blocker, ...(isDeadlock(cause) ? { cause: 'deadlock' as const } : {}) });
  await new Promise((res) => setTimeout(res, waitMs));
}

/** What the failure report says about a migration that gave up on the lock timeout. */
interface LockGiveUp {
  attempts: number;
  timeoutMs: number;
  blocker?: LockBlocker;
}

async function lockGiveUp(ctx: ApplyContext, e: unknown, attempts: number, sqlText: string): Promise<LockGiveUp | undefined> {
  if (!isLockTimeout(e)) return undefined;
  return { attempts, timeoutMs: ctx.lock.timeoutMs, blocker: await findLockBlocker(ctx.client, sqlText).catch(() => undefined) };
}

function refuseBlockedHistory(state: HistoryState, options: DeployOptions): void {
  const env = options.env.name;
  if (state.failed.length > 0) {
    const f = state.failed[0]!;
    const p = f.progress;
    const logLines = f.logs ? humanLogs(f.logs).trim().split('\n').filter((l) => !l.startsWith('stagedb: ')).slice(0, 8) : [];
    const statements = p && f.local ? splitStatements(f.local.script) : undefined;
    throw new StagedbError(
      'history',
      'E_FAILED_MIGRATION',
      `${env}: migration ${f.name} failed${f.startedAt ? ` (started ${f.startedAt.toISOString()})` : ''} and blocks new deploys (Prisma P3009)`,
      {
        details: [...logLines, ...(p ? [`committed: ${describeProgress(p, statements, f.local?.script)}`] : [])],
        fix: partialAdvice(options.env, f.name, p),
      },
    );
  }
  if (state.modified.length > 0 && !options.allowModified) {
    const names = state.modified.map((m) => m.name);
    throw new StagedbError('history', 'E_MODIFIED_MIGRATION', `${env}: applied migration${names.length > 1 ? 's' : ''} ${names.join(', ')} changed on disk since ${names.length > 1 ? 'they were' : 'it was'} applied`, {
      fix: `restore the file from version control (git log -p -- ${shellQuote(`${options.migrationsDir}/${names[0]}/migration.sql`)}) and put new changes in a new migration; to deploy anyway: ${fixCommand(options.env, 'deploy', '--allow-modified')}`,
    });
  }
  if (state.missingLocally.length > 0 && !options.allowMissing) {
    const names = state.missingLocally.map((m) => m.name);
    throw new StagedbError('history', 'E_MISSING_MIGRATION', `${env}: the database has applied migration${names.length > 1 ? 's' : ''} not in the folder: ${names.join(', ')}`, {
      fix: `pull the branch that added ${names.length > 1 ? 'them' : 'it'} (git pull), or deploy anyway: ${fixCommand(options.env, 'deploy', '--allow-missing')}`,
    });
  }
  if (state.outOfOrder.length > 0 && !options.allowOutOfOrder) {
    const names = state.outOfOrder.map((m) => m.name);
    throw new StagedbError('history', 'E_OUT_OF_ORDER', `${env}: pending migration${names.length > 1 ? 's' : ''} ${names.join(', ')} sort${names.length > 1 ? '' : 's'} before the newest applied one (${state.lastApplied?.name ?? '?'})`, {
      fix: `check that ${names.length > 1 ? 'they do' : 'it does'} not depend on later migrations, then: ${fixCommand(options.env, 'deploy', '--allow-out-of-order')}`,
    });
  }
}

const BATCH_MAX_MIGRATIONS = 50;
const BEGIN_LINE = 'BEGIN;\n';

function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}
const BATCH_MAX_BYTES = 1 << 20;

/**
 * Applies transactional migrations, each in its own transaction with its history row — a crash leaves
 * neither behind — and all of them in one round trip: `BEGIN; <file>; INSERT row; COMMIT;` per
 * migration, in one simple-query message. PostgreSQL stops at the first error and leaves that
 * transaction aborted, so the migrations before it are committed, the failing one is not, and the
 * ones after it never ran. `done` is called for each committed migration.
 *
 * Returns undefined when the whole batch committed, or the index of the migration that was cancelled
 * by `lock_timeout` and is to be retried (after the back-off): everything before it committed,
 * nothing of it or after it did. Any other failure is recorded and thrown.
 */
async function applyTransactional(
  ctx: ApplyContext,
  batch: Array<{ m: LocalMigration; choice: ReturnType<typeof chooseMode> }>,
  lockAttempts: Map<string, number>,
  done: (name: string, ms: number) => void,
): Promise<{ retryFrom: number } | { splitAt: number } | undefined> {
  const { client } = ctx;
  const table = tableRef(ctx.schema);
  const lit = (v: string) => client.escapeLiteral(v);
  // Where each file starts in the message, in characters (code points), as PostgreSQL counts `position`.
  const starts: number[] = [];
  let message = '';
  let chars = 0;
  for (const { m } of batch) {
    message += BEGIN_LINE;
    starts.push(chars + BEGIN_LINE.length);
    chars += BEGIN_LINE.length + codePoints(m.script);
    const suffix = `\n;INSERT INTO ${table} (id, checksum, started_at, finished_at, migration_name, applied_steps_count) VALUES (${lit(randomUUID())}, ${lit(m.checksum)}, now(), clock_timestamp(), ${lit(m.name)}, 1);COMMIT;\n`;
    message += m.script + suffix;
    chars += codePoints(suffix);
  }
  const t0 = performance.now();
  try {
    await client.query(message);
  } catch (e) {
    if (isConnectionLost(e)) throw e;
    // 'E': failed inside one of the files' transactions; 'I': never entered one (the message did not
    // parse) or a COMMIT failed.
    const inTransaction = (client as Client & { getTransactionStatus(): string | null }).getTransactionStatus() !== 'I';
    await client.query('ROLLBACK').catch(() => {});
    const names = batch.map((b) => b.m.name);
    const committed = new Set(
      (await client.query<{ migration_name: string }>(`SELECT migration_name FROM ${table} WHERE migration_name = ANY($1) AND finished_at IS NOT NULL AND rolled_back_at IS NULL`, [names])).rows.map((r) => r.migration_name),
    );
    const k = batch.findIndex((b) => !committed.has(b.m.name));
    if (k < 0) throw e; // every migration committed: the error is not one of theirs
    if (k === 0 && batch.length > 1 && !inTransaction) {
      // Nothing of the batch committed and the session never entered (or already left) a transaction:
      // PostgreSQL parses the whole message before running any of it, so a syntax error anywhere stops
      // all of it. Its `position` names the file; the files before that one parsed and go again
      // together, the one that failed alone, so the failure and its row fall on the right file. With
      // no position (a COMMIT that failed on a deferred constraint, a rare parse error without one),
      // the first file goes alone, which runs it again, only on this failure path.
      const p = Number((e as { position?: string }).position);
      if (!(p >= 1)) return { splitAt: 0 };
      let j = 0;
      while (j + 1 < batch.length && starts[j + 1]! - BEGIN_LINE.length <= p - 1) j++;
      if (j > 0) return { splitAt: j };
      // In the first file: it is the one to blame, located below like any other error.
    }
    const share = (performance.now() - t0) / Math.max(1, k + 1);
    for (const b of batch.slice(0, k)) done(b.m.name, share);
    const { m, choice } = batch[k]!;
    const tries = lockAttempts.get(m.name) ?? 0;
    if (retryableLockFailure(e) && tries < ctx.lock.retries) {
      lockAttempts.set(m.name, tries + 1);
      await backOff(ctx, m.name, tries + 1, m.script, e);
      return { retryFrom: k };
    }
    const lock = await lockGiveUp(ctx, e, tries + 1, m.script);
    const f = await locateFailure(client, e, m, choice.statements, starts[k]!, lock ? Math.min(ctx.lock.timeoutMs, REPLAY_LOCK_TIMEOUT_MS) : undefined);
    // Prisma's failed row, and the record that nothing of it was committed: the next deploy runs it again.
    const p: Progress = { mode: 'transaction', statements: choice.statements.length, committed: 0 };
    await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name, logs, applied_steps_count) VALUES ($1, $2, now(), $3, $4, 0)`, [
      randomUUID(),
      m.checksum,
      m.name,
      progressLogs(p, choice.statements, m.script, failureLogs(f)),
    ]);
    throw migrationFailed(ctx, m, f, describeProgress(p), lock, p, e);
  }
  const share = (performance.now() - t0) / batch.length;
  for (const b of batch) done(b.m.name, share);
  return undefined;
}

/**
 * Runs a file that cannot be one transaction with its row (Prisma's protocol: record the start, run,
 * record the end), step by step (`planUnits`), each step committing together with a record of how far
 * the file got, in the row's `logs` (progress.ts): a failure or a kill anywhere leaves a row that says
 * exactly which statements were committed, and when none was, the next deploy runs the file again.
 */
async function applyOne(ctx: ApplyContext, m: LocalMigration, choice: ModeChoice, serverVersionNum: number): Promise<void> {
  const { client } = ctx;
  const table = tableRef(ctx.schema);
  const st = choice.statements;
  const units = planUnits(choice, serverVersionNum);
  const id = randomUUID();
  const lit = (v: string) => client.escapeLiteral(v);
  const progress = (p: Pick<Progress, 'committed' | 'uncertain'>): Progress => ({ mode: choice.mode, statements: st.length, ...p, ...(units ? {} : { unknown: true }) });
  const logsOf = (p: Progress, failure?: StatementFailure) => progressLogs(p, st, m.script, failure ? failureLogs(failure) : undefined);
  const fail = async (e: unknown, f: StatementFailure, p: Progress, lock?: LockGiveUp): Promise<never> => {
    await client.query(`UPDATE ${table} SET logs = $2 WHERE id = $1`, [id, logsOf(p, f)]);
    throw migrationFailed(ctx, m, f, describeProgress(p, st, m.script), lock, p, e);
  };
  await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name, logs, applied_steps_count) VALUES ($1, $2, now(), $3, $4, 0)`, [id, m.checksum, m.name, logsOf(progress({ committed: 0 }))]);

  // The whole file is parsed before any of it runs: PostgreSQL parses a message whole before running
  // its first statement, and this one's first statement always fails. A syntax error anywhere in the
  // file then stops it with nothing committed, as it would in one transaction.
  try {
    await client.query(PARSE_CHECK + m.script);
  } catch (e) {
    if (isConnectionLost(e)) throw e;
    if ((e as { code?: string }).code !== '22012') {
      const pos = Number((e as { position?: string }).position) - PARSE_CHECK.length;
      const f = describeFailure(Object.assign(Object.create(e as object), { position: pos >= 1 ? String(pos) : undefined }), m.script, st, undefined);
      await fail(e, f, progress({ committed: 0 }));
    }
  }

  const finish = `UPDATE ${table} SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1, logs = NULL WHERE id = ${lit(id)}`;
  if (!units) {
    // Transaction control this planner does not take apart: the file runs whole, as written.
    try {
      await client.query(m.script);
    } catch (e) {
      if (isConnectionLost(e)) throw e;
      // A failure inside the file's own BEGIN leaves the session in an aborted transaction.
      await client.query('ROLLBACK').catch(() => {});
      const lock = await lockGiveUp(ctx, e, 1, m.script);
      await fail(e, describeFailure(e, m.script, st, undefined), progress({ committed: 0 }), lock);
    }
    await client.query(finish);
    return;
  }

  for (let u = 0; u < units.length; u++) {
    const unit = units[u]!;
    const last = u === units.length - 1;
    const start = st[unit.from]!.start;
    const after = last ? finish : `UPDATE ${table} SET logs = ${lit(logsOf(progress({ committed: unit.to })))} WHERE id = ${lit(id)}`;
    let bare = unit.kind === 'bare';
    let announced = false;
    for (let attempt = 0; ; ) {
      if (!bare) {
        // One transaction: the unit's statements and the record that they are done commit together.
        let text: string;
        let prefix = 0;
        if (unit.ownBegin) {
          const commit = st[unit.to - 1]!;
          text = `${m.script.slice(start, commit.start)}${after};\n${m.script.slice(commit.start, commit.start + commit.text.length)}`;
        } else {
          const end = st[unit.to - 1]!;
          text = `${BEGIN_LINE}${m.script.slice(start, end.start + end.text.length)}\n;${after};COMMIT;`;
          prefix = BEGIN_LINE.length;
        }
        try {
          await client.query(text);
          break;
        } catch (e) {
          if (isConnectionLost(e)) throw e;
          await client.query('ROLLBACK').catch(() => {});
          const unitText = m.script.slice(start, st[unit.to - 1]!.start + st[unit.to - 1]!.text.length);
          // Rolled back whole: waiting for a lock is only a matter of time, so it runs again.
          if (retryableLockFailure(e) && attempt < ctx.lock.retries) {
            attempt++;
            await backOff(ctx, m.name, attempt, unitText, e);
            continue;
          }
          // A statement PostgreSQL refuses in a transaction block that the classifier does not know: alone, then.
          if ((e as { code?: string }).code === '25001' && unit.to - unit.from === 1) {
            bare = true;
            continue;
          }
          const lock = await lockGiveUp(ctx, e, attempt + 1, unitText);
          const f = await locateInUnit(client, e, m, st, unit.from, unit.to, prefix, lock ? Math.min(ctx.lock.timeoutMs, REPLAY_LOCK_TIMEOUT_MS) : undefined);
          await fail(e, f, progress({ committed: unit.from }), lock);
        }
      } else {
        // Outside any transaction: announced first, so a kill while it runs is reported as "may have been committed".
        const s = st[unit.from]!;
        if (!announced) await client.query(`UPDATE ${table} SET logs = $2 WHERE id = $1`, [id, logsOf(progress({ committed: unit.from, uncertain: unit.from }))]);
        announced = true;
        try {
          // A leftover of an interrupted build (this run's lock retry, or a deploy killed before) is
          // dropped first: the build would fail on it, or, with IF NOT EXISTS, keep it broken.
          const concurrentIndex = CREATE_INDEX_CONCURRENTLY.test(s.text);
          const dropped = concurrentIndex ? await dropInvalidIndex(client, s.text) : undefined;
          if (dropped) ctx.emit({ type: 'invalid-index-dropped', env: ctx.env, name: m.name, index: dropped });
          await (concurrentIndex ? withProgress(ctx, m.name, () => client.query(s.text)) : client.query(s.text));
        } catch (e) {
          if (isConnectionLost(e)) throw e;
          // Each statement commits on its own, so a lock timeout cancels just this one: run it again.
          if (retryableLockFailure(e) && attempt < ctx.lock.retries) {
            attempt++;
            await backOff(ctx, m.name, attempt, s.text, e);
            continue;
          }
          const lock = await lockGiveUp(ctx, e, attempt + 1, s.text);
          // A failed statement committed nothing, except what a CONCURRENTLY one leaves behind (an
          // invalid index): a named CREATE INDEX CONCURRENTLY's leftover is dropped, the others are reported.
          let uncertain: number | undefined;
          if (CREATE_INDEX_CONCURRENTLY.test(s.head)) {
            // A named build's leftover, if any, is gone once this returns: then nothing of it remains.
            const settled = CREATE_INDEX_CONCURRENTLY.exec(s.text) !== null && (await dropInvalidIndex(client, s.text).then(() => true, () => false));
            uncertain = settled ? undefined : unit.from;
          } else if (/\bCONCURRENTLY\b/.test(s.head)) uncertain = unit.from;
          await fail(e, describeFailure(e, m.script, st, s.start), progress({ committed: unit.from, uncertain }), lock);
        }
        await client.query(after);
        break;
      }
    }
  }
}

/** Makes PostgreSQL parse a whole message without running any of it: this first statement always fails, at run time. */
const PARSE_CHECK = 'SELECT 1/0;\n';

/**
 * Where a unit (statements `from` … `to`-1, sent with `prefix` characters before them) failed: at
 * PostgreSQL's `position` when it gives one, else at the statement for a one-statement unit, else
 * by replaying the unit's statements (without its transaction control) in a transaction that is
 * always rolled back.
 */
async function locateInUnit(client: Client, e: unknown, m: LocalMigration, st: SqlStatement[], from: number, to: number, prefix: number, replayLockTimeoutMs?: number): Promise<StatementFailure> {
  const start = st[from]!.start;
  const position = (e as { position?: string }).position;
  if (position !== undefined) {
    const pos = Number(position) - prefix;
    return describeFailure(Object.assign(Object.create(e as object), { position: pos >= 1 ? String(pos) : undefined }), m.script, st, pos >= 1 ? start : undefined);
  }
  if (to - from === 1) return describeFailure(e, m.script, st, start);
  const body = st.slice(from, to).filter((s) => !/^(BEGIN|START TRANSACTION|COMMIT|END)\b/.test(s.head));
  return locateFailure(client, e, m, body, 0, replayLockTimeoutMs);
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CREATE_INDEX_CONCURRENTLY = new RegExp(
  String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})\s+ON\s+(?:ONLY\s+)?(${IDENT}(?:\s*\.\s*${IDENT})?)`,
  'i',
);

/**
 * `CREATE INDEX CONCURRENTLY` commits the new index's catalog entry before it waits for older
 * transactions; cancelled in that wait (by lock_timeout), it leaves the index behind, marked
 * invalid, and the same statement would then fail with "already exists" (or, with IF NOT EXISTS,
 * silently keep the broken index). Before running it again, that leftover is dropped — only an
 * invalid index of exactly the statement's name on the statement's table. An unnamed index cannot
 * be found this way; its leftover stays (PostgreSQL names the retry's index differently): false then.
 */
async function dropInvalidIndex(client: Client, statement: string): Promise<string | undefined> {
  const m = CREATE_INDEX_CONCURRENTLY.exec(statement);
  if (!m) return undefined;
  const name = m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!.toLowerCase();
  const r = await client.query<{ index: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS index
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND NOT i.indisvalid AND i.indrelid = to_regclass($2)`,
    [name, m[2]!.replace(/\s*\.\s*/, '.')],
  );
  const index = r.rows[0]?.index;
  if (index) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index}`);
  return index;
}

/**
 * Runs a concurrent index build and, while it lasts, reports PostgreSQL's progress for it every
 * `intervalMs`, read on a second connection opened only when the build outlasts the first interval
 * (short builds cost nothing). A failure to watch never fails the build.
 */
async function withProgress<T>(ctx: ApplyContext, name: string, run: () => Promise<T>): Promise<T> {
  const m = ctx.monitor;
  if (m.intervalMs === 0) return run();
  m.pid ??= (await ctx.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const pid = m.pid;
  const t0 = performance.now();
  let watcher: Client | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      watcher ??= await connect(m.url, { label: m.label, purpose: 'deploy progress' });
      if (stopped) return;
      const r = await watcher.query<{ phase: string; blocks_done: string; blocks_total: string; tuples_done: string; tuples_total: string; index: string | null }>(
        `SELECT p.phase, p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total, c.relname AS index
           FROM pg_stat_progress_create_index p LEFT JOIN pg_class c ON c.oid = p.index_relid WHERE p.pid = $1`,
        [pid],
      );
      const row = r.rows[0];
      if (row && !stopped) {
        ctx.emit({
          type: 'index-progress',
          env: ctx.env,
          name,
          ...(row.index ? { index: row.index } : {}),
          phase: row.phase,
          blocksDone: Number(row.blocks_done),
          blocksTotal: Number(row.blocks_total),
          tuplesDone: Number(row.tuples_done),
          tuplesTotal: Number(row.tuples_total),
          elapsedMs: performance.now() - t0,
        });
      }
    } catch {
      // watching is best effort: the build goes on
    }
    if (!stopped) timer = setTimeout(() => (inFlight = tick()), m.intervalMs);
  };
  timer = setTimeout(() => (inFlight = tick()), m.intervalMs);
  try {
    return await run();
  } finally {
    stopped = true;
    clearTimeout(timer);
    await inFlight;
    await watcher?.end().catch(() => {});
  }
}

/** The replay that locates a lock-timeout failure waits at most this long per statement. */
const REPLAY_LOCK_TIMEOUT_MS = 1000;

/**
 * Where a migration sent inside a larger message failed (its script starts at `prefixLength` in the
 * message). A syntax error carries PostgreSQL's `position` into the message. A run-time error (a missing FK target, a failed cast, NULLs in a new NOT NULL column)
 * carries none: then the file is replayed statement by statement in a transaction that is always
 * rolled back, to name the statement that fails. Failures are rare; the normal path stays one round trip.
 * A lock timeout is replayed with a shorter one (`replayLockTimeoutMs`): if the blocker is still
 * there, the same statement fails again, sooner.
 */
async function locateFailure(client: Client, e: unknown, m: LocalMigration, statements: SqlStatement[], prefixLength: number, replayLockTimeoutMs?: number): Promise<StatementFailure> {
  const err = e as { position?: string };
  if (err.position !== undefined) {
    const position = Number(err.position) - prefixLength;
    // Past the end of the file: the file ended inside a statement and the error came at the INSERT
    // that follows it; describeFailure stops at the file's end, which is where the problem is.
    if (position < 1) return describeFailure(Object.assign(Object.create(e as object), { position: undefined }), m.script, statements, undefined);
    return describeFailure(Object.assign(Object.create(e as object), { position: String(position) }), m.script, statements, undefined);
  }
  // A BEGIN ATOMIC body is kept whole by the lexer, but a misread one must never be run in pieces.
  if (statements.some((s) => /\bBEGIN ATOMIC\b/.test(s.head))) return describeFailure(e, m.script, statements, undefined);
  await client.query('BEGIN');
  try {
    if (replayLockTimeoutMs !== undefined) await client.query(`SET LOCAL lock_timeout = ${replayLockTimeoutMs}`);
    for (const s of statements) {
      try {
        await client.query(s.text);
      } catch (again) {
        // Report the original error (its code decides the advice), located at the statement that failed again.
        return describeFailure(isLockTimeout(e) ? e : again, m.script, statements, s.start);
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
  return describeFailure(e, m.script, statements, undefined);
}

function migrationFailed(ctx: ApplyContext, m: LocalMigration, f: StatementFailure, committed: string, lock: LockGiveUp | undefined, p: Progress, cause: unknown): StagedbError {
  const env = ctx.env;
  const details: string[] = [];
  if (f.line !== undefined) details.push(`at ${m.name}/migration.sql:${f.line}:${f.column}`);
  if (f.statement) details.push(`statement: ${f.statement.split('\n')[0]}${f.statement.includes('\n') ? ' …' : ''}`);
  if (f.code) details.push(`PostgreSQL error ${f.code}`);
  if (f.detail) details.push(`detail: ${f.detail}`);
  if (f.hint) details.push(`hint: ${f.hint}`);
  if (lock) {
    details.push(`lock: waited the lock_timeout of ${lock.timeoutMs} ms for a lock and was cancelled, ${lock.attempts === 1 ? 'with no retries configured' : `${lock.attempts} times (${lock.attempts - 1} ${lock.attempts === 2 ? 'retry' : 'retries'})`}`);
    if (lock.blocker) details.push(`blocked by: ${describeBlocker(lock.blocker)}`);
  }
  details.push(`committed: ${committed}`);
  if (ctx.applied.length > 0) details.push(`applied before it in this run: ${ctx.applied.map((a) => a.name).join(', ')}`);
  if (ctx.restorePoint) details.push(`restore point: ${restorePointWhat(ctx.restorePoint)}, taken just before this deploy`);
  const again = fixCommand(ctx.target, 'deploy');
  const clean = nothingCommitted(p);
  let fix: string;
  if (lock) {
    const when = `the migration itself is fine: another session held a lock it needs. When that session is done${lock.blocker ? ` (or ended: SELECT pg_terminate_backend(${lock.blocker.pid});)` : ''}`;
    fix = clean
      ? `${when}: ${again}   (nothing of it was committed: deploy runs it again); or raise ddlLockTimeout / lockRetries for ${env} in the stagedb config`
      : `${when}: ${partialAdvice(ctx.target, m.name, p)}; or raise ddlLockTimeout / lockRetries for ${env} in the stagedb config`;
  } else {
    fix = clean
      ? `fix migration.sql, then: ${again}   (nothing of it was committed: deploy runs it again; if you complete it by hand instead: ${fixCommand(ctx.target, 'migrate', 'resolve', '--applied', m.name)})`
      : `fix migration.sql, then ${partialAdvice(ctx.target, m.name, p)}`;
  }
  // Rolling the whole deploy back (to before the migrations this run applied) is the backup's job.
  const back = ctx.restorePoint ? `; to go back to before this deploy instead: ${typeof ctx.restorePoint === 'string' ? `stagedb restore ${shellQuote(ctx.restorePoint)} --to ${env}` : ctx.restorePoint.command}` : '';
  return new StagedbError('migration', 'E_MIGRATION_FAILED', `${env}: migration ${m.name} failed: ${f.message}`, { details, fix: `${fix}${back}`, cause });
}

/** One line about the session a migration waited for; names and times only, never its query. */
export function describeBlocker(b: LockBlocker): string {
  const parts = [`pid ${b.pid}`, b.applicationName || 'no application_name', `user ${b.user}${b.clientAddr ? ` from ${b.clientAddr}` : ''}`];
  if (b.state) parts.push(`${b.state}${b.since ? ` (transaction since ${b.since.toISOString()})` : ''}`);
  parts.push(`holding ${b.mode} on ${b.relation}`);
  return parts.join(', ');
}
