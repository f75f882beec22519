import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { loadPrismaConfig, type PrismaConfigFile } from './prisma-config.js';

/**
 * What stagedb learns from a plain Prisma project: where the schema and migrations are, the seed
 * command, which env vars the datasource reads, and which Prisma major the project uses. Prisma 6
 * schemas keep `url`/`directUrl` in the datasource block (read as text: a schema is not code); Prisma
 * 7 moved them to prisma.config.ts, which is code, and is evaluated (`loadPrismaConfig`) only when
 * something needs it.
 */
export interface DatasourceInfo {
  provider?: string;
  /** Name of the env var in `url = env("…")`, or the literal URL. */
  url?: { env?: string; literal?: string };
  directUrl?: { env?: string; literal?: string };
  shadowDatabaseUrl?: { env?: string; literal?: string };
  /** Line of the datasource block, for messages. */
  line?: number;
  /** The .prisma file holding the datasource block. */
  file?: string;
}

export interface PrismaProject {
  schemaPath: string;
  migrationsDir: string;
  /** The seed command, by the rules of `prisma.major`. */
  seed?: string;
  /** prisma.config.* file, when one was found. */
  prismaConfigPath?: string;
  /** Datasource URLs from prisma.config.* (Prisma 7): they take precedence over the schema's. */
  configDatasource?: PrismaConfigFile['datasource'];
  /** Which Prisma the project uses, and so whose seeding rules apply. */
  prisma: PrismaVersion;
  /** package.json's `prisma.seed`, when it is there but this Prisma major ignores it. */
  ignoredPackageSeed?: string;
}

/** The project's Prisma major and how it was found (docs/prisma-compatibility.md, "Seeding"). */
export interface PrismaVersion {
  major: number;
  /** e.g. "prisma 7.1.0 installed", "prisma ^6.19.0 in package.json". */
  why: string;
  /** Prisma 6 runs the seed after `migrate reset` and after `migrate dev` resets; Prisma 7 never does. */
  seedsAfterReset: boolean;
}

const PRISMA_CONFIG_NAMES = [
  'prisma.config.ts',
  'prisma.config.mts',
  'prisma.config.cts',
  'prisma.config.js',
  'prisma.config.mjs',
  'prisma.config.cjs',
  '.config/prisma.ts',
  '.config/prisma.mts',
  '.config/prisma.js',
  '.config/prisma.mjs',
];

/** The project's prisma.config.* file, if it has one (found, not read). */
export function findPrismaConfig(root: string): string | undefined {
  return PRISMA_CONFIG_NAMES.map((n) => join(root, n)).find((p) => existsSync(p));
}

interface PackageJson {
  prisma?: { schema?: string; seed?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/**
 * The Prisma major a project uses: the `prisma` package installed for it (else `@prisma/client`), else
 * the version its package.json asks for, else 7 when it has a prisma.config.* file (Prisma 7 needs
 * one) and 6 when it has none. Nothing is executed: only package.json files are read.
 */
export function detectPrismaVersion(root: string, hasPrismaConfig: boolean, pkg?: PackageJson): PrismaVersion {
  const make = (major: number, why: string): PrismaVersion => ({ major, why, seedsAfterReset: major < 7 });
  const req = createRequire(join(root, 'package.json'));
  for (const name of ['prisma', '@prisma/client']) {
    try {
      const version = (JSON.parse(readFileSync(req.resolve(`${name}/package.json`), 'utf8')) as { version?: string }).version;
      const major = Number(/^(\d+)\./.exec(version ?? '')?.[1]);
      if (major) return make(major, `${name} ${version} installed`);
    } catch {
      /* not installed for this project */
    }
  }
  for (const name of ['prisma', '@prisma/client']) {
    const range = pkg?.devDependencies?.[name] ?? pkg?.dependencies?.[name];
    const major = Number(/(\d+)/.exec(range ?? '')?.[1]);
    if (range && major) return make(major, `${name} ${range} in package.json`);
  }
  return hasPrismaConfig ? make(7, 'no prisma package found; prisma.config.ts exists') : make(6, 'no prisma package found, and no prisma.config.ts');
}

/** Reads the datasource block of a schema file (or the first file of a schema folder that has one). */
export function readDatasource(schemaPath: string): DatasourceInfo | undefined {
  for (const file of schemaFiles(schemaPath)) {
    const text = readFileSync(file, 'utf8');
    // [ \t]*, not \s*: \s* would start the match on the blank line above, and `line` would name that line.
    const block = /^[ \t]*datasource\s+\w+\s*\{([\s\S]*?)^\s*\}/m.exec(text);
    if (!block) continue;
    const body = block[1] ?? '';
    const field = (name: string) => {
      const m = new RegExp(`^\\s*${name}\\s*=\\s*(?:env\\(\\s*"([^"]+)"\\s*\\)|"([^"]*)")`, 'm').exec(body);
      if (!m) return undefined;
      return m[1] !== undefined ? { env: m[1] } : { literal: m[2] };
    };
    const provider = /^\s*provider\s*=\s*"([^"]+)"/m.exec(body)?.[1];
    return {
      provider,
      url: field('url'),
      directUrl: field('directUrl'),
      shadowDatabaseUrl: field('shadowDatabaseUrl'),
      line: text.slice(0, block.index).split('\n').length,
      file,
    };
  }
  return undefined;
}

/** The .prisma files of a schema path (one file, or every .prisma file under a folder). */
export function schemaFiles(schemaPath: string): string[] {
  if (!existsSync(schemaPath)) return [];
  if (!statSync(schemaPath).isDirectory()) return [schemaPath];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'migrations') walk(p);
      else if (entry.isFile() && entry.name.endsWith('.prisma')) out.push(p);
    }
  };
  walk(schemaPath);
  return out;
}

/**
 * Discovers a Prisma project's layout the way the Prisma CLI does. prisma.config.* is evaluated unless
 * `readPrismaConfig` is false; then what only it could say (schema, migrations, seed, datasource) stays unset.
 */
export async function discoverPrismaProject(root: string, options: { readPrismaConfig?: boolean } = {}): Promise<PrismaProject> {
  const prismaConfigPath = findPrismaConfig(root);
  const fromConfig = prismaConfigPath && options.readPrismaConfig !== false ? await loadPrismaConfig(prismaConfigPath) : undefined;
  let schema = fromConfig?.schema;

  let pkg: PackageJson | undefined;
  const pkgPath = join(root, 'package.json');
  if (existsSync(pkgPath)) {
    try {
      pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as PackageJson;
    } catch {
      /* a broken package.json is not ours to report here */
    }
  }
  // Found on first use: resolving the prisma package from the project is the first module resolution
  // of the process (~3-5 ms), and most commands (status, lint, deploy) never ask which Prisma it is.
  let prisma: PrismaVersion | undefined;
  const prismaVersion = () => (prisma ??= detectPrismaVersion(root, prismaConfigPath !== undefined, pkg));
  if (!schema && pkg?.prisma?.schema) schema = resolve(root, pkg.prisma.schema);
  // Prisma 7 reads the seed from prisma.config.ts alone; Prisma 6 falls back to package.json.
  const packageSeed = pkg?.prisma?.seed;
  const seed = fromConfig?.seed ?? (packageSeed !== undefined && prismaVersion().major < 7 ? packageSeed : undefined);
  const ignoredPackageSeed = packageSeed && !fromConfig?.seed && prismaVersion().major >= 7 ? packageSeed : undefined;

  if (!schema) {
    const candidates = [join(root, 'prisma', 'schema.prisma'), join(root, 'schema.prisma'), join(root, 'prisma', 'schema')];
    schema = candidates.find((c) => existsSync(c)) ?? candidates[0]!;
  }
  const migrationsDir = fromConfig?.migrationsPath ?? join(existsSync(schema) && statSync(schema).isDirectory() ? schema : dirname(schema), 'migrations');
  return {
    schemaPath: schema,
    migrationsDir,
    seed,
    prismaConfigPath,
    configDatasource: fromConfig?.datasource,
    get prisma() {
      return prismaVersion();
    },
    ignoredPackageSeed,
  };
}
