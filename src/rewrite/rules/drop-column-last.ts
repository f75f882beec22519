import { ident, relSql } from '../names.js';
import { alterSql } from '../names.js';
import type { PieceRewrite } from '../types.js';

/**
 * ZDT011: Prisma writes a renamed field as `DROP COLUMN "old", ADD COLUMN "new"` (it cannot tell a
 * rename from a removal and an addition): the data in the old column is lost. The rewriter cannot
 * tell either, so it says so, with the way to keep the data (`@map`). And when the new column is
 * required with no default, the migration becomes ZDT008's guard, which stops the deploy until the
 * old rows are filled: the drop then goes last, after the guard, so that while the deploy waits the
 * old column is still there to fill the new one from (`UPDATE … SET "new" = "old"`). It loses its
 * NOT NULL at once (a catalog change): the app version that writes only the new column can insert meanwhile.
 */
const rewrite: PieceRewrite = {
  code: 'ZDT011',
  name: 'drop-column-last',
  summary: 'DROP COLUMN beside an ADD COLUMN (a renamed field?): reported; after the guard when the new column is required',
  rewrite(piece, rel, _s, ctx) {
    const column = piece.cmd.name;
    if (piece.cmd.subtype !== 'AT_DropColumn' || !column || ctx.isNew(rel)) return undefined;
    const added = ctx.addedColumns(rel).filter((c) => c.name !== column);
    if (added.length === 0) return undefined;
    const old = ident(column);
    const names = added.map((c) => ident(c.name)).join(', ');
    const unsafe = {
      message: `${relSql(rel)} loses ${old} and gains ${names}: if this is a renamed field, every value of ${old} is lost`,
      plan: `to rename a field and keep its data, keep the column and map the new name to it in schema.prisma (${added[0]!.name} … @map("${column.replaceAll('"', '\\"')}")), then run migrate dev again: no migration at all. Renaming the column itself: add the new one, have the app write both, copy the rows in batches, switch reads, drop the old one in a later release.`,
    };
    const required = added.filter((c) => c.required);
    if (required.length === 0) return { keep: [piece.text], unsafe };
    return {
      keep: [`ALTER COLUMN ${old} DROP NOT NULL`],
      later: [{ phase: 'cleanup', label: `drop_${column}`, sql: `${alterSql(rel)} DROP COLUMN ${old};` }],
      unsafe,
      change: {
        message: `${relSql(rel)}.${old} is dropped last, after the guard for ${required.map((c) => ident(c.name)).join(', ')}: while the guard stops the deploy, its data is still there to fill them from (it loses its NOT NULL meanwhile)`,
        why: `dropped first, ${old}'s data would be gone before the guard asks for the values of the new column it may have been renamed to`,
      },
    };
  },
};

export default rewrite;
