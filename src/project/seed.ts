import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import { StagedbError } from '../errors.js';

export interface SeedResult {
  env: string;
  command: string;
  ms: number;
}

/**
 * Runs the project's seed command through the shell, from the project root, with the environment's
 * connection in the variables a seed script reads: DATABASE_URL (the application's URL), DIRECT_URL
 * (the direct one) and STAGEDB_ENV. Output lines go to `onLine` so the caller can redact them.
 */
export async function runSeed(options: { env: ResolvedEnvironment; command: string; root: string; processEnv: NodeJS.ProcessEnv; onLine: (line: string, stream: 'stdout' | 'stderr') => void }): Promise<SeedResult> {
  const { env } = options;
  const t0 = performance.now();
  const child = spawn(options.command, {
    shell: true,
    cwd: options.root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...options.processEnv, DATABASE_URL: env.url ?? env.directUrl, DIRECT_URL: env.directUrl, STAGEDB_ENV: env.name },
  });
  const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        options.onLine(buf.slice(0, i), name);
        buf = buf.slice(i + 1);
      }
    });
    stream.on('end', () => buf && options.onLine(buf, name));
  };
  pump(child.stdout!, 'stdout');
  pump(child.stderr!, 'stderr');
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c) => res(c));
  });
  if (code !== 0) {
    throw new StagedbError('migration', 'E_SEED_FAILED', `${env.name}: the seed command \`${options.command}\` exited with code ${code}`, {
      fix: `fix the seed script (its output is above), then: stagedb seed --env ${env.name}`,
    });
  }
  return { env: env.name, command: options.command, ms: performance.now() - t0 };
}

/** No seed command: says where this project's Prisma looks for one (package.json is not read by Prisma 7). */
export function seedMissing(config: ResolvedConfig): StagedbError {
  const prisma7 = (config.prisma?.major ?? 6) >= 7;
  const where = config.configFile
    ? `add seed: 'node prisma/seed.mjs' to ${basename(config.configFile)}`
    : prisma7
      ? `add migrations: { seed: 'tsx prisma/seed.ts' } to ${config.prismaConfigFile ? basename(config.prismaConfigFile) : 'prisma.config.ts'}`
      : `add "prisma": { "seed": "node prisma/seed.mjs" } to package.json, or seed: '…' to stagedb.config.ts (stagedb init writes one)`;
  const ignored = config.ignoredPackageSeed
    ? `; package.json "prisma.seed" is not read: this project uses Prisma ${config.prisma?.major} (${config.prisma?.why}), which reads the seed from migrations.seed in prisma.config.ts`
    : '';
  return new StagedbError('config', 'E_SEED_MISSING', `no seed command is configured${ignored}`, { fix: where });
}

/**
 * Whether `migrate reset` (and `migrate dev` after a reset) runs the seed on its own: as the project's
 * Prisma does. Prisma 6 seeds after a reset; Prisma 7 never does (run `stagedb seed`).
 */
export function seedsAfterReset(config: ResolvedConfig): boolean {
  return config.prisma?.seedsAfterReset ?? true;
}
