import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

/**
 * The shared test cluster's certificate (self-signed, CN=localhost; `server.crt` in its data
 * directory), or undefined when the cluster runs without TLS (no openssl on the machine).
 */
export function serverCertPath(): string | undefined {
  const p = join(inject('pgDataDir'), 'server.crt');
  return existsSync(p) ? p : undefined;
}

/** A self-signed certificate that did NOT sign the server's: a wrong `sslrootcert`. Call `remove()` when done. */
export function unrelatedCa(): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'stagedb-ca-'));
  const path = join(dir, 'other-ca.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'other-ca.key'), '-out', path], { stdio: 'ignore' });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `url` with its host replaced and the given query parameters set (`undefined` removes one). */
export function withParams(url: string, params: Record<string, string | undefined>, host?: string): string {
  const u = new URL(url);
  if (host) u.hostname = host;
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return u.toString();
}

/**
 * A loopback server that speaks just enough of the PostgreSQL protocol to stand in for a server
 * without TLS: it answers an SSLRequest with 'N' (as PostgreSQL with `ssl = off` does) and any
 * startup message with a FATAL 28P01 error. `seen` records what each connection opened with.
 */
export async function serverWithoutTls(): Promise<{ port: number; seen: Array<'ssl-request' | 'startup'>; close(): Promise<void> }> {
  const seen: Array<'ssl-request' | 'startup'> = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 8) {
        const len = buf.readInt32BE(0);
        if (buf.length < len) return;
        const code = buf.readInt32BE(4);
        buf = buf.subarray(len);
        if (code === 80877103) {
          seen.push('ssl-request');
          socket.write('N');
        } else {
          seen.push('startup');
          const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed for user "nobody"\0\0', 'utf8');
          const head = Buffer.alloc(5);
          head.write('E', 0);
          head.writeInt32BE(fields.length + 4, 1);
          socket.end(Buffer.concat([head, fields]));
        }
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
