import type { ResolvedEnvironment } from '../config/environments.js';
import type { OpenEngineOptions } from '../engine/index.js';
import { StagedbError } from '../errors.js';

/**
 * Something the development commands report while they work, for the CLI to render (a spinner line,
 * `--verbose`, `--json`). The library never prints. Every event has a `type`; see each function for
 * the ones it sends. Deploy's own events (`apply-start`, `apply-done`, …) are passed through as they are.
 */
export type DevelopEvent = { type: string; [key: string]: unknown };

/** What every development command needs to open the engine on an environment. */
export function engineOptionsFor(env: ResolvedEnvironment, extra: Partial<OpenEngineOptions> = {}): OpenEngineOptions {
  return {
    url: env.directUrl,
    label: env.name,
    env: env.name,
    ...(env.shadowDatabaseUrl ? { shadowDatabaseUrl: env.shadowDatabaseUrl } : {}),
    ...extra,
  };
}

/**
 * Defence in depth: the CLI asks for confirmation first (typed for `guarded`), but the library itself
 * refuses what must never happen on a protected database, whoever calls it.
 */
export function refuseOnProduction(env: ResolvedEnvironment, command: string, why: string, fix: string): void {
  if (env.protection !== 'production') return;
  throw new StagedbError('guard', 'E_REFUSED', `${env.name}: ${command} is refused on an environment with protection 'production': ${why}`, { fix });
}

/** Reset drops every row of the schema: only ever on `protection: 'none'`. */
export function refuseResetUnlessUnprotected(env: ResolvedEnvironment, what: string, details: string[] = []): void {
  if (env.protection === 'none') return;
  throw new StagedbError('guard', 'E_REFUSED', `${env.name}: ${what} is refused on an environment with protection '${env.protection}': it drops schema "${env.directInfo.schema}" with every row in it`, {
    details,
    fix: `reset only development databases (protection 'none'); if ${env.name} really is one, set protection: 'none' for environments.${env.name} in stagedb.config.ts`,
  });
}

/** The engine's "This is an empty migration." script counts as no SQL. */
export function scriptOrEmpty(d: { script: string; empty: boolean }): string {
  return d.empty ? '' : d.script;
}
