import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { StagedbError, usageError } from '../errors.js';
import { compareMigrationNames, migrationDirectoryNames, readMigrationFile } from '../history/local.js';
import type { LintInput } from './types.js';

/**
 * The files to lint: each path is a .sql file, a migration directory (holding migration.sql), a
 * migrations folder (every migration in it), or a folder of .sql files; none: the project's folder.
 */
export function readLintInputs(o: { cwd: string; root: string; migrationsDir: string; paths: readonly string[] }): LintInput[] {
  // path.relative costs ~5 µs a call, 5 ms over a long history: a plain prefix cut covers the usual case.
  const prefix = o.cwd.endsWith(sep) ? o.cwd : o.cwd + sep;
  const shown = (p: string) => (p.startsWith(prefix) ? p.slice(prefix.length) : relative(o.cwd, p) || p);
  // Through history's reader: a symlink that leads out of the project, or a NUL byte, is refused (issue 12 item 8).
  const fromFile = (p: string, known?: string): LintInput => {
    const migration = known ?? (basename(p) === 'migration.sql' ? basename(dirname(p)) : undefined);
    return { path: shown(p), ...(migration ? { migration } : {}), sql: readMigrationFile(p, o.root, shown(p)) };
  };
  if (o.paths.length === 0) {
    // A migration directory without migration.sql is history's problem (status and deploy refuse it), not lint's.
    const base = join(o.migrationsDir, sep);
    return migrationNames(o.migrationsDir).flatMap((name) => {
      try {
        // Concatenated, not path.join: 1000 joins and basenames cost ~5 ms in a process this short.
        return [fromFile(`${base}${name}${sep}migration.sql`, name)];
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
    });
  }
  const out: LintInput[] = [];
  for (const raw of o.paths) {
    const p = resolve(o.cwd, raw);
    if (!existsSync(p)) throw usageError('E_USAGE', `${raw}: no such file or directory`, 'stagedb lint prisma/migrations/<migration>/migration.sql');
    if (statSync(p).isFile()) {
      out.push(fromFile(p));
      continue;
    }
    if (existsSync(join(p, 'migration.sql'))) {
      out.push(fromFile(join(p, 'migration.sql')));
      continue;
    }
    const migrations = readMigrations(p).filter((m) => existsSync(m));
    const sqlFiles = readdirSync(p)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => join(p, f));
    if (migrations.length === 0 && sqlFiles.length === 0) throw usageError('E_USAGE', `${raw} holds no migration.sql and no .sql file`, 'point stagedb lint at a migrations folder, a migration directory or a .sql file');
    out.push(...[...migrations, ...sqlFiles].map((p) => fromFile(p)));
  }
  // Migrations in the order Prisma applies them (history's, as status and deploy see it); other files by path.
  const byPath = (a: LintInput, b: LintInput) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return out.sort((a, b) => (a.migration && b.migration ? compareMigrationNames(a.migration, b.migration) || byPath(a, b) : byPath(a, b)));
}

/**
 * Whether the paths name a migration history rather than migrations to deploy together: none (the
 * project's folder), or only folders of migration directories. `stagedb lint` and `stagedb lint
 * prisma/migrations` then agree (issue 13: the folder as an argument was judged as one deploy onto an
 * empty database, 8 findings where the same history gave 930).
 */
export function isHistory(positionals: readonly string[], cwd: string): boolean {
  return positionals.every((raw) => {
    const p = resolve(cwd, raw);
    return existsSync(p) && statSync(p).isDirectory() && !existsSync(join(p, 'migration.sql')) && readMigrations(p).some((m) => existsSync(m));
  });
}

function readMigrations(dir: string): string[] {
  return migrationNames(dir).map((name) => join(dir, name, 'migration.sql'));
}

/** The migration directories' names, in Prisma's order (history's listing). */
function migrationNames(dir: string): string[] {
  if (!existsSync(dir)) {
    // A config problem (exit 3), not history's exit 2, which for lint means "errors found".
    throw new StagedbError('config', 'E_MIGRATIONS_MISSING', `migrations folder ${dir} does not exist`, { fix: 'pass the files to lint: stagedb lint <file.sql>, or set migrations in stagedb.config.ts' });
  }
  return migrationDirectoryNames(dir);
}
