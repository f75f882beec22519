import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StagedbError, configError } from '../errors.js';
import type { ConfigValue, EnvironmentConfig, LintConfig, StagedbConfig } from './define.js';
import { discoverPrismaProject, readDatasource, type DatasourceInfo, type PrismaVersion } from './prisma-project.js';
import { importTsModule } from './ts-module.js';

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
  /** For values stagedb took from the Prisma project: the file each literal is written in, for messages. */
  origins?: Partial<Record<'url' | 'directUrl' | 'shadowDatabaseUrl', string>>;
}

/** The validated, complete config every command works with. */
export interface ResolvedConfig {
  /** Directory relative paths are resolved against (the config file's, or the project root). */
  root: string;
  /** The config file, or undefined when stagedb runs on a plain Prisma project. */
  configFile?: string;
  schemaPath: string;
  migrationsDir: string;
  /** The seed command, when known without evaluating prisma.config.ts (see `resolveSeed`). */
  seed?: string;
  /** True when the seed may be in prisma.config.ts, which was not evaluated: `resolveSeed` reads it. */
  seedUnresolved?: boolean;
  /** The project's Prisma major: whose seeding rules apply (docs/prisma-compatibility.md). */
  prisma?: PrismaVersion;
  /** package.json's `prisma.seed` when the project's Prisma (7) ignores it: named in the missing-seed error. */
  ignoredPackageSeed?: string;
  /** The project's prisma.config.* file, when it has one. */
  prismaConfigFile?: string;
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
      // `import { defineConfig, env } from 'stagedb'` resolves to the two helpers alone, not to the whole
      // library (which would load pg, zod and everything else before the command even starts).
      const helpers = fileURLToPath(new URL('../config/define.js', import.meta.url));
      return await importTsModule(file, { stagedb: helpers });
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
  if (!file) return await inferConfig(options.cwd);

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
  // prisma.config.ts is evaluated only when the stagedb config leaves to it something a command needs
  // now: the schema's place. A seed it may name is read when a command runs the seed (resolveSeed).
  const project = await discoverPrismaProject(root, { readPrismaConfig: !config.schema });
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
    ...(config.seed === undefined && config.schema && project.prismaConfigPath ? { seedUnresolved: true } : {}),
    // A getter: the project's Prisma is looked up only by a command that asks (discoverPrismaProject).
    get prisma() {
      return project.prisma;
    },
    ...(config.seed === undefined && project.ignoredPackageSeed ? { ignoredPackageSeed: project.ignoredPackageSeed } : {}),
    ...(project.prismaConfigPath ? { prismaConfigFile: project.prismaConfigPath } : {}),
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

/** The seed command a command should run: the config's, or the one prisma.config.ts names (read now, if it was not yet). */
export async function resolveSeed(config: ResolvedConfig): Promise<string | undefined> {
  if (!config.seedUnresolved) return config.seed;
  return (await discoverPrismaProject(config.root)).seed;
}

/**
 * A plain Prisma project: development reads DATABASE_URL (or whatever the datasource names: prisma.config.ts
 * first, then the schema's datasource block, a literal URL included), with DIRECT_URL / DIRECT_DATABASE_URL
 * for DDL when set, and the shadow database the datasource names. `.env.staging` / `.env.production`
 * files, when present, define those environments the same way.
 */
async function inferConfig(cwd: string): Promise<ResolvedConfig> {
  const root = resolve(cwd);
  const project = await discoverPrismaProject(root);
  const datasource = safeDatasource(project.schemaPath);
  const configName = project.prismaConfigPath ? relative(root, project.prismaConfigPath) : undefined;
  const schemaName = datasource?.file ? relative(root, datasource.file) : undefined;
  const origins: NonNullable<EnvironmentDefinition['origins']> = {};
  /** A datasource value as a config value, remembering which file a literal is written in. */
  const pick = (key: 'url' | 'directUrl' | 'shadowDatabaseUrl'): ConfigValue | undefined => {
    const fromConfig = project.configDatasource?.[key];
    if (fromConfig !== undefined) {
      if (typeof fromConfig === 'string' && configName) origins[key] = configName;
      return fromConfig;
    }
    const fromSchema = datasource?.[key];
    if (fromSchema?.env) return { $env: fromSchema.env };
    if (fromSchema?.literal !== undefined) {
      if (schemaName) origins[key] = schemaName;
      return fromSchema.literal;
    }
    return undefined;
  };
  const url = pick('url') ?? { $env: 'DATABASE_URL' };
  const direct = pick('directUrl');
  const shadow = pick('shadowDatabaseUrl');
  const directVar = typeof direct === 'object' ? direct.$env : undefined;
  const directUrlCandidates = [...new Set([directVar, 'DIRECT_URL', 'DIRECT_DATABASE_URL'].filter((v): v is string => !!v))];
  const development: EnvironmentDefinition = {
    url,
    ...(typeof direct === 'string' ? { directUrl: direct } : {}),
    directUrlCandidates,
    ...(shadow !== undefined ? { shadowDatabaseUrl: shadow } : {}),
    ...(Object.keys(origins).length ? { origins } : {}),
  };
  // A URL written into the schema or prisma.config.ts is one database: development's. Staging and
  // production, defined by their own env files, read variables only (DATABASE_URL when the datasource
  // names a literal), so they can never borrow development's database.
  const other: EnvironmentDefinition = {
    url: typeof url === 'string' ? { $env: 'DATABASE_URL' } : url,
    directUrlCandidates,
    ...(typeof shadow === 'object' ? { shadowDatabaseUrl: shadow } : {}),
  };
  const environments: Record<string, EnvironmentDefinition> = { development };
  for (const name of ['staging', 'production']) {
    if (existsSync(join(root, `.env.${name}`))) environments[name] = { ...other };
  }
  return {
    root,
    schemaPath: project.schemaPath,
    migrationsDir: project.migrationsDir,
    seed: project.seed,
    // A getter: the project's Prisma is looked up only by a command that asks (discoverPrismaProject).
    get prisma() {
      return project.prisma;
    },
    ...(project.ignoredPackageSeed ? { ignoredPackageSeed: project.ignoredPackageSeed } : {}),
    ...(project.prismaConfigPath ? { prismaConfigFile: project.prismaConfigPath } : {}),
    environments,
    datasource,
    warnings: [],
  };
}
