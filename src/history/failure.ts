import { redact } from '../redact.js';
import { lineColumn, type SqlStatement } from './split.js';

/** What PostgreSQL said about a failed statement, located in the migration file. */
export interface StatementFailure {
  message: string;
  code?: string;
  detail?: string;
  hint?: string;
  where?: string;
  line?: number;
  column?: number;
  /** The failing statement's text, when it could be located. */
  statement?: string;
}

interface PgError {
  message?: string;
  code?: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
}

/**
 * Locates a driver error in the file. `offset` is where the failing statement starts in the file, or
 * `undefined` when the whole file was sent as one query (then only PostgreSQL's `position` can say
 * where). `position` is 1-based, in characters of the query that was sent.
 */
export function describeFailure(e: unknown, script: string, statements: SqlStatement[], offset: number | undefined): StatementFailure {
  const err = (e ?? {}) as PgError;
  const out: StatementFailure = {
    message: redact(err.message ?? String(e)),
    code: err.code,
    detail: err.detail ? redact(err.detail) : undefined,
    // All of these reach the terminal and _prisma_migrations.logs; `where` can quote a whole SQL statement.
    hint: err.hint ? redact(err.hint) : undefined,
    where: err.where ? redact(err.where) : undefined,
  };
  let at: number | undefined;
  // Run-time errors (a missing FK target, a failed cast, NULLs in a new NOT NULL column) carry no
  // position: the start of the statement that was sent is the best location there is.
  if (err.position) at = advance(script, offset ?? 0, Number(err.position) - 1);
  else if (offset !== undefined) at = offset;
  if (at !== undefined && Number.isFinite(at)) {
    const lc = lineColumn(script, at);
    out.line = lc.line;
    out.column = lc.column;
    const stmt = [...statements].reverse().find((s) => s.start <= at!);
    if (stmt) out.statement = redact(stmt.text.length > 500 ? `${stmt.text.slice(0, 500)}…` : stmt.text);
  }
  return out;
}

/**
 * `from` moved on by `chars` characters. PostgreSQL counts characters (code points), JavaScript
 * indexes UTF-16 units: each emoji or other astral character before the error is two units here.
 */
function advance(text: string, from: number, chars: number): number {
  let at = from;
  for (let k = 0; k < chars && at < text.length; k++) at += text.codePointAt(at)! > 0xffff ? 2 : 1;
  return at;
}

/** The text stored in `_prisma_migrations.logs`, in the spirit of Prisma's own (code, then message). */
export function failureLogs(f: StatementFailure): string {
  const lines = [];
  if (f.code) lines.push(`Database error code: ${f.code}`, '');
  lines.push('Database error:', `ERROR: ${f.message}`);
  if (f.detail) lines.push(`DETAIL: ${f.detail}`);
  if (f.hint) lines.push(`HINT: ${f.hint}`);
  if (f.line !== undefined) lines.push('', `Position: line ${f.line}, column ${f.column}`);
  if (f.statement) lines.push(`Statement: ${f.statement}`);
  return lines.join('\n');
}
