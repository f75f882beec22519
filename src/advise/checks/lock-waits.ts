import type { AdviceCheck } from '../types.js';
import { duration, oneLine } from './shared.js';

/**
 * ADV011: sessions waiting for a lock right now, and who holds them up (`pg_blocking_pids`). A migration
 * waiting for ACCESS EXCLUSIVE behind a long query queues every later query of that table behind itself.
 */
export const lockWaits: AdviceCheck = {
  code: 'ADV011',
  name: 'lock-waits',
  async run(ctx) {
    const { rows } = await ctx.client.query<{ pid: number; app: string; wait_ms: number | null; query: string | null; blockers: number[]; blocker_query: string | null; blocker_app: string | null }>(
      `SELECT a.pid, coalesce(nullif(a.application_name, ''), '(none)') AS app, (extract(epoch FROM now() - a.state_change) * 1000)::float8 AS wait_ms,
              left(a.query, 160) AS query, pg_blocking_pids(a.pid) AS blockers,
              (SELECT left(b.query, 160) FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids(a.pid))[1]) AS blocker_query,
              (SELECT coalesce(nullif(b.application_name, ''), '(none)') FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids(a.pid))[1]) AS blocker_app
         FROM pg_stat_activity a
        WHERE a.wait_event_type = 'Lock' AND a.datname = current_database() AND cardinality(pg_blocking_pids(a.pid)) > 0`,
    );
    return rows.map((r) => ({
      code: this.code,
      name: this.name,
      severity: 'warn' as const,
      title: `session ${r.pid} (${r.app}) has waited ${duration(r.wait_ms ?? 0)} for a lock held by ${r.blockers.join(', ')}${r.blocker_app ? ` (${r.blocker_app})` : ''}`,
      evidence: [`waiting: ${oneLine(r.query)}`, `holding it up: ${oneLine(r.blocker_query)}`],
      cost: 'the waiting statement, and every statement that needs a conflicting lock after it, is stuck until the holder finishes',
      fix: `if the holder should not keep it: SELECT pg_cancel_backend(${r.blockers[0]}); migrations run by stagedb set lock_timeout so they give up instead of queueing everyone`,
    }));
  },
};

