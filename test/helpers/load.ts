/**
 * Application processes under load for the runtime client's tests: each one runs
 * test/fixtures/client/load-worker.mjs (the built dist/client over a generated Prisma client) and reports
 * its operations, failures and warnings as one JSON line. Loopback only; every worker stops by itself.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const WORKER = resolve(import.meta.dirname, '../fixtures/client/load-worker.mjs');

export interface LoadResult {
  ops: number;
  failed: number;
  errors: Record<string, number>;
  firstError?: string;
  readsAfterWrite: number;
  staleAfterWrite: number;
  pid: number;
  warnings: { at: number; message: string; info?: boolean }[];
}

export interface LoadOptions {
  project: string;
  env: string;
  /** The generated client's CommonJS entry (prisma-client-js). */
  client: string;
  ms?: number;
  concurrency?: number;
  writeShare?: number;
  /** Merged into createPrismaClient's options. */
  options?: Record<string, unknown>;
  /** Run each iteration inside `db.$session()`. */
  session?: boolean;
}

/** Starts one worker; resolves with its report when it exits (rejects when it fails or prints nothing). */
export function runLoadWorker(o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [WORKER], {
      env: {
        PATH: process.env.PATH,
        LOAD_PROJECT: o.project,
        LOAD_ENV: o.env,
        LOAD_CLIENT: o.client,
        LOAD_MS: String(o.ms ?? 5000),
        LOAD_CONCURRENCY: String(o.concurrency ?? 12),
        LOAD_WRITE_SHARE: String(o.writeShare ?? 0.3),
        LOAD_OPTIONS: JSON.stringify(o.options ?? {}),
        LOAD_CONTEXT: o.session ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), (o.ms ?? 5000) + 60_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) return reject(new Error(`load worker exited ${code}: ${err.slice(-2000)}`));
      resolvePromise(JSON.parse(line) as LoadResult);
    });
  });
}
