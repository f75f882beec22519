import type { AdviceCheck } from '../types.js';
import { count, qualified } from './shared.js';

/** A table this large read whole, this often, on average, is worth an index. */
const MIN_ROWS = 10_000;
const MIN_SCANS = 10;

/**
 * ADV006: large tables that queries read whole, again and again (`pg_stat_user_tables`: sequential scans,
 * and rows read per scan). Which columns the queries filter on is in pg_stat_statements (ADV005).
 */
export const seqScans: AdviceCheck = {
  code: 'ADV006',
  name: 'seq-scans',
  async run(ctx) {
    const { rows } = await ctx.client.query<{ schema: string; table: string; seq: string; read: string; idx: string | null; live: string }>(
      `SELECT schemaname AS schema, relname AS table, seq_scan::text AS seq, seq_tup_read::text AS read, idx_scan::text AS idx, n_live_tup::text AS live
         FROM pg_stat_user_tables WHERE schemaname = ANY($1) AND seq_scan >= $2 AND n_live_tup >= $3`,
      [ctx.schemas, MIN_SCANS, MIN_ROWS],
    );
    return rows
      .filter((r) => Number(r.read) / Number(r.seq) >= MIN_ROWS / 2)
      .map((r) => ({
        code: this.code,
        name: this.name,
        severity: 'warn' as const,
        object: qualified(r.schema, r.table),
        title: `${qualified(r.schema, r.table)} (${count(Number(r.live))} rows) was read whole ${count(Number(r.seq))} times`,
        evidence: [`${count(Number(r.read) / Number(r.seq))} rows read per sequential scan on average`, `${count(Number(r.idx ?? 0))} index scans`],
        cost: `each of those queries reads every row of ${qualified(r.schema, r.table)}; the time grows with the table`,
        fix: `find the queries on ${qualified(r.schema, r.table)} (stagedb advise's slow-queries, or EXPLAIN) and add an @@index([...]) on the columns they filter by to its model in schema.prisma, then \`stagedb migrate dev\``,
      }));
  },
};
