import { StagedbError } from '../errors.js';
import { connect } from '../pg/connect.js';
import type { DoctorState } from './types.js';

/**
 * Opens the one connection the checks after DOC005 share (TLS, authentication and the database all
 * happen in PostgreSQL's one startup exchange), once. Leaves either `client` or `connectError`.
 */
export async function ensureConnected(s: DoctorState): Promise<void> {
  if (s.client || s.connectError) return;
  const env = s.env!;
  try {
    s.client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'doctor', connectTimeoutMs: s.timeoutMs });
    const r = await s.client.query<{ v: string; vn: string }>(`SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS vn`);
    s.serverVersion = r.rows[0]!.v;
    s.serverVersionNum = Number(r.rows[0]!.vn);
  } catch (e) {
    if (!(e instanceof StagedbError)) throw e;
    s.connectError = e;
  }
}
