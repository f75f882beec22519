import type { RenameStmt } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, relOf, relSql } from '../sql.js';
import type { Rule } from '../types.js';

/** R20, R21: renaming a column or a table that running app versions use (hand-written: Prisma emits drop + add). */
const rule: Rule = {
  code: 'SDB017',
  name: 'rename',
  summary: 'RENAME of a live column or table breaks app versions still running',
  defaultSeverity: 'warning',
  kinds: ['RenameStmt'],
  check(s, ctx) {
    if (s.kind !== 'RenameStmt') return;
    const r = as<RenameStmt>(s.node, 'RenameStmt')!;
    const rel = relOf(r.relation);
    if (!rel || !ctx.live(rel)) return;
    if (r.renameType === 'OBJECT_COLUMN' && r.relationType === 'OBJECT_TABLE') {
      return {
        message: `renames column ${relSql(rel)}.${ident(r.subname ?? '?')} to ${ident(r.newname ?? '?')}`,
        ...held([{ on: rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'briefly' }),
        why: `App versions still running select ${ident(r.subname ?? '?')} by name and fail until every instance runs the new code.`,
        fix: `-- keep the column name and map the field in schema.prisma: newName String @map("${(r.subname ?? '').replaceAll('"', '\\"')}")\n-- or expand and contract: add ${ident(r.newname ?? '?')}, write both, backfill, switch reads, drop the old one later`,
      };
    }
    if (r.renameType === 'OBJECT_TABLE') {
      return {
        message: `renames table ${relSql(rel)} to ${ident(r.newname ?? '?')}`,
        ...held([{ on: rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'briefly' }),
        why: `App versions still running query ${relSql(rel)} by name and fail until every instance runs the new code.`,
        fix: `-- keep the table name and map the model in schema.prisma: @@map("${rel.name.replaceAll('"', '\\"')}")\n-- or leave a view under the old name while old versions run: CREATE VIEW ${relSql(rel)} AS SELECT * FROM ${ident(r.newname ?? '?')};`,
      };
    }
    return;
  },
};

export default rule;
