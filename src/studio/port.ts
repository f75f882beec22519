import { createServer } from 'node:net';
import { StagedbError } from '../errors.js';

/** Studio listens on loopback only (Prisma's server binds 127.0.0.1), and so do the checks here. */
export const STUDIO_HOST = '127.0.0.1';

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host: STUDIO_HOST, exclusive: true }, () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(got));
    });
  });
}

/** A port nothing listens on right now, chosen by the OS. */
export function freePort(): Promise<number> {
  return listenOnce(0);
}

/** Throws E_PORT_BUSY (usage, exit 4) when `port` cannot be listened on at 127.0.0.1. */
export async function assertPortFree(port: number): Promise<void> {
  try {
    await listenOnce(port);
  } catch (e) {
    throw portError(port, (e as NodeJS.ErrnoException).code);
  }
}

export function portError(port: number, code: string | undefined): StagedbError {
  if (code === 'EACCES') {
    return new StagedbError('usage', 'E_PORT_DENIED', `port ${port} on ${STUDIO_HOST} needs privileges to listen on`, { fix: 'use a port above 1024 (--port 5555), or leave --port out for a free one' });
  }
  return new StagedbError('usage', 'E_PORT_BUSY', `port ${port} on ${STUDIO_HOST} is already in use${code && code !== 'EADDRINUSE' ? ` (${code})` : ''}`, {
    fix: 'leave --port out and stagedb picks a free port, or choose another: --port 5556',
  });
}

/** Parses `--port`: an integer 1–65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new StagedbError('usage', 'E_USAGE', `--port must be a port number between 1 and 65535, not "${value}"`, { fix: 'stagedb studio --port 5555 (or leave it out for a free port)' });
  }
  return n;
}
