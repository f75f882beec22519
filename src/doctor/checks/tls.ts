import { ensureConnected } from '../connection.js';
import { isLoopback } from '../timeout.js';
import type { DoctorCheck } from '../types.js';

const RDS_BUNDLE = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';

/**
 * DOC006: TLS as it is in effect (pg_stat_ssl of this very connection), and whether the certificate is
 * verified under the URL's sslmode. RDS hosts get the CA bundle hint.
 */
export const tls: DoctorCheck = {
  code: 'DOC006',
  name: 'tls',
  requires: ['DOC005'],
  async run(s) {
    await ensureConnected(s);
    const env = s.env!;
    const { host } = env.directInfo;
    const rds = /\.rds\.amazonaws\.com$/i.test(host);
    // iamAuth forces verify-full whatever the URL says (src/pg/connect.ts).
    const mode = env.iamAuth ? 'verify-full' : (env.directInfo.sslmode ?? 'prefer');
    const rdsHint = rds ? `; RDS: download the CA bundle (${RDS_BUNDLE}) and use ?sslmode=verify-full&sslrootcert=<path to global-bundle.pem>` : '';
    const err = s.connectError;
    if (err?.code === 'E_TLS') return { status: 'fail', detail: err.message, fix: `${err.fix ?? 'check sslmode and sslrootcert'}${rdsHint}` };
    if (err && err.code !== 'E_AUTH' && err.code !== 'E_DB_MISSING') return { status: 'fail', detail: err.message, fix: err.fix };
    if (err) return { status: 'ok', detail: `sslmode=${mode}: no TLS error before authentication (the mode in effect is readable only after logging in)` };
    const r = await s.client!.query<{ ssl: boolean; version: string | null; cipher: string | null }>(
      'SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    const row = r.rows[0];
    const verified = /verify-(ca|full)/.test(mode) || /[?&]sslrootcert=/.test(env.directUrl);
    if (!row?.ssl) {
      if (isLoopback(host)) return { status: 'ok', detail: `not encrypted (sslmode=${mode}), on this machine's loopback` };
      return {
        status: 'warn',
        detail: `the connection to ${host} is not encrypted (sslmode=${mode}): passwords and data cross the network in clear`,
        fix: `turn on TLS: add ?sslmode=verify-full to the URL${rdsHint || ' (with sslrootcert=<CA file> for a private CA)'}`,
      };
    }
    const what = `${row.version ?? 'TLS'} ${row.cipher ?? ''}`.trim();
    if (verified) return { status: 'ok', detail: `${what}, certificate verified (sslmode=${mode})` };
    if (isLoopback(host)) return { status: 'ok', detail: `${what}, certificate not verified (sslmode=${mode}) on loopback` };
    return {
      status: 'warn',
      detail: `${what}, but the certificate is not verified (sslmode=${mode}): a machine in the middle could pose as the server`,
      fix: rds ? `download the RDS CA bundle (${RDS_BUNDLE}) and use ?sslmode=verify-full&sslrootcert=<path to global-bundle.pem>` : 'use ?sslmode=verify-full (add sslrootcert=<CA file> for a private CA)',
    };
  },
};
