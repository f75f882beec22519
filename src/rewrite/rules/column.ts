import type { ColumnDef, Constraint } from 'libpg-query';
import { as } from '../../lint/sql.js';
import type { AlterPiece, RewriteContext, SourceStatement } from '../types.js';

/** An `ADD COLUMN` whose only constraints are NOT NULL / NULL / DEFAULT, with its type and default as written. */
export interface PlainNewColumn {
  name: string;
  type: string;
  notNull: boolean;
  /** The default expression as written, and its parser node. */
  defaultSql?: string;
  defaultNode?: Constraint['raw_expr'];
}

export function plainNewColumn(piece: AlterPiece, s: SourceStatement, ctx: RewriteContext): PlainNewColumn | undefined {
  if (piece.cmd.subtype !== 'AT_AddColumn') return undefined;
  const col = as<ColumnDef>(piece.cmd.def, 'ColumnDef');
  if (!col?.colname || !col.typeName || col.collClause || col.identity || col.generated) return undefined;
  const cons = (col.constraints ?? []).map((n) => as<Constraint>(n, 'Constraint'));
  if (cons.some((c) => !c || !['CONSTR_NOTNULL', 'CONSTR_NULL', 'CONSTR_DEFAULT'].includes(c.contype ?? ''))) return undefined;
  const type = ctx.exprAt(s, col.typeName.location);
  if (!type) return undefined;
  const def = cons.find((c) => c?.contype === 'CONSTR_DEFAULT');
  const loc = (def?.raw_expr as Record<string, { location?: number }> | undefined);
  const at = loc ? Object.values(loc)[0]?.location : undefined;
  const defaultSql = def ? ctx.exprAt(s, at) : undefined;
  if (def && !defaultSql) return undefined;
  return { name: col.colname, type, notNull: cons.some((c) => c?.contype === 'CONSTR_NOTNULL'), ...(defaultSql ? { defaultSql, defaultNode: def!.raw_expr } : {}) };
}
