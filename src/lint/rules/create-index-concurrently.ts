import type { IndexStmt } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, relOf, relSql } from '../sql.js';
import type { Rule } from '../types.js';
import { ownMigration } from './util.js';

/** R01, R14 (unique index), R39: `CREATE [UNIQUE] INDEX` without CONCURRENTLY on a live table — Prisma's every `@@index` and `@unique`. */
const rule: Rule = {
  code: 'SDB001',
  name: 'create-index-concurrently',
  summary: 'CREATE INDEX without CONCURRENTLY on a live table blocks writes for the whole build',
  defaultSeverity: 'error',
  kinds: ['IndexStmt'],
  sizeBound: true,
  check(s, ctx) {
    if (s.kind !== 'IndexStmt') return;
    const i = as<IndexStmt>(s.node, 'IndexStmt')!;
    if (i.concurrent) return;
    const rel = relOf(i.relation);
    if (!rel || !ctx.live(rel)) return;
    const what = i.unique ? 'CREATE UNIQUE INDEX' : 'CREATE INDEX';
    const name = i.idxname ? ` ${ident(i.idxname)}` : '';
    if (ctx.stats(rel)?.kind === 'p') {
      return {
        message: `${what}${name} on partitioned table ${relSql(rel)}: cannot be CONCURRENTLY, and locks every partition`,
        ...held([rel, ...ctx.partitionsOf(rel)].map((on) => ({ on, mode: 'SHARE' as const })), { how: ctx.partitionsOf(rel).length ? 'for the whole build' : 'and on every partition, for the whole build', scans: true }),
        why: `Writes to every partition of ${relSql(rel)} wait until the index is built on all of them.`,
        fix: `-- build it per partition, then attach:\nCREATE INDEX${name} ON ONLY ${relSql(rel)} (…);  -- invalid until every partition's index is attached\nCREATE INDEX CONCURRENTLY "<partition>_idx" ON "<partition>" (…);\nALTER INDEX${name} ATTACH PARTITION "<partition>_idx";`,
        table: rel,
      };
    }
    const concurrent = s.text.replace(/^(CREATE\s+(?:UNIQUE\s+)?INDEX)\b/i, '$1 CONCURRENTLY');
    const cols = (i.indexParams ?? []).map((p) => (p as { IndexElem?: { name?: string } }).IndexElem?.name).filter((c): c is string => !!c);
    const dupCheck =
      i.unique && cols.length === (i.indexParams ?? []).length && cols.length > 0
        ? `\n-- first, look for duplicates (the build fails on them after reading the whole table):\n-- SELECT ${cols.map(ident).join(', ')}, count(*) FROM ${relSql(rel)} GROUP BY ${cols.map(ident).join(', ')} HAVING count(*) > 1 LIMIT 10;`
        : '';
    const invalid = i.idxname ? `\n-- if it fails, it leaves an INVALID index behind: DROP INDEX CONCURRENTLY IF EXISTS ${ident(i.idxname)};` : '';
    return {
      message: `${what}${name} on live table ${relSql(rel)} without CONCURRENTLY`,
      ...held([{ on: rel, mode: 'SHARE' }], { how: 'for the whole build', scans: true }),
      why: `Every INSERT, UPDATE and DELETE on ${relSql(rel)} waits until the index is built, which takes as long as reading and sorting the whole table.${i.unique ? ' A unique index also fails at the end if existing rows have duplicates.' : ''}`,
      fix: `${ownMigration(ctx)}\n${concurrent};${dupCheck}${invalid}`,
      table: rel,
    };
  },
};

export default rule;
