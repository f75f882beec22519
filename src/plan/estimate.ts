/**
 * A rough duration for the statements of a plan whose time grows with a table's size (issue 15): an
 * index build, a table rewrite, a scan that validates a constraint. The size is the table's there
 * (pg_relation_size of the heap, pg_total_relation_size for a rewrite, which also rebuilds every
 * index); the speed is a conservative constant, not a measurement of that server:
 *
 * - a validating scan (VALIDATE CONSTRAINT, SET NOT NULL, a CHECK or foreign key added with its
 *   check): {@link RATES.scan} MB/s of heap, a sequential read at about an AWS gp3 volume's baseline
 *   throughput (125 MB/s);
 * - an index build (CREATE INDEX, a primary key or unique constraint, REINDEX): {@link RATES.index}
 *   MB/s of heap, read, sorted (spilling to disk past maintenance_work_mem's 64 MB default) and written;
 *   CONCURRENTLY reads the table twice, and first waits for the transactions already running;
 * - a table rewrite (ALTER COLUMN TYPE, a volatile default, …): {@link RATES.rewrite} MB/s of the table
 *   with its indexes, every row written again with its WAL, then every index rebuilt.
 *
 * Lock waits are not in it: a statement first waits for its lock (lock_timeout bounds that). Statements
 * on new or empty tables take no time worth saying; other statements are not estimated.
 */
import type { Finding } from '../lint/types.js';
import type { SqlStatement } from '../history/split.js';

/** MB/s (10^6 bytes) for each kind of work: conservative constants (see the top of this file and docs/release.md). */
export const RATES = { scan: 100, index: 25, rewrite: 15 } as const;

export type EstimatedOperation = 'validating scan' | 'index build' | 'concurrent index build' | 'table rewrite';

/** One statement's estimate. */
export interface StatementEstimate {
  /** `<migration>:<line>`. */
  at: string;
  operation: EstimatedOperation;
  /** The table as the SQL names it. */
  table: string;
  seconds: number;
  /** What the number is made of, e.g. `1.2 GB heap at 25 MB/s`. */
  basis: string;
}

/** A migration's estimate: the sum of its statements'. */
export interface MigrationEstimate {
  seconds: number;
  statements: StatementEstimate[];
}

/** A table's size there: undefined when it does not exist (yet). */
export interface TableSize {
  bytes: number;
  heapBytes: number;
}

/** A statement whose time can be estimated, before the sizes are known. */
export interface EstimateCandidate {
  at: string;
  operation: EstimatedOperation;
  table: string;
}

const INDEX_BUILD = /^(CREATE (UNIQUE )?INDEX|REINDEX)\b|\bADD (CONSTRAINT \S+ )?(PRIMARY KEY|UNIQUE)\b/;
const NAME = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const QUALIFIED = `(${NAME}(?:\\s*\\.\\s*${NAME})?)`;
/** Work that no lint rule flags, so no finding names its table: read from the statement itself. */
const UNFLAGGED: Array<[RegExp, EstimatedOperation]> = [
  [new RegExp(`^CREATE\\s+(?:UNIQUE\\s+)?INDEX\\s+CONCURRENTLY\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(?:${NAME}\\s+)?ON\\s+(?:ONLY\\s+)?${QUALIFIED}`, 'i'), 'concurrent index build'],
  [new RegExp(`^ALTER\\s+TABLE\\s+(?:IF\\s+EXISTS\\s+)?(?:ONLY\\s+)?${QUALIFIED}\\s+VALIDATE\\s+CONSTRAINT\\b`, 'i'), 'validating scan'],
];

/**
 * The statements of one migration whose time can be estimated: those a lint finding says rewrite or
 * scan a table (the table its claim locks), and the concurrent index builds and VALIDATE CONSTRAINTs
 * no rule flags. One per statement line.
 */
export function estimateCandidates(migration: string, script: string, statements: SqlStatement[], findings: Finding[]): EstimateCandidate[] {
  const out: EstimateCandidate[] = [];
  const seen = new Set<number>();
  for (const f of findings) {
    const c = f.claim;
    if (!c || !(c.rewrites || c.scans) || seen.has(f.line)) continue;
    const table = (c.locks.find((l) => !l.indexes) ?? c.locks[0])?.on;
    if (!table) continue;
    seen.add(f.line);
    const head = f.statement.replace(/\s+/g, ' ').trim().toUpperCase();
    out.push({ at: `${migration}:${f.line}`, table, operation: c.rewrites ? 'table rewrite' : !INDEX_BUILD.test(head) ? 'validating scan' : /\bCONCURRENTLY\b/.test(head) ? 'concurrent index build' : 'index build' });
  }
  for (const s of statements) {
    const line = script.slice(0, s.start).split('\n').length;
    if (seen.has(line)) continue;
    for (const [re, operation] of UNFLAGGED) {
      const m = re.exec(s.text.replace(/\s+/g, ' ').trim());
      if (!m) continue;
      seen.add(line);
      out.push({ at: `${migration}:${line}`, table: m[1]!.replace(/\s*\.\s*/, '.'), operation });
      break;
    }
  }
  return out;
}

const MB = 1e6;

/** The estimates of `candidates` with the sizes there; a table that does not exist (yet) or holds nothing gives none. */
export function estimate(candidates: EstimateCandidate[], sizes: Map<string, TableSize>): MigrationEstimate | undefined {
  const statements: StatementEstimate[] = [];
  for (const c of candidates) {
    const size = sizes.get(c.table);
    if (!size || size.heapBytes === 0) continue;
    const [bytes, what, rate, passes] =
      c.operation === 'table rewrite'
        ? [size.bytes, 'with its indexes', RATES.rewrite, 1]
        : c.operation === 'validating scan'
          ? [size.heapBytes, 'heap', RATES.scan, 1]
          : [size.heapBytes, 'heap', RATES.index, c.operation === 'concurrent index build' ? 2 : 1];
    const seconds = (bytes / MB / rate) * passes;
    statements.push({
      at: c.at,
      operation: c.operation,
      table: c.table,
      seconds,
      basis: `${formatMB(bytes)} ${what} at ${rate} MB/s${passes > 1 ? ', read twice, after the transactions already running end' : ''}`,
    });
  }
  if (statements.length === 0) return undefined;
  return { seconds: statements.reduce((n, s) => n + s.seconds, 0), statements };
}

/** Decimal megabytes, the unit of {@link RATES}' MB/s (format.ts writes PostgreSQL's 1024-based units). */
function formatMB(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(bytes >= 1e8 ? 0 : 1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/**
 * An estimate's seconds as `< 1 s`, `~40 s`, `~3 min`, `~2 h 10 min`: never more precision than it has
 * (format.ts's formatDuration writes measured milliseconds).
 */
export function formatEstimate(seconds: number): string {
  if (seconds < 1) return '< 1 s';
  if (seconds < 60) return `~${Math.round(seconds)} s`;
  if (seconds < 3600) return `~${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds - h * 3600) / 60);
  return `~${h} h${m ? ` ${m} min` : ''}`;
}
