import type { ApplyMode } from './mode.js';
import { lineColumn, type SqlStatement } from './split.js';

/**
 * How far an attempt at a migration got, kept in its `_prisma_migrations` row's `logs` while it runs
 * and after it fails (issue 12 item 6, issue 15 item 5). The row itself stays what Prisma writes for
 * a migration that has not finished — `finished_at` and `rolled_back_at` NULL — so Prisma, and any
 * stagedb that does not know this line, still see a failed migration and refuse to go on (P3009).
 * Only a stagedb that reads this line, and holds the deploy lock (so the attempt's session is gone),
 * may conclude that nothing of the attempt was committed and run the migration again.
 *
 * Statements are counted as `splitStatements` splits the file, from 1 in messages. Every statement
 * that can run in a transaction commits together with the update of this line, so `committed` is
 * exact; a statement that cannot (CREATE INDEX CONCURRENTLY, VACUUM, …) is announced before it runs
 * (`uncertain`) and counted after, so a kill in between is reported as "may have been committed".
 */
export interface Progress {
  mode: ApplyMode;
  /** Statements in the file. */
  statements: number;
  /** Statements 1 … `committed` are committed, for certain. */
  committed: number;
  /** Index (0-based) of a statement that runs outside any transaction and was started: it may have committed. */
  uncertain?: number;
  /** The file ran as one script whose progress cannot be told (an unusual transaction structure). */
  unknown?: boolean;
}

const MARK = 'stagedb-progress: ';

/** The line (and a sentence for people above it) to store in `logs`; after `failure`'s own lines when given. */
export function progressLogs(p: Progress, statements?: SqlStatement[], script?: string, failure?: string): string {
  const json = JSON.stringify({ v: 1, ...p });
  const human = `stagedb: ${describeProgress(p, statements, script)}`;
  return `${failure ? `${failure}\n\n` : ''}${human}\n${MARK}${json}`;
}

/** The progress line of a row's `logs`, when a stagedb wrote one. */
export function readProgress(logs: string | null | undefined): Progress | undefined {
  if (!logs) return undefined;
  const at = logs.lastIndexOf(MARK);
  if (at < 0 || (at > 0 && logs[at - 1] !== '\n')) return undefined;
  try {
    const o = JSON.parse(logs.slice(at + MARK.length).split('\n')[0]!) as Record<string, unknown>;
    if (o.v !== 1 || typeof o.committed !== 'number' || typeof o.statements !== 'number' || typeof o.mode !== 'string') return undefined;
    if (o.uncertain !== undefined && typeof o.uncertain !== 'number') return undefined;
    return { mode: o.mode as ApplyMode, statements: o.statements, committed: o.committed, uncertain: o.uncertain as number | undefined, unknown: o.unknown === true ? true : undefined };
  } catch {
    return undefined;
  }
}

/** `logs` without the machine-readable line (for showing people). */
export function humanLogs(logs: string): string {
  return logs
    .split('\n')
    .filter((l) => !l.startsWith(MARK))
    .join('\n');
}

/** Nothing of the attempt was committed, provably: the migration may simply run again. */
export function nothingCommitted(p: Progress | undefined): boolean {
  return p !== undefined && !p.unknown && p.committed === 0 && p.uncertain === undefined;
}

/**
 * Which statements were committed, which may have been, which were not, in words; with line numbers
 * and the uncertain statement's first line when the file (as it is now) still has that many statements.
 */
export function describeProgress(p: Progress, statements?: SqlStatement[], script?: string): string {
  if (p.unknown) return 'it ran as one script: which of its statements were committed cannot be told; check the database';
  if (p.mode === 'transaction') return 'nothing of it was committed (it ran in one transaction)';
  const same = statements && script !== undefined && statements.length === p.statements ? statements : undefined;
  const line = (i: number) => (same ? lineColumn(script!, same[i]!.start).line : undefined);
  const range = (from: number, to: number, of = '') => {
    // statements from … to-1 (0-based), as "statement 3 (line 7)" or "statements 3–5 of 9 (lines 7–12)"
    const n = to - from;
    const words = `${n === 1 ? `statement ${from + 1}` : `statements ${from + 1}–${to}`}${of}`;
    if (!same) return words;
    const a = line(from)!;
    const b = line(to - 1)!;
    return `${words} (${a === b ? `line ${a}` : `lines ${a}–${b}`})`;
  };
  const parts: string[] = [];
  const firstNot = p.uncertain !== undefined ? p.uncertain + 1 : p.committed;
  if (p.committed === 0 && p.uncertain === undefined) return p.statements === 1 ? 'its one statement was not committed' : `none of its ${p.statements} statements was committed`;
  if (p.committed > 0) parts.push(`${range(0, p.committed, ` of ${p.statements}`)} ${p.committed === 1 ? 'was' : 'were'} committed`);
  if (p.uncertain !== undefined) {
    const first = same ? `: ${same[p.uncertain]!.text.split('\n')[0]!.slice(0, 80)}` : '';
    parts.push(`${range(p.uncertain, p.uncertain + 1)}${first} may have been committed (it runs outside a transaction and was cut off)`);
  }
  if (firstNot < p.statements) parts.push(`${range(firstNot, p.statements)} ${p.statements - firstNot === 1 ? 'was' : 'were'} not`);
  return parts.join('; ');
}
