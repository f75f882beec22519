import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { redact } from '../redact.js';
import { isNoise } from './progress.js';

/** A running pg_dump or pg_restore: its exit, and the stderr lines worth reporting. */
export interface ToolRun {
  child: ChildProcess;
  /** Resolves when the process has exited and its stderr has been read. Never rejects. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; errors: string[]; spawnError?: Error }>;
}

/**
 * Starts a PostgreSQL client tool without a shell. Each stderr line goes to `onLine` (for progress);
 * the ones that are not --verbose narration are kept, redacted, for the error report.
 */
export function runTool(
  tool: 'pg_dump' | 'pg_restore' | 'psql',
  path: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { stdout?: 'pipe' | 'ignore'; stdin?: 'pipe' | 'ignore'; onLine?: (line: string) => void } = {},
): ToolRun {
  const child = spawn(path, args, { env, stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'ignore', 'pipe'] });
  const errors: string[] = [];
  let spawnError: Error | undefined;
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (line) => {
    opts.onLine?.(line);
    if (!isNoise(tool, line) && errors.length < 50) errors.push(redact(line));
  });
  const closed = new Promise<void>((resolve) => lines.once('close', resolve));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; errors: string[]; spawnError?: Error }>((resolve) => {
    child.once('error', (e) => {
      spawnError = e;
      resolve({ code: null, signal: null, errors, spawnError });
    });
    child.once('close', (code, signal) => {
      void closed.then(() => resolve({ code, signal, errors, spawnError }));
    });
  });
  return { child, done };
}
