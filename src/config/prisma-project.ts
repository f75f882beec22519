import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * What stagedb can learn from a plain Prisma project without running any of its code: where the
 * schema and migrations are, the seed command, and which env vars the datasource reads. Prisma 6
 * schemas keep `url`/`directUrl` in the datasource block; Prisma 7 moved them to prisma.config.ts.
 * Both are read as text, so a project's config is never executed just to run `status`.
 */
export interface DatasourceInfo {
  provider?: string;
  /** Name of the env var in `url = env("…")`, or the literal URL. */
  url?: { env?: string; literal?: string };
  directUrl?: { env?: string; literal?: string };
  shadowDatabaseUrl?: { env?: string; literal?: string };
  /** Line of the datasource block, for messages. */
  line?: number;
}

export interface PrismaProject {
  schemaPath: string;
  migrationsDir: string;
  seed?: string;
  /** prisma.config.* file, when one was found. */
  prismaConfigPath?: string;
  /** Datasource URL env var names from prisma.config.* (Prisma 7) — take precedence over the schema's. */
  configDatasource?: Pick<DatasourceInfo, 'url' | 'directUrl' | 'shadowDatabaseUrl'>;
}

const PRISMA_CONFIG_NAMES = [
  'prisma.config.ts',
  'prisma.config.mts',
  'prisma.config.js',
  'prisma.config.mjs',
  'prisma.config.cjs',
  '.config/prisma.ts',
];

function quoted(text: string, key: string): string | undefined {
  const m = new RegExp(`\\b${key}\\s*:\\s*(['"\`])([^'"\`]+)\\1`).exec(text);
  return m?.[2];
}

function urlRef(text: string, key: string): { env?: string; literal?: string } | undefined {
  const m = new RegExp(
    `\\b${key}\\s*:\\s*(?:env\\(\\s*['"\`](\\w+)['"\`]\\s*\\)|process\\.env\\.(\\w+)|process\\.env\\[\\s*['"](\\w+)['"]\\s*\\])`,
  ).exec(text);
  if (!m) return undefined;
  return { env: m[1] ?? m[2] ?? m[3] };
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

/** Discovers a Prisma project's layout the way the Prisma CLI does, without executing anything. */
export function discoverPrismaProject(root: string): PrismaProject {
  let schema: string | undefined;
  let migrations: string | undefined;
  let seed: string | undefined;
  let prismaConfigPath: string | undefined;
  let configDatasource: PrismaProject['configDatasource'];

  for (const name of PRISMA_CONFIG_NAMES) {
    const p = join(root, name);
    if (!existsSync(p)) continue;
    prismaConfigPath = p;
    const text = readFileSync(p, 'utf8');
    const base = dirname(p);
    const s = quoted(text, 'schema');
    if (s) schema = resolve(base, s);
    const migBlock = /\bmigrations\s*:\s*\{([\s\S]*?)\}/.exec(text)?.[1];
    if (migBlock) {
      const mp = quoted(migBlock, 'path');
      if (mp) migrations = resolve(base, mp);
      seed = quoted(migBlock, 'seed');
    }
    const dsBlock = /\bdatasource\s*:\s*\{([\s\S]*?)\}/.exec(text)?.[1];
    if (dsBlock) {
      configDatasource = {
        url: urlRef(dsBlock, 'url'),
        directUrl: urlRef(dsBlock, 'directUrl'),
        shadowDatabaseUrl: urlRef(dsBlock, 'shadowDatabaseUrl'),
      };
    }
    break;
  }

  const pkgPath = join(root, 'package.json');
  if (existsSync(pkgPath)) {
    try {
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { prisma?: { schema?: string; seed?: string } };
      if (!schema && pkg.prisma?.schema) schema = resolve(root, pkg.prisma.schema);
      if (!seed && pkg.prisma?.seed) seed = pkg.prisma.seed;
    } catch {
      /* a broken package.json is not ours to report here */
    }
  }

  if (!schema) {
    const candidates = [join(root, 'prisma', 'schema.prisma'), join(root, 'schema.prisma'), join(root, 'prisma', 'schema')];
    schema = candidates.find((c) => existsSync(c)) ?? candidates[0]!;
  }
  if (!migrations) {
    const isDir = existsSync(schema) && statSync(schema).isDirectory();
    migrations = join(isDir ? schema : dirname(schema), 'migrations');
  }
  return { schemaPath: schema, migrationsDir: migrations, seed, prismaConfigPath, configDatasource };
}
