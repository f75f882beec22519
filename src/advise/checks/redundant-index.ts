import type { AdviceCheck, Finding } from '../types.js';
import { bytes, describeChange, indexChange, qualified, readIndexes, type IndexInfo } from './shared.js';

/**
 * ADV002: an index whose columns are the leading columns of another index on the same table (or the same
 * columns twice). The longer one answers every lookup the shorter one does; the shorter one only costs a
 * write on every insert and update, and its disk and cache. Unique and constraint indexes are never called
 * redundant: they enforce something.
 */
export const redundantIndex: AdviceCheck = {
  code: 'ADV002',
  name: 'redundant-index',
  async run(ctx) {
    const indexes = (await readIndexes(ctx.client, ctx.schemas)).filter((i) => i.method === 'btree' && i.valid && !i.partial && i.columns.length > 0);
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const a of indexes) {
      if (a.unique || a.constraint) continue;
      const by = indexes.find((b) => b !== a && b.schema === a.schema && b.table === a.table && isPrefix(a, b) && (b.columns.length > a.columns.length || b.unique || b.constraint || b.name < a.name));
      if (!by || seen.has(`${a.schema}.${a.name}`)) continue;
      seen.add(`${a.schema}.${a.name}`);
      const change = indexChange(ctx.models, a.schema, a.table, a.columns, 'remove');
      findings.push({
        code: this.code,
        name: this.name,
        severity: 'warn',
        object: qualified(a.schema, a.table),
        title: `index ${a.name} on ${qualified(a.schema, a.table)}(${a.columns.join(', ')}) is redundant: ${by.name}(${by.columns.join(', ')}) answers the same lookups`,
        evidence: [`${a.name}: ${bytes(a.bytes)}`, `${by.name}${by.unique ? ' (unique)' : ''}: ${bytes(by.bytes)}`],
        cost: `every insert, and every update of ${a.columns.join(', ')}, writes ${a.name} too, and it takes ${bytes(a.bytes)} of disk and cache for nothing`,
        fix: change ? `${describeChange(change)}, then \`stagedb migrate dev\` (it writes DROP INDEX CONCURRENTLY)` : `DROP INDEX CONCURRENTLY ${a.schema === 'public' ? '' : `"${a.schema}".`}"${a.name}"`,
        ...(change ? { schemaChange: change } : {}),
      });
    }
    return findings;
  },
};

function isPrefix(a: IndexInfo, b: IndexInfo): boolean {
  return a.columns.length <= b.columns.length && a.columns.every((c, i) => b.columns[i] === c);
}
