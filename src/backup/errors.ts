import { StagedbError } from '../errors.js';

/** Errors every backup module raises the same way. */

export const isErrno = (e: unknown, ...codes: string[]): boolean =>
  typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');

export function diskFull(where: string, cause?: unknown): StagedbError {
  return new StagedbError('backup', 'E_DISK_FULL', `the disk holding ${where} is full; nothing was kept of the unfinished file`, {
    fix: 'free space there (stagedb backup prune removes backups the retention policy no longer keeps), or point backup.storage at a bigger disk or at S3',
    cause,
  });
}

/** A local filesystem failure: a full disk, a missing permission, or anything else, said plainly. */
export function fsError(e: unknown, where: string, doing: string): StagedbError {
  if (e instanceof StagedbError) return e;
  if (isErrno(e, 'ENOSPC', 'EDQUOT')) return diskFull(where, e);
  if (isErrno(e, 'EACCES', 'EPERM', 'EROFS')) {
    return new StagedbError('config', 'E_BACKUP_DIR_UNWRITABLE', `cannot ${doing} ${where}: ${(e as Error).message}`, {
      fix: `make ${where} writable for this user, or set backup.storage to another directory`,
      cause: e,
    });
  }
  return new StagedbError('backup', 'E_BACKUP_IO', `cannot ${doing} ${where}: ${(e as Error).message}`, { cause: e });
}

export function corrupt(id: string, what: string): StagedbError {
  return new StagedbError('backup', 'E_BACKUP_CORRUPT', `backup ${id} is corrupt: ${what}`, {
    fix: 'do not restore it; use an older backup (stagedb backup list), and take a new one: stagedb backup --env <environment>',
  });
}
