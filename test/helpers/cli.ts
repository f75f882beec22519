import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built binary, exactly what `npm install stagedb` puts on PATH. */
export const BIN = fileURLToPath(new URL('../../bin/stagedb.js', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for "never appears anywhere" assertions. */
  all: string;
}

export interface CliOptions {
  cwd: string;
  /**
   * Extra environment variables. The child never inherits the test process's DATABASE_URL,
   * DIRECT_URL, STAGEDB_* or PG* variables: only PATH, HOME and these.
   */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Fails loudly when `npm run build` has not been run, instead of every test failing obscurely. */
export function assertBuilt(): void {
  if (!existsSync(DIST_MAIN)) throw new Error(`${DIST_MAIN} is missing: run \`npm run build\` before the CLI tests`);
}

const secrets = new Set<string>();

/**
 * Registers a string that must never appear in any output of any later `runCli` in this test file
 * (a password, an api key). Its percent-encoded and decoded forms are registered too.
 */
export function forbidInOutput(...values: string[]): void {
  for (const v of values) {
    if (!v) continue;
    secrets.add(v);
    secrets.add(encodeURIComponent(v));
    try {
      secrets.add(decodeURIComponent(v));
    } catch {
      /* not percent-encoded */
    }
  }
}

/** The password in a URL (decoded), for `forbidInOutput`. */
export const passwordOf = (url: string): string => decodeURIComponent(new URL(url).password);

/**
 * Runs `stagedb <args>` as a child process and captures its output and exit code. Rejects when a
 * string registered with `forbidInOutput` shows up in stdout or stderr: a leak fails every test.
 */
export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const r = await spawnCli(args, options);
  for (const s of secrets) {
    if (r.all.includes(s)) {
      throw new Error(`a secret (${s.length} chars, starting ${JSON.stringify(s.slice(0, 2))}) appeared in the output of stagedb ${args.join(' ')}:\n${r.all}`);
    }
  }
  return r;
}

function spawnCli(args: string[], options: CliOptions): Promise<CliResult> {
  assertBuilt();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
}

/** A 127.0.0.1 port that nothing listens on: bound, then closed. Connecting to it is refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/**
 * Replaces what varies between runs (temp dirs, ports, database names, durations, timestamps) so that
 * user-facing text can be pinned with inline snapshots.
 */
export function normalize(text: string, replacements: Record<string, string> = {}): string {
  let out = text;
  // Longest first, so a path that contains another is replaced whole.
  for (const [from, to] of Object.entries(replacements).sort((a, b) => b[0].length - a[0].length)) {
    if (from) out = out.split(from).join(to);
  }
  return out
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/\(\d+ ms\)/g, '(<ms> ms)')
    .replace(/\b\d+s ago\b/g, '<ago>')
    .replace(/PostgreSQL \d+(\.\d+)?/g, 'PostgreSQL <version>')
    .replace(/\bpid \d+/g, 'pid <pid>')
    .trimEnd();
}
