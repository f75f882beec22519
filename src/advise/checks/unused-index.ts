import type { AdviceCheck, Finding } from '../types.js';
import { bytes, describeChange, indexChange, qualified, readIndexes } from './shared.js';

/** Below this, an unused index is a note, not a warning. */
const WARN_BYTES = 10 * 1024 * 1024;

/**
 * ADV003: an index no query has used since the statistics were last reset (`pg_stat_user_indexes.idx_scan
 * = 0`). Unique and constraint indexes are left out (they enforce something), and so is the statistics'
 * age, shown: an index used by a monthly report looks unused a week after a reset. An index used only on
 * a read replica looks unused here too.
 */
export const unusedIndex: AdviceCheck = {
  code: 'ADV003',
  name: 'unused-index',
  async run(ctx) {
    const indexes = await readIndexes(ctx.client, ctx.schemas);
    const { rows } = await ctx.client.query<{ schema: string; index: string; scans: string }>(
      'SELECT schemaname AS schema, indexrelname AS index, idx_scan::text AS scans FROM pg_stat_user_indexes WHERE schemaname = ANY($1)',
      [ctx.schemas],
    );
    const scans = new Map(rows.map((r) => [`${r.schema}.${r.index}`, Number(r.scans)]));
    const since = ctx.statsSince ? `statistics gathered since ${ctx.statsSince.toISOString().replace(/\.\d+Z$/, 'Z')} (${ageText(ctx.statsSince)})` : 'statistics age unknown';
    const findings: Finding[] = [];
    for (const i of indexes) {
      if (i.unique || i.constraint || !i.valid || scans.get(`${i.schema}.${i.name}`) !== 0) continue;
      const change = i.columns.length > 0 && !i.partial ? indexChange(ctx.models, i.schema, i.table, i.columns, 'remove') : undefined;
      findings.push({
        code: this.code,
        name: this.name,
        severity: i.bytes >= WARN_BYTES ? 'warn' : 'info',
        object: qualified(i.schema, i.table),
        title: `index ${i.name} on ${qualified(i.schema, i.table)}${i.columns.length ? `(${i.columns.join(', ')})` : ''} has not been used`,
        evidence: [`0 index scans, ${since}`, `${bytes(i.bytes)}`, ...(ctx.env.replicas.length > 0 ? ['read replicas are configured: check the index is unused there too (their statistics are their own)'] : [])],
        cost: `every insert and update writes it, and it takes ${bytes(i.bytes)} of disk and cache`,
        fix: change
          ? `if nothing needs it (a rare report, a replica's queries), ${describeChange(change)}, then \`stagedb migrate dev\` (DROP INDEX CONCURRENTLY)`
          : `if nothing needs it: DROP INDEX CONCURRENTLY "${i.name}"`,
        ...(change ? { schemaChange: change } : {}),
      });
    }
    return findings;
  },
};

function ageText(d: Date): string {
  const h = (Date.now() - d.getTime()) / 3_600_000;
  return h < 48 ? `${Math.max(0, Math.round(h))} h — too short to call an index unused` : `${Math.round(h / 24)} days`;
}
