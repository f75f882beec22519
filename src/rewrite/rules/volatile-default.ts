import { volatileCall } from '../../lint/sql.js';
import { ident, relSql } from '../names.js';
import { backfillSql, notNullSteps, vacuumAfterBackfill } from '../steps.js';
import type { PieceOutcome, PieceRewrite } from '../types.js';
import { plainNewColumn } from './column.js';

/**
 * ZDT006: `ADD COLUMN … DEFAULT <volatile>` (`gen_random_uuid()`, `random()`, `clock_timestamp()`) on
 * an existing table → the column added without its default and the default set after it (neither
 * rewrites the table; new rows get a value from then on), the old rows filled by a batched,
 * resumable backfill in a migration of its own, then NOT NULL the safe way (ZDT004) when required.
 * A constant default (`false`, `0`, `CURRENT_TIMESTAMP`) needs none of this from PostgreSQL 11: left as it is.
 */
const rewrite: PieceRewrite = {
  code: 'ZDT006',
  name: 'volatile-default-backfill',
  summary: 'ADD COLUMN with a volatile default: added without it, default set, batched backfill, NOT NULL via CHECK',
  rewrite(piece, rel, s, ctx) {
    if (ctx.isNew(rel)) return undefined;
    const col = plainNewColumn(piece, s, ctx);
    const fn = col?.defaultNode ? volatileCall(col.defaultNode) : undefined;
    if (!col || !fn || !col.defaultSql) return undefined;
    const name = ident(col.name);
    const out: PieceOutcome = {
      keep: [`ADD COLUMN ${name} ${col.type}`, `ALTER COLUMN ${name} SET DEFAULT ${col.defaultSql}`],
      later: [{ phase: 'backfill', label: `backfill_${col.name}`, sql: `-- Gives every row that existed before ${name} its own ${col.defaultSql}, a few pages per transaction; rerunnable.\n${backfillSql(rel, col.name, 'DEFAULT')}` }, vacuumAfterBackfill(rel)],
      change: {
        message: `${relSql(rel)}.${name} is added without a default, then gets DEFAULT ${col.defaultSql} and a batched backfill${col.notNull ? ', then NOT NULL through a validated CHECK' : ''}`,
        why: `a volatile default (${fn}()) makes ADD COLUMN rewrite all of ${relSql(rel)} under ACCESS EXCLUSIVE`,
      },
    };
    if (col.notNull) out.later!.push(...notNullSteps(rel, col.name, 'check').later!);
    return out;
  },
};

export default rewrite;
