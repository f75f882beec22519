/**
 * The dashboard's HTTP server: node:http on 127.0.0.1 only, one page, a per-run token in the URL.
 *
 * What keeps it read-only and private, in the order a request meets it:
 * - it answers GET and HEAD only (405 otherwise): no request can carry a change;
 * - the Host header must name this loopback address (403 otherwise): a web page elsewhere cannot
 *   reach it through DNS rebinding;
 * - the token must match (403 otherwise, compared in constant time): another local user or a page
 *   that guesses the port sees nothing;
 * - the page has no script and loads nothing from anywhere (Content-Security-Policy default-src 'none',
 *   no referrer): nothing is sent anywhere, the token does not leak in a Referer.
 * Every database read behind it is a catalog or statistics read (see collect.ts).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';

export const DASHBOARD_HOST = '127.0.0.1';

export interface DashboardRequest {
  /** "Check drift now": replay where the cache has no answer. */
  checkDrift: boolean;
}

export interface StartDashboardOptions {
  /** Renders the page for one request (never throws for a database problem; see collectDashboard). */
  page: (request: DashboardRequest, token: string) => Promise<string>;
  /** Listen on this port (default: a free one chosen by the OS). */
  port?: number;
}

export interface DashboardServer {
  /** http://127.0.0.1:<port>/?token=<token> */
  url: string;
  port: number;
  token: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

export async function startDashboard(o: StartDashboardOptions): Promise<DashboardServer> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  let port = o.port ?? 0;

  const send = (res: ServerResponse, req: IncomingMessage, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, req, 405, 'the stagedb dashboard is read-only: it answers GET and HEAD only\n', undefined, { Allow: 'GET, HEAD' });
      }
      const host = (req.headers.host ?? '').toLowerCase();
      if (host !== `${DASHBOARD_HOST}:${port}` && host !== `localhost:${port}`) {
        return send(res, req, 403, `open the dashboard at http://${DASHBOARD_HOST}:${port}/ with the token stagedb printed\n`);
      }
      const url = new URL(req.url ?? '/', `http://${DASHBOARD_HOST}:${port}`);
      const given = Buffer.from(url.searchParams.get('token') ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return send(res, req, 403, 'this dashboard needs the address with its token, as `stagedb dashboard` printed it\n');
      }
      if (url.pathname !== '/') return send(res, req, 404, 'not found\n');
      try {
        const html = await o.page({ checkDrift: url.searchParams.get('drift') === 'check' }, token);
        return send(res, req, 200, html, 'text/html; charset=utf-8');
      } catch (e) {
        return send(res, req, 500, `${redact((e as Error).message ?? String(e))}\n`);
      }
    })().catch(() => res.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE' || e.code === 'EACCES'
          ? new StagedbError('usage', e.code === 'EACCES' ? 'E_PORT_DENIED' : 'E_PORT_BUSY', `port ${port} on ${DASHBOARD_HOST} ${e.code === 'EACCES' ? 'needs privileges to listen on' : 'is already in use'}`, {
              fix: 'leave --port out and stagedb picks a free port, or choose another: stagedb dashboard --port 5556',
            })
          : e,
      ),
    );
    server.listen({ port, host: DASHBOARD_HOST, exclusive: true }, () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${DASHBOARD_HOST}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
