import type { ResolvedBackupStorage } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import type { BackupStorage } from './storage-types.js';

export type { BackupListing, BackupStorage, IncompleteBackup, PendingBackup, StoredBackup } from './storage-types.js';
export { notFound } from './storage-types.js';

/** Opens the configured storage. The S3 client is loaded only here, only when S3 is configured. */
export async function openStorage(storage: ResolvedBackupStorage, envName: string): Promise<BackupStorage> {
  if (storage.kind === 'local') {
    const { LocalStorage } = await import('./storage-local.js');
    return new LocalStorage(storage.dir);
  }
  if (!storage.bucket) {
    throw new StagedbError('config', 'E_BACKUP_BUCKET_MISSING', `${storage.bucketProblem ?? `environments.${envName}.backup.storage.s3.bucket is not set`}`, {
      fix: `set it (e.g. BACKUP_BUCKET=my-backups in .env.${envName}, or export it), or name the bucket in the config`,
    });
  }
  const { S3Storage } = await import('./storage-s3.js');
  return new S3Storage({ ...storage, bucket: storage.bucket });
}
