import type { Node } from 'libpg-query';

/**
 * What the lint reads: the migration files, their parsed statements, who runs them, and what the
 * target database says about the tables they touch. A leaf of lint's types (types.ts re-exports it),
 * so the file context, the model and the SQL helpers need nothing that names them back.
 */

/**
 * Who runs the migration files, which decides how each one runs:
 *  - `stagedb`: stagedb's own per-file choice (one transaction / the file's own BEGIN…COMMIT /
 *    statement by statement, see src/history/mode.ts) and stagedb's session `lock_timeout`;
 *  - `prisma`: `prisma migrate deploy` (Prisma ≤ 6 sends the whole file as one multi-statement query:
 *    one implicit transaction, no lock_timeout).
 */
export type Runner = 'stagedb' | 'prisma';

/** A relation as the SQL names it: schema only when written. */
export interface Rel {
  schema?: string;
  name: string;
}

/** What the target database says about a table (`--env`, the deploy gate). */
export interface TableStats {
  /** pg_class.reltuples: an estimate; -1 when never analyzed. */
  rows: number;
  /** pg_total_relation_size: heap, indexes and TOAST. */
  bytes: number;
  /** pg_relation_size of the heap alone; 0 means no row was ever written. */
  heapBytes: number;
  /** 'r' table, 'p' partitioned table, … */
  kind: string;
  /** Column name → format_type(), for tables whose columns a rule asked about. */
  columns?: Record<string, string>;
  /** Column name → the CHECK constraints that read it (name, pg_get_constraintdef), for the same tables. */
  checks?: Record<string, Array<{ name: string; def: string }>>;
  /** Every constraint name on the table, for the same tables (a fix must not pick a taken one: 42710). */
  constraintNames?: string[];
  /** The table's foreign keys: name and the `schema.table` each references (dropping either locks both tables). */
  foreignKeys?: Array<{ name: string; references: string }>;
  /** The `schema.table`s whose foreign keys reference this one (TRUNCATE … CASCADE empties them). */
  referencedBy?: string[];
  /** For a partitioned table: every partition below it (`schema.table`), which its index builds and triggers lock too. */
  partitions?: string[];
}

/** The target database as far as the lint needs it: which tables exist and how big they are. */
export interface DatabaseContext {
  /** Environment name, for notes. */
  env: string;
  serverVersionNum: number;
  /** The schema unqualified names resolve to (the URL's `?schema=`, default public). */
  defaultSchema: string;
  /** `schema.name` → stats, for every referenced relation that exists. */
  tables: Map<string, TableStats>;
  /** `schema.index` → `schema.table`, for referenced indexes that exist. */
  indexes: Map<string, string>;
}

/** A migration file to lint. */
export interface LintInput {
  /** As shown in findings (relative to the cwd). */
  path: string;
  /** The migration's directory name, when the file is a `<dir>/migration.sql`. */
  migration?: string;
  sql: string;
}

/** A parsed statement, with everything a rule needs to know about where and how it runs. */
export interface Statement {
  index: number;
  /** The parser's node, e.g. `{ IndexStmt: {...} }`. */
  node: Node;
  /** The node's kind, e.g. `IndexStmt`. */
  kind: string;
  /** The statement text (no trailing semicolon). */
  text: string;
  /** Character offsets in the file. */
  start: number;
  end: number;
  line: number;
  column: number;
  endLine: number;
  /** Byte offset in the file of the string the parser saw: node `location`s are relative to it. */
  byteBase: number;
  /**
   * The transaction the statement runs in: statements with the same number share one; `null` when
   * it runs and commits on its own (no transaction block).
   */
  tx: number | null;
}
