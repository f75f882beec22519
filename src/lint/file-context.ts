import type { RunModel } from './model.js';
import { clauseText, exprText, relKey } from './sql.js';
import type { DatabaseContext, LintInput, Rel, Runner, Statement, TableStats } from './types.js';

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
  /**
   * `schema.table.column` keys a validated `CHECK (column IS NOT NULL)` of the linted files proves free
   * of NULL (added valid, or added NOT VALID and then validated): a later SET NOT NULL reads no row
   * (PostgreSQL 12+). `schema.constraint` → column key for the ones still NOT VALID.
   */
  readonly provenNotNull = new Set<string>();
  readonly notNullChecks = new Map<string, string>();
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
    return `${st.rows >= 0 ? `~${count(st.rows)} rows, ` : ''}${bytes(st.bytes)} on ${this.db.env}`;
  }
}

export function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return String(Math.round(n));
}

export function bytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}
