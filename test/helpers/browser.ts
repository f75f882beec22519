import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { assertBuilt, BIN, type CliResult } from './cli.js';

/**
 * Debian's chromium (`apt-get install chromium`; .ci/run installs it). Never Playwright's own browser
 * download: `npx playwright install` needs hosts this project's CI cannot reach.
 */
export const CHROMIUM = process.env.STAGEDB_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium that can reach only loopback: Studio's page also asks for fonts and telemetry elsewhere. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set STAGEDB_CHROMIUM; never npx playwright install`);
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    // --disable-dev-shm-usage: CI containers often have a 64 MB /dev/shm, too small for a renderer.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    timeout: 60_000,
  });
}

/** A page whose requests to anything but 127.0.0.1 / localhost fail at once instead of waiting on the network. */
export async function loopbackPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(60_000);
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' || host === 'localhost' ? route.continue() : route.abort();
  });
  return page;
}

/** The repository's own Prisma CLI, linked into a temp project's node_modules (as `npm install -D prisma` would put it). */
export function linkPrismaCli(projectDir: string): void {
  const target = fileURLToPath(new URL('../../node_modules/prisma', import.meta.url));
  mkdirSync(join(projectDir, 'node_modules'), { recursive: true });
  symlinkSync(target, join(projectDir, 'node_modules', 'prisma'), 'dir');
}

/** A running `stagedb studio`: its address once printed, and a way to stop it and collect its output. */
export interface RunningStudio {
  child: ChildProcess;
  /** Resolves with http://127.0.0.1:<port>/ once stagedb has printed it and its notes; rejects if stagedb exits first. */
  address: Promise<string>;
  /** Everything printed so far. */
  output(): string;
  /** SIGTERM (or `signal`), then the exit code and output. Safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<CliResult & { signal: NodeJS.Signals | null }>;
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/** Starts `stagedb studio <args>` from the built binary, in a clean environment like `runCli`. */
export function startStudioCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): RunningStudio {
  assertBuilt();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [BIN, 'studio', ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onData = () => {};
  child.stdout!.on('data', (b: Buffer) => {
    stdout += b.toString('utf8');
    onData();
  });
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
  const address = new Promise<string>((resolve, reject) => {
    onData = () => {
      // The address, once stagedb has printed everything it says at start (it ends with "press Ctrl-C").
      const m = /running at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
      if (m && /press Ctrl-C to stop/.test(stdout)) resolve(m[1]!);
    };
    void done.then((r) => reject(new Error(`stagedb studio exited (${r.code ?? r.signal}) before printing an address:\n${r.all}`)));
  });
  address.catch(() => {});
  return {
    child,
    address,
    output: () => `${stdout}\n${stderr}`,
    done,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return done;
    },
  };
}
