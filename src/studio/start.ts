import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { StagedbError } from '../errors.js';
import { ENGINE_STUB, findPrismaCli } from '../project/generate.js';
import { redact } from '../redact.js';
import type { StudioPlan } from './plan.js';
import { assertPortFree, freePort, portError, STUDIO_HOST } from './port.js';

/** The first Prisma version whose `prisma studio --url` runs without the native engine (postgres.js inside). */
export const MIN_PRISMA_MAJOR = 7;

/** Runs inside the child; see launcher.ts. `../../dist/…` resolves from both src/studio and dist/studio. */
const LAUNCHER = fileURLToPath(new URL('../../dist/studio/launcher.js', import.meta.url));
/** An empty Prisma config (see prisma-config.ts), so the project's prisma.config.ts cannot stop Studio. */
const EMPTY_PRISMA_CONFIG = fileURLToPath(new URL('../../dist/studio/prisma-config.js', import.meta.url));

/** What Studio's own connection reported once it was up. */
export interface StudioSessionCheck {
  /** `default_transaction_read_only` of Studio's session, as PostgreSQL reports it. */
  readOnly: boolean;
  /** The role Studio's connection runs as. */
  user: string;
  /** Whether that connection is encrypted (pg_stat_ssl). */
  ssl: boolean;
}

export interface StudioSession {
  /** http://127.0.0.1:<port>/ */
  url: string;
  port: number;
  pid: number;
  prismaVersion: string;
  check: StudioSessionCheck;
  /** Resolves when Studio exits without `stop()` (it crashed or was killed), with its last lines. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string[] }>;
  /** Stops Studio (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface StartStudioOptions {
  plan: StudioPlan;
  /** The project root: where Prisma's CLI is looked up and Studio runs. */
  root: string;
  processEnv: NodeJS.ProcessEnv;
  /** A fixed port (refused with E_PORT_BUSY when taken); default: a free one. */
  port?: number;
  /** How long Studio may take to answer; default 60 s. */
  timeoutMs?: number;
  /** Every line Studio prints, and where (not redacted: the caller renders it). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/**
 * What must hold before Studio can start, cheapest first, so that a busy port or a missing Prisma CLI
 * fails before any connection is made: the project's Prisma CLI (version 7 or newer), stagedb's
 * launcher, and the port when one was asked for.
 */
export async function checkPrerequisites(root: string, port?: number): Promise<{ bin: string; version: string }> {
  const cli = findPrismaCli(root);
  if (!cli) {
    throw new StagedbError('config', 'E_PRISMA_MISSING', 'Prisma Studio comes with the Prisma CLI, and this project does not have it installed', {
      fix: 'npm install --save-dev prisma   (then run stagedb studio again)',
    });
  }
  const major = Number(cli.version.split('.')[0]);
  if (!(major >= MIN_PRISMA_MAJOR)) {
    throw new StagedbError('config', 'E_PRISMA_TOO_OLD', `the project's Prisma CLI is ${cli.version}; stagedb studio needs Prisma ${MIN_PRISMA_MAJOR} or newer, whose Studio runs without the native engine`, {
      fix: `npm install --save-dev prisma@${MIN_PRISMA_MAJOR}   (the CLI only: your @prisma/client can stay where it is)`,
    });
  }
  if (!existsSync(LAUNCHER) || !existsSync(EMPTY_PRISMA_CONFIG)) {
    throw new StagedbError('internal', 'E_STUDIO_LAUNCHER', `stagedb's Studio launcher is missing (${LAUNCHER})`, { fix: 'npm run build (or reinstall stagedb)' });
  }
  if (port !== undefined) await assertPortFree(port);
  return cli;
}

/**
 * Starts the project's Prisma Studio on the planned connection, bound to 127.0.0.1, and resolves once
 * it answers HTTP and its own database session has been checked: in read-only mode the session must
 * report `default_transaction_read_only = on`, or Studio is stopped again and this throws. Nothing
 * keeps running after a failure.
 */
export async function startStudio(options: StartStudioOptions): Promise<StudioSession> {
  const cli = await checkPrerequisites(options.root, options.port);
  // A free port can be taken between the check and Studio's listen: with a port of our choosing, try another.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOn(port, cli, options);
    } catch (e) {
      const busy = e instanceof StagedbError && e.code === 'E_PORT_BUSY';
      if (!busy || options.port !== undefined || attempt >= 3) throw e;
    }
  }
}

async function startOn(port: number, cli: { bin: string; version: string }, options: StartStudioOptions): Promise<StudioSession> {
  const env: NodeJS.ProcessEnv = {
    ...options.processEnv,
    ...options.plan.childEnv,
    // Prisma's CLI downloads its native schema engine before any command unless this names a file.
    PRISMA_SCHEMA_ENGINE_BINARY: options.processEnv.PRISMA_SCHEMA_ENGINE_BINARY || ENGINE_STUB,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    // No telemetry call from a Studio that may be looking at production.
    CHECKPOINT_DISABLE: '1',
    // stagedb opens the browser itself, once the session has been checked.
    BROWSER: 'none',
  };
  const args = [LAUNCHER, cli.bin, 'studio', '--config', EMPTY_PRISMA_CONFIG, '--url', options.plan.url, '--port', String(port), '--browser', 'none'];
  // Its own process group: Ctrl-C in the terminal reaches stagedb, which stops Studio in order.
  const child = spawn(process.execPath, args, { cwd: options.root, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const output: string[] = [];
  const take = (line: string, stream: 'stdout' | 'stderr' = 'stderr') => {
    if (!line.trim()) return;
    output.push(line);
    if (output.length > 40) output.shift();
    options.onLine?.(line, stream);
  };
  createInterface({ input: child.stdout! }).on('line', (l) => take(l, 'stdout'));
  createInterface({ input: child.stderr! }).on('line', (l) => take(l, 'stderr'));
  child.stdin!.on('error', () => {});

  let stopping = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string[] }>((resolve) => {
    child.once('error', (e) => {
      take(String(e.message));
      resolve({ code: null, signal: null, output });
    });
    // 'close', not 'exit': by then every line Studio printed has been read (an EADDRINUSE among them).
    child.once('close', (code, signal) => resolve({ code, signal, output }));
  });
  const stop = async () => {
    if (stopping) return void (await exit);
    stopping = true;
    await terminate(child, exit);
  };

  try {
    const base = `http://${STUDIO_HOST}:${port}`;
    await waitUntilServing(base, exit, options.timeoutMs ?? 60_000, port);
    const check = await checkSession(base, options.plan);
    return {
      url: `${base}/`,
      port,
      pid: child.pid!,
      prismaVersion: cli.version,
      check,
      exited: exit.then((r) => (stopping ? new Promise<never>(() => {}) : r)),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function terminate(child: ChildProcess, exit: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  try {
    await exit;
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntilServing(base: string, exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string[] }>, timeoutMs: number, port: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: { code: number | null; signal: NodeJS.Signals | null; output: string[] } | undefined;
  void exit.then((r) => (exited = r));
  for (;;) {
    if (exited) throw startFailed(exited, port);
    try {
      const res = await fetch(`${base}/`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      throw new StagedbError('internal', 'E_STUDIO_TIMEOUT', `Prisma Studio did not answer on ${base} within ${Math.round(timeoutMs / 1000)} s`, {
        fix: 'run it again; if it keeps happening, run npx prisma studio --browser none in the project to see what Prisma prints',
      });
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

function startFailed(r: { code: number | null; signal: NodeJS.Signals | null; output: string[] }, port: number): StagedbError {
  const text = r.output.join('\n');
  if (/EADDRINUSE/.test(text)) return portError(port, 'EADDRINUSE');
  if (/EACCES/.test(text) && /listen/.test(text)) return portError(port, 'EACCES');
  return new StagedbError('migration', 'E_STUDIO_FAILED', `Prisma Studio exited before it was ready (${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`})`, {
    details: r.output.slice(-8).map((l) => redact(l)),
    fix: 'see the lines above; run npx prisma studio --browser none in the project to compare',
  });
}

/** One query through Studio's own server and connection pool: what its session really is. */
async function checkSession(base: string, plan: StudioPlan): Promise<StudioSessionCheck> {
  const sql = `select current_setting('default_transaction_read_only') as read_only, current_user as "user", coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl`;
  const [error, rows] = await studioQuery(base, sql);
  if (error) {
    const message = typeof error.message === 'string' && error.message ? error.message : JSON.stringify(error);
    throw new StagedbError('connection', 'E_STUDIO_CONNECT', `Prisma Studio could not query ${plan.display} (${plan.source}): ${redact(message)}${typeof error.code === 'string' ? ` [${error.code}]` : ''}`, {
      fix: 'stagedb doctor --env <env> checks the connection step by step',
    });
  }
  const row = rows?.[0] ?? {};
  const check = { readOnly: row.read_only === 'on', user: String(row.user ?? ''), ssl: row.ssl === true };
  if (plan.mode === 'read-only' && !check.readOnly) {
    throw new StagedbError('guard', 'E_STUDIO_NOT_READ_ONLY', `Studio's session on ${plan.display} is not read-only (default_transaction_read_only is ${String(row.read_only)}), so stagedb stopped it`, {
      fix: "set studioUrl for this environment to a role that has only SELECT (the hard guarantee), and report this: stagedb's read-only option did not reach the server",
    });
  }
  return check;
}

/** Studio's backend endpoint: POST /bff { procedure: 'query' } → [error] | [null, rows]. */
async function studioQuery(base: string, sql: string): Promise<[{ message?: unknown; code?: unknown } | null, Record<string, unknown>[] | undefined]> {
  const res = await fetch(`${base}/bff`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ procedure: 'query', query: { sql, parameters: [] } }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new StagedbError('internal', 'E_STUDIO_PROTOCOL', `Prisma Studio answered ${res.status} to a query: ${redact((await res.text()).slice(0, 200))}`);
  const body = (await res.json()) as unknown;
  if (!Array.isArray(body)) throw new StagedbError('internal', 'E_STUDIO_PROTOCOL', 'Prisma Studio answered a query in a form stagedb does not know (a newer Prisma?)');
  return [(body[0] ?? null) as { message?: unknown; code?: unknown } | null, body[1] as Record<string, unknown>[] | undefined];
}
