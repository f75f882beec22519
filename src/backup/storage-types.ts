import type { Readable } from 'node:stream';
import { StagedbError } from '../errors.js';
import type { BackupManifest, VerifyRecord } from './manifest.js';

/**
 * What a backup storage is (local folder, S3 bucket): the interface both drivers implement, apart from
 * storage.ts, which loads them, so that neither driver imports the module that imports it.
 */

/** A complete backup: its manifest was stored, so all of its files were. */
export interface StoredBackup {
  id: string;
  manifest: BackupManifest;
  /** The last `backup verify`, when there was one. */
  verification?: VerifyRecord;
}

/** What an interrupted or failed backup left behind: never restorable, removed by `backup prune`. */
export interface IncompleteBackup {
  id: string;
  /** When it was started (or last written). */
  since?: Date;
  /** Still being written by a live process on this machine: prune leaves it alone. */
  active: boolean;
  /** The process that wrote it is known to be gone (local storage, same machine): prune removes it at once. */
  processGone?: boolean;
}

export interface BackupListing {
  /** Newest first. */
  backups: StoredBackup[];
  incomplete: IncompleteBackup[];
  /** Backups whose manifest cannot be read: listed as damaged, never restored. */
  damaged: Array<{ id: string; problem: string }>;
}

/** A backup being written. Nothing of it is visible until `commit`. */
export interface PendingBackup {
  /** Local storage: the (hidden) directory pg_dump writes into directly. */
  readonly dir?: string;
  /** Streams one file into the backup (S3: a multipart upload). Resolves once it is stored. */
  write(name: string, body: Readable): Promise<void>;
  /**
   * Stores the manifest, last: from then on the backup is listed and restorable. `gate`, when given,
   * must resolve before the backup becomes visible (a check that runs while the manifest is written);
   * when it rejects, nothing becomes visible and commit rejects with its error.
   */
  commit(manifest: BackupManifest, gate?: Promise<void>): Promise<void>;
  /** Removes whatever was written (best effort: what remains stays invisible). */
  abort(): Promise<void>;
}

/** Where an environment's backups live: a local directory or S3. */
export interface BackupStorage {
  readonly kind: 'local' | 's3';
  /** For messages: a path or `s3://bucket/prefix`. */
  readonly location: string;
  /** Fails early, with what to fix, when the storage cannot be reached or written. */
  check(): Promise<void>;
  begin(id: string): Promise<PendingBackup>;
  list(): Promise<BackupListing>;
  /** @throws usage/E_BACKUP_NOT_FOUND */
  readManifest(id: string): Promise<BackupManifest>;
  /** One stored file, as a stream. */
  read(id: string, file: string): Promise<Readable>;
  /** Local storage: the path of a stored file or directory, for pg_restore to read in place. */
  localPath(id: string, file: string): string | undefined;
  writeVerification(id: string, record: VerifyRecord): Promise<void>;
  /** Deletes a backup, manifest first, so a half-deleted backup is never taken for a complete one. */
  remove(id: string): Promise<void>;
  removeIncomplete(item: IncompleteBackup): Promise<void>;
}

export function notFound(id: string, location: string): StagedbError {
  return new StagedbError('usage', 'E_BACKUP_NOT_FOUND', `there is no complete backup ${id} in ${location}`, {
    fix: 'stagedb backup list --env <environment> shows the restorable backups',
  });
}
