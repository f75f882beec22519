import { spawn, type ChildProcess } from 'node:child_process';
import { assertBuilt, BIN, type CliResult } from './cli.js';

/** A running `stagedb` child process: kill it whenever you like, then await `done`. */
export interface RunningCli {
  child: ChildProcess;
  /** Resolves when the process has exited (killed or not), with everything it printed. */
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/**
 * Starts `stagedb <args>` like `runCli` does (the built binary, a clean environment: only PATH,
 * HOME, NO_COLOR and `env`), but hands back the child, for tests that kill it mid-way.
 */
export function startCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): RunningCli {
  assertBuilt();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code, signal, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
  return { child, done };
}

/** mulberry32: a small seeded PRNG, so "random" kill points are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
