import { environmentsSharingDatabase, sameDatabaseError } from '../../config/same-database.js';
import type { DoctorCheck } from '../types.js';

/**
 * DOC016: no other environment's URL reaches this environment's database (same host, port and
 * database name; localhost and 127.0.0.1 count as one). Two environments on one database share its
 * history and its protection marker: a staging deploy would run on development and mark it staging.
 */
export const distinctDatabase: DoctorCheck = {
  code: 'DOC016',
  name: 'distinct-database',
  requires: ['DOC003'],
  async run(s) {
    const env = s.env!;
    const others = environmentsSharingDatabase(s.config, env, s.processEnv);
    if (others.length > 0) {
      const e = sameDatabaseError(env, others);
      return { status: 'fail', detail: e.message, fix: e.fix };
    }
    const n = Object.keys(s.config.environments).length - 1;
    return { status: 'ok', detail: n === 0 ? 'the only environment' : `no other environment (of ${n}) resolves to this database` };
  },
};
