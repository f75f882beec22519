import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { readLocalHistory, type LocalHistory } from '../history/local.js';
import { environmentStatus } from '../history/status.js';
import { dumpTooLarge, rdsRestorePointBeforeDeploy, type RdsRestorePoint } from './before-deploy-mode.js';
import { createBackup, type CreateBackupOptions, type CreateBackupResult } from './create.js';

export interface BackupBeforeDeployResult {
  /** The pg_dump backup taken, when one was. */
  backup?: CreateBackupResult;
  /** The RDS snapshot or point in time recorded instead (`backupBeforeDeploy: 'snapshot' | 'pitr'`). */
  rds?: RdsRestorePoint;
  /** Why none was taken. */
  skipped?: string;
}

/**
 * The backup `deploy` takes before it migrates an environment whose config asks for one
 * (`backupBeforeDeploy`, on by default for production-level environments): a pg_dump (refused above
 * `backup.beforeDeployDumpLimit`, with the choices), or an RDS snapshot or point in time
 * (before-deploy-mode.ts). Nothing pending, no backup: there is nothing a restore point would
 * protect. A backup that fails stops the deploy: the error says the migrations were not applied and
 * why the backup failed.
 */
export async function backupBeforeDeploy(
  o: Omit<CreateBackupOptions, 'reason' | 'refuseSize'> & { env: ResolvedEnvironment; migrationsDir: string; local?: LocalHistory; onNote?: (message: string) => void },
): Promise<BackupBeforeDeployResult> {
  const { env } = o;
  if (!env.backup.beforeDeploy) return { skipped: `backupBeforeDeploy is off for ${env.name}` };
  const status = await environmentStatus(env, o.local ?? readLocalHistory(o.migrationsDir));
  // A status error (unreachable, not baselined) is deploy's to report, with its own fix.
  if (status.state === 'error' || !status.history) return { skipped: 'the deploy checks the database first' };
  if (status.history.pending === 0) return { skipped: 'nothing to apply' };
  const mode = env.backup.beforeDeployMode;
  const limit = env.backup.beforeDeployDumpLimit;
  try {
    if (mode === 'snapshot' || mode === 'pitr') {
      return { rds: await rdsRestorePointBeforeDeploy({ env, mode, processEnv: o.processEnv, createdBy: o.createdBy, onNote: o.onNote }) };
    }
    const refuseSize = limit > 0 ? (size: number) => (size > limit ? dumpTooLarge(env, size) : undefined) : undefined;
    return { backup: await createBackup({ ...o, reason: 'before-deploy', refuseSize }) };
  } catch (e) {
    if (!(e instanceof StagedbError) || e.code === 'E_BACKUP_TOO_LARGE') throw e;
    throw new StagedbError(e.kind, e.code, `${env.name}: no migration was applied: the backup before deploy failed: ${e.message}`, {
      details: e.details,
      fix: e.fix ? `${e.fix}; then deploy again` : undefined,
      cause: e,
    });
  }
}
