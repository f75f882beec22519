import type { AdviceCheck, Finding } from '../types.js';
import { count, duration, oneLine } from './shared.js';

/** How many of the costliest statements to report. */
const TOP = 5;
/** A statement is reported when it has at least this share of all statement time… */
const MIN_SHARE = 0.05;
/** …or this mean time, in ms, over at least MIN_CALLS calls. */
const SLOW_MEAN_MS = 100;
const MIN_CALLS = 5;

const HOW_TO_ENABLE =
  "add pg_stat_statements to shared_preload_libraries and restart (on RDS: set it in the instance's DB parameter group, then reboot), then CREATE EXTENSION pg_stat_statements in this database";

/**
 * ADV005: the statements that cost the most time, from `pg_stat_statements`. Without the extension, one
 * note that says how to enable it (RDS included); without pg_read_all_stats, other roles' statement texts
 * are hidden and the finding says so.
 */
export const slowQueries: AdviceCheck = {
  code: 'ADV005',
  name: 'slow-queries',
  async run(ctx) {
    const installed = await ctx.client.query<{ schema: string }>(
      "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'",
    );
    if (installed.rows.length === 0) {
      return [
        {
          code: this.code,
          name: this.name,
          severity: 'info',
          title: 'pg_stat_statements is not installed: slow and frequent queries cannot be seen',
          evidence: ['no pg_stat_statements extension in this database'],
          cost: 'the queries that cost the most time stay invisible; indexes are added by guess',
          fix: HOW_TO_ENABLE,
        },
      ];
    }
    const schema = installed.rows[0]!.schema;
    let rows: { query: string; calls: string; total: number; mean: number; rows: string; share: number }[];
    try {
      rows = (
        await ctx.client.query(
          `WITH s AS (
             SELECT query, calls, total_exec_time, mean_exec_time, rows
               FROM "${schema.replace(/"/g, '""')}".pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND query !~* '^\\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|DISCARD|DEALLOCATE)\\b')
           SELECT query, calls::text, total_exec_time AS total, mean_exec_time AS mean, rows::text,
                  total_exec_time / nullif(sum(total_exec_time) OVER (), 0) AS share
             FROM s ORDER BY total_exec_time DESC LIMIT 50`,
        )
      ).rows;
    } catch (e) {
      const msg = (e as Error).message;
      if (/shared_preload_libraries/.test(msg)) return { notVisible: `pg_stat_statements is installed but not loaded: ${HOW_TO_ENABLE}` };
      throw e;
    }
    const findings: Finding[] = [];
    for (const r of rows) {
      if (findings.length >= TOP) break;
      const calls = Number(r.calls);
      const slow = r.mean >= SLOW_MEAN_MS && calls >= MIN_CALLS;
      if (!slow && (r.share ?? 0) < MIN_SHARE) continue;
      const hidden = r.query === '<insufficient privilege>';
      findings.push({
        code: this.code,
        name: this.name,
        severity: slow ? 'warn' : 'info',
        title: `${hidden ? 'a statement of another role' : oneLine(r.query, 140)} — ${duration(r.mean)} on average, ${count(calls)} calls, ${Math.round((r.share ?? 0) * 100)} % of all statement time`,
        evidence: [`total ${duration(r.total)}`, `${count(Number(r.rows))} rows returned in all`, ...(hidden ? ['its text is hidden from this role: grant it pg_read_all_stats (or pg_monitor)'] : [])],
        cost: slow ? `each call waits ${duration(r.mean)}` : `it takes ${Math.round((r.share ?? 0) * 100)} % of the database's statement time`,
        fix: 'run EXPLAIN (ANALYZE, BUFFERS) on it with real parameters; a sequential scan of a large table wants an @@index on the columns it filters or sorts by (see ADV006), a slow join an index on the relation (ADV001)',
      });
    }
    return findings;
  },
};

