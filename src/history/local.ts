import { closeSync, constants, existsSync, openSync, lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { StagedbError } from '../errors.js';
import { hash } from 'node:crypto';
import { shellQuote } from '../shell-quote.js';

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
 *
 * The first `localeCompare` of a process loads ICU's collator, ~25 ms on a busy machine: more than
 * `status` takes for the rest of its reading. Names of digits, ASCII letters and `_` (what `migrate dev`
 * writes) are compared here by the same rules ICU's root collation applies to them — `_` before digits
 * before letters, letters regardless of case, then lowercase before uppercase at the first case
 * difference — checked against `localeCompare` on 300 000 random pairs; any other name goes to ICU.
 */
export function compareMigrationNames(a: string, b: string): number {
  // Two names that start with different timestamps (as `migrate dev` names folders) are ordered by
  // them, under ICU's rules as under the ones below: the first difference is a digit against a digit
  // after identical characters. One anchored test per name, where the loop below would compare ~14
  // digits one by one — a sort or a scan of an 800-migration history makes thousands of comparisons.
  if (TIMESTAMP_PREFIX.test(a) && TIMESTAMP_PREFIX.test(b)) {
    const x = a.slice(0, 14);
    const y = b.slice(0, 14);
    if (x !== y) return x < y ? -1 : 1;
  }
  if (!SIMPLE_NAME.test(a) || !SIMPLE_NAME.test(b)) return a.localeCompare(b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = primaryWeight(a.charCodeAt(i)) - primaryWeight(b.charCodeAt(i));
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x > y ? -1 : 1; // lowercase (the higher code) first
  }
  return 0;
}

const SIMPLE_NAME = /^[0-9A-Za-z_]*$/;
const TIMESTAMP_PREFIX = /^\d{14}/;

/** ICU root collation's primary order for `_`, digits and ASCII letters. */
function primaryWeight(c: number): number {
  if (c === 95) return 1;
  if (c <= 57) return 10 + c - 48;
  return 100 + (c >= 97 ? c - 97 : c - 65);
}

/** `YYYYMMDDHHMMSS_…`, as `migrate dev` names folders: only such names say when a migration was made. */
export const hasTimestamp = (name: string): boolean => /^\d{14}(?:_|$)/.test(name);

/**
 * The migration directories of a migrations folder, in Prisma's order (`compareMigrationNames`): every
 * sub-directory, but hidden ones (`.name`), which stagedb's readers skip. `hidden: true` keeps them, as
 * the Prisma CLI does when it hands the folder to the schema engine.
 */
export function migrationDirectoryNames(dir: string, o: { hidden?: boolean } = {}): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && (o.hidden || !e.name.startsWith('.')))
    .map((e) => e.name)
    .sort(compareMigrationNames);
}

/** Undefined where the platform has no O_NOFOLLOW (Windows): each file is then checked with lstat first. */
const O_NOFOLLOW: number | undefined = constants.O_NOFOLLOW;

const historyError = (code: string, message: string, fix: string) => new StagedbError('history', code, message, { fix });

/**
 * The folder read (and every file hashed) at most once, on the first call: for commands that serve
 * several environments from one reading. A problem with the folder is thrown again on every call, so
 * that each environment reports it.
 */
export function readLocalHistoryOnce(dir: string, cwd?: string): () => LocalHistory {
  let folder: { local?: LocalHistory; error?: unknown } | undefined;
  return () => {
    folder ??= (() => {
      try {
        return { local: readLocalHistory(dir, cwd) };
      } catch (error) {
        return { error };
      }
    })();
    if (folder.error !== undefined) throw folder.error;
    return folder.local!;
  };
}

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
    throw historyError('E_MIGRATIONS_CORRUPT', `${shown} is a file, not a migrations folder`, `move it away and restore the folder from version control: git checkout -- ${shellQuote(shown)}`);
  }
  let lockProvider: string | undefined;
  const lockPath = join(dir, 'migration_lock.toml');
  if (existsSync(lockPath)) {
    const m = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockPath, 'utf8'));
    if (!m) {
      throw historyError('E_MIGRATIONS_CORRUPT', `${shown}/migration_lock.toml has no provider line`, `restore it: git checkout -- ${shellQuote(`${shown}/migration_lock.toml`)}   (it should say provider = "postgresql")`);
    }
    lockProvider = m[1];
    if (lockProvider !== 'postgresql') {
      throw historyError('E_PROVIDER', `${shown} was written for provider "${lockProvider}"; stagedb runs PostgreSQL migrations only`, 'point stagedb at a PostgreSQL project (provider = "postgresql" in schema.prisma and migration_lock.toml)');
    }
  }
  const migrations: LocalMigration[] = [];
  // join(dir, name, 'migration.sql') for every entry, without normalising the same prefix 800 times.
  const prefix = join(dir, sep);
  for (const name of migrationDirectoryNames(dir)) {
    const path = `${prefix}${name}${sep}migration.sql`;
    // Read as bytes and hashed as bytes (Prisma's checksum is the sha256 of the file): no decoding to a
    // string that would be encoded again for the hash. The text is decoded on first use (deploy, a
    // checksum mismatch); `status` of an unchanged history never needs it.
    const bytes = readMigrationBytes(path, dir, `${shown}/${name}/migration.sql`, () =>
      historyError('E_MIGRATION_FILE_MISSING', `migration ${name} has no migration.sql (${shown}/${name}/)`, `restore it from version control (git checkout -- ${shellQuote(`${shown}/${name}`)}) or delete the empty directory`),
    );
    // Some Windows editors save UTF-8 with a byte order mark. Prisma sends the file as it is, and
    // PostgreSQL reads the mark as the start of the first word: "syntax error at or near" an invisible
    // character at 1:1 that no one can see in the file. Neither tool can apply it, so say why, up front.
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      const file = shellQuote(`${shown}/${name}/migration.sql`);
      throw historyError(
        'E_MIGRATION_BOM',
        `migration ${name} starts with a UTF-8 byte order mark (BOM, invisible in most editors): PostgreSQL would fail on it at line 1, column 1 ("syntax error at or near"), as it does under Prisma`,
        `save ${shown}/${name}/migration.sql as UTF-8 without BOM (your editor's "Save with Encoding"), or: sed -i '1s/^\\xEF\\xBB\\xBF//' ${file}`,
      );
    }
    migrations.push(localMigration(name, path, bytes));
  }
  return { dir, migrations, lockProvider };
}

/**
 * Reads a migration file as deploy, status and lint must: refused when it is a symlink that leads out
 * of `root` (a pull request could otherwise have stagedb read, hash and print any file the CI runner
 * can read: lint quotes what it lints), and when it holds a NUL byte, which PostgreSQL can neither
 * store nor run (it used to end in an internal error naming no file). `shown` is the path as messages name it.
 */
export function readMigrationBytes(path: string, root: string, shown: string, missing?: () => Error): Buffer {
  // One open that refuses a symbolic link (O_NOFOLLOW: ELOOP) instead of existsSync + lstat + open for
  // every file: a plain file (the usual case) costs no stat of its own, and a link is checked below.
  let bytes: Buffer | undefined;
  if (O_NOFOLLOW !== undefined) {
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDONLY | O_NOFOLLOW);
      bytes = readFileSync(fd);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && missing) throw missing();
      if (code !== 'ELOOP') throw e;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  } else if (missing && !existsSync(path)) throw missing();
  if (!bytes) {
    if (lstatSync(path).isSymbolicLink()) {
      let target: string;
      try {
        target = realpathSync(path);
      } catch (e) {
        // A link to nothing is a missing file, as existsSync (which follows links) reported it.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && missing) throw missing();
        throw e;
      }
      const base = realpathSync(root);
      if (target !== base && !target.startsWith(base.endsWith(sep) ? base : base + sep)) {
        throw historyError(
          'E_MIGRATION_SYMLINK',
          `${shown} is a symbolic link to ${target}, outside ${relative(process.cwd(), base) || base}: stagedb does not read migration files from elsewhere`,
          `replace the link with the file itself: cp --remove-destination ${shellQuote(target)} ${shellQuote(shown)}   (after checking it is the migration you mean)`,
        );
      }
    }
    bytes = readFileSync(path);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    let line = 1;
    for (let i = bytes.indexOf(10); i >= 0 && i < nul; i = bytes.indexOf(10, i + 1)) line++;
    throw historyError(
      'E_MIGRATION_NUL',
      `${shown} holds a NUL byte at byte ${nul + 1} (line ${line}): PostgreSQL cannot run a file with NUL bytes`,
      `remove the NUL bytes (tr -d '\\000' < ${shellQuote(shown)} > migration.sql.clean && mv migration.sql.clean ${shellQuote(shown)}), or restore the file: git checkout -- ${shellQuote(shown)}`,
    );
  }
  return bytes;
}

/** `readMigrationBytes`, decoded: for lint, which needs the text of every file it reads. */
export function readMigrationFile(path: string, root: string, shown: string): string {
  return readMigrationBytes(path, root, shown).toString('utf8');
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
