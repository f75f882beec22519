import type { ResolvedBackup } from '../config/environments.js';
import type { BackupStorage, IncompleteBackup, StoredBackup } from './storage.js';

export interface PruneDecision {
  id: string;
  startedAt: string;
  /** Why it stays; empty when it goes. */
  keptBecause: string[];
}

export interface PrunePlan {
  keep: PruneDecision[];
  remove: PruneDecision[];
  /** Leftovers of interrupted runs that are old enough (or whose process is gone) to remove. */
  leftovers: IncompleteBackup[];
}

/** An interrupted backup's leftovers go once nothing can still be writing them. */
const LEFTOVER_AGE_MS = 24 * 3600 * 1000;

/**
 * The retention policy, as a pure function of the backups (newest first) and the time: keep the
 * newest `keepLast`, the newest backup of each of the last `dailyDays` days (UTC, today included),
 * and always the newest backup whose last verification passed. Everything else goes.
 */
export function planPrune(backups: StoredBackup[], incomplete: IncompleteBackup[], retention: ResolvedBackup['retention'], now = new Date()): PrunePlan {
  const sorted = [...backups].sort((a, b) => (a.manifest.startedAt < b.manifest.startedAt ? 1 : a.manifest.startedAt > b.manifest.startedAt ? -1 : 0));
  const reasons = new Map<string, string[]>(sorted.map((b) => [b.id, []]));
  const keepLast = Math.max(1, retention.keepLast);
  sorted.slice(0, keepLast).forEach((b) => reasons.get(b.id)!.push(`one of the newest ${keepLast}`));
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const firstDay = today - (retention.dailyDays - 1) * 86_400_000;
  const seenDays = new Set<string>();
  for (const b of sorted) {
    const t = new Date(b.manifest.startedAt);
    const day = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
    if (retention.dailyDays <= 0 || day < firstDay || day > today) continue;
    const key = b.manifest.startedAt.slice(0, 10);
    if (seenDays.has(key)) continue;
    seenDays.add(key);
    reasons.get(b.id)!.push(`newest of ${key}`);
  }
  const verified = sorted.find((b) => b.verification?.ok);
  if (verified) reasons.get(verified.id)!.push('newest verified');
  const decisions = sorted.map((b) => ({ id: b.id, startedAt: b.manifest.startedAt, keptBecause: reasons.get(b.id)! }));
  const leftovers = incomplete.filter((i) => !i.active && (i.processGone || !i.since || now.getTime() - i.since.getTime() > LEFTOVER_AGE_MS));
  return { keep: decisions.filter((d) => d.keptBecause.length > 0), remove: decisions.filter((d) => d.keptBecause.length === 0), leftovers };
}

export interface PruneResult extends PrunePlan {
  dryRun: boolean;
  removed: string[];
}

/** Applies the plan to the storage (unless `dryRun`). Each backup goes manifest first. */
export async function pruneBackups(o: { storage: BackupStorage; retention: ResolvedBackup['retention']; dryRun?: boolean; now?: Date }): Promise<PruneResult> {
  const listing = await o.storage.list();
  const plan = planPrune(listing.backups, listing.incomplete, o.retention, o.now);
  const removed: string[] = [];
  if (!o.dryRun) {
    for (const d of plan.remove) {
      await o.storage.remove(d.id);
      removed.push(d.id);
    }
    for (const l of plan.leftovers) await o.storage.removeIncomplete(l);
  }
  return { ...plan, dryRun: Boolean(o.dryRun), removed };
}
