import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, normalize, passwordOf, runCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject, withPassword, type TempProject } from '../helpers/project.js';

/**
 * Bad input gets one clear line, a documented exit code, and nothing written — and no password ever
 * reaches stdout or stderr. Every run in this file goes through `runCli`, which fails the test when a
 * string registered with `forbidInOutput` appears in either stream.
 */
const PASSWORD = 'Zq7-hunter2-DISTINCTIVE-pw';
const API_KEY = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWFwaS1rZXk.Accel-SECRET-9f3k';
forbidInOutput(PASSWORD, API_KEY, 'c2VjcmV0LWFwaS1rZXk');

const MIGRATIONS = { '20240101000000_init': `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n` };
let db: FreshDatabase;
const projects: TempProject[] = [];

beforeAll(async () => {
  db = await freshDatabase('err');
  forbidInOutput(passwordOf(db.url));
});
afterAll(async () => {
  for (const p of projects) p.remove();
  await db?.drop();
});

function project(spec: Parameters<typeof createProject>[0]): TempProject {
  const p = createProject({ migrations: MIGRATIONS, ...spec });
  projects.push(p);
  return p;
}

/** Runs a command in the project, for both the text and the --json rendering. */
async function both(p: TempProject, args: string[], env: Record<string, string> = {}): Promise<[CliResult, CliResult]> {
  return Promise.all([runCli(args, { cwd: p.dir, env }), runCli([...args, '--json'], { cwd: p.dir, env })]);
}

const THREE_ENVS = {
  environments: {
    development: { url: { $env: 'DATABASE_URL' } },
    staging: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' } },
    production: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' } },
  },
};

describe('environment selection', () => {
  it('an unknown environment lists the defined ones (exit 3)', async () => {
    const p = project({ configJson: THREE_ENVS });
    const [text, json] = await both(p, ['migrate', 'deploy', '--env', 'stagign']);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatchInlineSnapshot(`
      "error: unknown environment "stagign" (from --env stagign); defined: development, staging, production
        fix: use --env development (or add "stagign" under environments in stagedb.config.json)
      "
    `);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        kind: 'config',
        code: 'E_ENV_UNKNOWN',
        message: 'unknown environment "stagign" (from --env stagign); defined: development, staging, production',
        details: [],
        fix: expect.stringContaining('use --env development'),
        exitCode: 3,
      },
    });
  });

  it('an unknown STAGEDB_ENV says where the name came from', async () => {
    const p = project({ configJson: THREE_ENVS });
    const r = await runCli(['status'], { cwd: p.dir, env: { STAGEDB_ENV: 'qa' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('unknown environment "qa" (from STAGEDB_ENV=qa); defined: development, staging, production');
  });
});

describe('connection settings', () => {
  it('a missing env var names the variable and the file to put it in (exit 3, nothing written)', async () => {
    const p = project({ configJson: THREE_ENVS, envFiles: { '.env.staging': { DATABASE_URL: db.url } } });
    const r = await runCli(['migrate', 'deploy', '--env', 'staging'], { cwd: p.dir });
    // staging's url is set (in .env.staging), so directUrl is optional there: deploy goes through.
    expect(r.code).toBe(0);
    const prod = await runCli(['migrate', 'deploy', '--env', 'production'], { cwd: p.dir });
    expect(prod.code).toBe(3);
    expect(prod.stderr).toMatchInlineSnapshot(`
      "error: production is not configured: environments.production.directUrl: environment variable DIRECT_URL is not set (looked in the shell, .env.production)
        fix: add DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.production, or export it
      "
    `);
  });

  it('a malformed URL: says which setting, masks the password (exit 3)', async () => {
    const p = project({ configJson: THREE_ENVS, envFiles: { '.env': { DATABASE_URL: `postgresql://app:${PASSWORD}@db.internal:5432:5433/app` } } });
    const [text, json] = await both(p, ['status']);
    expect(text.code).toBe(3);
    expect(normalize(text.stdout)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE  APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED  SERVER
      development              ERROR  -        -        -       -                 -             -

      1 migration in the folder.

      development (not resolved):
        error: environments.development.url (DATABASE_URL from .env) is not a valid URL (it is not shown: it may hold a password)
        fix: write it as postgresql://USER:PASSWORD@HOST:5432/DATABASE, with these percent-encoded in the user and password: @ as %40, # as %23, / as %2F, ? as %3F, : as %3A, % as %25, a space as %20"
    `);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout).environments[0].error).toMatchObject({ code: 'E_URL_MALFORMED' });
  });

  it('a URL that is not PostgreSQL (exit 3)', async () => {
    const p = project({ configJson: THREE_ENVS, envFiles: { '.env': { DATABASE_URL: `mysql://root:${PASSWORD}@localhost:3306/app` } } });
    const r = await runCli(['migrate', 'deploy'], { cwd: p.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: environments.development.url (DATABASE_URL from .env) uses mysql://, which is not PostgreSQL
        fix: use a postgresql:// URL (or prisma+postgres:// for Accelerate, with a directUrl beside it)
      "
    `);
  });

  it('a wrong password: E_AUTH, exit 3, and the password appears nowhere', async () => {
    const wrong = withPassword(db.url, PASSWORD);
    const p = project({ configJson: THREE_ENVS, envFiles: { '.env': { DATABASE_URL: wrong } } });
    const [status, statusJson] = await both(p, ['status']);
    const [deploy, deployJson] = await both(p, ['migrate', 'deploy']);
    const [resolve] = await both(p, ['migrate', 'resolve', '--applied', '20240101000000_init']);
    for (const r of [status, statusJson, deploy, deployJson, resolve]) {
      expect(r.code).toBe(3);
      expect(r.all).not.toContain(PASSWORD);
      expect(r.all).not.toContain(encodeURIComponent(PASSWORD));
    }
    expect(JSON.parse(statusJson.stdout).environments[0].error.code).toBe('E_AUTH');
    expect(JSON.parse(deployJson.stdout).error).toMatchObject({ kind: 'connection', code: 'E_AUTH', exitCode: 3 });
    expect(normalize(deploy.stderr, { [new URL(db.url).port]: '<port>', [db.name]: '<db>' })).toMatchInlineSnapshot(`
      "error: development (url (env DATABASE_URL)): password authentication failed for user "postgres"
        fix: check the user and password in this environment's URL (env file or shell variable)"
    `);
  });

  it('the same wrong password passed with --url is not printed either', async () => {
    const p = project({ configJson: THREE_ENVS, envFiles: { '.env': { DATABASE_URL: db.url } } });
    const r = await runCli(['migrate', 'deploy', '--url', withPassword(db.url, PASSWORD)], { cwd: p.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('password authentication failed');
    expect(r.stdout).toContain('via --url flag');
  });

  it('an Accelerate URL without directUrl: explains directUrl, never prints the api key (exit 3)', async () => {
    const accelerate = `prisma+postgres://accelerate.prisma-data.net/?api_key=${API_KEY}`;
    const p = project({
      configJson: { environments: { development: { url: { $env: 'DATABASE_URL' } }, staging: { url: { $env: 'DATABASE_URL' } } } },
      envFiles: { '.env.staging': { DATABASE_URL: accelerate } },
    });
    const [deploy, deployJson] = await both(p, ['migrate', 'deploy', '--env', 'staging']);
    const [status] = await both(p, ['status', '--env', 'staging']);
    const env = await runCli(['env', '--env', 'staging'], { cwd: p.dir });
    for (const r of [deploy, deployJson, status, env]) {
      expect(r.code).toBe(3);
      expect(r.all).not.toContain('Accel-SECRET');
    }
    expect(deploy.stderr).toMatchInlineSnapshot(`
      "error: environments.staging.url is a Prisma Accelerate URL (prisma+postgres:// is Prisma Accelerate (an HTTP proxy): it cannot run migrations or backups); migrations, status and backups need a direct connection to PostgreSQL
        fix: set environments.staging.directUrl: env('DIRECT_URL') in the config and DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DB" in .env.staging
      "
    `);
    expect(JSON.parse(deployJson.stdout).error.code).toBe('E_DIRECT_URL_REQUIRED');
  });

  it('an Accelerate URL with a directUrl works: DDL goes through directUrl', async () => {
    const accelerate = `prisma+postgres://accelerate.prisma-data.net/?api_key=${API_KEY}`;
    const p = project({
      configJson: { environments: { staging: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' } } } },
      envFiles: { '.env.staging': { DATABASE_URL: accelerate, DIRECT_URL: db.url } },
    });
    const r = await runCli(['status', '--env', 'staging', '--json'], { cwd: p.dir });
    expect(r.code).not.toBe(3);
    expect(JSON.parse(r.stdout).environments[0]).toMatchObject({ connection: 'directUrl (env DIRECT_URL)', state: expect.stringMatching(/pending|up-to-date/) });
  });
});

describe('config file problems', () => {
  it('an invalid stagedb.config.json reports every problem as path: message (exit 3)', async () => {
    const p = project({
      configJson: {
        schema: 42,
        seeds: 'node seed.js',
        environments: {
          development: { url: { $env: 'DATABASE_URL' }, protection: 'paranoid' },
          Staging: { url: 'postgresql://localhost/x' },
          production: { envFile: '.env.production' },
          dev: { url: 'postgresql://localhost/y', directURL: 'postgresql://localhost/z' },
        },
      },
    });
    const [text, json] = await both(p, ['status']);
    expect(text.code).toBe(3);
    expect(normalize(text.stderr, { [p.dir]: '<project>' })).toMatchInlineSnapshot(`
      "error: stagedb.config.json has 7 problems
        schema: expected string, got number
        environments.development.protection: must be one of "none", "guarded", "production"
        environments.dev.directURL: unknown key
        seeds: unknown key
        environments.Staging: environment names are lower-case letters, digits, - and _
        environments.production: needs url or directUrl (e.g. url: env('DATABASE_URL'))
        environments.dev: "dev" is an alias; name it development
        fix: edit <project>/stagedb.config.json"
    `);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'E_CONFIG_INVALID', exitCode: 3 });
    expect(JSON.parse(json.stdout).error.details.length).toBeGreaterThanOrEqual(6);
  });

  it('a stagedb.config.json that is not JSON (exit 3)', async () => {
    const p = project({ configJson: '{ "environments": { "development": { "url": "postgresql://localhost/x", } }' });
    const r = await runCli(['status'], { cwd: p.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: stagedb\.config\.json is not valid JSON: /);
  });

  it('--config naming a file that does not exist (exit 3)', async () => {
    const p = project({});
    const r = await runCli(['status', '--config', 'nope.config.ts'], { cwd: p.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: config file nope.config.ts does not exist
        fix: stagedb init   (writes stagedb.config.ts), or pass --config <path> to an existing file
      "
    `);
  });
});

describe('migrations folder problems (reported before connecting)', () => {
  // The URL points at a closed port: if stagedb connected first, the error would be E_CONN_REFUSED.
  const env = { DATABASE_URL: `postgresql://app:${PASSWORD}@127.0.0.1:9/app` };

  it('missing folder', async () => {
    const p = createProject({});
    projects.push(p);
    const r = await runCli(['migrate', 'deploy'], { cwd: p.dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: migrations folder prisma/migrations does not exist
        fix: create the first migration: stagedb migrate dev --name init   (or set migrations in stagedb.config.ts to the folder)
      "
    `);
  });

  it('a migration directory without migration.sql', async () => {
    const p = project({ migrations: { ...MIGRATIONS, '20240102000000_half_merged': null } });
    const r = await runCli(['status'], { cwd: p.dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: migration 20240102000000_half_merged has no migration.sql (prisma/migrations/20240102000000_half_merged/)
        fix: restore it from version control (git checkout -- prisma/migrations/20240102000000_half_merged) or delete the empty directory
      "
    `);
  });

  it('migration_lock.toml for mysql', async () => {
    const p = project({ lockProvider: 'mysql' });
    const r = await runCli(['migrate', 'deploy'], { cwd: p.dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: prisma/migrations was written for provider "mysql"; stagedb runs PostgreSQL migrations only
        fix: point stagedb at a PostgreSQL project (provider = "postgresql" in schema.prisma and migration_lock.toml)
      "
    `);
  });
});
