import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject, type ProjectSpec, type TempProject } from '../helpers/project.js';

/**
 * How the built binary finds its configuration: a stagedb.config.ts importing from 'stagedb', a plain
 * Prisma project with no config at all (Prisma 7 and Prisma 6 style), and the connection precedence
 * the README documents.
 */
const MIGRATIONS = { '20240101000000_init': `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n` };
let db: FreshDatabase;
let dead: number;
const projects: TempProject[] = [];

beforeAll(async () => {
  db = await freshDatabase('cfg');
  forbidInOutput(passwordOf(db.url));
  dead = await closedPort();
});
afterAll(async () => {
  for (const p of projects) p.remove();
  await db?.drop();
});

function project(spec: ProjectSpec): TempProject {
  const p = createProject({ migrations: MIGRATIONS, ...spec });
  projects.push(p);
  return p;
}

/** A URL that names `label` as its database, on a port nothing listens on: shows which one was picked. */
const marker = (label: string) => `postgresql://app:pw-${label}@127.0.0.1:${dead}/${label}`;

interface EnvRow {
  env: string;
  protection?: string;
  direct?: string;
  directSource?: string;
  urlKind?: string;
  error?: string;
}

async function envRows(p: TempProject, env: Record<string, string | undefined> = {}, args: string[] = []): Promise<EnvRow[]> {
  const r = await runCli(['env', '--json', ...args], { cwd: p.dir, env });
  expect(r.stdout.trim().startsWith('{')).toBe(true);
  return (JSON.parse(r.stdout) as { environments: EnvRow[] }).environments;
}

describe('stagedb.config.ts', () => {
  it("loads a config that imports defineConfig and env from 'stagedb' (resolved to this package)", async () => {
    const p = project({
      configTs: `import { defineConfig, env } from 'stagedb';

const shared: { protection: 'guarded' } = { protection: 'guarded' };

export default defineConfig({
  schema: 'prisma/schema.prisma',
  environments: {
    development: { url: env('DATABASE_URL') },
    preview: { url: env('PREVIEW_URL', '${marker('fallback')}'), ...shared },
  },
});
`,
      envFiles: { '.env': { DATABASE_URL: db.url } },
    });
    const rows = await envRows(p);
    expect(rows.map((r) => [r.env, r.protection, r.directSource])).toEqual([
      ['development', 'none', 'url (env DATABASE_URL)'],
      ['preview', 'guarded', 'url (env PREVIEW_URL)'],
    ]);
    // env('NAME', default) falls back to the default when the variable is unset.
    expect(rows[1]!.direct).toContain('/fallback');
    const status = await runCli(['status'], { cwd: p.dir });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('pending   20240101000000_init');
  });

  it('a config that throws while loading is a config error (exit 3) naming the file', async () => {
    const p = project({ configTs: `throw new Error('boom in config');\nexport default {};\n` });
    const r = await runCli(['status'], { cwd: p.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('could not load stagedb.config.ts: boom in config');
  });

  it('is found from a sub-directory of the project', async () => {
    const p = project({ configJson: { environments: { development: { url: { $env: 'DATABASE_URL' } } } }, envFiles: { '.env': { DATABASE_URL: db.url } } });
    p.write('src/app/keep.txt', '');
    const r = await runCli(['status', '--json'], { cwd: p.path('src/app') });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).migrationsDir).toBe(p.migrationsDir);
  });
});

describe('a plain Prisma project with no stagedb config', () => {
  it('uses DATABASE_URL from .env as the development environment', async () => {
    const p = project({ envFiles: { '.env': { DATABASE_URL: db.url } } });
    const r = await runCli(['status', '--json'], { cwd: p.dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.environments.map((e: { env: string; connection: string }) => [e.env, e.connection])).toEqual([['development', 'url (env DATABASE_URL)']]);
    const env = await runCli(['env'], { cwd: p.dir });
    expect(env.stdout).toContain('config: (none: plain Prisma project)');
  });

  it('with a Prisma 6 schema (url/directUrl in the datasource): DDL goes through directUrl', async () => {
    const p = project({
      schema: `generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["driverAdapters", "relationJoins"]
}

datasource db {
  provider  = "postgresql"
  url       = env("MY_DB")
  directUrl = env("MY_DIRECT")
}

model User {
  id Int @id @default(autoincrement())
}
`,
      // MY_DB is the application's (pooled) URL: it points nowhere here, so using it would fail.
      envFiles: { '.env': { MY_DB: `postgresql://app:pw@127.0.0.1:${dead}/pooled?pgbouncer=true`, MY_DIRECT: db.url } },
    });
    const r = await runCli(['status', '--json'], { cwd: p.dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).environments[0]).toMatchObject({ env: 'development', connection: 'directUrl (env MY_DIRECT)', state: 'pending' });
    const rows = await envRows(p);
    expect(rows[0]).toMatchObject({ urlKind: 'pooler', directSource: 'directUrl (env MY_DIRECT)' });
  });

  it('.env.staging and .env.production add those environments', async () => {
    const p = project({
      envFiles: { '.env': { DATABASE_URL: marker('dev') }, '.env.staging': { DATABASE_URL: marker('stg') }, '.env.production': { DATABASE_URL: `${marker('prd')}?sslmode=require` } },
    });
    const rows = await envRows(p);
    expect(rows.map((r) => [r.env, r.protection, r.direct?.replace(/.*\//, '')])).toEqual([
      ['development', 'none', 'dev'],
      ['staging', 'guarded', 'stg'],
      ['production', 'production', 'prd?sslmode=require'],
    ]);
  });
});

describe('connection precedence (README, "Connection precedence")', () => {
  const config = {
    environments: {
      staging: { url: { $env: 'DATABASE_URL' } },
      production: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' }, ssl: 'disable' },
    },
  };

  it('for an env var: the shell > .env.<name> > .env, and a guarded environment\'s URL never from .env', async () => {
    const p = project({
      configJson: { environments: { staging: config.environments.staging, preview: { url: { $env: 'PREVIEW_URL' }, protection: 'none' } } },
      envFiles: { '.env': { DATABASE_URL: marker('from_dotenv'), PREVIEW_URL: marker('preview_from_dotenv') }, '.env.staging': { DATABASE_URL: marker('from_env_staging') } },
    });
    const row = async (env: Record<string, string>, name = 'staging') => (await envRows(p, env, ['--env', name]))[0]!;
    const pick = async (env: Record<string, string>, name = 'staging') => (await row(env, name)).direct!.replace(/.*\//, '');
    expect(await pick({ DATABASE_URL: marker('from_shell') })).toBe('from_shell');
    expect(await pick({})).toBe('from_env_staging');
    // An unprotected environment takes .env's value; staging (guarded) does not: it is not configured.
    expect(await pick({}, 'preview')).toBe('preview_from_dotenv');
    p.write('.env.staging', '# empty\n');
    expect((await row({})).error).toBe(
      'staging is not configured: environments.staging.url reads DATABASE_URL, which is set only in .env, the file every environment shares: a guarded-level environment never takes its URL from there',
    );
  });

  it('the shell winning over an env file is said out loud', async () => {
    const p = project({ configJson: config, envFiles: { '.env.staging': { DATABASE_URL: marker('from_env_staging') } } });
    const r = await runCli(['env', '--env', 'staging'], { cwd: p.dir, env: { DATABASE_URL: marker('from_shell') } });
    expect(r.stderr).toMatchInlineSnapshot(`
      "warning: staging: DATABASE_URL is set in the shell and differs from .env.staging; the shell's value wins (unset it to use the file)
      "
    `);
  });

  it('for the DDL connection: --url > directUrl > url', async () => {
    const p = project({
      configJson: config,
      envFiles: { '.env.production': { DATABASE_URL: marker('from_url'), DIRECT_URL: marker('from_direct') } },
    });
    // directUrl beats url
    const rows = await envRows(p, {}, ['--env', 'production']);
    expect(rows[0]).toMatchObject({ directSource: 'directUrl (env DIRECT_URL)', direct: expect.stringMatching(/\/from_direct$/) });
    // without directUrl, url
    p.write('.env.production', `DATABASE_URL="${marker('from_url')}"\n`);
    const urlOnly = await envRows(p, {}, ['--env', 'production']);
    expect(urlOnly[0]).toMatchObject({ directSource: 'url (env DATABASE_URL)', direct: expect.stringMatching(/\/from_url$/) });
    // --url beats both: deploy really runs against the flag's database
    p.write('.env.production', `DATABASE_URL="${marker('from_url')}"\nDIRECT_URL="${marker('from_direct')}"\n`);
    const r = await runCli(['migrate', 'deploy', '--env', 'production', '--url', db.url, '--confirm', 'production'], { cwd: p.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${db.name} (schema public, via --url flag, protection production)`);
    expect(r.stdout).toContain('applied 1 migration');
  });

  it('--env > STAGEDB_ENV > development, with the aliases dev, prod and stage', async () => {
    const p = project({
      configJson: { environments: { development: { url: marker('d') }, staging: { url: marker('s') }, production: { url: marker('p'), ssl: 'disable' } } },
    });
    const names = async (args: string[], env: Record<string, string> = {}) => (await envRows(p, env, args)).map((r) => r.env);
    expect(await names(['--env', 'prod'], { STAGEDB_ENV: 'staging' })).toEqual(['production']);
    expect(await names(['--env', 'stage'])).toEqual(['staging']);
    expect(await names(['--env', 'dev'])).toEqual(['development']);
    const fromVar = await runCli(['status', '--json'], { cwd: p.dir, env: { STAGEDB_ENV: 'staging' } });
    expect(JSON.parse(fromVar.stdout).environments.map((e: { env: string }) => e.env)).toEqual(['staging']);
    const byDefault = await runCli(['status', '--json'], { cwd: p.dir });
    expect(JSON.parse(byDefault.stdout).environments.map((e: { env: string }) => e.env)).toEqual(['development']);
  });
});

describe('stagedb env shows how Studio opens each environment and its read replicas', () => {
  it('production is read-only, staging read-write unless configured; replicas are counted and masked', async () => {
    const p = project({
      configJson: {
        environments: {
          staging: { url: { $env: 'DATABASE_URL' }, studio: 'read-only', replicas: [{ $env: 'REPLICA_URL' }] },
          production: { url: { $env: 'PROD_URL' } },
        },
      },
    });
    const env = { DATABASE_URL: marker('staging'), REPLICA_URL: marker('replica'), PROD_URL: `${marker('production')}?sslmode=require` };
    const rows = (await envRows(p, env)) as (EnvRow & { studio?: string; replicas?: string[] })[];
    expect(rows.map((r) => [r.env, r.studio, r.replicas])).toEqual([
      ['staging', 'read-only', [`postgresql://app:****@127.0.0.1:${dead}/replica`]],
      ['production', 'read-only', []],
    ]);
    const text = await runCli(['env'], { cwd: p.dir, env });
    expect(text.stdout).toMatch(/ENVIRONMENT +PROTECTION +APP URL +REPLICAS +STUDIO +DDL URL +FROM/);
    expect(text.stdout).toMatch(/staging +guarded +direct +1 +read-only /);
    expect(text.stdout).not.toContain('pw-replica');
  });
});
