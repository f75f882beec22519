import type { ColumnDef } from 'libpg-query';
import { likelyWidening } from '../../lint/rules/column-type-change.js';
import { as, formatType } from '../../lint/sql.js';
import { ident, relSql } from '../names.js';
import type { PieceRewrite } from '../types.js';

/**
 * ZDT009: `ALTER COLUMN … SET DATA TYPE` that rewrites the table (`Int` → `BigInt`). No SQL makes it
 * safe in place, and the running app reads the column by its name: it is left as Prisma wrote it, and
 * reported with the expand/contract plan (the lint gate then stops it on a large table).
 * A change that only widens (a longer VARCHAR, VARCHAR → TEXT) is no rewrite and is not reported.
 */
const rewrite: PieceRewrite = {
  code: 'ZDT009',
  name: 'type-change-plan',
  summary: 'ALTER COLUMN TYPE that rewrites: left as written, with the expand/contract plan',
  rewrite(piece, rel, _s, ctx) {
    const col = piece.cmd.subtype === 'AT_AlterColumnType' ? as<ColumnDef>(piece.cmd.def, 'ColumnDef') : undefined;
    const column = piece.cmd.name;
    if (!col || !column || ctx.isNew(rel) || ctx.newColumns.has(`${ctx.key(rel)}.${column}`)) return undefined;
    const to = formatType(col.typeName);
    // Without the current type, a VARCHAR or NUMERIC target may be a widening: the lint judges it with --env.
    if (likelyWidening(to) || /^(character varying|numeric)\b/.test(to)) return undefined;
    const c = ident(column);
    const n = ident(`${column}_new`);
    return {
      keep: [piece.text],
      unsafe: {
        message: `${relSql(rel)}.${c} changes type to ${to}: PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE`,
        plan: `expand/contract over several releases: add ${n} ${to}; keep it in step with a trigger (or have the app write both); backfill it in batches; then, in one short migration, rename ${c} away and ${n} to ${c}; drop the old column in a later release. Or keep the old type if the data fits.`,
      },
    };
  },
};

export default rewrite;
