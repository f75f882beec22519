import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { resolveEnvironment, selectEnvironments, type ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import { schemaFiles } from '../config/prisma-project.js';
import { datasourceSchemas } from '../engine/schema.js';
import { MANIFEST_FILE } from './manifest.js';
import { openStorage, type BackupStorage } from './storage.js';

/**
 * An environment resolved only for its backup storage. Reading another environment's backups (a
 * restore of production's into staging) must not need production's database URL on this machine:
 * a placeholder stands in for it, and nothing ever connects to it.
 */
export function backupsOf(config: ResolvedConfig, name: string, processEnv: NodeJS.ProcessEnv): ResolvedEnvironment {
  return resolveEnvironment(config, name, { processEnv, urlOverride: 'postgresql://backups-only@localhost/unused?sslmode=verify-full' });
}

/**
 * Where a backup to restore is: a backup directory given by path, or the storage of the environment
 * `from` names (default: the one its id starts with, else the target's own).
 */
export async function openBackupSource(o: { ref: string; cwd: string; config: ResolvedConfig; target: ResolvedEnvironment; from?: string; processEnv: NodeJS.ProcessEnv }): Promise<{ storage: BackupStorage; id: string }> {
  const { ref, config, target } = o;
  const asPath = resolve(o.cwd, ref);
  if (ref.includes('/') && existsSync(join(asPath, MANIFEST_FILE))) {
    const { LocalStorage } = await import('./storage-local.js');
    return { storage: new LocalStorage(dirname(asPath)), id: basename(asPath) };
  }
  const inferred = Object.keys(config.environments)
    .filter((n) => ref.startsWith(`${n}-`))
    .sort((a, b) => b.length - a.length)[0];
  const from = o.from !== undefined ? selectEnvironments(config, o.from, o.processEnv)[0]! : (inferred ?? target.name);
  const source = from === target.name ? target : backupsOf(config, from, o.processEnv);
  return { storage: await openStorage(source.backup.storage, source.name), id: ref };
}

/**
 * The schemas a restore replaces, as Prisma's reset would: the URL's (`?schema=`, default `public`;
 * it holds `_prisma_migrations`) first, then every other one a multiSchema datasource names. Without
 * a readable schema file, only the URL's.
 */
export function restoreSchemas(target: ResolvedEnvironment, schemaPath: string): string[] {
  const own = target.directInfo.schema;
  if (!existsSync(schemaPath)) return [own];
  const files = schemaFiles(schemaPath).map((path) => ({ path, content: readFileSync(path, 'utf8') }));
  return [...new Set([own, ...(datasourceSchemas(files) ?? [])])];
}
