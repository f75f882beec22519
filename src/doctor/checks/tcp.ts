import { connect as netConnect } from 'node:net';
import { isLoopback } from '../timeout.js';
import type { DoctorCheck } from '../types.js';

const NETWORK_FIX = 'check network reachability: the AWS security group must allow inbound TCP on the port from this machine, the VPC/subnet routing (a private RDS instance is not reachable from outside its VPC), and any firewall or VPN';

/** DOC005: a TCP connection to host:port opens within the timeout. */
export const tcp: DoctorCheck = {
  code: 'DOC005',
  name: 'tcp',
  requires: ['DOC004'],
  async run(s) {
    const { host, port } = s.env!.directInfo;
    if (host.startsWith('/')) return { status: 'ok', detail: 'Unix socket: no TCP connection' };
    const where = `${host}:${port}`;
    const started = Date.now();
    const result = await new Promise<{ ok: true } | { ok: false; code: string }>((resolve) => {
      const socket = netConnect({ host, port });
      socket.setTimeout(s.timeoutMs);
      const done = (r: { ok: true } | { ok: false; code: string }) => {
        socket.destroy();
        resolve(r);
      };
      socket.once('connect', () => done({ ok: true }));
      socket.once('timeout', () => done({ ok: false, code: 'ETIMEDOUT' }));
      socket.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, code: e.code ?? e.message }));
    });
    if (result.ok) return { status: 'ok', detail: `${where} accepts TCP connections (${Date.now() - started} ms)` };
    if (result.code === 'ECONNREFUSED') {
      return {
        status: 'fail',
        detail: `nothing accepts connections at ${where} (connection refused)`,
        fix: isLoopback(host) ? 'start the local server: stagedb dev up (or check the port in the URL)' : `check that the server runs and listens on port ${port}; ${NETWORK_FIX}`,
      };
    }
    return {
      status: 'fail',
      detail: result.code === 'ETIMEDOUT' ? `no answer from ${where} within ${s.timeoutMs / 1000}s` : `cannot reach ${where} (${result.code})`,
      fix: NETWORK_FIX,
    };
  },
};
