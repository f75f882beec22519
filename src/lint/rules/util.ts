import type { AlterTableCmd, AlterTableStmt, ColumnDef, Constraint, Node, TypeName } from 'libpg-query';
import type { FileContext } from '../file-context.js';
import { as, baseType, ident, relOf, relSql, strings } from '../sql.js';
import type { Rel, Statement } from '../types.js';

/** Helpers the rules share (not a rule). */

export interface AlterTable {
  stmt: AlterTableStmt;
  rel: Rel;
  cmds: AlterTableCmd[];
}

const alterCache = new WeakMap<Statement, AlterTable | null>();

/** An `ALTER TABLE` on a table (not an index, view or type), with its subcommands; computed once per statement. */
export function alterTable(s: Statement): AlterTable | undefined {
  if (s.kind !== 'AlterTableStmt') return undefined;
  const cached = alterCache.get(s);
  if (cached !== undefined) return cached ?? undefined;
  const stmt = as<AlterTableStmt>(s.node, 'AlterTableStmt')!;
  const rel = stmt.objtype === 'OBJECT_TABLE' ? relOf(stmt.relation) : undefined;
  const out = rel ? { stmt, rel, cmds: (stmt.cmds ?? []).map((n) => as<AlterTableCmd>(n, 'AlterTableCmd')).filter((c): c is AlterTableCmd => !!c) } : null;
  alterCache.set(s, out);
  return out ?? undefined;
}

export function columnDef(cmd: AlterTableCmd): ColumnDef | undefined {
  return as<ColumnDef>(cmd.def, 'ColumnDef');
}

export function constraints(list: Node[] | undefined): Constraint[] {
  return (list ?? []).map((n) => as<Constraint>(n, 'Constraint')).filter((c): c is Constraint => !!c);
}

export function constraintOf(cmd: AlterTableCmd): Constraint | undefined {
  return as<Constraint>(cmd.def, 'Constraint');
}

/** The constraints of one kind (`CONSTR_CHECK`, `CONSTR_FOREIGN`, …) an `ALTER TABLE` adds: where several rules start. */
export function addedConstraints(a: AlterTable, contype: string): Constraint[] {
  return a.cmds.flatMap((cmd) => {
    const c = constraintOf(cmd);
    return cmd.subtype === 'AT_AddConstraint' && c?.contype === contype ? [c] : [];
  });
}

/** Constraint columns (`keys`, `fk_attrs`) as quoted SQL: `"a", "b"`. */
export function columnsSql(list: Node[] | undefined): string {
  return strings(list).map(ident).join(', ');
}

const SERIALS = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);
export const isSerial = (t: TypeName | undefined): boolean => SERIALS.has(baseType(t).toLowerCase());

/** `ALTER TABLE "T"` as the migration wrote it. */
export const alterSql = (rel: Rel): string => `ALTER TABLE ${relSql(rel)}`;

/** Where a statement with CONCURRENTLY has to go, for the runner that will run it. */
export function ownMigration(ctx: FileContext): string {
  return ctx.runner === 'prisma'
    ? '-- as the only statement of a migration file of its own (prisma migrate deploy runs a multi-statement file in one transaction):'
    : '-- in a migration of its own (stagedb runs a file with CONCURRENTLY statement by statement, outside a transaction):';
}

/** A value that satisfies NOT NULL for a new column of this type, for the "add it with a default" alternative. */
export function constantDefault(t: TypeName | undefined): string | undefined {
  const b = baseType(t).toLowerCase();
  if (t?.arrayBounds?.length) return "'{}'";
  if (/^(int[248]?|integer|smallint|bigint|numeric|decimal|float[48]|real)$/.test(b)) return '0';
  if (b === 'bool' || b === 'boolean') return 'false';
  if (b === 'text' || b === 'varchar' || b === 'bpchar') return "''";
  if (b === 'timestamp' || b === 'timestamptz' || b === 'date') return 'CURRENT_TIMESTAMP';
  if (b === 'jsonb' || b === 'json') return "'{}'";
  return undefined;
}

/** The default name PostgreSQL (and Prisma) would give a constraint, when the SQL names none. */
export function constraintName(rel: Rel, c: Constraint, suffix: string): string {
  return c.conname ?? `${rel.name}_${strings(c.fk_attrs ?? c.keys).join('_')}_${suffix}`;
}
