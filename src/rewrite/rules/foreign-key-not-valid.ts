import type { Constraint } from 'libpg-query';
import { as, relOf } from '../../lint/sql.js';
import { alterSql, ident, relSql } from '../names.js';
import type { PieceRewrite } from '../types.js';

/**
 * ZDT003: `ADD CONSTRAINT … FOREIGN KEY` on an existing table → `… NOT VALID` where Prisma wrote it
 * (a brief lock, no scan; new rows are checked from then on), then `VALIDATE CONSTRAINT` in a later
 * migration, whose scan takes only SHARE UPDATE EXCLUSIVE: reads and writes go on. The transaction
 * that adds it locks the referenced table first, then this one: ALTER TABLE takes them the other way
 * round, while the application writes the referenced row first (an account, then its ledger entry);
 * measured under load (bench/zero-downtime.mjs), that order inversion made deadlocks.
 */
const rewrite: PieceRewrite = {
  code: 'ZDT003',
  name: 'foreign-key-not-valid',
  summary: 'ADD FOREIGN KEY on an existing table: NOT VALID, then VALIDATE in the next migration',
  rewrite(piece, rel, _s, ctx) {
    const c = as<Constraint>(piece.cmd.def, 'Constraint');
    if (piece.cmd.subtype !== 'AT_AddConstraint' || c?.contype !== 'CONSTR_FOREIGN' || c.skip_validation || !c.conname || ctx.isNew(rel)) return undefined;
    const target = relOf(c.pktable);
    return {
      keep: [`${piece.text} NOT VALID`],
      ...(target ? { lockFirst: [target, rel], lockMode: ctx.dropped.has(ctx.key({ schema: rel.schema, name: c.conname })) ? 'ACCESS EXCLUSIVE' : 'SHARE ROW EXCLUSIVE' } : {}),
      later: [{ phase: 'validate', label: 'validate', sql: `${alterSql(rel)} VALIDATE CONSTRAINT ${ident(c.conname)};` }],
      change: {
        message: `${ident(c.conname)} is added NOT VALID, and validated in a later migration`,
        why: `checking the existing rows holds SHARE ROW EXCLUSIVE on ${relSql(rel)}${target ? ` and ${relSql(target)}` : ''} for the whole scan: writes to both wait`,
      },
    };
  },
};

export default rewrite;
