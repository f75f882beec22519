import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { withTimeout } from '../timeout.js';
import type { DoctorCheck } from '../types.js';

/** DOC004: the host name resolves (with a timeout: a broken resolver can hang for a long time). */
export const dns: DoctorCheck = {
  code: 'DOC004',
  name: 'dns',
  requires: ['DOC003'],
  async run(s) {
    const host = s.env!.directInfo.host;
    if (isIP(host)) return { status: 'ok', detail: `${host} is an IP address (no lookup needed)` };
    if (host.startsWith('/')) return { status: 'ok', detail: `${host} is a Unix socket directory` };
    try {
      const addrs = await withTimeout(lookup(host, { all: true }), s.timeoutMs, `DNS lookup of ${host}`);
      return { status: 'ok', detail: `${host} resolves to ${addrs.map((a) => a.address).join(', ')}` };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return {
        status: 'fail',
        detail: code === 'ETIMEOUT' ? (e as Error).message : `cannot resolve ${host} (${code ?? (e as Error).message})`,
        fix: /\.rds\.amazonaws\.com$/i.test(host)
          ? 'check the endpoint name in the RDS console; a private endpoint resolves only inside the VPC (run from a bastion, VPN or the VPC itself)'
          : 'check the host name in the URL; a private host resolves only inside its network (VPN, bastion)',
      };
    }
  },
};
