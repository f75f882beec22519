import { configError, type StagedbError } from '../errors.js';
import { resolveEnvironment, type ResolvedEnvironment } from './environments.js';
import type { ResolvedConfig } from './load.js';
import type { ParsedUrl } from './url.js';

/**
 * Two environments whose direct URLs reach the same database share one protection marker, one
 * `_prisma_migrations` and one audit trail: a deploy to one is a deploy to the other, and whichever
 * marks the database first locks the other out. `env`, `status` and `doctor` report it as an error.
 */

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']);

/** host:port/database with the host lower-cased, without a trailing dot, and every loopback name as one. */
export function databaseKey(u: Pick<ParsedUrl, 'host' | 'port' | 'database'>): string {
  let host = u.host.toLowerCase().replace(/\.$/, '');
  if (LOOPBACK.has(host) || /^127\./.test(host)) host = 'localhost';
  return `${host}:${u.port}/${u.database}`;
}

/**
 * The other environments of the config whose direct URL reaches the same database as `env`. Those
 * that do not resolve (not configured, a bad URL) are left out: their own error says why. `resolve`
 * resolves another environment: a caller that resolves every environment anyway passes its memoised
 * one (`status --env all` would otherwise resolve each environment once per environment).
 */
export function environmentsSharingDatabase(
  config: ResolvedConfig,
  env: ResolvedEnvironment,
  processEnv: NodeJS.ProcessEnv,
  resolve: (name: string) => ResolvedEnvironment = (name) => resolveEnvironment(config, name, { processEnv }),
): string[] {
  const key = databaseKey(env.directInfo);
  const same: string[] = [];
  for (const name of Object.keys(config.environments)) {
    if (name === env.name) continue;
    try {
      if (databaseKey(resolve(name).directInfo) === key) same.push(name);
    } catch {
      /* reported on its own */
    }
  }
  return same;
}

/** The error for `env` sharing its database with `others`. */
export function sameDatabaseError(env: ResolvedEnvironment, others: string[]): StagedbError {
  const i = env.directInfo;
  const list = others.join(', ');
  return configError(
    'E_ENV_SAME_DATABASE',
    `${env.name} and ${list} resolve to the same database (${i.host}:${i.port}/${i.database}): a deploy to one is a deploy to the other, and its protection marker can only name one of them`,
    { fix: `give each environment its own database: check the URL ${env.name} takes from ${env.directSource} and ${others.length === 1 ? `${list}'s` : 'theirs'} (stagedb env shows where each comes from)` },
  );
}
