import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StagedbError } from '../errors.js';
import { checksum } from './checksum.js';

/** One `prisma/migrations/<timestamp>_<name>/migration.sql`. */
export interface LocalMigration {
  name: string;
  path: string;
  script: string;
  checksum: string;
}

export interface LocalHistory {
  dir: string;
  migrations: LocalMigration[];
  /** `provider` from migration_lock.toml, when the file exists. */
  lockProvider?: string;
}

/**
 * The order of migration folders: Prisma's (packages/migrate listMigrations sorts with `localeCompare`,
 * and the engine applies the unapplied ones in that order). Every reader of the folder sorts with this.
 */
export const compareMigrationNames = (a: string, b: string): number => a.localeCompare(b);

/** `YYYYMMDDHHMMSS_…`, as `migrate dev` names folders: only such names say when a migration was made. */
export const hasTimestamp = (name: string): boolean => /^\d{14}(?:_|$)/.test(name);

const historyError = (code: string, message: string, fix: string) => new StagedbError('history', code, message, { fix });

/**
 * Reads the migrations folder the way Prisma does: every sub-directory is a migration, sorted by
 * name, and must hold migration.sql. Problems are refused up front, before anything touches a database.
 */
export function readLocalHistory(dir: string, cwd = process.cwd()): LocalHistory {
  const shown = relative(cwd, dir) || dir;
  if (!existsSync(dir)) {
    throw historyError('E_MIGRATIONS_MISSING', `migrations folder ${shown} does not exist`, 'create the first migration: stagedb migrate dev --name init   (or set migrations in stagedb.config.ts to the folder)');
  }
  if (!statSync(dir).isDirectory()) {
    throw historyError('E_MIGRATIONS_CORRUPT', `${shown} is a file, not a migrations folder`, `move it away and restore the folder from version control: git checkout -- ${shown}`);
  }
  let lockProvider: string | undefined;
  const lockPath = join(dir, 'migration_lock.toml');
  if (existsSync(lockPath)) {
    const m = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockPath, 'utf8'));
    if (!m) {
      throw historyError('E_MIGRATIONS_CORRUPT', `${shown}/migration_lock.toml has no provider line`, `restore it: git checkout -- ${shown}/migration_lock.toml   (it should say provider = "postgresql")`);
    }
    lockProvider = m[1];
    if (lockProvider !== 'postgresql') {
      throw historyError('E_PROVIDER', `${shown} was written for provider "${lockProvider}"; stagedb runs PostgreSQL migrations only`, 'point stagedb at a PostgreSQL project (provider = "postgresql" in schema.prisma and migration_lock.toml)');
    }
  }
  const migrations: LocalMigration[] = [];
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(compareMigrationNames);
  for (const name of entries) {
    const path = join(dir, name, 'migration.sql');
    if (!existsSync(path)) {
      throw historyError('E_MIGRATION_FILE_MISSING', `migration ${name} has no migration.sql (${shown}/${name}/)`, `restore it from version control (git checkout -- ${shown}/${name}) or delete the empty directory`);
    }
    const script = readFileSync(path, 'utf8');
    migrations.push({ name, path, script, checksum: checksum(script) });
  }
  return { dir, migrations, lockProvider };
}
