import { alterSql, ident, notNullCheck } from './names.js';
import type { Rel } from '../lint/types.js';
import type { PieceOutcome } from './types.js';

/**
 * The safe way to make a column NOT NULL on a live table (PostgreSQL 12+): a CHECK added NOT VALID
 * (a brief lock, no scan), validated in a later transaction (a scan that lets reads and writes go
 * on), then SET NOT NULL, which the validated CHECK lets skip its scan, and the CHECK dropped.
 * `checkPhase`: the CHECK goes into the migration's own transaction ('here'), or into a folder after
 * a backfill ('check': a NOT VALID CHECK is enforced on every UPDATE, so it must wait until no row
 * is NULL any more).
 */
export function notNullSteps(rel: Rel, column: string, checkPhase: 'here' | 'check'): Pick<PieceOutcome, 'keep' | 'later'> & { check: string } {
  const t = alterSql(rel);
  const check = ident(notNullCheck(rel, column));
  const col = ident(column);
  const add = `ADD CONSTRAINT ${check} CHECK (${col} IS NOT NULL) NOT VALID`;
  const later: NonNullable<PieceOutcome['later']> = [
    { phase: 'validate', label: 'validate', sql: `${t} VALIDATE CONSTRAINT ${check};` },
    { phase: 'finish', label: 'not_null', sql: `${t} ALTER COLUMN ${col} SET NOT NULL;\n${t} DROP CONSTRAINT ${check};` },
  ];
  if (checkPhase === 'check') later.unshift({ phase: 'check', label: 'check', sql: `${t} ${add};` });
  return { ...(checkPhase === 'here' ? { keep: [add] } : {}), later, check };
}

/** Pages per backfill transaction: ~1,500 rows of a narrow table. Measured under load (bench/zero-downtime.mjs), 1000 pages held row locks for seconds. */
const BACKFILL_PAGES = 20;

/**
 * A backfill that commits every BACKFILL_PAGES pages and pauses 10 ms between batches, so it holds no row lock for long, leaves the app room, and a rerun (after an
 * interruption) carries on where it stopped: only rows still NULL (and meeting `condition`) are written. It walks the table by
 * physical position (a TID range scan from PostgreSQL 14), so each batch reads only its own pages.
 * One statement, alone in its file: a `DO` block may COMMIT only outside a transaction block, which is
 * how `prisma migrate deploy` sends a one-statement file and how stagedb's deploy runs it.
 */
export function backfillSql(rel: Rel, column: string, value: string, condition?: string): string {
  const t = `${rel.schema ? `${ident(rel.schema)}.` : ''}${ident(rel.name)}`;
  const col = ident(column);
  const todo = `${col} IS NULL${condition ? ` AND ${condition}` : ''}`;
  const lit = `'${t.replaceAll("'", "''")}'`;
  return [
    'DO $stagedb$',
    'DECLARE',
    `  pages bigint := pg_relation_size(${lit}) / current_setting('block_size')::int;`,
    '  page bigint := 0;',
    'BEGIN',
    '  WHILE page <= pages LOOP',
    `    UPDATE ${t} SET ${col} = ${value}`,
    `     WHERE ctid >= format('(%s,0)', page)::tid AND ctid < format('(%s,0)', page + ${BACKFILL_PAGES})::tid AND ${todo};`,
    `    page := page + ${BACKFILL_PAGES};`,
    '    COMMIT;',
    '    PERFORM pg_sleep(0.01);',
    '  END LOOP;',
    `  UPDATE ${t} SET ${col} = ${value} WHERE ${todo};`,
    'END',
    '$stagedb$;',
  ].join('\n');
}

/** The VACUUM after a backfill (phase `vacuum`; see PHASE_WHY in index.ts): alone in its file, as VACUUM cannot run in a transaction block. */
export function vacuumAfterBackfill(rel: Rel): { phase: 'vacuum'; label: string; sql: string } {
  return { phase: 'vacuum', label: `vacuum_${rel.name}`, sql: `VACUUM (ANALYZE) ${rel.schema ? `${ident(rel.schema)}.` : ''}${ident(rel.name)};` };
}
