import type { AdviceCheck } from '../types.js';
import { bytes, duration } from './shared.js';

/**
 * ADV013: how far each streaming standby is behind, as the primary sees it (`pg_stat_replication`). Only
 * when the environment lists read replicas: their reads are that far in the past.
 */
export const replicaLag: AdviceCheck = {
  code: 'ADV013',
  name: 'replica-lag',
  async run(ctx) {
    if (ctx.env.replicas.length === 0) return [];
    const { rows } = await ctx.client.query<{ app: string; addr: string | null; state: string; lag_ms: number | null; behind: string | null }>(
      `SELECT application_name AS app, client_addr::text AS addr, state,
              (extract(epoch FROM replay_lag) * 1000)::float8 AS lag_ms, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS behind
         FROM pg_stat_replication`,
    );
    if (rows.length === 0 && !ctx.seesAll) return { notVisible: 'pg_stat_replication shows nothing to this role: GRANT pg_monitor TO <role>' };
    return rows
      .filter((r) => (r.lag_ms ?? 0) >= ctx.thresholds.replicaLagMs || Number(r.behind ?? 0) >= ctx.thresholds.replicaLagBytes)
      .map((r) => ({
        code: this.code,
        name: this.name,
        severity: 'warn' as const,
        title: `standby ${r.app || r.addr || '?'} is ${bytes(Number(r.behind ?? 0))} of WAL${r.lag_ms !== null ? ` (${duration(r.lag_ms)})` : ''} behind`,
        evidence: [`state ${r.state}`],
        cost: 'reads routed to it return data that old; read-your-writes surprises grow',
        fix: "look at the standby: replay held back by a long query there (max_standby_streaming_delay), its I/O, or a paused replay (SELECT pg_wal_replay_resume() on it); on RDS, the replica's ReplicaLag metric",
      }));
  },
};
