import { isProduction, modifyCommand, rdsCheck } from '../rds.js';

/**
 * DOC025: RDS applies PostgreSQL's minor releases (security and bug fixes only, no incompatible change) to a
 * production-level instance in its maintenance window, instead of leaving it on a version with known fixes
 * outstanding until someone remembers.
 */
export const rdsMinorUpgrade = rdsCheck('DOC025', 'rds-minor-upgrade', async (p, s) => {
  const version = p.engineVersion ? `PostgreSQL ${p.engineVersion}` : 'its PostgreSQL';
  const window = p.maintenanceWindow ? ` (maintenance window ${p.maintenanceWindow} UTC)` : '';
  if (p.autoMinorVersionUpgrade) return { status: 'ok', detail: `${p.instance} (${version}) takes minor upgrades automatically${window}` };
  if (!isProduction(s)) return { status: 'ok', detail: `${p.instance} (${version}) does not take minor upgrades automatically (fine for a ${s.env!.protection}-level environment)` };
  return {
    status: 'warn',
    detail: `${p.instance} stays on ${version}: minor upgrades (PostgreSQL's security and bug fixes) are not applied automatically`,
    fix: `${modifyCommand(p, '--auto-minor-version-upgrade')}   (upgrades then happen in the maintenance window${p.maintenanceWindow ? `, ${p.maintenanceWindow} UTC` : ''}: a restart of a minute or less; Multi-AZ fails over first)`,
  };
});
