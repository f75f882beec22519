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
