import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Client, ClientConfig } from 'pg';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';
import { nodeCryptoUtils } from './node-crypto-utils.js';
import { quoteIdent } from './quote-ident.js';
import { shellQuote } from '../shell-quote.js';
import { iamAuthFor } from '../aws/iam-token.js';

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

let pgModule: typeof import('pg') | undefined;
declare const __STAGEDB_PG_BUNDLE__: string | undefined;
/** True in the CLI's one-script build (dist/cli-bundle/cli.cjs), which carries pg inside it. */
declare const __STAGEDB_PG_INLINE__: boolean | undefined;

/** Imports node-postgres: the CLI bundle's own copy when there is one (it loads faster), else node_modules'. */
export async function loadPg(): Promise<typeof import('pg')> {
  if (pgModule) return pgModule;
  // There, require('pg') is bundled (with the SCRAM module) and compiled from the code cache with the rest.
  if (typeof __STAGEDB_PG_INLINE__ === 'boolean' && __STAGEDB_PG_INLINE__) return (pgModule = withNavigator(() => require('pg') as typeof import('pg')));
  // The CLI bundle carries pg as one file (scripts/bundle-cli.mjs), with the SCRAM module inside.
  if (typeof __STAGEDB_PG_BUNDLE__ === 'string') {
    const { createRequire } = await import('node:module');
    return (pgModule = withNavigator(() => createRequire(import.meta.url)(__STAGEDB_PG_BUNDLE__!) as typeof import('pg')));
  }
  return (pgModule = await loadSharedPg());
}

/**
 * pg-connection-string, the parser node-postgres itself uses: inside the CLI's one-script build (as
 * pg is, so that it compiles from the code cache and costs no module resolution: ~2 ms of every
 * command that connects), else from node_modules.
 */
async function loadConnectionString(): Promise<typeof import('pg-connection-string')> {
  if (typeof __STAGEDB_PG_INLINE__ === 'boolean' && __STAGEDB_PG_INLINE__) return require('pg-connection-string') as typeof import('pg-connection-string');
  const { createRequire } = await import('node:module');
  return createRequire(import.meta.url)('pg-connection-string') as typeof import('pg-connection-string');
}

let sharedPg: typeof import('pg') | undefined;

/**
 * node-postgres from node_modules: the very module `@prisma/adapter-pg` imports. A pool handed to
 * `new PrismaPg(pool)` must be this module's (the adapter checks `instanceof pg.Pool`, and treats any
 * other object as a config: a pool of the CLI bundle's own pg made it connect to localhost:5432).
 */
export async function loadSharedPg(): Promise<typeof import('pg')> {
  if (sharedPg) return sharedPg;
  const { createRequire, Module } = await import('node:module');
  const require = createRequire(import.meta.url);
  // SCRAM without WebCrypto (see node-crypto-utils.ts): our module in the cache under pg's file name.
  const utils = join(dirname(require.resolve('pg')), 'crypto', 'utils.js');
  if (!require.cache[utils]) {
    const m = new Module(utils);
    m.filename = utils;
    m.loaded = true;
    m.exports = nodeCryptoUtils();
    require.cache[utils] = m;
  }
  // require, not import: pg is CommonJS, and importing it from ESM runs the CJS export lexer over it.
  return (sharedPg = withNavigator(() => require('pg') as typeof import('pg')));
}

/**
 * Surprising but deliberate: on Node 20, pg's runtime check for Cloudflare Workers finds no
 * `navigator` and constructs a `Response`, which loads Node's whole fetch stack (~15 ms of start-up on
 * every command). Node >= 21 defines `navigator.userAgent`; we define the same for the duration of the
 * load only, so nothing else ever sees it.
 */
function withNavigator<T>(load: () => T): T {
  const g = globalThis as { navigator?: unknown };
  const defined = g.navigator === undefined;
  if (defined) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    return load();
  } finally {
    if (defined) delete g.navigator;
  }
}

/** libpq's `sslmode` values. */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslModeValue = (typeof SSL_MODES)[number];

/** URL parameters stagedb turns into TLS settings itself (pg-connection-string must not read them). */
const TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'];

/**
 * node-postgres settings for a URL, with libpq's meaning of `sslmode` (see the README, "TLS"):
 *  - `disable`: plain; `allow`: plain, TLS only if the server refuses plain; `prefer` (the default):
 *    TLS, plain if TLS fails; `require`: TLS without verifying the certificate; `verify-ca`: the
 *    certificate must chain to `sslrootcert`; `verify-full`: that, and name the host connected to.
 *  - With `sslrootcert`, every mode that uses TLS checks the chain (libpq: "require behaves like
 *    verify-ca when a root certificate is given"); `prefer` then falls back to plain if that fails.
 *  - `sslrootcert=system` (libpq 16): the trusted public CAs, and only with `verify-full` (the
 *    default then), since anyone can get a publicly trusted certificate for a name they control.
 *  - `verify-full` without `sslrootcert` checks against Node's public CA list (what the
 *    application's own driver, node-postgres, does) where libpq would read ~/.postgresql/root.crt.
 * node-postgres's own parser would make `require` verify-full; stagedb never lets it decide.
 *
 * `config.ssl` is what the first attempt uses; `tls` is the TLS setting for `allow`'s and `prefer`'s
 * other attempt (undefined for the modes that make only one).
 */
export async function clientConfig(url: string, options: ConnectOptions): Promise<{ config: ClientConfig; sslmode: string; schema: string; tls?: ConnectionOptions }> {
  const { parse } = await loadConnectionString();
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? 'public';
  const timeoutParam = u.searchParams.get('connect_timeout');
  const { mode, tls } = tlsSettings(u.searchParams, options.label);
  for (const p of [...PRISMA_PARAMS, ...TLS_PARAMS]) u.searchParams.delete(p);
  const parsed = parse(u.toString()) as unknown as Record<string, unknown>;
  const config: ClientConfig = {
    host: parsed.host as string,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: (parsed.user as string) || undefined,
    password: (parsed.password as string) || undefined,
    // libpq decodes every %XX of the database name; pg-connection-string uses decodeURI, which keeps
    // %24 ($), %23 (#), %2F (/) and the other reserved characters encoded, and names another database.
    database: parsed.database ? databaseName(u) : undefined,
    // Never undefined: node-postgres would then read PGSSLMODE with its own meaning of the modes.
    ssl: mode === 'disable' || mode === 'allow' || mode === 'prefer' ? false : tls,
    application_name: options.purpose ? `${APPLICATION_NAME} ${options.purpose}` : APPLICATION_NAME,
    connectionTimeoutMillis: timeoutParam ? Number(timeoutParam) * 1000 : (options.connectTimeoutMs ?? 10_000),
  };
  // prefer with a root certificate verifies on its TLS attempt, so that attempt comes first in config.
  if (mode === 'prefer' && tls && tls.rejectUnauthorized !== false) config.ssl = tls;
  // The URL's own `options` (libpq: command-line options for the server) are kept, with Prisma's schema after them.
  const serverOptions = [typeof parsed.options === 'string' ? parsed.options : undefined, schema !== 'public' ? `-c search_path=${escapeOption(quoteIdent(schema))}` : undefined].filter(Boolean);
  if (serverOptions.length > 0) config.options = serverOptions.join(' ');
  // IAM database authentication (config `iamAuth`): a fresh token as the password of every new
  // connection, over TLS that verifies the server and its name (a token is a credential for 15 minutes).
  const iam = iamAuthFor(config.host, config.port ?? 5432, config.user);
  if (iam) {
    config.user = iam.provider.username;
    config.password = iam.provider.password;
    const ca = iam.caBundle ? readFileSync(iam.caBundle, 'utf8') : tls?.ca;
    config.ssl = { rejectUnauthorized: true, servername: config.host, ...(ca ? { ca } : {}) };
    return { config, sslmode: 'verify-full', schema };
  }
  return { config, sslmode: mode, schema, tls: mode === 'allow' || mode === 'prefer' ? tls : undefined };
}

/** The database name of a URL, every percent-escape decoded (as libpq does); a bad escape stays as written. */
function databaseName(u: URL): string {
  const raw = u.pathname.replace(/^\//, '');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function tlsSettings(params: URLSearchParams, label: string): { mode: SslModeValue; tls?: ConnectionOptions } {
  const given = params.get('sslmode') ?? undefined;
  if (given !== undefined && !(SSL_MODES as readonly string[]).includes(given)) {
    throw tlsConfigError(label, `invalid sslmode "${given}" in the URL`, `use one of ${SSL_MODES.join(', ')} (libpq's values)`);
  }
  let mode = (given ?? 'prefer') as SslModeValue;
  const rootcert = params.get('sslrootcert') ?? undefined;
  const read = (param: string) => {
    const file = params.get(param);
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
      throw tlsConfigError(label, `${param} file ${file} ${why}`, `point ${param} at the file (a path on this machine, relative to the directory stagedb runs in), e.g. the RDS CA bundle downloaded from https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem`);
    }
  };
  if (mode === 'disable') return { mode };
  const base: ConnectionOptions = {};
  const cert = read('sslcert');
  const key = read('sslkey');
  if (cert) base.cert = cert;
  if (key) base.key = key;
  if (rootcert === 'system') {
    if (given !== undefined && mode !== 'verify-full') {
      throw tlsConfigError(label, `sslmode=${mode} may not be used with sslrootcert=system: a publicly trusted certificate is easy to get for any name, so only verify-full protects anything`, 'use sslmode=verify-full (or leave sslmode out) with sslrootcert=system');
    }
    return { mode: 'verify-full', tls: base };
  }
  const ca = rootcert ? read('sslrootcert') : undefined;
  if (ca) base.ca = ca;
  const anyName = () => undefined;
  switch (mode) {
    case 'verify-full':
      return { mode, tls: base };
    case 'verify-ca':
      if (!ca) {
        throw tlsConfigError(label, 'sslmode=verify-ca needs the CA certificate to check against (sslrootcert), and the URL names none', 'add sslrootcert=<path to the CA certificate or bundle> to the URL (RDS: the RDS CA bundle), or use sslmode=verify-full to check against the public CAs');
      }
      return { mode, tls: { ...base, checkServerIdentity: anyName } };
    default:
      // allow, prefer, require: encrypted; the chain is checked only when a root certificate is named.
      return { mode, tls: ca ? { ...base, checkServerIdentity: anyName } : { ...base, rejectUnauthorized: false } };
  }
}

function tlsConfigError(label: string, message: string, fix: string): StagedbError {
  return new StagedbError('connection', 'E_TLS', `${label}: ${message}`, { fix });
}

/** Failures that happen before any server answered: trying again another way would only wait twice. */
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);
const isNetworkFailure = (e: unknown) => NETWORK_CODES.has(String((e as { code?: unknown }).code)) || /timeout/i.test(String((e as Error).message));
/** An ErrorResponse from the server (a SQLSTATE), e.g. pg_hba.conf refusing the connection. */
const isServerError = (e: unknown) => /^[0-9A-Z]{5}$/.test(String((e as { code?: unknown }).code));

/** Opens one client. Failures become a `connection` error that says what to check, without the password. */
export async function connect(url: string, options: ConnectOptions): Promise<Client> {
  const pg = await loadPg();
  const { config, sslmode, tls } = await clientConfig(url, options);
  const attempt = async (cfg: ClientConfig) => {
    const client = new pg.Client(cfg);
    // An idle client whose server goes away emits 'error'; without a listener that crashes the process.
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  let reported: { error: unknown; cfg: ClientConfig } | undefined;
  try {
    if (sslmode === 'prefer') {
      // libpq: TLS first; if that fails in any way but the network (no TLS on the server, a handshake
      // or, with sslrootcert, a verification failure, or the server refusing it), plain.
      const withTls = { ...config, ssl: config.ssl || tls };
      try {
        return await attempt(withTls);
      } catch (e) {
        if (isNetworkFailure(e)) {
          reported = { error: e, cfg: withTls };
          throw e;
        }
        try {
          return await attempt({ ...config, ssl: false });
        } catch (plain) {
          // "no pg_hba.conf entry … no encryption" says only that plain is refused: the TLS attempt's error says why it failed.
          reported = (plain as { code?: string }).code === '28000' && !/does not support SSL/i.test(String((e as Error).message)) ? { error: e, cfg: withTls } : { error: plain, cfg: config };
          throw plain;
        }
      }
    }
    if (sslmode === 'allow') {
      // libpq: plain first; TLS only when the server refuses plain.
      try {
        return await attempt(config);
      } catch (e) {
        if (!isServerError(e)) throw e;
        const withTls = { ...config, ssl: tls };
        try {
          return await attempt(withTls);
        } catch (again) {
          reported = { error: again, cfg: withTls };
          throw again;
        }
      }
    }
    return await attempt(config);
  } catch (e) {
    throw connectionError(reported?.error ?? e, options.label, reported?.cfg ?? config, sslmode);
  }
}

function escapeOption(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
}

/** Node's TLS verification failures: the certificate does not chain to a trusted CA. */
const UNTRUSTED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE']);

function connectionError(e: unknown, label: string, cfg: ClientConfig, sslmode: string): StagedbError {
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
      if (typeof cfg.password === 'function') {
        return make(
          'E_AUTH',
          `the IAM token for user "${cfg.user}" was refused`,
          `on the instance: GRANT rds_iam TO ${quoteIdent(String(cfg.user))}; in IAM: allow rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/${cfg.user} for the credentials in use (aws sts get-caller-identity)`,
        );
      }
      return make('E_AUTH', `password authentication failed for user "${cfg.user}"`, 'check the user and password in this environment\'s URL (env file or shell variable)');
    case '28000':
      // "… no encryption": the server takes only TLS (pg_hba hostssl; RDS with rds.force_ssl=1).
      if (/no encryption/i.test(msg)) {
        return make('E_AUTH', msg, 'the server accepts only encrypted connections: set sslmode=require in the URL (RDS: sslmode=verify-full&sslrootcert=<path to the RDS CA bundle>)');
      }
      return make('E_AUTH', msg, 'the server refuses this user/host combination: check pg_hba.conf or, on RDS, the user and sslmode');
    case '3D000':
      return make('E_DB_MISSING', `database "${cfg.database}" does not exist on ${where}`, `create it: createdb -h ${shellQuote(String(cfg.host))} -p ${cfg.port} -U ${shellQuote(String(cfg.user))} ${shellQuote(String(cfg.database))}`);
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return make(
        'E_TLS',
        `TLS failed (sslmode=${sslmode}): the server's certificate is not for the host name in the URL, ${cfg.host} (${msg})`,
        'connect by a name the certificate lists (for RDS: the endpoint name, not an IP or a CNAME of your own), or use sslmode=verify-ca to check the CA without the name',
      );
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return make('E_TLS', `TLS failed (sslmode=${sslmode}): the server's certificate is outside its validity period (${msg})`, 'renew the server certificate (RDS: rotate the instance\'s CA), and check this machine\'s clock');
    default:
      if (err.code && UNTRUSTED.has(err.code)) {
        const rootcert = Boolean((cfg.ssl as ConnectionOptions | undefined)?.ca);
        return make(
          'E_TLS',
          `TLS failed (sslmode=${sslmode}): the server's certificate is not signed by ${rootcert ? 'the CA in sslrootcert' : 'a CA this machine trusts'} (${msg})`,
          rootcert
            ? 'check that sslrootcert is the CA that signed this server\'s certificate (RDS: the current global bundle), or that the URL points at the server you meant'
            : 'name the CA that signed it: add sslrootcert=<path to the CA certificate> to the URL (RDS: the RDS CA bundle); or use sslmode=require to encrypt without verifying',
        );
      }
      break;
  }
  if (/does not support SSL/i.test(msg)) {
    return make('E_TLS', `the server at ${where} does not accept TLS connections, and sslmode=${sslmode} requires TLS`, 'turn on ssl in the server\'s configuration; only on a private network: lower sslmode (and the environment\'s ssl setting) to prefer');
  }
  if (/timeout/i.test(msg)) {
    return make('E_CONN_TIMEOUT', `no answer from ${where} within ${(cfg.connectionTimeoutMillis ?? 0) / 1000}s`, 'check network reachability: the AWS security group inbound rule for port 5432, the VPC/subnet routing, a firewall or VPN');
  }
  if (/SSL|TLS|certificate|self.signed/i.test(msg)) {
    return make('E_TLS', `TLS failed (sslmode=${sslmode}): ${msg}`, 'check sslmode and sslrootcert (RDS: download the RDS CA bundle and use sslmode=verify-full&sslrootcert=<path>)');
  }
  return make('E_CONNECT', msg, 'check the URL, the network and the server log');
}

function isLoopback(host: string | undefined): boolean {
  return !host || host === 'localhost' || host.startsWith('127.') || host === '::1';
}
