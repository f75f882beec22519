import type { Rel } from '../lint/types.js';
import { alterSql, ident, objectName, relSql } from './names.js';
import { backfillSql, notNullSteps, vacuumAfterBackfill } from './steps.js';
import type { ColumnFacts, PieceOutcome } from './types.js';

/**
 * The expand/contract form of a change PostgreSQL can only make by rewriting the table (a type
 * change, a column moved to a recreated enum): the value moves to a new column while the table stays
 * live, and the new column takes the old one's name in one short transaction.
 *
 *  1. expand (in the migration's own folder): the new column, nullable, no default (a catalog
 *     change), and a BEFORE INSERT OR UPDATE trigger that sets it from the old column on every write,
 *     so the app version still running needs no change;
 *  2. backfill (a folder of its own): the rows written before the trigger, a few pages per
 *     transaction, only where the new column is still NULL: interrupted, it resumes; then a VACUUM;
 *  3. its indexes built again on the new column, CONCURRENTLY, each alone (under a temporary name);
 *  4. NOT NULL, when the old column has it, through a validated CHECK (as ZDT004);
 *  5. switch (one transaction, ACCESS EXCLUSIVE for milliseconds): the trigger and the old column
 *     dropped, the new column renamed to the old name, its default and index names set.
 *
 * The old column is dropped in the switch, not in a later release: from the switch on no query can
 * reach it by its name, which the new column now has — the app sees the new type at that instant,
 * exactly when Prisma's ALTER would have shown it, so nothing is gained by keeping it.
 */
export interface MovePlan {
  /** The new column's ADD COLUMN subcommand, for the ALTER TABLE it replaces. */
  add: string;
  /** The sync trigger (its function, then the trigger), after the ALTER TABLE. */
  sync: string[];
  /** Backfill, index, CHECK and NOT NULL folders. */
  later: NonNullable<PieceOutcome['later']>;
  /** The switch's statements for this column (inside the switch's transaction). */
  switch: string[];
  /** The switch's index renames and default, after every column of the switch is in place. */
  finish: string[];
}

/**
 * `type`: the new column's type as SQL; `convert(expr)`: the old column's value (`expr`) as the new
 * type — the same conversion Prisma's ALTER makes; `keepDefault`: set the old column's default on the
 * new one in the switch (an enum recreate sets its own).
 */
export function moveColumn(rel: Rel, facts: ColumnFacts, type: string, convert: (expr: string) => string, keepDefault: boolean): MovePlan {
  const column = facts.column;
  const t = alterSql(rel);
  const col = ident(column);
  const newName = objectName(`${column}_zdt_new`);
  const n = ident(newName);
  const qualify = (name: string) => `${rel.schema ? `${ident(rel.schema)}.` : ''}${ident(name)}`;
  const syncName = objectName(`${rel.name}_${column}_zdt_sync`);
  const fn = qualify(syncName);
  const sync = [
    `-- stagedb zero-downtime: every write keeps ${n} equal to ${col} as ${type}, until the switch`,
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $stagedb$\nBEGIN\n  NEW.${n} := ${convert(`NEW.${col}`)};\n  RETURN NEW;\nEND\n$stagedb$;`,
    `DROP TRIGGER IF EXISTS ${ident(syncName)} ON ${relSql(rel)};`,
    `CREATE TRIGGER ${ident(syncName)} BEFORE INSERT OR UPDATE ON ${relSql(rel)} FOR EACH ROW EXECUTE FUNCTION ${fn}();`,
  ];
  const later: NonNullable<PieceOutcome['later']> = [
    {
      phase: 'backfill',
      label: `backfill_${column}`,
      sql: `-- Copies ${col} into ${n} as ${type} for the rows written before the trigger, a few pages per transaction; rerunnable.\n${backfillSql(rel, newName, convert(col), `${col} IS NOT NULL`)}`,
    },
    vacuumAfterBackfill(rel),
  ];
  const finish: string[] = [];
  for (const i of facts.indexes) {
    const temp = objectName(`${i.name}_zdt`);
    const quoted = facts.quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const using = i.using.replace(new RegExp(`(?<=[(, ])${quoted}(?=[), ])`, 'g'), n);
    const unique = i.unique ? 'UNIQUE ' : '';
    later.push({ phase: 'index', label: `index_${temp}`, sql: `CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${ident(temp)} ON ${relSql(rel)} USING ${using};` });
    finish.push(`ALTER INDEX ${qualify(temp)} RENAME TO ${ident(i.name)};`);
  }
  if (facts.notNull) later.push(...notNullSteps(rel, newName, 'check').later!);
  if (keepDefault && facts.default !== undefined) finish.push(`${t} ALTER COLUMN ${col} SET DEFAULT ${facts.default};`);
  const why = `${n} holds ${col}'s values as ${type}, kept equal by the trigger and the backfill`;
  return {
    add: `ADD COLUMN ${n} ${type}`,
    sync,
    later,
    switch: [
      `DROP TRIGGER ${ident(syncName)} ON ${relSql(rel)};`,
      `DROP FUNCTION ${fn}();`,
      `-- stagedb-lint-disable-next-statement SDB015: ${why}; it takes the name ${col} in this transaction`,
      `${t} DROP COLUMN ${col};`,
      `-- stagedb-lint-disable-next-statement SDB017: ${n} replaces ${col} under its name, in the transaction that drops it`,
      `${t} RENAME COLUMN ${n} TO ${col};`,
    ],
    finish,
  };
}

/** Why a plan that moves a column fell back to words when nothing told it about the column. */
export const NO_FACTS = 'no database at the state before this migration to read the column in (migrate dev reads the development database; lint --fix an environment that has applied every migration before it)';

/** The switch's folder: one transaction that takes its strongest lock first (a later upgrade could deadlock with the app). */
export function switchSql(rels: Rel[], statements: string[]): string {
  const seen = new Set<string>();
  const tables = rels.filter((r) => !seen.has(relSql(r)) && seen.add(relSql(r)));
  return ['BEGIN;', `LOCK TABLE ${tables.map(relSql).join(', ')} IN ACCESS EXCLUSIVE MODE;`, ...statements, 'COMMIT;'].join('\n');
}
