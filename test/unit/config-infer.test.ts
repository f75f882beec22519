/**
 * With no stagedb.config.*, stagedb runs on a plain Prisma project as it stands. prisma.config.ts is
 * evaluated as the TypeScript it is, with 'prisma/config' and 'dotenv' provided by stagedb: the projects
 * below have neither installed, and that must not matter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../../src/config/environments.js';
import { loadConfig } from '../../src/config/load.js';
import { discoverPrismaProject, readDatasource, schemaFiles } from '../../src/config/prisma-project.js';
import { tmpProject, type TmpProject } from '../fixtures/unit/tmp-project.js';

let projects: TmpProject[] = [];
afterEach(() => {
  for (const p of projects) p.remove();
  projects = [];
});
function project(files: Record<string, string | null>) {
  const p = tmpProject(files);
  projects.push(p);
  return p;
}

const PRISMA6_SCHEMA = `// A Prisma 6 schema, as most real projects still have it
generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["driverAdapters", "fullTextSearchPostgres", "relationJoins"]
}

datasource db {
  provider  = "postgresql"
  url       = env("POOLED_DATABASE_URL")
  directUrl = env("UNPOOLED_DATABASE_URL")
  shadowDatabaseUrl = env("SHADOW_URL")
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
}
`;

const PRISMA7_SCHEMA = `generator client {
  provider = "prisma-client"
  output   = "../src/generated/prisma"
}

datasource db {
  provider = "postgresql"
}

model Post {
  id Int @id
}
`;

const pooler = 'postgresql://app:pw@ep-x-pooler.eu-central-1.aws.neon.tech/app?sslmode=require';
const direct = 'postgresql://app:pw@ep-x.eu-central-1.aws.neon.tech/app?sslmode=require';

describe('plain Prisma project: layout', () => {
  it('defaults to prisma/schema.prisma, prisma/migrations and DATABASE_URL for development', async () => {
    const p = project({ 'prisma/schema.prisma': PRISMA7_SCHEMA });
    const c = await loadConfig({ cwd: p.root });
    expect(c).toEqual({
      root: p.root,
      schemaPath: p.path('prisma/schema.prisma'),
      migrationsDir: p.path('prisma/migrations'),
      seed: undefined,
      environments: { development: { url: { $env: 'DATABASE_URL' }, directUrlCandidates: ['DIRECT_URL', 'DIRECT_DATABASE_URL'] } },
      datasource: { provider: 'postgresql', url: undefined, directUrl: undefined, shadowDatabaseUrl: undefined, line: 6, file: p.path('prisma/schema.prisma') },
      prisma: { major: 6, why: 'no prisma package found, and no prisma.config.ts', seedsAfterReset: true },
      warnings: [],
    });
    expect(c.configFile).toBeUndefined();
  });

  it('names prisma/schema.prisma even when the project has no schema yet', async () => {
    const p = project({});
    const c = await loadConfig({ cwd: p.root });
    expect(c.schemaPath).toBe(p.path('prisma/schema.prisma'));
    expect(c.migrationsDir).toBe(p.path('prisma/migrations'));
    expect(c.datasource).toBeUndefined();
  });

  it('finds a schema.prisma at the project root', async () => {
    const p = project({ 'schema.prisma': PRISMA7_SCHEMA });
    expect(await discoverPrismaProject(p.root)).toMatchObject({ schemaPath: p.path('schema.prisma'), migrationsDir: p.path('migrations') });
  });

  it('reads schema, migrations.path, migrations.seed and the datasource from prisma.config.ts', async () => {
    const p = project({
      'prisma.config.ts': `import 'dotenv/config';
import { defineConfig, env } from 'prisma/config';

export default defineConfig({
  schema: 'db/schema.prisma',
  migrations: {
    path: "db/history",
    seed: 'tsx db/seed.ts',
  },
  datasource: {
    url: env('APP_DATABASE_URL'),
    shadowDatabaseUrl: env('SHADOW_URL'),
  },
});
`,
      'db/schema.prisma': PRISMA7_SCHEMA,
      'prisma/schema.prisma': PRISMA6_SCHEMA,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.schemaPath).toBe(p.path('db/schema.prisma'));
    expect(c.migrationsDir).toBe(p.path('db/history'));
    expect(c.seed).toBe('tsx db/seed.ts');
    expect(c.environments).toEqual({
      development: { url: { $env: 'APP_DATABASE_URL' }, directUrlCandidates: ['DIRECT_URL', 'DIRECT_DATABASE_URL'], shadowDatabaseUrl: { $env: 'SHADOW_URL' } },
    });
    expect(await discoverPrismaProject(p.root)).toMatchObject({
      prismaConfigPath: p.path('prisma.config.ts'),
      configDatasource: { url: { $env: 'APP_DATABASE_URL' }, directUrl: undefined, shadowDatabaseUrl: { $env: 'SHADOW_URL' } },
      prisma: { major: 7, seedsAfterReset: false },
    });
  });

  it('prisma.config.ts: migrations default beside its schema; process.env.X is read like env("X")', async () => {
    const p = project({
      'prisma.config.ts': `export default { schema: "db/schema.prisma", datasource: { url: process.env.APP_URL, directUrl: process.env["APP_DIRECT_URL"] } };\n`,
      'db/schema.prisma': PRISMA7_SCHEMA,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.migrationsDir).toBe(p.path('db/migrations'));
    expect(c.environments.development).toEqual({ url: { $env: 'APP_URL' }, directUrlCandidates: ['APP_DIRECT_URL', 'DIRECT_URL', 'DIRECT_DATABASE_URL'] });
  });

  it('reads prisma.schema and prisma.seed from package.json', async () => {
    const p = project({
      'package.json': JSON.stringify({ name: 'app', prisma: { schema: 'database/main.prisma', seed: 'node database/seed.mjs' } }),
      'database/main.prisma': PRISMA7_SCHEMA,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.schemaPath).toBe(p.path('database/main.prisma'));
    expect(c.migrationsDir).toBe(p.path('database/migrations'));
    expect(c.seed).toBe('node database/seed.mjs');
  });

  it('prisma.config.ts wins over package.json for the schema; package.json gives the seed only to Prisma 6', async () => {
    const files = {
      'package.json': JSON.stringify({ name: 'app', prisma: { schema: 'other/schema.prisma', seed: 'node seed.mjs' } }),
      'prisma.config.ts': `export default { schema: 'db/schema.prisma' };\n`,
    };
    // No prisma package, and a prisma.config.ts: Prisma 7, which reads no seed from package.json.
    const c = await loadConfig({ cwd: project(files).root });
    expect(c.schemaPath).toMatch(/db\/schema\.prisma$/);
    expect(c).toMatchObject({ seed: undefined, ignoredPackageSeed: 'node seed.mjs', prisma: { major: 7, seedsAfterReset: false } });
    // The same project asking for Prisma 6 in package.json.
    const six = project({ ...files, 'package.json': JSON.stringify({ name: 'app', devDependencies: { prisma: '~6.19.0' }, prisma: { seed: 'node seed.mjs' } }) });
    expect(await loadConfig({ cwd: six.root })).toMatchObject({ seed: 'node seed.mjs', prisma: { major: 6, why: 'prisma ~6.19.0 in package.json', seedsAfterReset: true } });
  });

  it('a broken package.json is ignored here', async () => {
    const p = project({ 'package.json': '{ "name": ', 'prisma/schema.prisma': PRISMA7_SCHEMA });
    expect((await loadConfig({ cwd: p.root })).schemaPath).toBe(p.path('prisma/schema.prisma'));
  });
});

describe('plain Prisma project: Prisma 6 datasource', () => {
  it('development uses the datasource url variable, and its directUrl variable for DDL', async () => {
    const p = project({ 'prisma/schema.prisma': PRISMA6_SCHEMA });
    const c = await loadConfig({ cwd: p.root });
    expect(c.environments.development).toEqual({
      url: { $env: 'POOLED_DATABASE_URL' },
      directUrlCandidates: ['UNPOOLED_DATABASE_URL', 'DIRECT_URL', 'DIRECT_DATABASE_URL'],
      shadowDatabaseUrl: { $env: 'SHADOW_URL' },
    });
    expect(c.datasource).toEqual({
      provider: 'postgresql',
      url: { env: 'POOLED_DATABASE_URL' },
      directUrl: { env: 'UNPOOLED_DATABASE_URL' },
      shadowDatabaseUrl: { env: 'SHADOW_URL' },
      line: 7,
      file: p.path('prisma/schema.prisma'),
    });
    const r = resolveEnvironment(c, 'development', { processEnv: { POOLED_DATABASE_URL: pooler, UNPOOLED_DATABASE_URL: direct } });
    expect(r).toMatchObject({ url: pooler, directUrl: direct, directSource: 'directUrl (env UNPOOLED_DATABASE_URL)', protection: 'none' });
  });

  it('the variables come from .env like Prisma reads them', async () => {
    const p = project({ 'prisma/schema.prisma': PRISMA6_SCHEMA, '.env': `POOLED_DATABASE_URL="${pooler}"\nUNPOOLED_DATABASE_URL="${direct}"\n` });
    const c = await loadConfig({ cwd: p.root });
    expect(resolveEnvironment(c, 'development', { processEnv: {} }).directUrl).toBe(direct);
  });

  it('prisma.config.ts datasource beats the schema datasource', async () => {
    const p = project({
      'prisma/schema.prisma': PRISMA6_SCHEMA,
      'prisma.config.ts': `import { env } from 'prisma/config';\nexport default { datasource: { url: env('CONFIG_URL') } };\n`,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.environments.development?.url).toEqual({ $env: 'CONFIG_URL' });
    // The schema's directUrl is still a candidate: prisma.config.ts names none.
    expect(c.environments.development?.directUrlCandidates).toEqual(['UNPOOLED_DATABASE_URL', 'DIRECT_URL', 'DIRECT_DATABASE_URL']);
  });

  it('a literal url in the datasource is read as a literal', () => {
    const p = project({ 'prisma/schema.prisma': `datasource db {\n  provider = "postgresql"\n  url = "postgresql://localhost:5432/dev"\n}\n` });
    expect(readDatasource(p.path('prisma/schema.prisma'))).toMatchObject({ url: { literal: 'postgresql://localhost:5432/dev' }, line: 1 });
  });
});

describe('plain Prisma project: environments from env files', () => {
  it('.env.staging and .env.production define staging and production, read the same way', async () => {
    const p = project({
      'prisma/schema.prisma': PRISMA7_SCHEMA,
      '.env': 'DATABASE_URL="postgresql://localhost:5432/dev"\n',
      '.env.staging': `DATABASE_URL="${pooler}"\nDIRECT_URL="${direct}"\n`,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(Object.keys(c.environments)).toEqual(['development', 'staging']);
    expect(resolveEnvironment(c, 'development', { processEnv: {} })).toMatchObject({ directUrl: 'postgresql://localhost:5432/dev', protection: 'none' });
    expect(resolveEnvironment(c, 'staging', { processEnv: {} })).toMatchObject({
      url: pooler,
      directUrl: direct,
      directSource: 'directUrl (env DIRECT_URL)',
      protection: 'guarded',
    });

    p.write('.env.production', 'DATABASE_URL="postgresql://app:pw@prod.example.com/app?sslmode=verify-full"\n');
    const again = await loadConfig({ cwd: p.root });
    expect(Object.keys(again.environments)).toEqual(['development', 'staging', 'production']);
    expect(resolveEnvironment(again, 'production', { processEnv: {} }).protection).toBe('production');
  });
});

describe('plain Prisma project: a multi-file schema folder', () => {
  const files = {
    'prisma/schema/models/user.prisma': 'model User {\n  id Int @id\n}\n',
    'prisma/schema/models/post.prisma': 'model Post {\n  id Int @id\n}\n',
    'prisma/schema/schema.prisma': `generator client {\n  provider = "prisma-client-js"\n}\n\ndatasource db {\n  provider = "postgresql"\n  url      = env("FOLDER_DATABASE_URL")\n}\n`,
    'prisma/schema/migrations/20240101000000_init/migration.sql': 'CREATE TABLE "User" (id int);\n',
  };

  it('prisma/schema (a folder) is found by default; migrations live inside it', async () => {
    const p = project(files);
    const c = await loadConfig({ cwd: p.root });
    expect(c.schemaPath).toBe(p.path('prisma/schema'));
    expect(c.migrationsDir).toBe(p.path('prisma/schema/migrations'));
    expect(c.environments.development?.url).toEqual({ $env: 'FOLDER_DATABASE_URL' });
    expect(c.datasource).toMatchObject({ provider: 'postgresql', url: { env: 'FOLDER_DATABASE_URL' }, line: 5 });
  });

  it('lists every .prisma file in name order, skipping the migrations folder', () => {
    const p = project({ ...files, 'prisma/schema/migrations/old.prisma': 'model Old {\n  id Int @id\n}\n', 'prisma/schema/notes.md': '# notes\n' });
    expect(schemaFiles(p.path('prisma/schema'))).toEqual([
      p.path('prisma/schema/models/post.prisma'),
      p.path('prisma/schema/models/user.prisma'),
      p.path('prisma/schema/schema.prisma'),
    ]);
  });

  it('a folder named by prisma.config.ts', async () => {
    const p = project({
      'prisma.config.ts': `export default { schema: 'db' };\n`,
      'db/base.prisma': 'datasource db {\n  provider = "postgresql"\n}\n',
      'db/models.prisma': 'model A {\n  id Int @id\n}\n',
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.schemaPath).toBe(p.path('db'));
    expect(c.migrationsDir).toBe(p.path('db/migrations'));
    expect(c.datasource?.provider).toBe('postgresql');
  });
});

describe('prisma.config.ts is read as TypeScript, never by pattern (issue 19.3)', () => {
  it('commented-out schema, seed and url lines do not count', async () => {
    const p = project({
      'prisma.config.ts': `import 'dotenv/config';
import { defineConfig, env } from 'prisma/config';

export default defineConfig({
  // schema: 'old/schema.prisma',
  schema: 'db/schema.prisma',
  migrations: {
    // path: 'old/migrations',
    /* seed: 'node wipe-everything.mjs', */
    // seed: 'node old-seed.mjs',
    seed: 'node db/seed.mjs',
    path: 'db/migrations',
  },
  datasource: {
    // url: env('OTHER_DATABASE_URL'),
    url: env('APP_DATABASE_URL'),
    // shadowDatabaseUrl: env('OLD_SHADOW_URL'),
  },
});
`,
      'db/schema.prisma': PRISMA7_SCHEMA,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c).toMatchObject({ schemaPath: p.path('db/schema.prisma'), migrationsDir: p.path('db/migrations'), seed: 'node db/seed.mjs' });
    expect(c.environments.development).toEqual({ url: { $env: 'APP_DATABASE_URL' }, directUrlCandidates: ['DIRECT_URL', 'DIRECT_DATABASE_URL'] });
  });

  it('names computed in code count; a literal URL is a literal; dotenv does not touch this process', async () => {
    const p = project({
      'prisma.config.ts': `import { config } from 'dotenv';
import { defineConfig, env } from 'prisma/config';
config();
const prefix = 'TENANT';
export default defineConfig({ datasource: { url: env(\`\${prefix}_URL\`), directUrl: 'postgresql://app@db.internal/app' } });
`,
      '.env': 'STAGEDB_TEST_SHOULD_NOT_LEAK="yes"\n',
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.environments.development).toMatchObject({ url: { $env: 'TENANT_URL' }, directUrl: 'postgresql://app@db.internal/app', origins: { directUrl: 'prisma.config.ts' } });
    expect(process.env.STAGEDB_TEST_SHOULD_NOT_LEAK).toBeUndefined();
  });

  it('process.env.X in a template is refused (one variable per URL), not guessed', async () => {
    const p = project({ 'prisma.config.ts': 'export default { datasource: { url: `postgresql://${process.env.DB_USER}@db/app` } };\n' });
    await expect(loadConfig({ cwd: p.root })).rejects.toMatchObject({ code: 'E_PRISMA_CONFIG_VALUE' });
  });

  it('a config that throws is a config error naming the file', async () => {
    const p = project({ 'prisma.config.ts': "throw new Error('boom from config');\n" });
    await expect(loadConfig({ cwd: p.root })).rejects.toMatchObject({ code: 'E_PRISMA_CONFIG_LOAD', message: 'could not load prisma.config.ts: boom from config' });
  });

  it('beside a stagedb config that names the schema, prisma.config.ts is not evaluated until the seed is needed', async () => {
    const { resolveSeed } = await import('../../src/config/load.js');
    const p = project({
      'stagedb.config.json': JSON.stringify({ schema: 'prisma/schema.prisma', environments: { development: { url: 'postgresql://a@b/c' } } }),
      'prisma/schema.prisma': PRISMA7_SCHEMA,
      // Evaluating it would throw: loadConfig must not.
      'prisma.config.ts': "if (!globalThis.__stagedbSeedWanted) throw new Error('evaluated too early');\nexport default { migrations: { seed: 'node seed.mjs' } };\n",
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.seedUnresolved).toBe(true);
    (globalThis as Record<string, unknown>).__stagedbSeedWanted = true;
    try {
      expect(await resolveSeed(c)).toBe('node seed.mjs');
    } finally {
      delete (globalThis as Record<string, unknown>).__stagedbSeedWanted;
    }
  });
});

describe('plain Prisma project: a URL written in the datasource', () => {
  it('is development\'s only: staging and production read their env files', async () => {
    const p = project({
      'prisma/schema.prisma': `datasource db {\n  provider = "postgresql"\n  url      = "postgresql://app:pw@localhost:5432/dev"\n}\n`,
      '.env.staging': `DATABASE_URL="${direct}"\n`,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(resolveEnvironment(c, 'development', { processEnv: {} }).directUrl).toBe('postgresql://app:pw@localhost:5432/dev');
    expect(resolveEnvironment(c, 'staging', { processEnv: {} }).directUrl).toBe(direct);
  });
});
