import { shellQuote } from '../../shell-quote.js';
import { isProduction, rdsCheck } from '../rds.js';

/** DOC020: the RDS instance's storage (and so its backups and snapshots) is encrypted at rest. */
export const rdsEncryption = rdsCheck('DOC020', 'rds-encryption', async (p, s) => {
  if (p.storageEncrypted) return { status: 'ok', detail: `${p.instance}'s storage is encrypted at rest` };
  // Encryption cannot be turned on in place: a copy of a snapshot can be encrypted, and a new instance restored from it.
  const r = `--region ${shellQuote(p.region)}`;
  return {
    status: isProduction(s) ? 'warn' : 'ok',
    detail: `${p.instance}'s storage is not encrypted at rest (nor its backups and snapshots)${isProduction(s) ? '' : ' (accepted for a non-production environment)'}`,
    ...(isProduction(s)
      ? {
          fix: `it cannot be turned on in place: snapshot it (stagedb backup --snapshot --env ${s.env!.name}), then aws rds copy-db-snapshot --source-db-snapshot-identifier <snapshot> --target-db-snapshot-identifier <snapshot>-encrypted --kms-key-id alias/aws/rds ${r} and aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier <snapshot>-encrypted --db-instance-identifier <new instance> ${r}, and point the environment at the new instance`,
        }
      : {}),
  };
});
