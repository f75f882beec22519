import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { DEFAULT_LOCK_RETRIES, DEFAULT_LOCK_TIMEOUT_MS as DEFAULT_DDL_LOCK_TIMEOUT_MS, type ResolvedEnvironment } from '../config/environments.js';
import { StagedbError, usageError } from '../errors.js';
import { acquireWorkflowLock, findLockBlocker, releaseWorkflowLock, type LockBlocker, type LockHolder } from '../guard/lock.js';
import { connect } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { describeFailure, failureLogs, type StatementFailure } from './failure.js';
import { readLocalHistory, type LocalMigration } from './local.js';
import { chooseMode, type ApplyMode } from './mode.js';
import type { SqlStatement } from './split.js';
import { compareHistory, type HistoryState } from './state.js';
import { createTableSql, listRows, probe, tableRef } from './table.js';

export interface DeployOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  /** Apply even though an applied migration's file changed since. */
  allowModified?: boolean;
  /** Apply even though the database has migrations the folder does not. */
  allowMissing?: boolean;
  /** Apply pending migrations that sort before the newest applied one. */
  allowOutOfOrder?: boolean;
  /** How long to wait for another stagedb run's lock (default 30 s). */
  lockTimeoutMs?: number;
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
   * The backup taken before this deploy (its id), when there was one: a failed migration's report
   * names it as the restore point, with the command that restores it.
   */
  restorePoint?: string;
  /**
   * How often a long `CREATE INDEX CONCURRENTLY` reports its progress (`index-progress` events, from
   * pg_stat_progress_create_index on a second connection opened only once a build outlasts it), in
   * ms. Default 2000; 0 = never.
   */
  progressIntervalMs?: number;
  onEvent?: (event: DeployEvent) => void;
}

export type DeployEvent =
  | { type: 'connected'; env: string; serverVersion: string; pending: number }
  | { type: 'lock-wait'; env: string; holder?: LockHolder }
  | { type: 'created-table'; env: string }
  | { type: 'apply-start'; env: string; name: string; mode: ApplyMode; reason: string }
  | { type: 'apply-done'; env: string; name: string; ms: number }
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

const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
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
  const { env } = options;
  const lock: LockPolicy = {
    timeoutMs: checkedInt('ddlLockTimeoutMs', options.ddlLockTimeoutMs ?? env.lockTimeoutMs ?? DEFAULT_DDL_LOCK_TIMEOUT_MS, PG_MAX_MS),
    retries: checkedInt('lockRetries', options.lockRetries ?? env.lockRetries ?? DEFAULT_LOCK_RETRIES, 10),
    delayMs: checkedInt('lockRetryDelayMs', options.lockRetryDelayMs ?? DEFAULT_LOCK_RETRY_DELAY_MS, PG_MAX_MS),
  };
  const statementTimeout = options.statementTimeoutMs ?? env.statementTimeoutMs;
  if (statementTimeout !== undefined) checkedInt('statementTimeoutMs', statementTimeout, PG_MAX_MS);
  const local = readLocalHistory(options.migrationsDir);
  const schema = env.directInfo.schema;
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'deploy' });
  let locked = false;
  try {
    // pg_try_advisory_lock never waits on the server, so the workflow lock is outside lock_timeout's
    // reach whatever the session's settings; they are set after it anyway, once the server is known.
    await acquireWorkflowLock(client, {
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
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
          { fix: `baseline it: stagedb migrate resolve --applied ${first} --env ${env.name}   (for each migration already reflected in the database), then deploy again` },
        );
      }
      if (!p.schemaExists) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(createTableSql(schema));
      options.onEvent?.({ type: 'created-table', env: env.name });
    }
    const rows = p.tableExists ? await listRows(client, schema) : [];
    const state = compareHistory(local.migrations, rows);
    refuseBlockedHistory(state, options);
    const pending = state.entries.filter((e) => e.state === 'pending').map((e) => e.local!);
    options.onEvent?.({ type: 'connected', env: env.name, serverVersion: p.serverVersion, pending: pending.length });

    const applied: AppliedMigration[] = [];
    const ctx: ApplyContext = {
      client,
      schema,
      env: env.name,
      applied,
      lock,
      restorePoint: options.restorePoint,
      emit: (e) => options.onEvent?.(e),
      monitor: { url: env.directUrl, label: `${env.name} (${env.directSource})`, intervalMs: checkedInt('progressIntervalMs', options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, PG_MAX_MS) },
    };
    const plans = pending.map((m) => ({ m, choice: chooseMode(m.script, p.serverVersionNum) }));
    // Lock retries so far, per migration; and which migrations were announced (a retried batch is re-sent).
    const lockAttempts = new Map<string, number>();
    const started = new Set<string>();
    for (let i = 0; i < plans.length; ) {
      const { m, choice } = plans[i]!;
      if (choice.mode !== 'transaction') {
        options.onEvent?.({ type: 'apply-start', env: env.name, name: m.name, mode: choice.mode, reason: choice.reason });
        const t0 = performance.now();
        await applyOne(ctx, m, choice);
        const ms = performance.now() - t0;
        applied.push({ name: m.name, mode: choice.mode, ms });
        options.onEvent?.({ type: 'apply-done', env: env.name, name: m.name, ms });
        i++;
        continue;
      }
      // Consecutive transactional migrations go to the server together (bounded, so progress keeps flowing).
      let j = i;
      let bytes = 0;
      while (j < plans.length && plans[j]!.choice.mode === 'transaction' && j - i < BATCH_MAX_MIGRATIONS && bytes < BATCH_MAX_BYTES) {
        bytes += plans[j]!.m.script.length;
        j++;
      }
      const batch = plans.slice(i, j);
      for (const b of batch) {
        if (started.has(b.m.name)) continue;
        started.add(b.m.name);
        options.onEvent?.({ type: 'apply-start', env: env.name, name: b.m.name, mode: 'transaction', reason: b.choice.reason });
      }
      const retryFrom = await applyTransactional(ctx, batch, lockAttempts, (name, ms) => {
        applied.push({ name, mode: 'transaction', ms });
        options.onEvent?.({ type: 'apply-done', env: env.name, name, ms });
      });
      // The batch's first `retryFrom` migrations committed; the next one was cancelled by lock_timeout.
      i = retryFrom === undefined ? j : i + retryFrom;
    }
    return { env: env.name, serverVersion: p.serverVersion, applied, alreadyApplied: state.applied };
  } finally {
    if (locked) await releaseWorkflowLock(client).catch(() => {});
    await client.end().catch(() => {});
  }
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
  schema: string;
  env: string;
  /** Migrations applied so far in this run (for the failure report). */
  applied: AppliedMigration[];
  lock: LockPolicy;
  /** The backup taken before this deploy, for the failure report. */
  restorePoint?: string;
  emit: (event: DeployEvent) => void;
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
    throw new StagedbError(
      'history',
      'E_FAILED_MIGRATION',
      `${env}: migration ${f.name} failed${f.startedAt ? ` (started ${f.startedAt.toISOString()})` : ''} and blocks new deploys (Prisma P3009)`,
      {
        details: f.logs ? f.logs.trim().split('\n').slice(0, 8) : [],
        fix: `after undoing its partial changes and fixing the file: stagedb migrate resolve --rolled-back ${f.name} --env ${env}; if you finished it by hand instead: stagedb migrate resolve --applied ${f.name} --env ${env}`,
      },
    );
  }
  if (state.modified.length > 0 && !options.allowModified) {
    const names = state.modified.map((m) => m.name);
    throw new StagedbError('history', 'E_MODIFIED_MIGRATION', `${env}: applied migration${names.length > 1 ? 's' : ''} ${names.join(', ')} changed on disk since ${names.length > 1 ? 'they were' : 'it was'} applied`, {
      fix: `restore the file from version control (git log -p -- ${options.migrationsDir}/${names[0]}/migration.sql) and put new changes in a new migration; to deploy anyway: stagedb deploy --env ${env} --allow-modified`,
    });
  }
  if (state.missingLocally.length > 0 && !options.allowMissing) {
    const names = state.missingLocally.map((m) => m.name);
    throw new StagedbError('history', 'E_MISSING_MIGRATION', `${env}: the database has applied migration${names.length > 1 ? 's' : ''} not in the folder: ${names.join(', ')}`, {
      fix: `pull the branch that added ${names.length > 1 ? 'them' : 'it'} (git pull), or deploy anyway: stagedb deploy --env ${env} --allow-missing`,
    });
  }
  if (state.outOfOrder.length > 0 && !options.allowOutOfOrder) {
    const names = state.outOfOrder.map((m) => m.name);
    throw new StagedbError('history', 'E_OUT_OF_ORDER', `${env}: pending migration${names.length > 1 ? 's' : ''} ${names.join(', ')} sort${names.length > 1 ? '' : 's'} before the newest applied one (${state.lastApplied?.name ?? '?'})`, {
      fix: `check that ${names.length > 1 ? 'they do' : 'it does'} not depend on later migrations, then: stagedb deploy --env ${env} --allow-out-of-order`,
    });
  }
}

const BATCH_MAX_MIGRATIONS = 50;

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
): Promise<number | undefined> {
  const { client } = ctx;
  const table = tableRef(ctx.schema);
  const lit = (v: string) => client.escapeLiteral(v);
  // Where each file starts in the message, in characters (code points), as PostgreSQL counts `position`.
  const starts: number[] = [];
  let message = '';
  let chars = 0;
  for (const { m } of batch) {
    message += 'BEGIN;\n';
    starts.push(chars + 7);
    chars += 7 + codePoints(m.script);
    const suffix = `\n;INSERT INTO ${table} (id, checksum, started_at, finished_at, migration_name, applied_steps_count) VALUES (${lit(randomUUID())}, ${lit(m.checksum)}, now(), clock_timestamp(), ${lit(m.name)}, 1);COMMIT;\n`;
    message += m.script + suffix;
    chars += codePoints(suffix);
  }
  const t0 = performance.now();
  try {
    await client.query(message);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    const names = batch.map((b) => b.m.name);
    const committed = new Set(
      (await client.query<{ migration_name: string }>(`SELECT migration_name FROM ${table} WHERE migration_name = ANY($1) AND finished_at IS NOT NULL AND rolled_back_at IS NULL`, [names])).rows.map((r) => r.migration_name),
    );
    const k = batch.findIndex((b) => !committed.has(b.m.name));
    if (k < 0) throw e; // every migration committed: the error is not one of theirs
    const share = (performance.now() - t0) / Math.max(1, k + 1);
    for (const b of batch.slice(0, k)) done(b.m.name, share);
    const { m, choice } = batch[k]!;
    const tries = lockAttempts.get(m.name) ?? 0;
    if (retryableLockFailure(e) && tries < ctx.lock.retries) {
      lockAttempts.set(m.name, tries + 1);
      await backOff(ctx, m.name, tries + 1, m.script, e);
      return k;
    }
    const lock = await lockGiveUp(ctx, e, tries + 1, m.script);
    const f = await locateFailure(client, e, m, choice.statements, starts[k]!, lock ? Math.min(ctx.lock.timeoutMs, REPLAY_LOCK_TIMEOUT_MS) : undefined);
    await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name, logs, applied_steps_count) VALUES ($1, $2, now(), $3, $4, 0)`, [randomUUID(), m.checksum, m.name, failureLogs(f)]);
    throw migrationFailed(ctx, m, f, 'nothing of it was committed (it ran in one transaction)', lock);
  }
  const share = (performance.now() - t0) / batch.length;
  for (const b of batch) done(b.m.name, share);
  return undefined;
}

/** A file whose own BEGIN … COMMIT spans all of it: cancelled anywhere inside, nothing of it committed. */
function wholeFileOneTransaction(statements: SqlStatement[]): boolean {
  const heads = statements.map((s) => s.head);
  return (
    heads.length >= 2 &&
    /^(BEGIN|START TRANSACTION)\b/.test(heads[0]!) &&
    /^(COMMIT|END)\b/.test(heads[heads.length - 1]!) &&
    !heads.slice(1, -1).some((h) => /^(BEGIN|START TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE)\b/.test(h))
  );
}

async function applyOne(ctx: ApplyContext, m: LocalMigration, choice: ReturnType<typeof chooseMode>): Promise<void> {
  const { client } = ctx;
  const table = tableRef(ctx.schema);
  const id = randomUUID();
  // Prisma's protocol for work that cannot be one transaction: record the start, run, record the end.
  await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 0)`, [id, m.checksum, m.name]);
  const recordFailure = async (f: StatementFailure) => {
    await client.query(`UPDATE ${table} SET logs = $2 WHERE id = $1`, [id, failureLogs(f)]);
  };
  if (choice.mode === 'file-managed') {
    // Retried on a lock timeout only when the file's own transaction spans all of it: otherwise
    // statements outside it may have committed, and running the file again would repeat them.
    const retryable = wholeFileOneTransaction(choice.statements);
    for (let attempt = 0; ; ) {
      try {
        await client.query(m.script);
        break;
      } catch (e) {
        // A failure inside the file's own BEGIN leaves the session in an aborted transaction.
        await client.query('ROLLBACK').catch(() => {});
        if (retryable && retryableLockFailure(e) && attempt < ctx.lock.retries) {
          attempt++;
          await backOff(ctx, m.name, attempt, m.script, e);
          continue;
        }
        const lock = await lockGiveUp(ctx, e, attempt + 1, m.script);
        const f = describeFailure(e, m.script, choice.statements, undefined);
        await recordFailure(f);
        throw migrationFailed(ctx, m, f, 'statements before the file\'s own BEGIN, or after its COMMIT, may have been committed: check the database', lock);
      }
    }
  } else {
    for (let i = 0; i < choice.statements.length; i++) {
      const s = choice.statements[i]!;
      // Each statement commits on its own, so a lock timeout cancels just this one: run it again.
      const concurrentIndex = CREATE_INDEX_CONCURRENTLY.test(s.text);
      for (let attempt = 0; ; ) {
        try {
          // A leftover of an interrupted build (this run's lock retry, or a deploy killed before) is
          // dropped first: the build would fail on it, or, with IF NOT EXISTS, keep it broken.
          const dropped = concurrentIndex ? await dropInvalidIndex(client, s.text) : undefined;
          if (dropped) ctx.emit({ type: 'invalid-index-dropped', env: ctx.env, name: m.name, index: dropped });
          await (concurrentIndex ? withProgress(ctx, m.name, () => client.query(s.text)) : client.query(s.text));
          break;
        } catch (e) {
          if (retryableLockFailure(e) && attempt < ctx.lock.retries) {
            attempt++;
            await backOff(ctx, m.name, attempt, s.text, e);
            continue;
          }
          const lock = await lockGiveUp(ctx, e, attempt + 1, s.text);
          const f = describeFailure(e, m.script, choice.statements, s.start);
          await recordFailure(f);
          const done = i === 0 ? 'no statement of it was committed' : `its first ${i} statement${i === 1 ? ' was' : 's were'} committed; the rest were not`;
          throw migrationFailed(ctx, m, f, done, lock, i);
        }
      }
    }
  }
  await client.query(`UPDATE ${table} SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1 WHERE id = $1`, [id]);
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
 * be found this way; its leftover stays (PostgreSQL names the retry's index differently).
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
    if (position < 1 || position > m.script.length) return describeFailure(Object.assign(Object.create(e as object), { position: undefined }), m.script, statements, undefined);
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

function migrationFailed(ctx: ApplyContext, m: LocalMigration, f: StatementFailure, committed: string, lock?: LockGiveUp, committedStatements = 0): StagedbError {
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
  if (ctx.restorePoint) details.push(`restore point: backup ${ctx.restorePoint}, taken just before this deploy`);
  const again = `stagedb migrate resolve --rolled-back ${m.name} --env ${env} && stagedb deploy --env ${env}`;
  const fix = lock
    ? `the migration itself is fine: another session held a lock it needs. When that session is done${lock.blocker ? ` (or ended: SELECT pg_terminate_backend(${lock.blocker.pid});)` : ''}: ${again}${committedStatements > 0 ? '   (its committed statements run again: undo them first, or make them IF NOT EXISTS)' : ''}; or raise ddlLockTimeout / lockRetries for ${env} in the stagedb config`
    : `fix migration.sql, then: ${again}   (or, if you complete it by hand: stagedb migrate resolve --applied ${m.name} --env ${env})`;
  // Rolling the whole deploy back (to before the migrations this run applied) is the backup's job.
  const back = ctx.restorePoint ? `; to go back to before this deploy instead: stagedb restore ${ctx.restorePoint} --to ${env}` : '';
  return new StagedbError('migration', 'E_MIGRATION_FAILED', `${env}: migration ${m.name} failed: ${f.message}`, { details, fix: `${fix}${back}` });
}

/** One line about the session a migration waited for; names and times only, never its query. */
export function describeBlocker(b: LockBlocker): string {
  const parts = [`pid ${b.pid}`, b.applicationName || 'no application_name', `user ${b.user}${b.clientAddr ? ` from ${b.clientAddr}` : ''}`];
  if (b.state) parts.push(`${b.state}${b.since ? ` (transaction since ${b.since.toISOString()})` : ''}`);
  parts.push(`holding ${b.mode} on ${b.relation}`);
  return parts.join(', ');
}
