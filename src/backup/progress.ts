/**
 * Progress of a dump or a restore, for a terminal: bytes, rate, how much of the data is done, and an
 * ETA. What is done is measured in table bytes (each table weighs its size at backup time): finished
 * tables count whole, and a table being copied counts by what PostgreSQL reports in
 * `pg_stat_progress_copy` (PostgreSQL 14+): rows against the exact count a restore knows from the
 * manifest; for a dump, which knows only the planner's estimate (none for a table never analyzed,
 * a stale one for a table that has grown since), never more than the bytes copied against the
 * table's size says. (Trusting the estimate alone showed "98 %, 1/8 tables, ETA 11 ms" halfway
 * through a dump whose big table had no estimate: one row copied counted as the whole table.)
 */
export interface Progress {
  phase: 'dump' | 'upload' | 'checksum' | 'download' | 'restore';
  /** Bytes written (dump, upload, download) or read (checksum) so far; undefined for a restore. */
  bytes?: number;
  elapsedMs: number;
  /** Bytes per second, when bytes are counted. */
  bytesPerSecond?: number;
  /** 0…1, when it can be estimated. */
  fraction?: number;
  etaMs?: number;
  /** Tables done / all tables. */
  tables?: { done: number; total: number };
}

interface Entry {
  weight: number;
  /** Rows in the table: exact (a restore's manifest) or estimated (pg_class.reltuples); 0: unknown. */
  rows: number;
  exact: boolean;
  state: 'waiting' | 'running' | 'done';
  live: { rows: number; bytes?: number };
}

/** What `pg_stat_progress_copy` says of one table's COPY: rows, and bytes of COPY text (when reported). */
export interface CopyCount {
  rows: number;
  bytes?: number;
}

/** Table-level progress, fed by pg_dump/pg_restore's --verbose lines and by pg_stat_progress_copy. */
export class TableProgress {
  private readonly entries = new Map<string, Entry>();
  private readonly total: number;

  /** `exact`: the rows are counted, not estimated (a restore's manifest). */
  constructor(tables: Array<{ schema: string; name: string; bytes: number; rows: number; exact?: boolean }>) {
    // An empty table still takes a moment: count it as one page.
    for (const t of tables) this.entries.set(key(t.schema, t.name), { weight: Math.max(t.bytes, 8192), rows: Math.max(t.rows, 0), exact: t.exact ?? false, state: 'waiting', live: { rows: 0 } });
    this.total = [...this.entries.values()].reduce((s, e) => s + e.weight, 0);
  }

  /** A serial run started this table: every table started before it is done. */
  startSerial(k: string): void {
    for (const e of this.entries.values()) if (e.state === 'running') e.state = 'done';
    this.start(k);
  }

  start(k: string): void {
    const e = this.entries.get(k);
    if (e && e.state === 'waiting') e.state = 'running';
  }

  finish(k: string): void {
    const e = this.entries.get(k);
    if (e) e.state = 'done';
  }

  /** pg_dump -j names a finished table without its schema: the first unfinished one of that name. */
  finishByName(name: string): void {
    for (const [k, e] of this.entries) {
      if (e.state !== 'done' && k.endsWith(`.${name}`)) {
        e.state = 'done';
        return;
      }
    }
  }

  /** Rows (and bytes) copied so far of the tables being copied right now. */
  live(rows: Map<string, CopyCount>): void {
    for (const [k, n] of rows) {
      const e = this.entries.get(k);
      if (!e || e.state === 'done') continue;
      e.state = 'running';
      e.live = n;
    }
  }

  allDone(): void {
    for (const e of this.entries.values()) e.state = 'done';
  }

  fraction(): number | undefined {
    if (this.total === 0) return undefined;
    let done = 0;
    for (const e of this.entries.values()) done += e.state === 'done' ? e.weight : e.state === 'running' ? e.weight * runningShare(e) : 0;
    return Math.min(1, done / this.total);
  }

  counts(): { done: number; total: number } {
    let done = 0;
    for (const e of this.entries.values()) if (e.state === 'done') done++;
    return { done, total: this.entries.size };
  }
}

/**
 * How much of a table being copied is done, below 1 (it is done when the tool says so). Exact rows
 * are trusted. An estimate is not: it may be missing or far too low, so the share is at most what
 * the bytes say (COPY text against the table's size on disk: roughly alike, usually a little less,
 * so an under- rather than an over-statement), and without bytes an estimate counts for nothing.
 */
function runningShare(e: Entry): number {
  const byRows = e.rows > 0 ? e.live.rows / e.rows : undefined;
  const byBytes = e.live.bytes !== undefined ? e.live.bytes / e.weight : undefined;
  const share = e.exact ? (byRows ?? byBytes ?? 0) : byBytes === undefined ? 0 : Math.min(byRows ?? byBytes, byBytes);
  return Math.min(0.99, Math.max(0, share));
}

export const key = (schema: string, name: string) => `${schema}.${name}`;

/** Estimates the rest from the part done; none until there is enough to go on. */
export function eta(elapsedMs: number, fraction: number | undefined): number | undefined {
  if (fraction === undefined || fraction < 0.02 || elapsedMs < 500) return undefined;
  return Math.max(0, (elapsedMs * (1 - fraction)) / fraction);
}

// Serial runs narrate each table as it starts; parallel ones (-j) also say when an item finished,
// naming the table without its schema.
const STARTED = /^(?:pg_dump: dumping contents of table|pg_restore: processing data for table) "([^"]+)"$/;
const FINISHED = /^(?:pg_dump|pg_restore): finished item \d+ TABLE DATA (.+)$/;

/** Feeds one --verbose line into the progress; true when it was a progress line. */
export function feedVerbose(p: TableProgress, line: string, parallel: boolean): boolean {
  let m = STARTED.exec(line);
  if (m) {
    if (parallel) p.start(m[1]!);
    else p.startSerial(m[1]!);
    return true;
  }
  if ((m = FINISHED.exec(line))) {
    p.finishByName(m[1]!);
    return true;
  }
  return false;
}

/**
 * What to keep of a tool's stderr for an error report: --verbose narrates every object it touches,
 * and only errors, warnings and their details say what went wrong.
 */
export function isNoise(tool: 'pg_dump' | 'pg_restore' | 'psql', line: string): boolean {
  if (!line.trim()) return true;
  const m = new RegExp(`^${tool}: (.*)$`).exec(line);
  if (!m) return false;
  return !/^(error|warning|detail|hint|fatal|FATAL|ERROR|WARNING|DETAIL|HINT|from TOC entry|while PROCESSING TOC|Command was)/.test(m[1]!);
}
