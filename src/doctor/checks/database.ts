import { ensureConnected } from '../connection.js';
import type { DoctorCheck } from '../types.js';

/** DOC008: the database named in the URL exists. */
export const database: DoctorCheck = {
  code: 'DOC008',
  name: 'database',
  requires: ['DOC007'],
  async run(s) {
    await ensureConnected(s);
    const err = s.connectError;
    if (err) return { status: 'fail', detail: err.message, fix: err.fix };
    return { status: 'ok', detail: `database ${s.env!.directInfo.database} exists (PostgreSQL ${s.serverVersion?.split(' ')[0]})` };
  },
};
