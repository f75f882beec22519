import { spawn } from 'node:child_process';

/** What a finished child process left behind. */
export interface ExecResult {
  /** Exit code; `null` when the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link execCapture}. */
export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run the child as this numeric user (and group): used to drop root for the PostgreSQL tools. */
  uid?: number;
  gid?: number;
  /** Kill the child after this many milliseconds (default: no limit). */
  timeoutMs?: number;
}

/**
 * Run a program without a shell and collect its output. Never rejects on a non-zero exit: the
 * caller decides what a failure means. It rejects only when the program cannot be started at all
 * (e.g. `ENOENT`), with the original `spawn` error.
 */
export function execCapture(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      uid: opts.uid,
      gid: opts.gid,
      // No stdin: the PostgreSQL tools must never wait for a password prompt.
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
