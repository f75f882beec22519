import type { ResolvedEnvironment } from '../config/environments.js';
import { usageError } from '../errors.js';
import { isBackupId } from './manifest.js';
import { openStorage, type BackupListing, type BackupStorage, type StoredBackup } from './storage.js';

export interface ListResult extends BackupListing {
  env: string;
  location: string;
  storage: 'local' | 's3';
}

/** Every backup of an environment's storage, newest first, with what interrupted runs left behind. */
export async function listBackups(env: ResolvedEnvironment): Promise<ListResult> {
  const storage = await openStorage(env.backup.storage, env.name);
  const listing = await storage.list();
  return { env: env.name, location: storage.location, storage: storage.kind, ...listing };
}

/**
 * Finds one complete backup: `latest`, or an id as `backup list` shows it. An interrupted backup is
 * never found: its id is reported as incomplete.
 */
export async function findBackup(storage: BackupStorage, ref: string): Promise<StoredBackup> {
  if (ref !== 'latest' && isBackupId(ref)) {
    // The usual case, an id from `backup list`: one manifest read, not a listing of every backup (S3: one GET per backup).
    try {
      return { id: ref, manifest: await storage.readManifest(ref) };
    } catch (e) {
      if ((e as { code?: string }).code !== 'E_BACKUP_NOT_FOUND') throw e;
    }
  }
  const listing = await storage.list();
  if (ref === 'latest') {
    const newest = listing.backups[0];
    if (!newest) {
      throw usageError('E_BACKUP_NOT_FOUND', `there is no complete backup in ${storage.location}`, 'take one first: stagedb backup --env <environment>');
    }
    return newest;
  }
  const hit = listing.backups.find((b) => b.id === ref);
  if (hit) return hit;
  if (listing.incomplete.some((i) => i.id === ref)) {
    throw usageError('E_BACKUP_INCOMPLETE', `backup ${ref} in ${storage.location} is incomplete (its run was interrupted or failed): it cannot be restored`, 'stagedb backup list shows the complete ones; stagedb backup prune removes the leftovers');
  }
  const damaged = listing.damaged.find((d) => d.id === ref);
  if (damaged) throw usageError('E_BACKUP_DAMAGED', damaged.problem, 'use another backup: stagedb backup list');
  const close = listing.backups.filter((b) => b.id.startsWith(ref)).map((b) => b.id);
  throw usageError(
    'E_BACKUP_NOT_FOUND',
    `there is no backup ${ref} in ${storage.location}`,
    close.length === 1 ? `did you mean ${close[0]}?` : 'stagedb backup list --env <environment> shows the restorable backups (or use "latest")',
  );
}
