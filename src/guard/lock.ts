import type { Client } from 'pg';
import { StagedbError } from '../errors.js';

/**
 * stagedb's workflow lock: one advisory lock per database, taken with the two-key form
 * (classid 'STDB', objid 1). Two-key advisory locks live apart from single bigint keys, so this
 * can never collide with Prisma's `pg_advisory_lock(72707369)` and make its engine time out (P1002).
 * Session-level: released by `release`, or by the server when the connection ends.
 */
export const LOCK_CLASS = 0x53544442; // 'STDB'
export const LOCK_WORKFLOW = 1;

export interface LockHolder {
  pid: number;
  applicationName: string;
  clientAddr: string | null;
  user: string;
  since: Date | null;
}

export async function acquireWorkflowLock(client: Client, options: { timeoutMs: number; label: string; onWait?: (holder: LockHolder | undefined) => void }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = 50;
  let reported = false;
  for (;;) {
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, LOCK_WORKFLOW]);
    if (r.rows[0]?.ok) return;
    const holder = await lockHolder(client);
    if (!reported) {
      options.onWait?.(holder);
      reported = true;
    }
    if (Date.now() >= deadline) {
      const who = holder
        ? `pid ${holder.pid}, ${holder.applicationName || 'no application_name'}, user ${holder.user}${holder.clientAddr ? ` from ${holder.clientAddr}` : ''}${holder.since ? `, since ${holder.since.toISOString()}` : ''}`
        : 'a session that has since gone';
      throw new StagedbError('guard', 'E_LOCKED', `${options.label}: another stagedb run holds the deploy lock (${who})`, {
        fix: holder
          ? `wait for it to finish and retry, or raise --lock-timeout; if it is stuck: SELECT pg_terminate_backend(${holder.pid});`
          : 'retry',
      });
    }
    await new Promise((res) => setTimeout(res, Math.min(delay, Math.max(0, deadline - Date.now()))));
    delay = Math.min(delay * 2, 1000);
  }
}

export async function releaseWorkflowLock(client: Client): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCK_WORKFLOW]);
}

async function lockHolder(client: Client): Promise<LockHolder | undefined> {
  const r = await client.query<{ pid: number; application_name: string; client_addr: string | null; usename: string; backend_start: Date | null; state_change: Date | null }>(
    `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.usename, a.backend_start, a.state_change
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      LIMIT 1`,
    [LOCK_CLASS, LOCK_WORKFLOW],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return { pid: row.pid, applicationName: row.application_name, clientAddr: row.client_addr, user: row.usename, since: row.backend_start };
}

/** A session that probably kept a migration from getting its lock (see {@link findLockBlocker}). */
export interface LockBlocker extends LockHolder {
  /** `pg_stat_activity.state`, e.g. `idle in transaction`. */
  state: string | null;
  /** The table (or index, view…) it holds a lock on. */
  relation: string;
  /** The lock mode it holds, e.g. `AccessShareLock`. */
  mode: string;
}

/**
 * After a statement was cancelled by `lock_timeout`, the session it waited for. PostgreSQL's error
 * does not name it and the wait is over, so `pg_blocking_pids` can no longer tell; instead this
 * looks for other sessions holding a lock on a relation whose name appears in `sqlText` (the
 * migration), and picks the one whose transaction is oldest: in practice the long transaction the
 * migration queued behind. Only pid, names and times: never the other session's query text, which
 * may hold secrets.
 */
export async function findLockBlocker(client: Client, sqlText: string): Promise<LockBlocker | undefined> {
  const names = relationNames(sqlText);
  if (names.length === 0) return undefined;
  const r = await client.query<{ pid: number; application_name: string; client_addr: string | null; usename: string; xact_start: Date | null; state: string | null; relname: string; mode: string }>(
    `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.usename, a.xact_start, a.state, c.relname, l.mode
       FROM pg_locks l
       JOIN pg_class c ON c.oid = l.relation
       JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND c.relname = ANY($1::text[])
      ORDER BY a.xact_start ASC NULLS LAST, a.pid
      LIMIT 1`,
    [names],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    pid: row.pid,
    applicationName: row.application_name,
    clientAddr: row.client_addr,
    user: row.usename,
    since: row.xact_start,
    state: row.state,
    relation: row.relname,
    mode: row.mode,
  };
}

/** Every identifier in a SQL text, as PostgreSQL would name it (quoted: as written; bare: lower-cased). */
function relationNames(sqlText: string): string[] {
  const out = new Set<string>();
  const token = /"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)/g;
  for (let m = token.exec(sqlText); m && out.size < 1000; m = token.exec(sqlText)) {
    out.add(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!.toLowerCase());
  }
  return [...out];
}
