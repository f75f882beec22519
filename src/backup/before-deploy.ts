import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { readLocalHistory, type LocalHistory } from '../history/local.js';
import { environmentStatus } from '../history/status.js';
import { createBackup, type CreateBackupOptions, type CreateBackupResult } from './create.js';

export interface BackupBeforeDeployResult {
  /** The backup taken, when one was. */
  backup?: CreateBackupResult;
  /** Why none was taken. */
  skipped?: string;
}

/**
 * The backup `deploy` takes before it migrates an environment whose config asks for one
 * (`backupBeforeDeploy`, on by default for production-level environments). Nothing pending, no
 * backup: there is nothing a restore point would protect. A backup that fails stops the deploy: the
 * error says the migrations were not applied and why the backup failed.
 */
export async function backupBeforeDeploy(
  o: Omit<CreateBackupOptions, 'reason'> & { env: ResolvedEnvironment; migrationsDir: string; local?: LocalHistory },
): Promise<BackupBeforeDeployResult> {
  if (!o.env.backup.beforeDeploy) return { skipped: `backupBeforeDeploy is off for ${o.env.name}` };
  const status = await environmentStatus(o.env, o.local ?? readLocalHistory(o.migrationsDir));
  // A status error (unreachable, not baselined) is deploy's to report, with its own fix.
  if (status.state === 'error' || !status.history) return { skipped: 'the deploy checks the database first' };
  if (status.history.pending === 0) return { skipped: 'nothing to apply' };
  try {
    return { backup: await createBackup({ ...o, reason: 'before-deploy' }) };
  } catch (e) {
    if (!(e instanceof StagedbError)) throw e;
    throw new StagedbError(e.kind, e.code, `${o.env.name}: no migration was applied: the backup before deploy failed: ${e.message}`, {
      details: e.details,
      fix: e.fix ? `${e.fix}; then deploy again` : undefined,
      cause: e,
    });
  }
}
