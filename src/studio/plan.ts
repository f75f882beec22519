import { isAbsolute, resolve } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';

/**
 * How `stagedb studio` connects Prisma Studio to an environment, decided before anything starts.
 *
 * Prisma 7's `prisma studio --url` talks to PostgreSQL through postgres.js, which sends every URL
 * parameter it does not know as a startup parameter. That is the lever: `options=-c
 * default_transaction_read_only=on` reaches the server in the startup packet, so every transaction of
 * every Studio connection is read-only, enforced by PostgreSQL itself (SQLSTATE 25006 on any write).
 * It is also why the URL is rebuilt here from an allow-list: a libpq-only parameter (`sslrootcert`,
 * `sslcert`, `channel_binding`, …) would reach the server as an unknown setting and fail the connection.
 *
 * The password never goes on Studio's command line (visible to every local user in `ps`): it travels
 * in the child's environment as PGPASSWORD, which postgres.js reads when the URL has none.
 */
export interface StudioPlan {
  /** read-only: the database refuses every write of this session. */
  mode: 'read-only' | 'read-write';
  /** Why this mode, for the user: "protection production", "config studio: 'read-only'", … */
  reason: string;
  /** What Studio connects as: "studioUrl (env STUDIO_URL)", "directUrl (env DIRECT_URL)". */
  source: string;
  /** The URL handed to `prisma studio --url`, without password. */
  url: string;
  /** For display: host, port, database, user (never the password). */
  display: string;
  /** The original URL (with password), for stagedb's own pre-flight connection. */
  connectUrl: string;
  /** Variables for the Studio process: PGPASSWORD, and NODE_EXTRA_CA_CERTS for a private CA. */
  childEnv: Record<string, string>;
  /** Things the user should know (e.g. a TLS mode Studio applies more strictly). */
  notes: string[];
}

/** The application_name of Studio's connections, so `pg_stat_activity` shows whose they are. */
export const STUDIO_APPLICATION_NAME = 'stagedb studio';

/** The server option that makes a session read-only (libpq's `options` syntax: command-line switches). */
export const READ_ONLY_OPTION = '-c default_transaction_read_only=on';

/**
 * URL parameters passed through to Studio. postgres.js understands these itself; everything else is
 * dropped (Prisma's own `schema`, `connection_limit`, … are dropped by Prisma too).
 */
const PASS_THROUGH = new Set(['connect_timeout', 'target_session_attrs', 'options']);

const TLS_RANK: Record<string, number> = { disable: 0, allow: 1, prefer: 1, require: 2, 'verify-ca': 3, 'verify-full': 4 };

/**
 * Plans the Studio connection of an environment. `cwd` resolves a relative `sslrootcert` the way
 * stagedb's own connections do (relative to where stagedb runs); `databaseMarker` is the protection the
 * database itself is marked with (`stagedb.protection`), which can only make the session stricter.
 */
export function planStudio(env: ResolvedEnvironment, options: { cwd: string; databaseMarker?: string; forceReadOnly?: boolean } = { cwd: process.cwd() }): StudioPlan {
  const { mode, reason } = decideMode(env, options.databaseMarker, options.forceReadOnly);
  const connectUrl = env.studio.url ?? env.directUrl;
  const source = env.studio.url ? (env.studio.urlSource ?? 'studioUrl') : env.directSource;
  const { url, childEnv, notes, sslmode } = studioUrl(connectUrl, { mode, cwd: options.cwd, label: `${env.name} (${source})` });
  // studioUrl is the config's own second URL: hold it to the environment's TLS minimum like the direct one.
  if (env.ssl && (TLS_RANK[sslmode] ?? 0) < (TLS_RANK[env.ssl] ?? 0)) {
    throw new StagedbError('config', 'E_SSL_REQUIRED', `environment ${env.name} requires sslmode=${env.ssl} or stronger, but its ${source} has sslmode=${sslmode}`, {
      fix: `add ?sslmode=${env.ssl} to ${source}`,
    });
  }
  const u = new URL(connectUrl);
  const display = `${decodeURIComponent(u.username) || '(default user)'}@${u.hostname}:${u.port || 5432}/${decodeURIComponent(u.pathname.slice(1))}`;
  return { mode, reason, source, url, display, connectUrl, childEnv, notes };
}

function decideMode(env: ResolvedEnvironment, marker: string | undefined, forceReadOnly: boolean | undefined): { mode: StudioPlan['mode']; reason: string } {
  if (forceReadOnly) return { mode: 'read-only', reason: '--read-only' };
  // A database marked production is read-only in Studio whatever the config says about this
  // environment: a development config whose URL points at production must not open it read-write.
  if (marker === 'production' && env.protection !== 'production') {
    return { mode: 'read-only', reason: `the database is marked "production" (its protection marker), although ${env.name} has protection ${env.protection}: check its URL` };
  }
  if (env.studio.mode === 'read-only') {
    return { mode: 'read-only', reason: env.protection === 'production' ? `${env.name} has protection production` : `the config sets studio: 'read-only' for ${env.name}` };
  }
  return {
    mode: 'read-write',
    reason: env.protection === 'production' ? `the config sets studio: 'read-write' for ${env.name}` : `${env.name} has protection ${env.protection}`,
  };
}

/**
 * The URL for `prisma studio --url`: the same server, database and user, without the password, with
 * only the parameters postgres.js understands, libpq's `sslmode` mapped onto postgres.js's, and in
 * read-only mode the server option that makes every transaction read-only.
 */
export function studioUrl(
  raw: string,
  options: { mode: StudioPlan['mode']; cwd: string; label: string },
): { url: string; childEnv: Record<string, string>; notes: string[]; sslmode: string } {
  const u = new URL(raw);
  const params = u.searchParams;
  const childEnv: Record<string, string> = {};
  const notes: string[] = [];
  if (u.password) childEnv.PGPASSWORD = decodeURIComponent(u.password);
  u.password = '';

  if (params.get('sslcert') || params.get('sslkey')) {
    throw new StagedbError('config', 'E_STUDIO_TLS', `${options.label}: the URL uses a TLS client certificate (sslcert/sslkey), which Prisma Studio's driver cannot read from a URL`, {
      fix: 'give Studio a URL that authenticates by password: set studioUrl for this environment (ideally a role with SELECT only)',
    });
  }
  const given = params.get('sslmode') ?? 'prefer';
  const rootcert = params.get('sslrootcert') ?? undefined;
  let ssl: string;
  if (rootcert === 'system') {
    ssl = 'verify-full';
  } else if (rootcert && given !== 'disable' && given !== 'allow' && given !== 'prefer') {
    // postgres.js can verify only the full way (chain and host name); the CA comes in through Node's
    // NODE_EXTRA_CA_CERTS. libpq's require/verify-ca with a root certificate check the chain only.
    ssl = 'verify-full';
    childEnv.NODE_EXTRA_CA_CERTS = isAbsolute(rootcert) ? rootcert : resolve(options.cwd, rootcert);
    if (given !== 'verify-full') notes.push(`sslmode=${given} with sslrootcert: Studio's driver also checks the server's host name against its certificate`);
  } else {
    switch (given) {
      case 'disable':
        ssl = 'disable';
        break;
      case 'allow':
      case 'prefer':
        // postgres.js has no "plain first"; prefer (TLS when the server offers it) is the closer of the two.
        ssl = 'prefer';
        break;
      case 'require':
        ssl = 'require';
        break;
      case 'verify-ca':
      case 'verify-full':
        ssl = 'verify-full';
        if (given === 'verify-ca') notes.push("sslmode=verify-ca: Studio's driver also checks the server's host name against its certificate");
        break;
      default:
        throw new StagedbError('connection', 'E_TLS', `${options.label}: invalid sslmode "${given}" in the URL`, { fix: "use one of disable, allow, prefer, require, verify-ca, verify-full (libpq's values)" });
    }
  }

  const kept = new URLSearchParams();
  for (const [k, v] of params) if (PASS_THROUGH.has(k) && k !== 'options') kept.set(k, v);
  kept.set('sslmode', ssl);
  // The URL's own server options are kept (Prisma's ?schema= is not needed: Studio lists every schema).
  const serverOptions = [params.get('options') ?? undefined];
  if (options.mode === 'read-only') serverOptions.push(READ_ONLY_OPTION);
  const joined = serverOptions.filter(Boolean).join(' ');
  if (joined) kept.set('options', joined);
  kept.set('application_name', STUDIO_APPLICATION_NAME);
  // URLSearchParams writes spaces as "+", which postgres.js (WHATWG URL) reads back as spaces too; %20 is unambiguous everywhere.
  u.search = kept.toString().replace(/\+/g, '%20');
  return { url: u.toString(), childEnv, notes, sslmode: rootcert === 'system' ? 'verify-full' : given };
}

/** The plan as the user sees it (no password anywhere). */
export function describePlan(plan: StudioPlan): string {
  return redact(`${plan.mode} (${plan.reason}), as ${plan.display} via ${plan.source}`);
}
