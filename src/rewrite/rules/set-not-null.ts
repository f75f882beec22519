import { ident, notNullCheck, relSql } from '../names.js';
import { notNullSteps } from '../steps.js';
import type { PieceRewrite } from '../types.js';

/**
 * ZDT004: `ALTER COLUMN … SET NOT NULL` (Prisma's optional → required) on an existing column → a
 * `CHECK (… IS NOT NULL) NOT VALID` where Prisma wrote it, `VALIDATE` in a later migration (a scan
 * that lets writes go on), then `SET NOT NULL` — which PostgreSQL 12+ proves from the validated CHECK
 * without a scan — and the CHECK dropped. The end schema is Prisma's.
 */
const rewrite: PieceRewrite = {
  code: 'ZDT004',
  name: 'set-not-null-via-check',
  summary: 'SET NOT NULL through a validated CHECK (no scan under ACCESS EXCLUSIVE)',
  rewrite(piece, rel, _s, ctx) {
    const column = piece.cmd.name;
    if (piece.cmd.subtype !== 'AT_SetNotNull' || !column || ctx.isNew(rel) || ctx.newColumns.has(`${ctx.key(rel)}.${column}`)) return undefined;
    // stagedb's own last step (SET NOT NULL, then its validated CHECK dropped): already the safe form.
    if (ctx.droppedLater(rel, notNullCheck(rel, column))) return undefined;
    const { keep, later, check } = notNullSteps(rel, column, 'here');
    return {
      keep,
      later,
      change: {
        message: `${relSql(rel)}.${ident(column)} becomes NOT NULL through CHECK ${check}: added NOT VALID, validated, then SET NOT NULL without a scan`,
        why: `SET NOT NULL reads every row of ${relSql(rel)} under ACCESS EXCLUSIVE: nothing can read or write it meanwhile`,
      },
    };
  },
};

export default rewrite;
