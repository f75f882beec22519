import { readFileSync } from 'node:fs';
import type { ResolvedEnvironment } from '../config/environments.js';
import { schemaFiles } from '../config/prisma-project.js';
import type { OpenEngineOptions } from '../engine/index.js';
import { datasourceSchemas } from '../engine/schema.js';
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

/**
 * The schemas a reset drops and recreates, as Prisma's reset does: the URL's (`?schema=`, default
 * `public`; it holds `_prisma_migrations`) first, then every other one a multiSchema datasource names
 * (`schemas = ["public", "auth"]`). Dropping fewer would leave the others' tables, types and functions
 * behind, and re-applying the history would then fail on them ("already exists"). Without a readable
 * schema file, only the URL's.
 */
export function resetSchemas(env: ResolvedEnvironment, schemaPath?: string): string[] {
  const own = env.directInfo.schema;
  if (schemaPath === undefined) return [own];
  const files = schemaFiles(schemaPath).map((path) => ({ path, content: readFileSync(path, 'utf8') }));
  return [...new Set([own, ...(datasourceSchemas(files) ?? [])])];
}

/** `schema "public"`, `schemas "public", "auth"`: for messages. */
export function schemaList(schemas: readonly string[]): string {
  return `schema${schemas.length === 1 ? '' : 's'} ${schemas.map((s) => `"${s}"`).join(', ')}`;
}

/** Reset drops every row of the schemas: only ever on `protection: 'none'`. */
export function refuseResetUnlessUnprotected(env: ResolvedEnvironment, what: string, details: string[] = [], schemas: readonly string[] = [env.directInfo.schema]): void {
  if (env.protection === 'none') return;
  throw new StagedbError('guard', 'E_REFUSED', `${env.name}: ${what} is refused on an environment with protection '${env.protection}': it drops ${schemaList(schemas)} with every row in ${schemas.length === 1 ? 'it' : 'them'}`, {
    details,
    fix: `reset only development databases (protection 'none'); if ${env.name} really is one, set protection: 'none' for environments.${env.name} in stagedb.config.ts`,
  });
}

/** The engine's "This is an empty migration." script counts as no SQL. */
export function scriptOrEmpty(d: { script: string; empty: boolean }): string {
  return d.empty ? '' : d.script;
}
