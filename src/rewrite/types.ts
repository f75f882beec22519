import type { AlterTableCmd, Node } from 'libpg-query';
import type { Rel } from '../lint/types.js';

/**
 * The zero-downtime rewriter's data model. A rewrite turns one migration Prisma's engine generated
 * into several migration folders (steps) that deploy with no long lock on a live table, and says
 * what it changed and why. Plain data: the CLI renders it.
 */

/** One migration folder of the rewritten migration. */
export interface RewrittenStep {
  /** Appended to the migration's name for every step but the first (`index_Account_email_idx`, `validate`, …). */
  label: string;
  /** The folder's migration.sql. */
  script: string;
  /** The rewrites that wrote this step. */
  codes: string[];
}

/** One change the rewriter made, for the CLI to print. */
export interface RewriteChange {
  /** Stable code, e.g. `ZDT001`. */
  code: string;
  /** Rewrite name, e.g. `create-index-concurrently`. */
  name: string;
  /** Prisma's statement, as generated. */
  statement: string;
  /** One line: what was done instead. */
  message: string;
  /** Why Prisma's statement would hurt a live table. */
  why: string;
}

/** A hazard the rewriter leaves as Prisma wrote it: no safe SQL exists without an application step. */
export interface UnsafeChange {
  code: string;
  name: string;
  statement: string;
  message: string;
  /** What to do instead (an expand/contract plan in words). */
  plan: string;
}

export interface RewriteResult {
  /** At least one statement was rewritten (otherwise `steps` is the original script, alone). */
  changed: boolean;
  steps: RewrittenStep[];
  changes: RewriteChange[];
  unsafe: UnsafeChange[];
}

export interface RewriteOptions {
  /**
   * Tables created by this migration (`schema.table`, or just `table` for the default schema), besides
   * the ones its own `CREATE TABLE` statements name. Their statements are left as Prisma wrote them.
   */
  newTables?: readonly string[];
  /** The schema unqualified names resolve to (default `public`). */
  defaultSchema?: string;
  /**
   * What the database the migration was generated against knows about the columns a rewriting type
   * change or an enum recreate moves (`migrate dev` reads it from the development database: see
   * facts.ts). Their expand/contract plan needs it (is the column NOT NULL, its default, its indexes);
   * without it they are left as Prisma wrote them, with the plan in words.
   */
  describeColumns?: (targets: ColumnTarget[]) => Promise<ColumnFacts[]>;
}

/** A column a plan moves to a new column. */
export interface ColumnTarget {
  schema: string;
  table: string;
  column: string;
}

/** What the database says about a column (facts.ts). */
export interface ColumnFacts extends ColumnTarget {
  notNull: boolean;
  /** The default expression (pg_get_expr), if any. */
  default?: string;
  /** Indexes on it that the plan can build again on the new column: name, and its definition from `USING` on (pg_get_indexdef). */
  indexes: Array<{ name: string; unique: boolean; using: string }>;
  /** Why the plan cannot move it (a constraint, a view, an expression index uses it), or absent. */
  blocker?: string;
  /** The column as PostgreSQL quotes it (quote_ident), as it appears in index definitions. */
  quoted: string;
}

/** A statement of the migration, with the comment lines Prisma wrote above it (`-- CreateIndex`). */
export interface SourceStatement {
  node: Node;
  kind: string;
  /** The statement, without its semicolon. */
  text: string;
  /** The comment lines between the previous statement and this one (trimmed), or ''. */
  comment: string;
  /** Character offset of `text` in the file, and the byte base of the parser's locations. */
  start: number;
  byteBase: number;
}

/** One subcommand of an ALTER TABLE, with its source text. */
export interface AlterPiece {
  cmd: AlterTableCmd;
  /** The subcommand as written (`ADD COLUMN "x" TEXT`), trimmed. */
  text: string;
}

/** What the rewriter knows while it rewrites one migration. */
export interface RewriteContext {
  /** The whole script (for source text at parser locations). */
  sql: string;
  defaultSchema: string;
  /** Created by this migration: not live, left alone. */
  isNew(rel: Rel): boolean;
  /** Columns added by this migration so far: `schema.table.column`. */
  newColumns: Set<string>;
  key(rel: Rel): string;
  /** Source text of an expression at a parser location of statement `s`. */
  exprAt(s: SourceStatement, location: number | undefined): string | undefined;
  /** The migration drops this constraint of `rel` somewhere (stagedb's NOT NULL step drops its CHECK). */
  droppedLater(rel: Rel, constraint: string): boolean;
  /** Statements in the migration. */
  statementCount: number;
  /** Index and constraint names dropped earlier in this migration (`schema.name`): a new one of the same name cannot be built beside them. */
  dropped: Set<string>;
  /** Index and constraint names this migration creates (`schema.name`), in any statement. */
  createdNames: Set<string>;
  /** What the database knows about a column a plan would move (RewriteOptions.describeColumns), or undefined. */
  columnFacts(rel: Rel, column: string): ColumnFacts | undefined;
  /** Columns (`schema.table.column`) a new index or constraint of this migration names: a plan that moves one would leave it behind. */
  indexedColumns: Set<string>;
  /** Columns of `rel` this migration adds, in any statement; `required`: NOT NULL without a default. */
  addedColumns(rel: Rel): Array<{ name: string; required: boolean }>;
}

/** Where a rewrite puts its SQL, relative to the statement it rewrites. */
export interface PieceOutcome {
  /** What to keep in place of the original: subcommands for an ALTER TABLE, a statement otherwise (absent: removed). */
  keep?: string[];
  /** Statements that must run alone, each in a folder of its own, before this statement. */
  aloneBefore?: Array<{ label: string; sql: string }>;
  /**
   * Tables to lock at the start of this statement's transaction, in this order (SHARE ROW EXCLUSIVE):
   * a foreign key's referenced table first, as the application writes them, so the DDL cannot deadlock with it.
   */
  lockFirst?: Rel[];
  /**
   * The mode of that lock: SHARE ROW EXCLUSIVE is what adding a foreign key takes; dropping one (Prisma
   * drops and re-adds it to change onDelete) takes ACCESS EXCLUSIVE on both tables, and upgrading to it
   * while app transactions that read the table wait behind the weaker lock would deadlock.
   */
  lockMode?: 'SHARE ROW EXCLUSIVE' | 'ACCESS EXCLUSIVE';
  /** Folders of their own, each run after everything else of the migration (a backfill, a guard). */
  later?: Array<{ label: string; sql: string; phase: Phase; locks?: Rel[] }>;
  /** Statements that follow this one in the same folder (a trigger after the ADD COLUMN it keeps in step). */
  after?: string[];
  change?: Omit<RewriteChange, 'code' | 'name' | 'statement'>;
  unsafe?: Omit<UnsafeChange, 'code' | 'name' | 'statement'>;
}

/**
 * The order of what runs after the migration's own transaction: backfills (each alone), a VACUUM of
 * each backfilled table (alone), then the
 * indexes a moved column needs again (each alone, CONCURRENTLY), then the CHECKs that wait for the
 * backfills, then validations (one folder), then the NOT NULL switch (one folder), then the
 * expand/contract switches (one folder, one transaction), then the indexes the migration drops (each
 * alone, last: a unique index keeps guarding its rows until its replacement is attached). A later
 * phase depends on the earlier ones.
 */
export type Phase = 'backfill' | 'vacuum' | 'index' | 'check' | 'validate' | 'finish' | 'switch' | 'cleanup';

/** A rewrite of one ALTER TABLE subcommand (a file under rules/, one stable code). */
export interface PieceRewrite {
  code: string;
  name: string;
  summary: string;
  /** Returns undefined when the subcommand is not this rewrite's to change. */
  rewrite(piece: AlterPiece, rel: Rel, s: SourceStatement, ctx: RewriteContext): PieceOutcome | undefined;
}

/** A rewrite of a whole statement (CREATE INDEX, DROP INDEX, ALTER TYPE … ADD VALUE). */
export interface StatementRewrite {
  code: string;
  name: string;
  summary: string;
  kinds: readonly string[];
  rewrite(s: SourceStatement, ctx: RewriteContext): PieceOutcome | undefined;
}
