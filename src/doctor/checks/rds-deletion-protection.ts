import { isProduction, modifyCommand, rdsCheck } from '../rds.js';

/** DOC021: a production-level environment's RDS instance cannot be deleted by one API call or console click. */
export const rdsDeletionProtection = rdsCheck('DOC021', 'rds-delete-protect', async (p, s) => {
  if (p.deletionProtection) return { status: 'ok', detail: `${p.instance} has deletion protection` };
  if (!isProduction(s)) return { status: 'ok', detail: `${p.instance} has no deletion protection (fine for a ${s.env!.protection}-level environment)` };
  return {
    status: 'warn',
    detail: `${p.instance} has no deletion protection: one delete-db-instance call (or console click) removes production`,
    fix: modifyCommand(p, '--deletion-protection --apply-immediately'),
  };
});
