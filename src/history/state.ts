import { checksumMatches } from './checksum.js';
import { compareMigrationNames, hasTimestamp, type LocalMigration } from './local.js';
import { nothingCommitted, readProgress, type Progress } from './progress.js';
import type { HistoryRow, MigrationRow } from './table.js';

export type MigrationState = 'applied' | 'pending' | 'failed' | 'modified' | 'missing-locally';

export interface MigrationEntry {
  name: string;
  state: MigrationState;
  /** For pending migrations that sort before the newest applied one: someone merged an older branch. */
  outOfOrder?: boolean;
  finishedAt?: Date;
  startedAt?: Date;
  /** Logs of a failed attempt. */
  logs?: string;
  /** A failed attempt's progress record, when stagedb wrote one (see progress.ts). */
  progress?: Progress;
  /**
   * For a pending migration whose failed attempts provably committed nothing (a stagedb progress record
   * says so): the rows deploy marks rolled back before it runs the migration again.
   */
  retry?: { ids: string[]; startedAt: Date; logs?: string };
  local?: LocalMigration;
}

export interface HistoryState {
  entries: MigrationEntry[];
  applied: number;
  pending: number;
  failed: MigrationEntry[];
  modified: MigrationEntry[];
  missingLocally: MigrationEntry[];
  outOfOrder: MigrationEntry[];
  /** Pending migrations with failed attempts that committed nothing: deploy runs them again. */
  retrying: MigrationEntry[];
  lastApplied?: MigrationEntry;
}

/**
 * Compares the migrations folder with `_prisma_migrations`, with Prisma's rules: a row with
 * `rolled_back_at` set no longer counts; a row with neither `finished_at` nor `rolled_back_at` is a
 * failed migration that blocks deploys until resolved — unless stagedb's progress record in its
 * `logs` proves that nothing of it was committed: then it is pending again. Pure: no I/O.
 */
export function compareHistory(local: LocalMigration[], rows: HistoryRow[]): HistoryState {
  const live = rows.filter((r) => r.rolled_back_at === null);
  const byName = new Map<string, HistoryRow[]>();
  for (const r of live) {
    const list = byName.get(r.migration_name);
    if (list) list.push(r);
    else byName.set(r.migration_name, [r]);
  }
  const localNames = new Set(local.map((m) => m.name));

  const entries: MigrationEntry[] = [];
  // "Out of order" (a stagedb check; Prisma has none) means "made before the newest applied migration",
  // which only timestamped names can tell: a folder named "init" or "baseline" sorts after every
  // timestamp, and must not make every later migration look older than it (issue 19 item 7).
  let newestApplied: string | undefined;
  for (const r of live) {
    if (r.finished_at !== null && hasTimestamp(r.migration_name) && (newestApplied === undefined || compareMigrationNames(r.migration_name, newestApplied) > 0)) newestApplied = r.migration_name;
  }
  const outOfOrder = (name: string) => newestApplied !== undefined && hasTimestamp(name) && compareMigrationNames(name, newestApplied) < 0;
  // One pass over each migration's rows (usually one): this loop runs for every migration of the history.
  for (const m of local) {
    const rs = byName.get(m.name);
    let done: HistoryRow | undefined;
    let attempts: HistoryRow[] | undefined;
    // The latest attempt speaks for the migration (rows come in started_at order, but do not rely on it).
    let failed: HistoryRow | undefined;
    if (rs) {
      for (const r of rs) {
        if (r.finished_at !== null) {
          done ??= r;
          continue;
        }
        (attempts ??= []).push(r);
        if (!failed || r.started_at >= failed.started_at) failed = r;
      }
    }
    if (failed && !done && attempts!.every((r) => nothingCommitted(readProgress(r.logs)))) {
      // Every failed attempt committed nothing, by stagedb's own record: as good as never run (issue 15 item 5).
      entries.push({
        name: m.name,
        state: 'pending',
        outOfOrder: outOfOrder(m.name),
        retry: { ids: attempts!.map((r) => r.id), startedAt: failed.started_at, logs: failed.logs ?? undefined },
        local: m,
      });
    } else if (failed) {
      entries.push({ name: m.name, state: 'failed', startedAt: failed.started_at, logs: failed.logs ?? undefined, progress: readProgress(failed.logs), local: m });
    } else if (done) {
      // The exact checksum first: re-hashing line-ending variants of every file is for the rare mismatch.
      const state = done.checksum === m.checksum || checksumMatches(m.script, done.checksum) ? 'applied' : 'modified';
      entries.push({ name: m.name, state, finishedAt: done.finished_at!, startedAt: done.started_at, local: m });
    } else {
      entries.push({ name: m.name, state: 'pending', outOfOrder: outOfOrder(m.name), local: m });
    }
  }
  const seenMissing = new Set<string>();
  for (const r of live) {
    if (localNames.has(r.migration_name) || seenMissing.has(r.migration_name)) continue;
    seenMissing.add(r.migration_name);
    const failed = r.finished_at === null;
    entries.push({
      name: r.migration_name,
      state: failed ? 'failed' : 'missing-locally',
      finishedAt: r.finished_at ?? undefined,
      startedAt: r.started_at,
      logs: r.logs ?? undefined,
      progress: failed ? readProgress(r.logs) : undefined,
    });
  }
  entries.sort((a, b) => compareMigrationNames(a.name, b.name));
  let applied = 0;
  let pending = 0;
  const failedEntries: MigrationEntry[] = [];
  const modified: MigrationEntry[] = [];
  const missingLocally: MigrationEntry[] = [];
  const outOfOrderEntries: MigrationEntry[] = [];
  const retrying: MigrationEntry[] = [];
  // The most recently finished; migrations applied together can finish within one millisecond (Date's
  // precision), and then the later name is the later migration.
  let lastApplied: MigrationEntry | undefined;
  let lastTime = -Infinity;
  for (const e of entries) {
    if (e.state === 'applied' || e.state === 'modified') {
      applied++;
      if (e.state === 'modified') modified.push(e);
      const when = e.finishedAt?.getTime() ?? -Infinity;
      if (!lastApplied || when > lastTime || (when === lastTime && compareMigrationNames(e.name, lastApplied.name) > 0)) {
        lastApplied = e;
        lastTime = when;
      }
    } else if (e.state === 'pending') pending++;
    else if (e.state === 'failed') failedEntries.push(e);
    else missingLocally.push(e);
    if (e.outOfOrder) outOfOrderEntries.push(e);
    if (e.retry) retrying.push(e);
  }
  return { entries, applied, pending, failed: failedEntries, modified, missingLocally, outOfOrder: outOfOrderEntries, retrying, lastApplied };
}
