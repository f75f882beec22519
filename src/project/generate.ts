import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';

/** Where the project's own Prisma CLI is, if it has one (`prisma` in its dependencies). */
export function findPrismaCli(root: string): { bin: string; version: string } | undefined {
  try {
    const require = createRequire(join(root, 'package.json'));
    const pkgPath = require.resolve('prisma/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string; bin?: string | Record<string, string> };
    const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.prisma;
    if (!rel) return undefined;
    const bin = join(dirname(pkgPath), rel);
    return existsSync(bin) ? { bin, version: pkg.version } : undefined;
  } catch {
    return undefined;
  }
}

/** A file for PRISMA_SCHEMA_ENGINE_BINARY: it exists (so the CLI does not download), and explains itself if run. */
export const ENGINE_STUB = fileURLToPath(new URL('../../bin/prisma-schema-engine-unavailable', import.meta.url));

export interface GenerateResult {
  prismaVersion: string;
  ms: number;
}

/**
 * Client generation by the project's installed Prisma CLI (`prisma generate`). Generation itself needs
 * no native engine, but the CLI downloads the schema engine before any command unless
 * PRISMA_SCHEMA_ENGINE_BINARY names a file; stagedb names its stub, so this works where Prisma's binary
 * host cannot be reached. The environment's URLs are passed as DATABASE_URL / DIRECT_URL.
 */
export async function generateClient(options: {
  root: string;
  schemaPath: string;
  env?: ResolvedEnvironment;
  processEnv: NodeJS.ProcessEnv;
  onLine: (line: string) => void;
}): Promise<GenerateResult> {
  const cli = findPrismaCli(options.root);
  if (!cli) {
    throw new StagedbError('config', 'E_PRISMA_MISSING', 'the Prisma CLI is not installed in this project, so the client cannot be generated', {
      fix: 'npm install --save-dev prisma   (then: stagedb generate)',
    });
  }
  const t0 = performance.now();
  const env: NodeJS.ProcessEnv = {
    ...options.processEnv,
    PRISMA_SCHEMA_ENGINE_BINARY: options.processEnv.PRISMA_SCHEMA_ENGINE_BINARY || ENGINE_STUB,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  if (options.env) {
    env.DATABASE_URL = options.env.url ?? options.env.directUrl;
    env.DIRECT_URL = options.env.directUrl;
  }
  const child = spawn(process.execPath, [cli.bin, 'generate', '--schema', options.schemaPath], {
    cwd: options.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail: string[] = [];
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      options.onLine(line);
      tail = [...tail.slice(-9), line];
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', res);
  });
  if (code !== 0) {
    const offline = tail.some((l) => /binaries\.prisma\.sh|ENOTFOUND|getaddrinfo/.test(l));
    throw new StagedbError('migration', 'E_GENERATE_FAILED', `prisma generate (Prisma ${cli.version}) exited with code ${code}`, {
      details: tail.slice(-5),
      fix: offline
        ? 'this Prisma version downloads a native query engine for its generator: use the "prisma-client" generator (Prisma 7), or provide PRISMA_QUERY_ENGINE_LIBRARY'
        : 'fix the error above (often in schema.prisma), then: stagedb generate',
    });
  }
  return { prismaVersion: cli.version, ms: performance.now() - t0 };
}
