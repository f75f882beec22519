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
  for (const m of local) {
    const rs = byName.get(m.name) ?? [];
    const done = rs.find((r) => r.finished_at !== null);
    const attempts = rs.filter((r) => r.finished_at === null);
    // The latest attempt speaks for the migration (rows come in started_at order, but do not rely on it).
    const failed = attempts.reduce<HistoryRow | undefined>((a, r) => (!a || r.started_at >= a.started_at ? r : a), undefined);
    if (failed && !done && attempts.every((r) => nothingCommitted(readProgress(r.logs)))) {
      // Every failed attempt committed nothing, by stagedb's own record: as good as never run (issue 15 item 5).
      entries.push({
        name: m.name,
        state: 'pending',
        outOfOrder: outOfOrder(m.name),
        retry: { ids: attempts.map((r) => r.id), startedAt: failed.started_at, logs: failed.logs ?? undefined },
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
  const applied = entries.filter((e) => e.state === 'applied' || e.state === 'modified');
  // The most recently finished; migrations applied together can finish within one millisecond (Date's
  // precision), and then the later name is the later migration.
  const when = (e: MigrationEntry) => e.finishedAt?.getTime() ?? -Infinity;
  const lastApplied = applied.reduce<MigrationEntry | undefined>(
    (acc, e) => (!acc || when(e) > when(acc) || (when(e) === when(acc) && compareMigrationNames(e.name, acc.name) > 0) ? e : acc),
    undefined,
  );
  return {
    entries,
    applied: applied.length,
    pending: entries.filter((e) => e.state === 'pending').length,
    failed: entries.filter((e) => e.state === 'failed'),
    modified: entries.filter((e) => e.state === 'modified'),
    missingLocally: entries.filter((e) => e.state === 'missing-locally'),
    outOfOrder: entries.filter((e) => e.outOfOrder),
    retrying: entries.filter((e) => e.retry),
    lastApplied,
  };
}
