import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StagedbError } from '../errors.js';
import { hash } from 'node:crypto';

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
    .sort();
  for (const name of entries) {
    const path = join(dir, name, 'migration.sql');
    // Read as bytes and hashed as bytes (Prisma's checksum is the sha256 of the file): no stat before
    // the read, and no decoding to a string that would be encoded again for the hash. The text is
    // decoded on first use (deploy, a checksum mismatch); `status` of an unchanged history never needs it.
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
      throw historyError('E_MIGRATION_FILE_MISSING', `migration ${name} has no migration.sql (${shown}/${name}/)`, `restore it from version control (git checkout -- ${shown}/${name}) or delete the empty directory`);
    }
    // Some Windows editors save UTF-8 with a byte order mark. Prisma sends the file as it is, and
    // PostgreSQL reads the mark as the start of the first word: "syntax error at or near" an invisible
    // character at 1:1 that no one can see in the file. Neither tool can apply it, so say why, up front.
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      throw historyError(
        'E_MIGRATION_BOM',
        `migration ${name} starts with a UTF-8 byte order mark (BOM, invisible in most editors): PostgreSQL would fail on it at line 1, column 1 ("syntax error at or near"), as it does under Prisma`,
        `save ${shown}/${name}/migration.sql as UTF-8 without BOM (your editor's "Save with Encoding"), or: sed -i '1s/^\\xEF\\xBB\\xBF//' ${shown}/${name}/migration.sql`,
      );
    }
    migrations.push(localMigration(name, path, bytes));
  }
  return { dir, migrations, lockProvider };
}

/** A migration whose `script` is decoded from `bytes` when first read (then kept, like a plain field). */
function localMigration(name: string, path: string, bytes: Buffer): LocalMigration {
  let script: string | undefined;
  return {
    name,
    path,
    // crypto.hash: one call, no Hash object per file (Node >= 20.12).
    checksum: hash('sha256', bytes, 'hex'),
    get script() {
      return (script ??= bytes.toString('utf8'));
    },
  };
}
