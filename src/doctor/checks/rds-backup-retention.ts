import { isProduction, modifyCommand, rdsCheck } from '../rds.js';

/** DOC019: the RDS instance keeps automated backups (retention > 0), which is also what point-in-time restore needs. */
export const rdsBackupRetention = rdsCheck('DOC019', 'rds-backups', async (p, s) => {
  if (p.backupRetentionPeriod > 0) {
    const until = p.latestRestorableTime ? `, restorable to any point up to ${p.latestRestorableTime}` : '';
    return { status: 'ok', detail: `automated backups kept ${p.backupRetentionPeriod} day${p.backupRetentionPeriod === 1 ? '' : 's'}${until}` };
  }
  return {
    status: isProduction(s) ? 'fail' : 'warn',
    detail: `${p.instance} keeps no automated backups (retention 0): no point-in-time restore, and AWS keeps nothing of it if it is lost`,
    fix: `${modifyCommand(p, '--backup-retention-period 7 --apply-immediately')}   (1 to 35 days)`,
  };
});
