import { checksumMatches } from './checksum.js';
import type { LocalMigration } from './local.js';
import type { HistoryRow } from './table.js';

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
  lastApplied?: MigrationEntry;
}

/**
 * Compares the migrations folder with `_prisma_migrations`, with Prisma's rules: a row with
 * `rolled_back_at` set no longer counts; a row with neither `finished_at` nor `rolled_back_at` is a
 * failed migration that blocks deploys until resolved. Pure: no I/O.
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
  let newestApplied: string | undefined;
  for (const r of live) {
    if (r.finished_at !== null && (newestApplied === undefined || r.migration_name > newestApplied)) newestApplied = r.migration_name;
  }
  for (const m of local) {
    const rs = byName.get(m.name) ?? [];
    const done = rs.find((r) => r.finished_at !== null);
    const failed = rs.find((r) => r.finished_at === null);
    if (failed) {
      entries.push({ name: m.name, state: 'failed', startedAt: failed.started_at, logs: failed.logs ?? undefined, local: m });
    } else if (done) {
      // The exact checksum first: re-hashing line-ending variants of every file is for the rare mismatch.
      const state = done.checksum === m.checksum || checksumMatches(m.script, done.checksum) ? 'applied' : 'modified';
      entries.push({ name: m.name, state, finishedAt: done.finished_at!, startedAt: done.started_at, local: m });
    } else {
      entries.push({ name: m.name, state: 'pending', outOfOrder: newestApplied !== undefined && m.name < newestApplied, local: m });
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
    });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const applied = entries.filter((e) => e.state === 'applied' || e.state === 'modified');
  // The most recently finished; migrations applied together can finish within one millisecond (Date's
  // precision), and then the later name is the later migration.
  const when = (e: MigrationEntry) => e.finishedAt?.getTime() ?? -Infinity;
  const lastApplied = applied.reduce<MigrationEntry | undefined>(
    (acc, e) => (!acc || when(e) > when(acc) || (when(e) === when(acc) && e.name > acc.name) ? e : acc),
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
    lastApplied,
  };
}
