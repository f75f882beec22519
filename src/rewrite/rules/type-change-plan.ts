import type { AlterTableCmd, AlterTableStmt, ColumnDef } from 'libpg-query';
import { likelyWidening } from '../../lint/rules/column-type-change.js';
import { as, formatType } from '../../lint/sql.js';
import { moveColumn, NO_FACTS } from '../move-column.js';
import { alterSql, ident, relSql } from '../names.js';
import type { PieceRewrite } from '../types.js';

/**
 * ZDT009: `ALTER COLUMN … SET DATA TYPE` that rewrites the table (`Int` → `BigInt`, `Int` → `String`)
 * → expand/contract as migrations (move-column.ts): a new column of the new type kept in step by a
 * trigger, a batched resumable backfill, its indexes built again CONCURRENTLY, NOT NULL through a
 * validated CHECK, and one short switch that gives it the old name. The end schema is Prisma's.
 *
 * It needs to know the column (NOT NULL? default? indexes?), which the SQL does not say: `migrate dev`
 * reads it from the development database. Without it, or when the column is one the plan cannot move
 * alone (in a primary key, a foreign key, a constraint, read by a view), the statement is left as
 * Prisma wrote it and reported with the plan in words (the lint gate then stops it on a large table).
 * A change that only widens (a longer VARCHAR, VARCHAR → TEXT) is no rewrite and is not reported.
 */
const rewrite: PieceRewrite = {
  code: 'ZDT009',
  name: 'type-change-plan',
  summary: 'ALTER COLUMN TYPE that rewrites: a new column, trigger, batched backfill, then a short switch',
  rewrite(piece, rel, s, ctx) {
    const col = piece.cmd.subtype === 'AT_AlterColumnType' ? as<ColumnDef>(piece.cmd.def, 'ColumnDef') : undefined;
    const column = piece.cmd.name;
    if (!col || !column || ctx.isNew(rel) || ctx.newColumns.has(`${ctx.key(rel)}.${column}`)) return undefined;
    const to = formatType(col.typeName);
    // Without the current type, a VARCHAR or NUMERIC target may be a widening: the lint judges it with --env.
    if (likelyWidening(to) || /^(character varying|numeric)\b/.test(to)) return undefined;
    const c = ident(column);
    const n = ident(`${column}_zdt_new`);
    const message = `${relSql(rel)}.${c} changes type to ${to}: PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE`;
    const words = (why: string) => ({
      keep: [piece.text],
      unsafe: {
        message: `${message}; left as Prisma wrote it: ${why}`,
        plan: `expand/contract: add ${n} ${to}; keep it in step with a trigger; backfill it in batches; build its indexes CONCURRENTLY; then, in one short transaction, drop ${c} and rename ${n} to ${c}. stagedb migrate dev writes these migrations when it can read the column in the development database. Or keep the old type if the data fits.`,
      },
    });
    const type = ctx.exprAt(s, col.typeName?.location);
    if (!type) return words('its type could not be read from the statement');
    if (col.raw_default) return words('it has a USING expression');
    if (ctx.indexedColumns.has(`${ctx.key(rel)}.${column}`)) return words('this migration also builds an index or a constraint on it');
    const facts = ctx.columnFacts(rel, column);
    if (!facts) return words(NO_FACTS);
    if (facts.blocker) return words(facts.blocker);
    // Other changes of the same column in this statement: a new default or nullability is the new column's.
    const others = ((as<AlterTableStmt>(s.node, 'AlterTableStmt')?.cmds ?? []).map((x) => as<AlterTableCmd>(x, 'AlterTableCmd')).filter((x) => x && x !== piece.cmd && x.name === column)) as AlterTableCmd[];
    if (others.some((x) => !['AT_ColumnDefault', 'AT_DropNotNull', 'AT_SetNotNull'].includes(x.subtype ?? ''))) return words('the statement changes the column in other ways too');
    const newDefault = others.find((x) => x.subtype === 'AT_ColumnDefault');
    const notNull = others.some((x) => x.subtype === 'AT_SetNotNull') || (facts.notNull && !others.some((x) => x.subtype === 'AT_DropNotNull'));
    let defaultSql: string | undefined;
    if (newDefault?.def) {
      const loc = Object.values(newDefault.def as Record<string, { location?: number }>)[0]?.location;
      defaultSql = ctx.exprAt(s, loc);
      if (!defaultSql) return words('its new default could not be read from the statement');
    }
    const plan = moveColumn(rel, { ...facts, notNull }, type, (expr) => `CAST(${expr} AS ${type})`, !newDefault);
    const t = alterSql(rel);
    const finish = [...plan.finish, ...(newDefault ? [defaultSql ? `${t} ALTER COLUMN ${c} SET DEFAULT ${defaultSql};` : `${t} ALTER COLUMN ${c} DROP DEFAULT;`] : [])];
    return {
      keep: [plan.add],
      after: plan.sync,
      later: [...plan.later, { phase: 'switch', label: 'switch', sql: [...plan.switch, ...finish].join('\n'), locks: [rel] }],
      change: {
        message: `${relSql(rel)}.${c} moves to ${to} by expand/contract: ${n} added and kept in step by a trigger, a batched backfill, ${plan.later.some((l) => l.phase === 'index') ? 'its indexes built CONCURRENTLY, ' : ''}${notNull ? 'NOT NULL through a validated CHECK, ' : ''}then a short switch that gives it the name ${c}`,
        why: `changing the type in place rewrites ${relSql(rel)} and its indexes under ACCESS EXCLUSIVE: nothing can read or write it meanwhile`,
      },
    };
  },
};

export default rewrite;
