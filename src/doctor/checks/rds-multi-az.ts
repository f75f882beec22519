import { StagedbError } from '../../errors.js';
import { NO_RDS, isProduction, modifyCommand, rdsPosture } from '../rds.js';
import type { DoctorCheck } from '../types.js';

/**
 * DOC018: a production-level environment's RDS instance is Multi-AZ (a standby in another zone that
 * takes over in a minute or two). Also where reading the instance fails: the other RDS checks need it.
 */
export const rdsMultiAz: DoctorCheck = {
  code: 'DOC018',
  name: 'rds-multi-az',
  requires: ['DOC001'],
  async run(s) {
    const pending = rdsPosture(s);
    if (!pending) return NO_RDS;
    let p;
    try {
      p = await pending;
    } catch (e) {
      if (!(e instanceof StagedbError)) throw e;
      return { status: 'fail', detail: `cannot read the RDS instance: ${e.message}`, fix: e.fix };
    }
    if (p.multiAz) return { status: 'ok', detail: `${p.instance} (${p.region}) is Multi-AZ` };
    if (!isProduction(s)) return { status: 'ok', detail: `${p.instance} (${p.region}) is single-AZ (fine for a ${s.env!.protection}-level environment)` };
    return {
      status: 'warn',
      detail: `${p.instance} (${p.region}) is single-AZ: if its zone or host fails, production is down until AWS replaces it`,
      fix: `${modifyCommand(p, '--multi-az --apply-immediately')}   (no downtime; doubles the instance cost)`,
    };
  },
};
