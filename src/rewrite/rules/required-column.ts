import { ident, relSql } from '../names.js';
import { notNullSteps } from '../steps.js';
import type { PieceRewrite } from '../types.js';
import { plainNewColumn } from './column.js';

/**
 * ZDT008: `ADD COLUMN … NOT NULL` without a default on an existing table (a new required field,
 * `@updatedAt`, `@default(cuid())`) fails on a table with rows, and the app version still running
 * cannot insert without it. Only the application knows the value for the old rows, so it becomes an
 * expand/contract plan: the column added nullable; a guard migration that stops, with the way out,
 * while rows have no value (on an empty table it passes); then NOT NULL the safe way (ZDT004).
 */
const rewrite: PieceRewrite = {
  code: 'ZDT008',
  name: 'required-column-plan',
  summary: 'ADD COLUMN NOT NULL without a default: added nullable, a guard until the rows are filled, NOT NULL via CHECK',
  rewrite(piece, rel, s, ctx) {
    if (ctx.isNew(rel)) return undefined;
    const col = plainNewColumn(piece, s, ctx);
    if (!col || !col.notNull || col.defaultSql) return undefined;
    const name = ident(col.name);
    const t = relSql(rel);
    const message = `stagedb: ${t}.${name} is still NULL in some rows; fill it (see this migration.sql), then deploy again`.replaceAll("'", "''");
    const guard = [
      `-- ${t}.${name} is required and has no default: the rows that existed before it need a value only the`,
      '-- application knows. On an empty table this passes. Otherwise, before this migration runs: deploy the',
      `-- app version that writes ${name}, then fill the old rows in batches (rerunnable), e.g.`,
      `--   UPDATE ${t} SET ${name} = <value> WHERE ctid IN (SELECT ctid FROM ${t} WHERE ${name} IS NULL LIMIT 10000);`,
      '-- repeated until it updates 0 rows. Or give the field a @default in schema.prisma instead.',
      'DO $stagedb$',
      'BEGIN',
      `  IF EXISTS (SELECT 1 FROM ${t} WHERE ${name} IS NULL) THEN`,
      `    RAISE EXCEPTION '${message}';`,
      '  END IF;',
      'END',
      '$stagedb$;',
    ].join('\n');
    return {
      keep: [`ADD COLUMN ${name} ${col.type}`],
      later: [{ phase: 'backfill', label: `fill_${col.name}`, sql: guard }, ...notNullSteps(rel, col.name, 'check').later!],
      change: {
        message: `${t}.${name} is added nullable; a guard migration waits until every row has a value; then NOT NULL through a validated CHECK`,
        why: `ADD COLUMN … NOT NULL without a default fails on a table with rows, and app versions still running cannot insert into ${t} without it`,
      },
    };
  },
};

export default rewrite;
