import { CLIENT_SESSIONS_SQL } from '../../client/pool-size.js';
import type { AdviceCheck, Finding } from '../types.js';
import { duration, oneLine } from './shared.js';

/**
 * ADV010: transactions open for long (they hold locks and keep VACUUM from removing dead rows everywhere)
 * and sessions idle in a transaction (an application that began one and went away). Sessions of other
 * roles show their times only to roles with pg_read_all_stats (pg_monitor): without it, they are counted,
 * not named.
 */
export const longTransactions: AdviceCheck = {
  code: 'ADV010',
  name: 'long-transactions',
  async run(ctx) {
    const t = ctx.thresholds;
    const { rows } = await ctx.client.query<{ pid: number; app: string; user: string | null; state: string | null; xact_ms: number | null; state_ms: number | null; query: string | null; visible: boolean }>(
      `SELECT pid, coalesce(nullif(application_name, ''), '(none)') AS app, usename AS user, state,
              (extract(epoch FROM now() - xact_start) * 1000)::float8 AS xact_ms, (extract(epoch FROM now() - state_change) * 1000)::float8 AS state_ms,
              left(query, 200) AS query, xact_start IS NOT NULL OR state IS NOT NULL AS visible
         FROM pg_stat_activity
        WHERE ${CLIENT_SESSIONS_SQL} AND pid <> pg_backend_pid() AND datname = current_database()`,
    );
    const findings: Finding[] = [];
    for (const r of rows) {
      if (r.state === 'idle in transaction' || r.state === 'idle in transaction (aborted)') {
        if ((r.state_ms ?? 0) < t.idleInTransactionMs) continue;
        findings.push({
          code: this.code,
          name: this.name,
          severity: 'warn',
          title: `session ${r.pid} (${r.app}${r.user ? `, ${r.user}` : ''}) has been idle in a transaction for ${duration(r.state_ms ?? 0)}`,
          evidence: [`transaction open for ${duration(r.xact_ms ?? 0)}`, `last statement: ${oneLine(r.query)}`],
          cost: 'it holds its locks and keeps VACUUM from removing dead rows in every table, while doing nothing',
          fix: `end it: SELECT pg_terminate_backend(${r.pid}); and set idle_in_transaction_session_timeout (e.g. ALTER ROLE … SET idle_in_transaction_session_timeout = '60s') so an abandoned one ends by itself`,
        });
      } else if (r.state === 'active' && (r.xact_ms ?? 0) >= t.longTransactionMs) {
        findings.push({
          code: this.code,
          name: this.name,
          severity: 'warn',
          title: `session ${r.pid} (${r.app}${r.user ? `, ${r.user}` : ''}) has had a transaction open for ${duration(r.xact_ms ?? 0)}`,
          evidence: [`running: ${oneLine(r.query)}`],
          cost: 'a long transaction holds its locks (DDL queues behind it, and every query behind the DDL) and keeps VACUUM from removing dead rows',
          fix: `if it should not run this long: SELECT pg_cancel_backend(${r.pid}); bound it with statement_timeout`,
        });
      }
    }
    const hidden = rows.filter((r) => !r.visible).length;
    if (hidden > 0 && !ctx.seesAll && findings.length === 0) return { notVisible: `${hidden} session${hidden === 1 ? '' : 's'} of other roles cannot be inspected by this role: GRANT pg_monitor TO <role> (RDS: as the master user)` };
    return findings;
  },
};

