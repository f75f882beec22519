import { formatBytes } from '../format.js';
import type { RunModel } from './model.js';
import { clauseText, exprText, relKey } from './sql.js';
import type { DatabaseContext, LintInput, Rel, Runner, Statement, TableStats } from './input-model.js';

/** What the linted files have created so far, in order: such tables are not live when they deploy together. */
export class BatchState {
  /** `schema.table` keys of tables created by an earlier statement of the linted files. */
  readonly tables = new Set<string>();
  /** `schema.type` keys of types created so far. */
  readonly types = new Set<string>();
  /** `schema.index` → the table it is on, for indexes created so far. */
  readonly indexes = new Map<string, Rel>();
  /** `schema.table.column` keys of columns added so far (their rows hold only NULL or the default). */
  readonly columns = new Set<string>();
  /** `schema.table.column` → CHECK constraints added so far that read the column (name, the constraint as written). */
  readonly checks = new Map<string, Array<{ name: string; def: string }>>();
  /** `schema.table` → foreign keys added so far (name, the table it references). */
  readonly foreignKeys = new Map<string, Array<{ name: string; references: Rel }>>();
  /** `schema.table.constraint` keys of constraints dropped so far. */
  readonly droppedConstraints = new Set<string>();
  /** `schema.table.constraint` keys of constraints validated so far (VALIDATE CONSTRAINT). */
  readonly validated = new Set<string>();
}

/** `CHECK ((col IS NOT NULL))` as pg_get_constraintdef or a migration writes it: proves a column has no NULL once valid. */
export function isNotNullCheck(def: string, column: string): boolean {
  const flat = def.replace(/[()"]/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase().replace(/ not valid$/, '');
  return flat === `check ${column.toLowerCase()} is not null`;
}

/**
 * A rule's view of one file: its statements and how they run, the tables the earlier statements (of
 * this file and the files linted with it) created, and the target database when there is one.
 */
export class FileContext {
  /** The `lock_timeout` in effect before the current statement, in ms (0: none). Kept up to date by the runner. */
  lockTimeoutMs: number;
  /** The `statement_timeout` in effect before the current statement, in ms (0: none). Kept up to date by the runner. */
  statementTimeoutMs = 0;
  /** Rules that report once per file (lock_timeout, transaction control) and already did. */
  readonly once = new Set<string>();

  constructor(
    readonly input: LintInput,
    readonly statements: Statement[],
    readonly model: RunModel,
    readonly runner: Runner,
    readonly batch: BatchState,
    readonly defaultSchema: string,
    readonly serverVersionNum: number,
    readonly db: DatabaseContext | undefined,
    runnerLockTimeoutMs: number,
    private readonly charAt: (byte: number) => number,
  ) {
    this.lockTimeoutMs = runnerLockTimeoutMs;
  }

  /** Columns added by earlier statements of the linted files: `schema.table.column`. */
  get newColumns(): Set<string> {
    return this.batch.columns;
  }

  get sql(): string {
    return this.input.sql;
  }

  key(rel: Rel): string {
    return relKey(rel, this.defaultSchema);
  }

  /** Created by an earlier statement of this file or of a file linted before it. */
  isNew(rel: Rel): boolean {
    return this.batch.tables.has(this.key(rel));
  }

  /**
   * Holds data the application uses right now: not created by the linted files, and (with a
   * database) existing there. Without a database every other table counts as live.
   */
  live(rel: Rel): boolean {
    if (this.isNew(rel)) return false;
    return this.db ? this.db.tables.has(this.key(rel)) : true;
  }

  stats(rel: Rel): TableStats | undefined {
    return this.db?.tables.get(this.key(rel));
  }

  /** The table an index is on, when the linted files created it or the database has it. */
  tableOfIndex(index: Rel): Rel | undefined {
    const k = this.key(index);
    const mine = this.batch.indexes.get(k);
    if (mine) return mine;
    const t = this.db?.indexes.get(k);
    if (!t) return undefined;
    const dot = t.indexOf('.');
    const schema = t.slice(0, dot);
    return schema === this.defaultSchema && !index.schema ? { name: t.slice(dot + 1) } : { schema, name: t.slice(dot + 1) };
  }

  /** A `schema.table` key as a Rel, without the schema when it is the default one and the SQL wrote none. */
  private relOfKey(k: string, written?: Rel): Rel {
    const dot = k.indexOf('.');
    const schema = k.slice(0, dot);
    return schema === this.defaultSchema && !written?.schema ? { name: k.slice(dot + 1) } : { schema, name: k.slice(dot + 1) };
  }

  /** The foreign keys of a table (from the target database and the linted files), not dropped since. */
  foreignKeysOf(rel: Rel): Array<{ name: string; references: Rel }> {
    const k = this.key(rel);
    const out = [...(this.stats(rel)?.foreignKeys ?? []).map((f) => ({ name: f.name, references: this.relOfKey(f.references, rel) })), ...(this.batch.foreignKeys.get(k) ?? [])];
    return out.filter((f, i) => !this.batch.droppedConstraints.has(`${k}.${f.name}`) && out.findIndex((o) => o.name === f.name) === i);
  }

  /**
   * The CHECK constraints that read a column (from the target database and the linted files), not
   * dropped since; `valid` once validated (added without NOT VALID, or by a VALIDATE CONSTRAINT since).
   */
  checksOn(rel: Rel, column: string): Array<{ name: string; def: string; valid: boolean }> {
    const k = this.key(rel);
    const all = [...(this.stats(rel)?.checks?.[column] ?? []), ...(this.batch.checks.get(`${k}.${column}`) ?? [])];
    return all
      .filter((c, i) => all.findIndex((o) => o.name === c.name) === i && !this.batch.droppedConstraints.has(`${k}.${c.name}`))
      .map((c) => ({ ...c, valid: !/\bNOT\s+VALID\s*$/i.test(c.def) || this.batch.validated.has(`${k}.${c.name}`) }));
  }

  /** The partitions of a partitioned table, in the target database (all levels). */
  partitionsOf(rel: Rel): Rel[] {
    return (this.stats(rel)?.partitions ?? []).map((k) => this.relOfKey(k, rel));
  }

  /** The tables whose foreign keys reference this one, in the target database (one level). */
  referencingTables(rel: Rel): Rel[] {
    return (this.stats(rel)?.referencedBy ?? []).map((k) => this.relOfKey(k, rel));
  }

  /** Whether a constraint of this name exists on the table (target database or linted files): adding one fails with 42710. */
  constraintTaken(rel: Rel, name: string): boolean {
    const k = this.key(rel);
    if (this.batch.droppedConstraints.has(`${k}.${name}`)) return false;
    if (this.stats(rel)?.constraintNames?.includes(name)) return true;
    for (const [key, list] of this.batch.checks) if (key.startsWith(`${k}.`) && list.some((c) => c.name === name)) return true;
    return (this.batch.foreignKeys.get(k) ?? []).some((f) => f.name === name);
  }

  /** Whether the statement runs inside a transaction block (explicit or implicit). */
  inTransaction(s: Statement): boolean {
    return s.tx !== null;
  }

  /** The other statements of the same transaction. */
  sameTransaction(s: Statement): Statement[] {
    if (s.tx === null) return [];
    return this.statements.filter((o) => o !== s && o.tx === s.tx);
  }

  /** Character offset in the file of a parser `location` in statement `s`. */
  offsetOf(s: Statement, location: number): number {
    return this.charAt(s.byteBase + location);
  }

  /** The source text of an expression whose parser `location` is given (relative to the parsed string). */
  exprAt(s: Statement, location: number | undefined): string | undefined {
    if (location === undefined || location < 0) return undefined;
    return exprText(this.sql, this.charAt(s.byteBase + location));
  }

  /** The source text of a clause (a constraint, a column definition) from its parser `location` to the next top-level comma. */
  clauseAt(s: Statement, location: number | undefined): string | undefined {
    if (location === undefined || location < 0) return undefined;
    return clauseText(this.sql, this.charAt(s.byteBase + location));
  }

  /** "~1.2M rows, 350 MB on production", for notes. */
  sizeText(rel: Rel): string | undefined {
    const st = this.stats(rel);
    if (!st || !this.db) return undefined;
    return `${st.rows >= 0 ? `~${count(st.rows)} rows, ` : ''}${formatBytes(st.bytes)} on ${this.db.env}`;
  }
}

export function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return String(Math.round(n));
}
