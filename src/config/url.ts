import { configError, type StagedbError } from '../errors.js';
import { registerSecret } from '../redact.js';

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
  const text = raw.trim();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    // What sits between user: and the last @ is the password even when the URL does not parse: register
    // it so that no later message (a driver's, a log line) can show it either.
    registerSecret(/^[^:]*:\/\/[^:/@]*:(.*)@/s.exec(text)?.[1]);
    throw malformedUrl(where, text, 'is not a valid URL');
  }
  registerSecret(u.password);
  const apiKey = u.searchParams.get('api_key');
  registerSecret(apiKey);
  const protocol = u.protocol.replace(/:$/, '');
  // A URL without "//" after its scheme (`postgresql:/app:pw@host/db`, `app:pw@host/db`) parses, with
  // everything after the scheme as its path: the password is somewhere in there, so none of it is shown.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    registerSecret(/^[^:]*:\/*[^:/@]*:(.*)@/s.exec(text)?.[1]);
    throw malformedUrl(where, text, /^postgres(ql)?:\/(?!\/)/i.test(text) ? 'has one slash after postgresql: where two belong' : 'is not a URL of the form postgresql://…');
  }
  // A # ends the host part, and an @ after the host means the password held one: either way the
  // parser has taken part of the password for the host or the database name.
  const afterHost = `${u.pathname}${u.search}`;
  if (u.hash || afterHost.includes('@')) {
    registerSecret(/^[^:]*:\/\/[^:/@]*:(.*)@/s.exec(text)?.[1]);
    throw malformedUrl(where, text, 'is not a valid URL');
  }
  const port = u.port ? Number(u.port) : 5432;
  // WHATWG URL keeps a bad escape such as %zz as written; decoding it would throw a bare URIError.
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw configError('E_URL_MALFORMED', `${where} has an invalid percent-escape (the URL is not shown: it may hold a password)`, {
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
    throw configError('E_URL_PROTOCOL', `${where} uses ${protocol}://, which is not PostgreSQL`, {
      fix: 'use a postgresql:// URL (or prisma+postgres:// for Accelerate, with a directUrl beside it)',
    });
  }
  if (!base.host) {
    throw configError('E_URL_MALFORMED', `${where} has no host (the URL is not shown: it may hold a password)`, {
      fix: `use the form ${URL_SHAPE}`,
    });
  }
  const pooler = poolerReason(u, base.host, port);
  if (pooler) return { ...base, kind: 'pooler', reason: pooler };
  return { ...base, kind: 'direct', reason: 'postgresql:// URL to the server itself' };
}

const URL_SHAPE = 'postgresql://USER:PASSWORD@HOST:5432/DATABASE';

/**
 * The error for a URL that does not parse, or parses into something other than what was written.
 * The URL itself is never part of it: when a URL does not parse, nothing can say reliably which part
 * of it is the password, so the message names where the value came from (`where`) and what in it is
 * the likely cause, found by looking at its characters, never by showing them.
 */
function malformedUrl(where: string, text: string, what: string): StagedbError {
  const hints: string[] = [];
  // After "scheme://": the user, password and host (and the rest), where @ and / are the separators.
  const authority = /^[a-z][a-z0-9+.-]*:\/\/(.*)$/is.exec(text)?.[1] ?? '';
  if (/\s/.test(text)) hints.push('it contains a space (a URL has none: percent-encode one in the password as %20)');
  if (text.includes('#')) hints.push('it contains a # (percent-encode # as %23 in the password)');
  if ((authority.match(/@/g) ?? []).length > 1) hints.push('it contains more than one @ (percent-encode @ as %40 in the password)');
  if (/^[^@/]*\/[^@]*@/.test(authority)) hints.push('a / comes before the @ (percent-encode / as %2F in the password)');
  return configError('E_URL_MALFORMED', `${where} ${what} (it is not shown: it may hold a password)${hints.length ? `: ${hints.join('; ')}` : ''}`, {
    fix: `write it as ${URL_SHAPE}, with these percent-encoded in the user and password: @ as %40, # as %23, / as %2F, ? as %3F, : as %3A, % as %25, a space as %20`,
  });
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
