import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StagedbError, configError } from '../errors.js';
import type { ConfigValue } from './define.js';
import { importTsModule } from './ts-module.js';

/** What stagedb takes from a project's prisma.config.ts: every path absolute, every URL a literal or an env ref. */
export interface PrismaConfigFile {
  path: string;
  schema?: string;
  migrationsPath?: string;
  seed?: string;
  datasource?: { url?: ConfigValue; directUrl?: ConfigValue; shadowDatabaseUrl?: ConfigValue };
}

/**
 * Reads prisma.config.ts as the TypeScript it is: evaluated by jiti, as Prisma itself loads it, so a
 * commented-out `// url: env('OTHER_DATABASE_URL')` is a comment and a name computed in code counts.
 * Three things differ from Prisma's own loading, on purpose:
 *  - `prisma/config` resolves to stagedb's `defineConfig`/`env` (prisma-config-shim.ts), whatever
 *    `prisma` the project has installed, if any; `env('X')` becomes a reference to X, read later from
 *    each environment's own env files.
 *  - `dotenv` and `dotenv/config` do nothing (dotenv-shim.ts): stagedb reads env files per environment.
 *  - While the file runs, reading `process.env.X` yields a reference to X too (a marker string, turned
 *    back into `env('X')` below), so `url: process.env.DATABASE_URL` follows the same per-environment
 *    rules. Variables that tools read about themselves (NODE_*, JITI_*, DEBUG, …) read as they are.
 */
export async function loadPrismaConfig(file: string): Promise<PrismaConfigFile> {
  const here = (name: string) => fileURLToPath(new URL(`../config/${name}`, import.meta.url));
  const shim = here('prisma-config-shim.js');
  const dotenv = here('dotenv-shim.js');
  const real = process.env;
  let raw: unknown;
  process.env = new Proxy(real, {
    get(target, key) {
      if (typeof key !== 'string' || PASS_THROUGH.test(key)) return Reflect.get(target, key);
      return `${MARK}${key}${MARK_END}`;
    },
  });
  try {
    raw = await importTsModule(file, { 'prisma/config': shim, 'dotenv/config': dotenv, dotenv });
  } catch (e) {
    if (e instanceof StagedbError) throw e;
    throw configError('E_PRISMA_CONFIG_LOAD', `could not load ${basename(file)}: ${(e as Error).message.split('\n')[0]}`, {
      fix: `fix the error in ${file} (stagedb evaluates it as Prisma does, with 'prisma/config' and 'dotenv' provided by stagedb)`,
    });
  } finally {
    process.env = real;
  }
  return normalize(file, raw);
}

const MARK = '\u0000stagedb-env:';
const MARK_END = '\u0000';
const PASS_THROUGH = /^(NODE_.*|JITI_.*|BABEL_.*|npm_.*|DEBUG|TZ|HOME|PATH|PWD|TMPDIR|TERM|CI|FORCE_COLOR|NO_COLOR|LANG|LC_.*)$/;

function normalize(file: string, raw: unknown): PrismaConfigFile {
  const name = basename(file);
  const base = dirname(file);
  const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const config = obj(raw);
  if (!config) {
    throw configError('E_PRISMA_CONFIG_LOAD', `${name} does not export a config object`, { fix: `export default defineConfig({ … }) in ${file}` });
  }
  const text = (key: string, v: unknown): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.includes(MARK)) {
      throw configError('E_PRISMA_CONFIG_VALUE', `${name}: ${key} must be a string written in the file`, { fix: `write ${key} as a string in ${file}` });
    }
    return v;
  };
  const url = (key: string, v: unknown): ConfigValue | undefined => {
    if (v === undefined || v === null) return undefined;
    const ref = obj(v);
    if (ref && typeof ref.$env === 'string') return { $env: ref.$env };
    if (typeof v === 'string') {
      const whole = new RegExp(`^${MARK}(\\w+)${MARK_END}$`).exec(v);
      if (whole) return { $env: whole[1]! };
      if (!v.includes(MARK)) return v;
    }
    throw configError('E_PRISMA_CONFIG_VALUE', `${name}: ${key} is built from more than one value; stagedb reads a URL from one variable (env('NAME')) or one string`, {
      fix: `put the whole URL in one variable: ${key}: env('DATABASE_URL'), or set url/directUrl per environment in stagedb.config.ts (stagedb init)`,
    });
  };
  const migrations = obj(config.migrations);
  const datasource = obj(config.datasource);
  const schema = text('schema', config.schema);
  const migrationsPath = text('migrations.path', migrations?.path);
  return {
    path: file,
    schema: schema ? resolve(base, schema) : undefined,
    migrationsPath: migrationsPath ? resolve(base, migrationsPath) : undefined,
    seed: text('migrations.seed', migrations?.seed),
    datasource: datasource
      ? {
          url: url('datasource.url', datasource.url),
          directUrl: url('datasource.directUrl', datasource.directUrl),
          shadowDatabaseUrl: url('datasource.shadowDatabaseUrl', datasource.shadowDatabaseUrl),
        }
      : undefined,
  };
}
