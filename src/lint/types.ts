import type { DatabaseContext, Rel, Runner, Statement } from './input-model.js';

export type { DatabaseContext, LintInput, Rel, Runner, Statement, TableStats } from './input-model.js';

/**
 * The lint's data model. Everything here is plain data: the CLI renders it as text, `--json` or
 * GitHub annotations, and the deploy gate reads `errors`.
 */

/** How bad a finding is. `info` never fails a run; `warning` exits 1; `error` exits 2 and blocks the deploy gate. */
export type Severity = 'error' | 'warning' | 'info';
/** A severity as configured: `off` disables the rule. */
export type SeveritySetting = Severity | 'off';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** One hazard in one statement. */
export interface Finding {
  /** Stable rule code, e.g. `SDB001`. */
  code: string;
  /** Rule name, e.g. `create-index-concurrently`. */
  rule: string;
  severity: Severity;
  file: string;
  migration?: string;
  /** 1-based, in characters (the parser counts bytes; converted). */
  line: number;
  column: number;
  endLine: number;
  /** The statement as written in the file. */
  statement: string;
  /** One line: what this statement does wrong. */
  message: string;
  /** The lock it takes, and on what, e.g. `SHARE on "Post" (blocks writes) for the whole build`. */
  lock?: string;
  /** Why it hurts. */
  why: string;
  /** The safe alternative, as SQL for this statement where one exists (else in words). */
  fix?: string;
  /** The table the hazard is about, as written. */
  table?: string;
  /** What the statement does to the database, as data: the same facts as `lock`, checked against PostgreSQL by the lock oracle. */
  claim?: Claim;
  /** Why the severity differs from the rule's default (table size, run mode, …). */
  note?: string;
}

/** A finding silenced by a `stagedb-lint-disable…` directive, with the reason given. */
export interface SuppressedFinding extends Finding {
  reason: string;
}

export interface LintResult {
  /** Files in the order linted. */
  files: Array<{ path: string; migration?: string; statements: number; mode: string; modeReason: string }>;
  findings: Finding[];
  suppressed: SuppressedFinding[];
  counts: Record<Severity, number>;
  /** The highest severity found (undefined: nothing found). */
  highest?: Severity;
  /** The database the sizes came from, when one was asked. */
  context?: { env: string; serverVersionNum: number; tables: number };
}

/** Options every lint run takes. */
export interface LintOptions {
  runner?: Runner;
  /**
   * The `lock_timeout` the runner sets before every file, in ms (stagedb: the environment's
   * `lockTimeout`, default 5000). 0 or undefined: none, so a file without its own `SET lock_timeout`
   * can wait for a lock forever while every query on that table queues behind it.
   */
  runnerLockTimeoutMs?: number;
  /**
   * The `statement_timeout` the runner sets, in ms (stagedb: the environment's `statementTimeout`;
   * prisma: none). 0 or undefined: none, unless the file sets one.
   */
  runnerStatementTimeoutMs?: number;
  /** Severity per rule code or name (config `lint.rules`). */
  severities?: Record<string, SeveritySetting>;
  /** Below this total size a table counts as small: size-bound hazards become `info` (default 10 MiB). */
  smallTableBytes?: number;
  /** From this total size a table counts as large: size-bound hazards become `error` (default 1 GiB). */
  largeTableBytes?: number;
  /** The target database; without it every table not created by the linted files counts as live, of unknown size. */
  database?: DatabaseContext;
  /** PostgreSQL version to assume without a database (server_version_num; default 160000). */
  serverVersionNum?: number;
}

/** Lock modes, weakest first (PostgreSQL's table-level locks). */
export type LockMode =
  | 'ACCESS SHARE'
  | 'ROW SHARE'
  | 'ROW EXCLUSIVE'
  | 'SHARE UPDATE EXCLUSIVE'
  | 'SHARE'
  | 'SHARE ROW EXCLUSIVE'
  | 'EXCLUSIVE'
  | 'ACCESS EXCLUSIVE';

/** One lock a statement takes, as lint claims it. */
export interface LockClaim {
  /** The relation as the SQL names it (`"Post"`), or, with `indexes`, the table whose every index it locks. */
  on: string;
  mode: LockMode;
  /** The lock is on every index of `on`, not on the table itself. */
  indexes?: boolean;
}

/**
 * What a finding says the statement does, as machine-readable facts: the lock text shown to the user is
 * written from these, and test/integration/lint-oracle.test.ts runs the statement on PostgreSQL and
 * checks each one (pg_locks, the relfilenode, pg_stat_xact_user_tables / DEBUG1, a blocked SELECT).
 */
export interface Claim {
  /** The strongest lock it takes on each relation it names (others it takes are weaker than SHARE). */
  locks: LockClaim[];
  /** The table gets new storage (a new relfilenode): every row is written again (or, for TRUNCATE, none is kept). */
  rewrites: boolean;
  /** It reads every row of the table (a scan, an index build, a check) while it holds the locks. */
  scans: boolean;
  /** Plain SELECTs on the table wait while it holds its locks (ACCESS EXCLUSIVE on the table or one of its indexes). */
  blocksReads: boolean;
  /** INSERT, UPDATE and DELETE wait (SHARE or stronger). */
  blocksWrites: boolean;
  /** The SQLSTATE PostgreSQL fails it with, as it would run (e.g. `25001`), when the hazard is a certain failure. */
  fails?: string;
}

/** What a rule reports; the runner adds position, severity and suppression. */
export interface Hit {
  message: string;
  why: string;
  lock?: string;
  /** The facts behind `lock` (see `held()` in locks.ts, which writes both). */
  claim?: Claim;
  fix?: string;
  /** The table whose size decides the severity of size-bound rules. */
  table?: Rel;
  /** The parser `location` of the part at fault (a column, a constraint), for a precise line/column. */
  at?: number;
  /** Overrides the rule's default severity (e.g. a hazard that certainly fails). */
  severity?: Severity;
  note?: string;
}

/** A lint rule: one file under src/lint/rules/, one stable code. */
export interface Rule {
  code: string;
  name: string;
  /** One line, for `stagedb lint --rules` and the README. */
  summary: string;
  defaultSeverity: SeveritySetting;
  /** The hazard grows with the table: with a database, small tables make it `info`, large ones `error`. */
  sizeBound?: boolean;
  /** The statement kinds it looks at (parser node names, e.g. `AlterTableStmt`); absent: every statement. */
  kinds?: readonly string[];
  /**
   * For `ALTER TABLE` statements: the subcommands (`AT_AddColumn`, …) it looks at; a statement with none
   * of them skips the rule. Absent: every `ALTER TABLE` it takes by `kinds`.
   */
  subtypes?: readonly string[];
  check(s: Statement, ctx: import('./file-context.js').FileContext): Hit[] | Hit | undefined;
}
