import net from 'node:net';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/client/replica-adapter.js';

/**
 * The errors a replica going away really produces, made by the real pg and adapter-pg against loopback
 * servers that misbehave the way a stopping PostgreSQL does — never hand-built error objects.
 */
describe('classifyFailure on errors from a server going away', () => {
  let servers: net.Server[] = [];
  const listen = async (onData: (s: net.Socket) => void) => {
    const srv = net.createServer((s) => s.once('data', () => onData(s)));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    servers.push(srv);
    return (srv.address() as net.AddressInfo).port;
  };
  const failureOf = async (url: string) => {
    const adapter = await new PrismaPg({ connectionString: url, connectionTimeoutMillis: 20_000 }).connect();
    try {
      await adapter.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] });
    } catch (e) {
      return e;
    } finally {
      await adapter.dispose();
    }
    throw new Error('the query succeeded');
  };
  beforeAll(() => { servers = []; });
  afterAll(() => { for (const s of servers) s.close(); });

  it('a TLS handshake cut off as the server stops (raw ECONNRESET from node:tls) is "down"', async () => {
    // Answer the SSLRequest with 'S', then hang up when the client's TLS hello arrives: the handshake is cut off.
    const port = await listen((s) => { s.write('S'); s.once('data', () => s.destroy()); });
    const e = await failureOf(`postgresql://u:p@127.0.0.1:${port}/d?sslmode=no-verify`);
    expect(String((e as Error).message)).toMatch(/secure TLS connection/);
    expect(classifyFailure(e)).toBe('down');
  });

  it('a connection closed before the startup answer is "down"', async () => {
    const port = await listen((s) => s.destroy());
    const e = await failureOf(`postgresql://u:p@127.0.0.1:${port}/d?sslmode=disable`);
    expect(classifyFailure(e)).toBe('down');
  });

  it('nothing listening is "down"', async () => {
    const port = await listen(() => undefined);
    servers.pop()!.close();
    await new Promise((r) => setTimeout(r, 20));
    const e = await failureOf(`postgresql://u:p@127.0.0.1:${port}/d?sslmode=disable`);
    expect(classifyFailure(e)).toBe('down');
  });

  it('a server that does not speak TLS when TLS is required is "refused" (configuration, not an outage)', async () => {
    const port = await listen((s) => { s.write('N'); });
    const e = await failureOf(`postgresql://u:p@127.0.0.1:${port}/d?sslmode=no-verify`);
    expect(classifyFailure(e)).toBe('refused');
  });

  it('a wrong query is not trouble with the server', () => {
    expect(classifyFailure(new Error('relation "nope" does not exist'))).toBeUndefined();
  });
});
