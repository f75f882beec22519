import { configError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';

/** How a URL reaches the database. Only `direct` URLs may run DDL, hold advisory locks or be dumped. */
export type UrlKind = 'direct' | 'pooler' | 'accelerate';

export interface ParsedUrl {
  kind: UrlKind;
  /** Why it was classified this way (shown by status and doctor). */
  reason: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** Prisma's `?schema=` parameter: the PostgreSQL schema holding the tables and `_prisma_migrations`. */
  schema: string;
  sslmode?: string;
  /** For a local `prisma dev` Accelerate URL: the direct URL encoded in its api_key. */
  embeddedDirectUrl?: string;
}

/**
 * Parses and classifies a database URL. Throws a config error naming `where` (e.g.
 * `environments.staging.directUrl`) for a malformed URL; the message never contains the password.
 */
export function parseDatabaseUrl(raw: string, where: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    // What sits between user: and the last @ is the password even when the URL does not parse (a raw
    // quote, space or # in it is the usual reason): register it so the message below cannot show it.
    registerSecret(/^[^:]*:\/\/[^:/@]*:(.*)@/s.exec(raw.trim())?.[1]);
    throw configError('E_URL_MALFORMED', `${where} is not a valid URL: ${redact(raw)}`, {
      fix: 'use the form postgresql://USER:PASSWORD@HOST:5432/DATABASE (percent-encode special characters in the password)',
    });
  }
  registerSecret(u.password);
  const apiKey = u.searchParams.get('api_key');
  registerSecret(apiKey);
  const protocol = u.protocol.replace(/:$/, '');
  const port = u.port ? Number(u.port) : 5432;
  // WHATWG URL keeps a bad escape such as %zz as written; decoding it would throw a bare URIError.
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw configError('E_URL_MALFORMED', `${where} has an invalid percent-escape: ${redact(raw)}`, {
        fix: 'percent-encode special characters in the user, password and database name (% itself is %25)',
      });
    }
  };
  const base = {
    host: decode(u.hostname.replace(/^\[(.+)\]$/, '$1')),
    port,
    database: decode(u.pathname.replace(/^\//, '')),
    user: decode(u.username),
    schema: u.searchParams.get('schema') ?? 'public',
    sslmode: u.searchParams.get('sslmode') ?? undefined,
  };

  if (protocol === 'prisma+postgres' || protocol === 'prisma') {
    return {
      ...base,
      kind: 'accelerate',
      reason: `${protocol}:// is Prisma Accelerate (an HTTP proxy): it cannot run migrations or backups`,
      embeddedDirectUrl: apiKey ? decodeLocalApiKey(apiKey) : undefined,
    };
  }
  if (protocol !== 'postgresql' && protocol !== 'postgres') {
    throw configError('E_URL_PROTOCOL', `${where} uses ${protocol}://, which is not PostgreSQL: ${redact(raw)}`, {
      fix: 'use a postgresql:// URL (or prisma+postgres:// for Accelerate, with a directUrl beside it)',
    });
  }
  if (!base.host) {
    throw configError('E_URL_MALFORMED', `${where} has no host: ${redact(raw)}`, {
      fix: 'use the form postgresql://USER:PASSWORD@HOST:5432/DATABASE',
    });
  }
  const pooler = poolerReason(u, base.host, port);
  if (pooler) return { ...base, kind: 'pooler', reason: pooler };
  return { ...base, kind: 'direct', reason: 'postgresql:// URL to the server itself' };
}

function poolerReason(u: URL, host: string, port: number): string | undefined {
  if (u.searchParams.get('pgbouncer') === 'true') return 'the URL sets pgbouncer=true';
  if (/-pooler\./i.test(host)) return `host ${host} is a connection pooler (-pooler)`;
  if (/pooler\.supabase\.com$/i.test(host) || port === 6543) return `host ${host}:${port} is a transaction-mode pooler`;
  if (/\.proxy-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com$/i.test(host)) return `host ${host} is an RDS Proxy endpoint`;
  return undefined;
}

/**
 * `prisma dev` (the local Accelerate-compatible server) hands out
 * `prisma+postgres://localhost:PORT/?api_key=KEY` where KEY is base64url JSON naming the direct
 * `databaseUrl`. The Prisma CLI uses it for migrations; so do we. Any other key yields undefined.
 */
function decodeLocalApiKey(key: string): string | undefined {
  try {
    const json = JSON.parse(Buffer.from(key, 'base64url').toString('utf8')) as { databaseUrl?: unknown };
    if (typeof json.databaseUrl === 'string' && /^postgres(ql)?:\/\//.test(json.databaseUrl)) {
      const inner = new URL(json.databaseUrl);
      registerSecret(inner.password);
      return json.databaseUrl;
    }
  } catch {
    /* not a local key */
  }
  return undefined;
}
