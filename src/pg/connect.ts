import type { Client, ClientConfig } from 'pg';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';
import { quoteIdent } from './quote-ident.js';

/** Every stagedb connection is named, so `pg_stat_activity` (and a lock holder report) shows who it is. */
export const APPLICATION_NAME = 'stagedb';

/** Prisma's own URL parameters that node-postgres must not see as connection settings. */
const PRISMA_PARAMS = [
  'schema',
  'connection_limit',
  'pool_timeout',
  'pgbouncer',
  'sslaccept',
  'socket_timeout',
  'statement_cache_size',
  'connect_timeout',
  'uselibpqcompat',
  'sslidentity',
  'sslpassword',
];

export interface ConnectOptions {
  /** Shown in messages: e.g. "staging (directUrl)". */
  label: string;
  /** application_name suffix, e.g. "deploy" → "stagedb deploy". */
  purpose?: string;
  /** Default 10 s; a `connect_timeout` URL parameter (seconds, libpq style) wins. */
  connectTimeoutMs?: number;
}

/** Builds node-postgres settings from a URL with libpq's `sslmode` meaning (see the README, "TLS"). */
let pgModule: typeof import('pg') | undefined;

/**
 * Imports node-postgres. Surprising but deliberate: on Node 20, pg's runtime check for Cloudflare
 * Workers finds no `navigator` and constructs a `Response`, which loads Node's whole fetch stack
 * (~15 ms of start-up on every command). Node >= 21 defines `navigator.userAgent`; we define the same
 * for the duration of the import only, so nothing else ever sees it.
 */
export async function loadPg(): Promise<typeof import('pg')> {
  if (pgModule) return pgModule;
  const g = globalThis as { navigator?: unknown };
  const defined = g.navigator === undefined;
  if (defined) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    // require, not import: pg is CommonJS, and importing it from ESM runs the CJS export lexer over it.
    const { createRequire } = await import('node:module');
    pgModule = createRequire(import.meta.url)('pg') as typeof import('pg');
    return pgModule;
  } finally {
    if (defined) delete g.navigator;
  }
}

export async function clientConfig(url: string, options: ConnectOptions): Promise<{ config: ClientConfig; sslmode: string; schema: string }> {
  const { createRequire } = await import('node:module');
  const { parse } = createRequire(import.meta.url)('pg-connection-string') as typeof import('pg-connection-string');
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? 'public';
  const timeoutParam = u.searchParams.get('connect_timeout');
  const sslmode = u.searchParams.get('sslmode') ?? 'prefer';
  for (const p of PRISMA_PARAMS) u.searchParams.delete(p);
  // libpq semantics: require = encrypt without verifying, verify-ca/verify-full verify (pg's own parser
  // would treat require as verify-full). prefer is handled in connect(): try TLS, fall back to plain.
  if (sslmode === 'prefer' || sslmode === 'allow') u.searchParams.delete('sslmode');
  const parsed = parse(u.toString(), { useLibpqCompat: true }) as unknown as Record<string, unknown>;
  const config: ClientConfig = {
    host: parsed.host as string,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: (parsed.user as string) || undefined,
    password: (parsed.password as string) || undefined,
    database: (parsed.database as string) || undefined,
    ssl: parsed.ssl as ClientConfig['ssl'],
    application_name: options.purpose ? `${APPLICATION_NAME} ${options.purpose}` : APPLICATION_NAME,
    connectionTimeoutMillis: timeoutParam ? Number(timeoutParam) * 1000 : (options.connectTimeoutMs ?? 10_000),
  };
  if (schema !== 'public') config.options = `-c search_path=${escapeOption(quoteIdent(schema))}`;
  return { config, sslmode, schema };
}

/** Opens one client. Failures become a `connection` error that says what to check, without the password. */
export async function connect(url: string, options: ConnectOptions): Promise<Client> {
  const pg = await loadPg();
  const { config, sslmode } = await clientConfig(url, options);
  const attempt = async (cfg: ClientConfig) => {
    const client = new pg.Client(cfg);
    // An idle client whose server goes away emits 'error'; without a listener that crashes the process.
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  try {
    if (sslmode === 'prefer' && !config.ssl) {
      try {
        return await attempt({ ...config, ssl: { rejectUnauthorized: false } });
      } catch (e) {
        if (!/does not support SSL/i.test(String((e as Error).message))) throw e;
        return await attempt(config);
      }
    }
    return await attempt(config);
  } catch (e) {
    throw connectionError(e, options.label, config);
  }
}

function escapeOption(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
}

function connectionError(e: unknown, label: string, cfg: ClientConfig): StagedbError {
  const err = e as { code?: string; message?: string };
  const where = `${cfg.host}:${cfg.port}`;
  const msg = redact(err.message ?? String(e));
  const make = (code: string, message: string, fix: string) =>
    new StagedbError('connection', code, `${label}: ${message}`, { fix, cause: e });
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make('E_DNS', `cannot resolve host ${cfg.host}`, 'check the host name in the URL; for RDS inside a VPC, run from a machine with VPC DNS (bastion, VPN)');
    case 'ECONNREFUSED':
      return make(
        'E_CONN_REFUSED',
        `nothing accepts connections at ${where}`,
        isLoopback(cfg.host) ? 'start the local server: stagedb dev up' : 'check that the server runs and the port is right; check the security group / firewall',
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return make('E_CONN_TIMEOUT', `no answer from ${where} (${err.code})`, 'check network reachability: the AWS security group inbound rule for port 5432, the VPC/subnet routing, a firewall or VPN');
    case '28P01':
      return make('E_AUTH', `password authentication failed for user "${cfg.user}"`, 'check the user and password in this environment\'s URL (env file or shell variable)');
    case '28000':
      return make('E_AUTH', msg, 'the server refuses this user/host combination: check pg_hba.conf or, on RDS, the user and sslmode');
    case '3D000':
      return make('E_DB_MISSING', `database "${cfg.database}" does not exist on ${where}`, `create it: createdb -h ${cfg.host} -p ${cfg.port} -U ${cfg.user} ${cfg.database}`);
    default:
      break;
  }
  if (/timeout/i.test(msg)) {
    return make('E_CONN_TIMEOUT', `no answer from ${where} within ${(cfg.connectionTimeoutMillis ?? 0) / 1000}s`, 'check network reachability: the AWS security group inbound rule for port 5432, the VPC/subnet routing, a firewall or VPN');
  }
  if (/SSL|certificate|self.signed/i.test(msg)) {
    return make('E_TLS', `TLS failed: ${msg}`, 'check sslmode and sslrootcert (RDS: download the RDS CA bundle and use sslmode=verify-full&sslrootcert=<path>)');
  }
  return make('E_CONNECT', msg, 'check the URL, the network and the server log');
}

function isLoopback(host: string | undefined): boolean {
  return !host || host === 'localhost' || host.startsWith('127.') || host === '::1';
}
