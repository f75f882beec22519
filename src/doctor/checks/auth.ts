import { ensureConnected } from '../connection.js';
import type { DoctorCheck } from '../types.js';

/** DOC007: the server accepts the user and password (pg_hba.conf allows this user from this host). */
export const auth: DoctorCheck = {
  code: 'DOC007',
  name: 'auth',
  requires: ['DOC006'],
  async run(s) {
    await ensureConnected(s);
    const err = s.connectError;
    if (err?.code === 'E_AUTH') return { status: 'fail', detail: err.message, fix: err.fix };
    if (err && err.code !== 'E_DB_MISSING') return { status: 'fail', detail: err.message, fix: err.fix };
    return { status: 'ok', detail: `logged in as ${s.env!.directInfo.user || '(default user)'}` };
  },
};
