import type { Constraint } from 'libpg-query';
import { as, strings } from '../../lint/sql.js';
import { ident, objectName, relSql } from '../names.js';
import type { PieceRewrite } from '../types.js';

/**
 * ZDT005: `ADD CONSTRAINT … UNIQUE` / `PRIMARY KEY` (Prisma's `@id` change) on an existing table →
 * its unique index built CONCURRENTLY first, alone in a migration, then `ADD CONSTRAINT … USING
 * INDEX`, which only attaches it. When the name is still taken (Prisma drops the old primary key and
 * adds the new one of the same name in one statement), the index is built under a temporary name:
 * USING INDEX renames it to the constraint's.
 */
const rewrite: PieceRewrite = {
  code: 'ZDT005',
  name: 'unique-using-index',
  summary: 'ADD UNIQUE / PRIMARY KEY: the index built CONCURRENTLY, then attached with USING INDEX',
  rewrite(piece, rel, _s, ctx) {
    const c = as<Constraint>(piece.cmd.def, 'Constraint');
    if (piece.cmd.subtype !== 'AT_AddConstraint' || (c?.contype !== 'CONSTR_UNIQUE' && c?.contype !== 'CONSTR_PRIMARY')) return undefined;
    if (!c.conname || c.indexname || c.including?.length || c.options?.length || c.deferrable || c.nulls_not_distinct || ctx.isNew(rel)) return undefined;
    const keys = strings(c.keys);
    if (keys.length === 0 || keys.some((k) => ctx.newColumns.has(`${ctx.key(rel)}.${k}`))) return undefined;
    const taken = ctx.dropped.has(ctx.key({ schema: rel.schema, name: c.conname }));
    const index = taken ? objectName(`${c.conname}_new`) : c.conname;
    const kind = c.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
    return {
      aloneBefore: [{ label: `index_${index}`, sql: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(index)} ON ${relSql(rel)}(${keys.map(ident).join(', ')});` }],
      keep: [`ADD CONSTRAINT ${ident(c.conname)} ${kind} USING INDEX ${ident(index)}`],
      change: {
        message: `${ident(c.conname)}'s unique index is built CONCURRENTLY in a migration of its own, then attached (${kind} USING INDEX)`,
        why: `ADD ${kind} builds its index under ACCESS EXCLUSIVE on ${relSql(rel)}: nothing can read or write it for the whole build`,
      },
    };
  },
};

export default rewrite;
