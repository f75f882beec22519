import type { RenameStmt } from 'libpg-query';
import { as, relOf } from '../../lint/sql.js';
import { ident, relSql } from '../names.js';
import type { StatementRewrite } from '../types.js';

/**
 * ZDT012: a hand-written `ALTER TABLE … RENAME COLUMN` / `RENAME TO` of a live table. The lock is
 * brief, but the app version still running names the old column (or table) in every query and fails
 * from that instant until all its instances run the new code. No SQL alone makes that safe: it is left
 * as written and reported with the ways that are. stagedb's own switch (ZDT009/ZDT010), which renames
 * a column in the transaction that drops the one it replaces, carries a lint directive and is not reported.
 */
const rewrite: StatementRewrite = {
  code: 'ZDT012',
  name: 'rename-plan',
  summary: 'RENAME of a live column or table: left as written, with the expand/contract plan',
  kinds: ['RenameStmt'],
  rewrite(s, ctx) {
    const r = as<RenameStmt>(s.node, 'RenameStmt')!;
    const rel = relOf(r.relation);
    if (!rel || ctx.isNew(rel) || /stagedb-lint-disable-next-statement\s+SDB017\b/.test(s.comment)) return undefined;
    if (r.renameType === 'OBJECT_COLUMN' && r.relationType === 'OBJECT_TABLE') {
      const from = ident(r.subname ?? '?');
      return {
        keep: [`${s.text};`],
        unsafe: {
          message: `renames ${relSql(rel)}.${from} to ${ident(r.newname ?? '?')}: the app version still running fails on its next query that names ${from}`,
          plan: `keep the column and map the field instead (schema.prisma: ${r.newname ?? 'field'} … @map("${(r.subname ?? '').replaceAll('"', '\\"')}")); or expand/contract over two releases: add the new column, have the app write both, copy the rows in batches, switch reads, drop the old one later.`,
        },
      };
    }
    if (r.renameType === 'OBJECT_TABLE') {
      return {
        keep: [`${s.text};`],
        unsafe: {
          message: `renames table ${relSql(rel)} to ${ident(r.newname ?? '?')}: the app version still running fails on its next query of ${relSql(rel)}`,
          plan: `keep the table and map the model instead (schema.prisma: @@map("${rel.name.replaceAll('"', '\\"')}")); or leave a view under the old name while old versions run.`,
        },
      };
    }
    return undefined;
  },
};

export default rewrite;
