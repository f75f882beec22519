import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StagedbError, configError } from '../errors.js';
import type { EnvironmentConfig, LintConfig, StagedbConfig } from './define.js';
import { discoverPrismaProject, readDatasource, type DatasourceInfo } from './prisma-project.js';

export const CONFIG_FILE_NAMES = [
  'stagedb.config.ts',
  'stagedb.config.mts',
  'stagedb.config.mjs',
  'stagedb.config.js',
  'stagedb.config.cjs',
  'stagedb.config.json',
];

/** An environment as defined (values may still be env refs). `optionalDirect` lists env vars tried in order. */
export interface EnvironmentDefinition extends EnvironmentConfig {
  /** For environments stagedb inferred without a config file: env vars that may hold a direct URL. */
  directUrlCandidates?: string[];
}

/** The validated, complete config every command works with. */
export interface ResolvedConfig {
  /** Directory relative paths are resolved against (the config file's, or the project root). */
  root: string;
  /** The config file, or undefined when stagedb runs on a plain Prisma project. */
  configFile?: string;
  schemaPath: string;
  migrationsDir: string;
  seed?: string;
  environments: Record<string, EnvironmentDefinition>;
  /** The datasource block of schema.prisma, when it has one. */
  datasource?: DatasourceInfo;
  /** The `lint` section as written; its defaults are the lint's own. */
  lint?: LintConfig;
  /** `false`: migrate dev writes Prisma's SQL as it is, not zero-downtime steps (default true). */
  zeroDowntime?: boolean;
  warnings: string[];
}

/** Finds the config file: `explicit` if given, else the nearest stagedb.config.* from `cwd` up to the project root. */
export function findConfigFile(cwd: string, explicit?: string): string | undefined {
  if (explicit) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) {
      throw configError('E_CONFIG_MISSING', `config file ${explicit} does not exist`, {
        fix: 'stagedb init   (writes stagedb.config.ts), or pass --config <path> to an existing file',
      });
    }
    return p;
  }
  let dir = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
    // Stop at the first package root: a config above it belongs to another project.
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function importConfigModule(file: string): Promise<unknown> {
  const ext = extname(file);
  if (ext === '.json') {
    const { readFileSync } = await import('node:fs');
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw configError('E_CONFIG_SYNTAX', `${basename(file)} is not valid JSON: ${(e as Error).message}`, {
        fix: `fix the JSON syntax in ${file}`,
      });
    }
  }
  try {
    if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
      // jiti only for TypeScript configs: it is the heaviest thing config loading can pull in. Loaded
      // with require (it is CommonJS; importing it from ESM runs the CJS export lexer over its bundle).
      // fsCache keeps the transpiled config on disk: only transpiling is cached, never the evaluated
      // config, so env vars the config reads at load time are always read afresh.
      const { createRequire } = await import('node:module');
      const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
      // `import { defineConfig, env } from 'stagedb'` resolves to the two helpers alone, not to the whole
      // library (which would load pg, zod and everything else before the command even starts).
      const helpers = fileURLToPath(new URL('../config/define.js', import.meta.url));
      const jiti = createJiti(import.meta.url, { alias: { stagedb: helpers }, moduleCache: false, fsCache: true });
      const mod = (await jiti.import(file)) as { default?: unknown };
      return mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod;
    }
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return mod.default ?? mod;
  } catch (e) {
    if (e instanceof StagedbError) throw e;
    throw configError('E_CONFIG_LOAD', `could not load ${basename(file)}: ${(e as Error).message.split('\n')[0]}`, {
      fix: `fix the error in ${file}`,
    });
  }
}

/** Loads, validates and completes the config. Without a config file, infers one from the Prisma project. */
export async function loadConfig(options: { cwd: string; configFile?: string }): Promise<ResolvedConfig> {
  const file = findConfigFile(options.cwd, options.configFile);
  if (!file) return inferConfig(options.cwd);

  const root = dirname(file);
  const raw = await importConfigModule(file);
  // The validator (and zod) load only when there is a config file to validate.
  const { validateConfig } = await import('./validate.js');
  const { config, errors } = validateConfig(raw);
  if (!config) {
    throw configError('E_CONFIG_INVALID', `${basename(file)} has ${errors.length} problem${errors.length === 1 ? '' : 's'}`, {
      details: errors,
      fix: `edit ${file}`,
    });
  }
  const project = discoverPrismaProject(root);
  const schemaPath = config.schema ? resolve(root, config.schema) : project.schemaPath;
  const migrationsDir = config.migrations
    ? resolve(root, config.migrations)
    : config.schema
      ? join(existsSync(schemaPath) && extname(schemaPath) !== '.prisma' ? schemaPath : dirname(schemaPath), 'migrations')
      : project.migrationsDir;
  return {
    root,
    configFile: file,
    schemaPath,
    migrationsDir,
    seed: config.seed ?? project.seed,
    environments: config.environments,
    datasource: safeDatasource(schemaPath),
    ...(config.lint ? { lint: config.lint } : {}),
    ...(config.zeroDowntime !== undefined ? { zeroDowntime: config.zeroDowntime } : {}),
    warnings: [],
  };
}

function safeDatasource(schemaPath: string): DatasourceInfo | undefined {
  try {
    return readDatasource(schemaPath);
  } catch {
    return undefined;
  }
}

/**
 * A plain Prisma project: development reads DATABASE_URL (or whatever the datasource names), with
 * DIRECT_URL / DIRECT_DATABASE_URL for DDL when set. `.env.staging` / `.env.production` files, when
 * present, define those environments the same way.
 */
function inferConfig(cwd: string): ResolvedConfig {
  const root = resolve(cwd);
  const project = discoverPrismaProject(root);
  const datasource = safeDatasource(project.schemaPath);
  const urlVar = project.configDatasource?.url?.env ?? datasource?.url?.env ?? 'DATABASE_URL';
  const directVar = project.configDatasource?.directUrl?.env ?? datasource?.directUrl?.env;
  const directUrlCandidates = [...new Set([directVar, 'DIRECT_URL', 'DIRECT_DATABASE_URL'].filter((v): v is string => !!v))];
  const define = (): EnvironmentDefinition => ({ url: { $env: urlVar }, directUrlCandidates });
  const environments: Record<string, EnvironmentDefinition> = { development: define() };
  for (const name of ['staging', 'production']) {
    if (existsSync(join(root, `.env.${name}`))) environments[name] = define();
  }
  return {
    root,
    schemaPath: project.schemaPath,
    migrationsDir: project.migrationsDir,
    seed: project.seed,
    environments,
    datasource,
    warnings: [],
  };
}
