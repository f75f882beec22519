import type { AdviceCheck, Finding } from '../types.js';
import { count, qualified } from './shared.js';

const MIN_DEAD = 10_000;
const DEAD_SHARE = 0.2;
const MIN_ROWS_ANALYZE = 1_000;

/**
 * ADV007: tables with many dead rows (an estimate of table bloat: space that only VACUUM gives back to
 * new rows), and tables that were never vacuumed or analysed (the planner then guesses their size).
 */
export const vacuum: AdviceCheck = {
  code: 'ADV007',
  name: 'vacuum',
  async run(ctx) {
    const { rows } = await ctx.client.query<{
      schema: string;
      table: string;
      live: string;
      dead: string;
      vacuumed: Date | null;
      analyzed: Date | null;
      autovacuum: boolean;
    }>(
      `SELECT s.schemaname AS schema, s.relname AS table, s.n_live_tup::text AS live, s.n_dead_tup::text AS dead,
              greatest(s.last_vacuum, s.last_autovacuum) AS vacuumed, greatest(s.last_analyze, s.last_autoanalyze) AS analyzed,
              coalesce((SELECT option_value FROM pg_options_to_table(c.reloptions) WHERE option_name = 'autovacuum_enabled'), 'on') <> 'false' AS autovacuum
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = ANY($1)`,
      [ctx.schemas],
    );
    const findings: Finding[] = [];
    for (const r of rows) {
      const live = Number(r.live);
      const dead = Number(r.dead);
      const name = qualified(r.schema, r.table);
      if (dead >= MIN_DEAD && dead / Math.max(1, live + dead) >= DEAD_SHARE) {
        findings.push({
          code: this.code,
          name: this.name,
          severity: 'warn',
          object: name,
          title: `${name} holds ${count(dead)} dead rows beside ${count(live)} live ones (${Math.round((100 * dead) / (live + dead))} %)`,
          evidence: [`last vacuum: ${r.vacuumed ? r.vacuumed.toISOString() : 'never'}`, ...(r.autovacuum ? [] : ['autovacuum is turned off for this table (autovacuum_enabled = false)'])],
          cost: `the table and its indexes are larger than their data: scans read the dead rows too, and the space is not reused until VACUUM runs`,
          fix: r.autovacuum
            ? `VACUUM (ANALYZE) ${name}; if it keeps coming back, autovacuum is falling behind: lower autovacuum_vacuum_scale_factor for this table (ALTER TABLE ${name} SET (autovacuum_vacuum_scale_factor = 0.05)), and look for long transactions (ADV010) that keep rows from being removed`
            : `VACUUM (ANALYZE) ${name}, and turn autovacuum back on: ALTER TABLE ${name} RESET (autovacuum_enabled)`,
        });
      } else if (!r.analyzed && live + dead >= MIN_ROWS_ANALYZE) {
        findings.push({
          code: this.code,
          name: this.name,
          severity: 'info',
          object: name,
          title: `${name} (${count(live)} rows) has never been analysed`,
          evidence: ['no ANALYZE or autoanalyze recorded since the statistics were reset'],
          cost: 'the planner has no statistics for it and guesses row counts, which can pick a bad plan',
          fix: `ANALYZE ${name}`,
        });
      }
    }
    return findings;
  },
};
