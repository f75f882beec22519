import type { AdviceCheck } from '../types.js';
import { count } from './shared.js';

const MIN_RATIO = 0.99;
/** Below this many block reads the ratio says nothing. */
const MIN_BLOCKS = 10_000;

/**
 * ADV012: the share of block reads served from PostgreSQL's own cache (shared_buffers) in this database.
 * Below ~99 % on an OLTP workload, queries wait on disk (on RDS: on EBS I/O, billed and throttled).
 */
export const cacheHit: AdviceCheck = {
  code: 'ADV012',
  name: 'cache-hit',
  async run(ctx) {
    const { rows } = await ctx.client.query<{ hit: string; read: string; buffers: string }>(
      "SELECT blks_hit::text AS hit, blks_read::text AS read, current_setting('shared_buffers') AS buffers FROM pg_stat_database WHERE datname = current_database()",
    );
    const hit = Number(rows[0]?.hit ?? 0);
    const read = Number(rows[0]?.read ?? 0);
    if (read + hit < MIN_BLOCKS) return [];
    const ratio = hit / (hit + read);
    if (ratio >= MIN_RATIO) return [];
    return [
      {
        code: this.code,
        name: this.name,
        severity: 'warn',
        title: `${(ratio * 100).toFixed(1)} % of block reads came from PostgreSQL's cache (${count(read)} from disk)`,
        evidence: [`shared_buffers ${rows[0]!.buffers}`, `${count(hit)} hits, ${count(read)} reads since the statistics were reset`],
        cost: 'queries wait on disk reads; on RDS that is EBS I/O, billed and throttled',
        fix: 'look for sequential scans of large tables (ADV006) and slow queries (ADV005) first; if the working set is simply larger than memory, a larger instance class (shared_buffers follows its memory on RDS)',
      },
    ];
  },
};
