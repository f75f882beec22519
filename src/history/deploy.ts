import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { acquireWorkflowLock, releaseWorkflowLock, type LockHolder } from '../guard/lock.js';
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
  onEvent?: (event: DeployEvent) => void;
}

export type DeployEvent =
  | { type: 'connected'; env: string; serverVersion: string; pending: number }
  | { type: 'lock-wait'; env: string; holder?: LockHolder }
  | { type: 'created-table'; env: string }
  | { type: 'apply-start'; env: string; name: string; mode: ApplyMode; reason: string }
  | { type: 'apply-done'; env: string; name: string; ms: number };

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

/**
 * `migrate deploy` without the Prisma engine: applies every pending migration, each in its own
 * transaction where PostgreSQL allows it, and records each in `_prisma_migrations` exactly as
 * Prisma's engine does, so either tool can run next. Refuses (before changing anything) when the
 * history is failed, modified, missing files or out of order, unless told to allow the last three.
 */
export async function deploy(options: DeployOptions): Promise<DeployResult> {
  const { env } = options;
  const local = readLocalHistory(options.migrationsDir);
  const schema = env.directInfo.schema;
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'deploy' });
  let locked = false;
  try {
    await acquireWorkflowLock(client, {
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      label: env.name,
      onWait: (holder) => options.onEvent?.({ type: 'lock-wait', env: env.name, holder }),
    });
    locked = true;
    const p = await probe(client, schema);
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
    const plans = pending.map((m) => ({ m, choice: chooseMode(m.script, p.serverVersionNum) }));
    for (let i = 0; i < plans.length; ) {
      const { m, choice } = plans[i]!;
      if (choice.mode !== 'transaction') {
        options.onEvent?.({ type: 'apply-start', env: env.name, name: m.name, mode: choice.mode, reason: choice.reason });
        const t0 = performance.now();
        await applyOne(client, schema, m, choice, env.name, applied);
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
      for (const b of batch) options.onEvent?.({ type: 'apply-start', env: env.name, name: b.m.name, mode: 'transaction', reason: b.choice.reason });
      await applyTransactional(client, schema, batch, env.name, applied, (name, ms) => {
        applied.push({ name, mode: 'transaction', ms });
        options.onEvent?.({ type: 'apply-done', env: env.name, name, ms });
      });
      i = j;
    }
    return { env: env.name, serverVersion: p.serverVersion, applied, alreadyApplied: state.applied };
  } finally {
    if (locked) await releaseWorkflowLock(client).catch(() => {});
    await client.end().catch(() => {});
  }
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
 */
async function applyTransactional(
  client: Client,
  schema: string,
  batch: Array<{ m: LocalMigration; choice: ReturnType<typeof chooseMode> }>,
  envName: string,
  appliedBefore: AppliedMigration[],
  done: (name: string, ms: number) => void,
): Promise<void> {
  const table = tableRef(schema);
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
    const f = await locateFailure(client, e, m, choice.statements, starts[k]!);
    await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name, logs, applied_steps_count) VALUES ($1, $2, now(), $3, $4, 0)`, [randomUUID(), m.checksum, m.name, failureLogs(f)]);
    throw migrationFailed(envName, m, f, 'nothing of it was committed (it ran in one transaction)', appliedBefore);
  }
  const share = (performance.now() - t0) / batch.length;
  for (const b of batch) done(b.m.name, share);
}

async function applyOne(
  client: Client,
  schema: string,
  m: LocalMigration,
  choice: ReturnType<typeof chooseMode>,
  envName: string,
  appliedBefore: AppliedMigration[],
): Promise<void> {
  const table = tableRef(schema);
  const id = randomUUID();
  // Prisma's protocol for work that cannot be one transaction: record the start, run, record the end.
  await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 0)`, [id, m.checksum, m.name]);
  const recordFailure = async (f: StatementFailure) => {
    await client.query(`UPDATE ${table} SET logs = $2 WHERE id = $1`, [id, failureLogs(f)]);
  };
  if (choice.mode === 'file-managed') {
    try {
      await client.query(m.script);
    } catch (e) {
      // A failure inside the file's own BEGIN leaves the session in an aborted transaction.
      await client.query('ROLLBACK').catch(() => {});
      const f = describeFailure(e, m.script, choice.statements, undefined);
      await recordFailure(f);
      throw migrationFailed(envName, m, f, 'statements before the file\'s own BEGIN, or after its COMMIT, may have been committed: check the database', appliedBefore);
    }
  } else {
    for (let i = 0; i < choice.statements.length; i++) {
      const s = choice.statements[i]!;
      try {
        await client.query(s.text);
      } catch (e) {
        const f = describeFailure(e, m.script, choice.statements, s.start);
        await recordFailure(f);
        const done = i === 0 ? 'no statement of it was committed' : `its first ${i} statement${i === 1 ? ' was' : 's were'} committed; the rest were not`;
        throw migrationFailed(envName, m, f, done, appliedBefore);
      }
    }
  }
  await client.query(`UPDATE ${table} SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1 WHERE id = $1`, [id]);
}

/**
 * Where a migration sent inside a larger message failed (its script starts at `prefixLength` in the
 * message). A syntax error carries PostgreSQL's `position` into the message. A run-time error (a missing FK target, a failed cast, NULLs in a new NOT NULL column)
 * carries none: then the file is replayed statement by statement in a transaction that is always
 * rolled back, to name the statement that fails. Failures are rare; the normal path stays one round trip.
 */
async function locateFailure(client: Client, e: unknown, m: LocalMigration, statements: SqlStatement[], prefixLength: number): Promise<StatementFailure> {
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
    for (const s of statements) {
      try {
        await client.query(s.text);
      } catch (again) {
        return describeFailure(again, m.script, statements, s.start);
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
  return describeFailure(e, m.script, statements, undefined);
}

function migrationFailed(env: string, m: LocalMigration, f: StatementFailure, committed: string, appliedBefore: AppliedMigration[]): StagedbError {
  const details: string[] = [];
  if (f.line !== undefined) details.push(`at ${m.name}/migration.sql:${f.line}:${f.column}`);
  if (f.statement) details.push(`statement: ${f.statement.split('\n')[0]}${f.statement.includes('\n') ? ' …' : ''}`);
  if (f.code) details.push(`PostgreSQL error ${f.code}`);
  if (f.detail) details.push(`detail: ${f.detail}`);
  if (f.hint) details.push(`hint: ${f.hint}`);
  details.push(`committed: ${committed}`);
  if (appliedBefore.length > 0) details.push(`applied before it in this run: ${appliedBefore.map((a) => a.name).join(', ')}`);
  return new StagedbError('migration', 'E_MIGRATION_FAILED', `${env}: migration ${m.name} failed: ${f.message}`, {
    details,
    fix: `fix migration.sql, then: stagedb migrate resolve --rolled-back ${m.name} --env ${env} && stagedb deploy --env ${env}   (or, if you complete it by hand: stagedb migrate resolve --applied ${m.name} --env ${env})`,
  });
}
