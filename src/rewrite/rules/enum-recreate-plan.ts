import type { AlterTableCmd, AlterTableStmt, ColumnDef, CreateEnumStmt } from 'libpg-query';
import { as, relOf, strings, typeSql } from '../../lint/sql.js';
import type { Rel } from '../../lint/types.js';
import { moveColumn, NO_FACTS } from '../move-column.js';
import { alterSql, ident, relSql } from '../names.js';
import type { PieceOutcome, RewriteContext, SourceStatement } from '../types.js';

/** ZDT010: Prisma's enum recreate; the builder hands it the whole BEGIN … COMMIT block. */
export const ENUM_RECREATE = { code: 'ZDT010', name: 'enum-recreate-plan' } as const;

/**
 * Prisma removes or renames an enum value by recreating the enum inside BEGIN … COMMIT:
 * `CREATE TYPE "E_new"`, every column using it `ALTER COLUMN … TYPE "E_new" USING (…::text::"E_new")`
 * (a rewrite of each table under ACCESS EXCLUSIVE), then the types renamed and the old one dropped.
 *
 * Expand/contract instead (move-column.ts, per column): a guard that stops — with what to do — while
 * a row still holds a value the new enum drops (only the application knows where those rows go, and
 * it must have stopped writing the value: the trigger converts every write from then on, and a write
 * of a removed value fails as it would after Prisma's migration), then `"E_new"` and, on each table,
 * a new column of it kept in step by a trigger; batched backfills; indexes again; NOT NULL through
 * a validated CHECK; and one switch that drops the old columns, renames the new ones, then runs
 * Prisma's own type renames, DROP TYPE and SET DEFAULTs. The end schema is Prisma's.
 *
 * Without the columns' facts (no database: `lint --fix`), or with a column the plan cannot move, or a
 * block of another shape, it is left as Prisma wrote it and reported with the plan in words.
 */
export function enumRecreatePlan(block: SourceStatement[], ctx: RewriteContext): PieceOutcome {
  const create = block.find((x) => x.kind === 'CreateEnumStmt')!;
  const e = as<CreateEnumStmt>(create.node, 'CreateEnumStmt')!;
  const typeName = strings(e.typeName);
  const values = (e.vals ?? []).map((v) => strings([v])[0]!);
  const shown = typeName.map(ident).join('.');
  const message = `Prisma recreates an enum (${shown}): every table using it is rewritten under ACCESS EXCLUSIVE, and the migration fails if a removed value is still in use`;
  const words = (why: string): PieceOutcome => ({
    unsafe: {
      message: `${message}; left as Prisma wrote it: ${why}`,
      plan: 'stop writing the removed value (deploy the app first), move the rows off it in batches, then let stagedb migrate dev write the expand/contract migrations (it reads the columns in the development database): a new column of the new enum per table, kept in step by a trigger, a batched backfill, and one short switch. Or keep the old value in the enum (remove it from the app, not from the database).',
    },
  });

  // No column changes type in the block (stagedb's own expand folder, or an enum no table uses): nothing is rewritten.
  const retypes = block.some((x) => (as<AlterTableStmt>(x.node, 'AlterTableStmt')?.cmds ?? []).some((c) => as<AlterTableCmd>(c, 'AlterTableCmd')?.subtype === 'AT_AlterColumnType'));
  if (!retypes) return {};
  const moves: Array<{ rel: Rel; column: string; type: string }> = [];
  let newTables = false;
  const switchTail: string[] = [];
  for (const x of block) {
    if (x === create || x.kind === 'TransactionStmt') continue;
    if (x.kind === 'RenameStmt' || (x.kind === 'DropStmt' && (x.node as { DropStmt: { removeType?: string } }).DropStmt.removeType === 'OBJECT_TYPE')) {
      switchTail.push(`${x.text};`);
      continue;
    }
    const a = x.kind === 'AlterTableStmt' ? as<AlterTableStmt>(x.node, 'AlterTableStmt') : undefined;
    const rel = a ? relOf(a.relation) : undefined;
    const cmd = a?.cmds?.length === 1 ? as<AlterTableCmd>(a.cmds[0], 'AlterTableCmd') : undefined;
    if (!rel || !cmd?.name) return words(`a statement of another shape: ${x.text.slice(0, 80)}`);
    if (ctx.isNew(rel)) {
      newTables = true;
      continue;
    }
    if (cmd.subtype === 'AT_ColumnDefault') {
      // DROP DEFAULT before the type change goes with the old column; SET DEFAULT after it is the new one's.
      if (cmd.def) switchTail.push(`${x.text};`);
      continue;
    }
    const def = cmd.subtype === 'AT_AlterColumnType' ? as<ColumnDef>(cmd.def, 'ColumnDef') : undefined;
    const type = def?.typeName ? typeSql(def.typeName) : undefined;
    if (!type) return words(`a statement of another shape: ${x.text.slice(0, 80)}`);
    moves.push({ rel, column: cmd.name, type });
  }
  // Only tables this migration creates use it: nothing live is rewritten, Prisma's block is fine as it is.
  if (moves.length === 0) return {};
  if (newTables) return words('tables this migration creates use it too');

  const plans = [];
  for (const m of moves) {
    const facts = ctx.columnFacts(m.rel, m.column);
    if (!facts) return words(NO_FACTS);
    if (facts.blocker) return words(`${relSql(m.rel)}.${ident(m.column)}: ${facts.blocker}`);
    if (ctx.indexedColumns.has(`${ctx.key(m.rel)}.${m.column}`)) return words(`this migration also builds an index or a constraint on ${relSql(m.rel)}.${ident(m.column)}`);
    plans.push({ ...m, plan: moveColumn(m.rel, facts, m.type, (expr) => `${expr}::text::${m.type}`, false) });
  }

  const list = values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
  const guard = [
    `-- The new ${shown} has only ${list}. Before this runs, the app must have stopped writing any other value,`,
    '-- and the rows holding one must be moved to a value it keeps, in batches (rerunnable), e.g.',
    ...plans.map((p) => `--   UPDATE ${relSql(p.rel)} SET ${ident(p.column)} = '<kept value>' WHERE ctid IN (SELECT ctid FROM ${relSql(p.rel)} WHERE ${ident(p.column)}::text NOT IN (${list}) LIMIT 10000);`),
    'DO $stagedb$',
    'BEGIN',
    ...plans.map((p) => {
      const col = ident(p.column);
      const bad = p.type.endsWith('[]') ? `NOT (${col}::text[] <@ ARRAY[${list}])` : `${col}::text NOT IN (${list})`;
      const msg = `stagedb: ${relSql(p.rel)}.${col} still holds a value the new ${shown} drops; move those rows (see this migration.sql), then deploy again`.replaceAll("'", "''");
      return `  IF EXISTS (SELECT 1 FROM ${relSql(p.rel)} WHERE ${bad}) THEN\n    RAISE EXCEPTION '${msg}';\n  END IF;`;
    }),
    'END',
    '$stagedb$;',
  ].join('\n');
  const expand = ['BEGIN;', guard, `${create.text};`, ...plans.flatMap((p) => [`${alterSql(p.rel)} ${p.plan.add};`, ...p.plan.sync]), 'COMMIT;'].join('\n');
  const switchItem = [...plans.flatMap((p) => p.plan.switch), ...switchTail, ...plans.flatMap((p) => p.plan.finish)].join('\n');
  return {
    aloneBefore: [{ label: `enum_${typeName[typeName.length - 1]}`, sql: expand }],
    later: [...plans.flatMap((p) => p.plan.later), { phase: 'switch', label: 'switch', sql: switchItem, locks: plans.map((p) => p.rel) }],
    change: {
      message: `${shown} is recreated by expand/contract: a guard while rows hold a removed value, ${plans.map((p) => `${relSql(p.rel)}.${ident(p.column)}`).join(', ')} moved to new columns of the new enum (trigger, batched backfill), then one short switch`,
      why: `changing a column to the recreated enum rewrites ${plans.map((p) => relSql(p.rel)).join(', ')} under ACCESS EXCLUSIVE, and fails if a row holds a removed value`,
    },
  };
}
