import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in of an AWS API (RDS's query API, Secrets Manager's and CloudWatch's JSON APIs):
 * reads each request's whole body, hands it to `handle`, answers a throw with `onError` (the API's own
 * 500 shape), and listens on 127.0.0.1 on a free port.
 */
export async function serveAwsStandIn(
  handle: (req: IncomingMessage, body: string, res: ServerResponse) => Promise<void>,
  onError: (res: ServerResponse, e: unknown) => void,
): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      await handle(req, Buffer.concat(chunks).toString('utf8'), res);
    })().catch((e: unknown) => onError(res, e));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The JSON APIs' answer to a handler that threw. */
export function jsonInternalError(res: ServerResponse, e: unknown): void {
  res.writeHead(500);
  res.end(JSON.stringify({ __type: 'InternalServiceError', message: String(e) }));
}
