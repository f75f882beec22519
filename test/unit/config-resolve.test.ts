/**
 * Connection precedence, pinned (the README documents the same order):
 *
 *   every env('NAME') value:  the shell's environment  >  the environment's env file(s)
 *                             (default `.env.<name>`, later files win)  >  `.env`
 *   the URL used for DDL:     --url flag  >  directUrl  >  url, when it is a direct postgresql:// URL
 *                             >  the databaseUrl inside a local `prisma dev` api_key  >  error
 *
 * processEnv is always passed explicitly: nothing here reads or writes process.env.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { env, type EnvironmentConfig } from '../../src/config/define.js';
import { resolveEnvironment } from '../../src/config/environments.js';
import type { EnvironmentDefinition, ResolvedConfig } from '../../src/config/load.js';
import { StagedbError } from '../../src/errors.js';
import { redact } from '../../src/redact.js';
import { tmpProject, type TmpProject } from '../fixtures/unit/tmp-project.js';

let projects: TmpProject[] = [];
afterEach(() => {
  for (const p of projects) p.remove();
  projects = [];
});

/** A config rooted in a fresh temp dir holding `files`, with the given environments. */
function setup(environments: Record<string, EnvironmentDefinition>, files: Record<string, string> = {}) {
  const p = tmpProject(files);
  projects.push(p);
  const config: ResolvedConfig = {
    root: p.root,
    configFile: p.path('stagedb.config.ts'),
    schemaPath: p.path('prisma', 'schema.prisma'),
    migrationsDir: p.path('prisma', 'migrations'),
    environments,
    warnings: [],
  };
  return { config, project: p };
}

/** The error a call throws, as the fields a user sees (paths made relative to the temp root). */
function thrown(fn: () => unknown, root?: string) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StagedbError);
    const { kind, code, message, fix } = e as StagedbError;
    const clean = (s: string | undefined) => (s === undefined || root === undefined ? s : s.split(root).join('<root>'));
    return { kind, code, message: clean(message), fix: clean(fix) };
  }
  return expect.unreachable('expected an error');
}

const DIRECT = 'postgresql://app:s3cret-pw@db.internal:5432/app';
const dbUrl = (host: string) => `postgresql://app:pw-${host}@${host}:5432/app`;
const stagingEnv: EnvironmentConfig = { url: env('DATABASE_URL') };

describe('resolveEnvironment: where env() values come from', () => {
  const files = {
    '.env': `DATABASE_URL="${dbUrl('dotenv')}"\nONLY_IN_DOTENV=from-dotenv\n`,
    '.env.staging': `DATABASE_URL="${dbUrl('envfile')}"\n`,
  };

  it('the shell beats the env file and .env', () => {
    const { config } = setup({ staging: stagingEnv }, files);
    const r = resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: dbUrl('shell') } });
    expect(r.url).toBe(dbUrl('shell'));
    expect(r.directUrl).toBe(dbUrl('shell'));
    expect(r.directSource).toBe('url (env DATABASE_URL)');
  });

  it('the environment file (.env.<name> by default) beats .env', () => {
    const { config, project } = setup({ staging: stagingEnv }, files);
    const r = resolveEnvironment(config, 'staging', { processEnv: {} });
    expect(r.url).toBe(dbUrl('envfile'));
    expect(r.envFiles).toEqual([project.path('.env'), project.path('.env.staging')]);
    expect(r.warnings).toEqual([]);
  });

  it('for an unprotected environment .env alone is enough, and a missing default .env.<name> is not an error', () => {
    const { config, project } = setup({ preview: { ...stagingEnv, protection: 'none' } }, { '.env': files['.env'] });
    const r = resolveEnvironment(config, 'preview', { processEnv: {} });
    expect(r.url).toBe(dbUrl('dotenv'));
    expect(r.envFiles).toEqual([project.path('.env')]);
  });

  it("a guarded or production environment never takes its URL from the shared .env (issue 12): it is not configured", () => {
    const { config, project } = setup(
      { staging: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL'), backup: { storage: { s3: { bucket: env('ONLY_IN_DOTENV') } } } }, production: stagingEnv },
      { '.env': `${files['.env']}DIRECT_URL="${dbUrl('dotenv-direct')}"\n` },
    );
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: {} }), project.root)).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_VAR_MISSING",
        "fix": "add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.staging, or export it",
        "kind": "config",
        "message": "staging is not configured: environments.staging.url reads DATABASE_URL, which is set only in .env, the file every environment shares: a guarded-level environment never takes its URL from there",
      }
    `);
    expect(thrown(() => resolveEnvironment(config, 'production', { processEnv: {} }), project.root)).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_VAR_MISSING",
        "fix": "add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.production, or export it",
        "kind": "config",
        "message": "production is not configured: environments.production.url reads DATABASE_URL, which is set only in .env, the file every environment shares: a production-level environment never takes its URL from there",
      }
    `);
    // .env's own value exported into the shell (direnv, `set -a; . .env`) is still .env's.
    expect(thrown(() => resolveEnvironment(config, 'production', { processEnv: { DATABASE_URL: dbUrl('dotenv') } })).message).toMatch(/^production is not configured: /);
    // The shell and the environment's own file still count; other variables still come from .env.
    const shell = resolveEnvironment(config, 'production', { processEnv: { DATABASE_URL: `${dbUrl('shell')}?sslmode=require` } });
    expect(shell.directUrl).toBe(`${dbUrl('shell')}?sslmode=require`);
    project.write('.env.staging', `DATABASE_URL="${dbUrl('envfile')}"\n`);
    const own = resolveEnvironment(config, 'staging', { processEnv: {} });
    expect([own.directUrl, own.backup.storage.kind === 's3' && own.backup.storage.bucket]).toEqual([dbUrl('envfile'), 'from-dotenv']);
    // Listing .env in envFile makes it the environment's own file.
    const listed = setup({ staging: { ...stagingEnv, envFile: '.env' } }, { '.env': files['.env'] });
    expect(resolveEnvironment(listed.config, 'staging', { processEnv: {} }).url).toBe(dbUrl('dotenv'));
  });

  it("another environment's file is never read", () => {
    const { config } = setup({ development: { url: env('DATABASE_URL') }, staging: stagingEnv }, files);
    expect(resolveEnvironment(config, 'development', { processEnv: {} }).url).toBe(dbUrl('dotenv'));
  });

  it('explicit envFile replaces .env.<name>; .env still loads first; later files win', () => {
    const { config, project } = setup(
      { staging: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL'), envFile: ['config/staging.env', 'config/staging.local.env'] } },
      {
        ...files,
        'config/staging.env': `DATABASE_URL="${dbUrl('first')}"\nDIRECT_URL="${dbUrl('direct-first')}"\n`,
        'config/staging.local.env': `DIRECT_URL="${dbUrl('direct-second')}"\n`,
      },
    );
    const r = resolveEnvironment(config, 'staging', { processEnv: {} });
    expect(r.url).toBe(dbUrl('first'));
    expect(r.directUrl).toBe(dbUrl('direct-second'));
    expect(r.envFiles).toEqual([project.path('.env'), project.path('config/staging.env'), project.path('config/staging.local.env')]);
  });

  it('an explicit envFile that does not exist is an error', () => {
    const { config, project } = setup({ staging: { url: env('DATABASE_URL'), envFile: '.env.stg' } }, files);
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: DIRECT } }), project.root)).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_FILE_MISSING",
        "fix": "create .env.stg (e.g. DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DB") or remove envFile from the config",
        "kind": "config",
        "message": "environments.staging.envFile: .env.stg does not exist",
      }
    `);
  });

  it('a missing variable names the variable, where stagedb looked, and the file to put it in', () => {
    const { config, project } = setup({ staging: stagingEnv }, { '.env': 'OTHER=1\n' });
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: {} }), project.root)).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_VAR_MISSING",
        "fix": "add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.staging, or export it",
        "kind": "config",
        "message": "staging is not configured: environments.staging.url: environment variable DATABASE_URL is not set (looked in the shell, .env.staging)",
      }
    `);
  });

  it("development's missing DATABASE_URL points at the local server that writes it (a new project's first migrate dev)", () => {
    const { config, project } = setup({ development: { url: env('DATABASE_URL') }, staging: stagingEnv }, { '.env': 'OTHER=1\n' });
    expect(thrown(() => resolveEnvironment(config, 'development', { processEnv: {} }), project.root)).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_VAR_MISSING",
        "fix": "stagedb dev up --write-env   (starts a local PostgreSQL and writes DATABASE_URL to .env), or add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.development, or export it",
        "kind": "config",
        "message": "development is not configured: environments.development.url: environment variable DATABASE_URL is not set (looked in the shell, .env, .env.development)",
      }
    `);
    // Not for staging (above), nor for a variable `dev up --write-env` does not write.
    const other = setup({ development: { url: env('APP_DB') } });
    expect(thrown(() => resolveEnvironment(other.config, 'development', { processEnv: {} })).fix).toBe(
      'add APP_DB="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.development, or export it',
    );
  });

  it('with an explicit envFile, the fix names that file', () => {
    const { config } = setup({ production: { url: env('PROD_URL'), envFile: ['deploy/prod.env'] } }, { 'deploy/prod.env': 'X=1\n' });
    const e = thrown(() => resolveEnvironment(config, 'production', { processEnv: {} }));
    expect(e.code).toBe('E_ENV_VAR_MISSING');
    expect(e.message).toBe('production is not configured: environments.production.url: environment variable PROD_URL is not set (looked in the shell, deploy/prod.env)');
    expect(e.fix).toBe('add PROD_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to deploy/prod.env, or export it');
  });

  it("env('X', default) uses the default when X is unset or empty, and X when it is set", () => {
    const def: EnvironmentConfig = { url: env('DATABASE_URL', 'postgresql://localhost:5432/fallback') };
    const { config } = setup({ development: def });
    expect(resolveEnvironment(config, 'development', { processEnv: {} }).url).toBe('postgresql://localhost:5432/fallback');
    expect(resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: '' } }).url).toBe('postgresql://localhost:5432/fallback');
    expect(resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: DIRECT } }).url).toBe(DIRECT);
  });

  it('a literal URL in the config is used as written', () => {
    const { config } = setup({ development: { url: DIRECT } });
    const r = resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: dbUrl('shell') } });
    expect(r.directUrl).toBe(DIRECT);
    expect(r.directSource).toBe('url');
  });

  it('warns when a shell URL variable differs from the env file, naming the file', () => {
    const { config } = setup({ staging: stagingEnv }, { ...files, '.env.staging': `DATABASE_URL="${dbUrl('envfile')}"\nLOG_LEVEL=debug\n` });
    const r = resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: dbUrl('shell'), LOG_LEVEL: 'info' } });
    expect(r.warnings).toMatchInlineSnapshot(`
      [
        "DATABASE_URL is set in the shell and differs from .env.staging; the shell's value wins (unset it to use the file)",
      ]
    `);
  });

  it('does not warn when the shell agrees with the file', () => {
    const { config } = setup({ staging: stagingEnv }, files);
    expect(resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: dbUrl('envfile') } }).warnings).toEqual([]);
  });

  it('reads shadowDatabaseUrl when set, and leaves it undefined when its variable is not', () => {
    const { config } = setup({ development: { url: DIRECT, shadowDatabaseUrl: env('SHADOW_DATABASE_URL') } });
    expect(resolveEnvironment(config, 'development', { processEnv: {} }).shadowDatabaseUrl).toBeUndefined();
    expect(resolveEnvironment(config, 'development', { processEnv: { SHADOW_DATABASE_URL: dbUrl('shadow') } }).shadowDatabaseUrl).toBe(dbUrl('shadow'));
  });
});

describe('resolveEnvironment: which URL runs DDL', () => {
  const pooler = 'postgresql://app:pool-pw@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech:5432/app?sslmode=require';
  const both: EnvironmentConfig = { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL') };

  it('directUrl beats a direct url', () => {
    const { config } = setup({ development: both });
    const r = resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: dbUrl('app'), DIRECT_URL: dbUrl('direct') } });
    expect(r).toMatchObject({ url: dbUrl('app'), directUrl: dbUrl('direct'), directSource: 'directUrl (env DIRECT_URL)' });
    expect(r.urlInfo?.kind).toBe('direct');
    expect(r.directInfo).toMatchObject({ kind: 'direct', host: 'direct', database: 'app', user: 'app' });
  });

  it('a direct url serves DDL when directUrl is configured but its variable is unset', () => {
    const { config } = setup({ development: both });
    const r = resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: dbUrl('app') } });
    expect(r).toMatchObject({ directUrl: dbUrl('app'), directSource: 'url (env DATABASE_URL)' });
  });

  it('a pooler url with a directUrl: the application keeps the pooler, DDL goes direct', () => {
    const { config } = setup({ development: both });
    const r = resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: pooler, DIRECT_URL: DIRECT } });
    expect(r.url).toBe(pooler);
    expect(r.urlInfo?.kind).toBe('pooler');
    expect(r.directUrl).toBe(DIRECT);
  });

  it('a local `prisma dev` URL: DDL uses the databaseUrl inside its api_key', () => {
    const inner = 'postgres://postgres:postgres@localhost:51214/template1?sslmode=disable&connection_limit=1';
    const key = Buffer.from(JSON.stringify({ databaseUrl: inner, name: 'default', shadowDatabaseUrl: 'postgres://postgres:postgres@localhost:51215/template1' })).toString('base64url');
    const { config } = setup({ development: { url: env('DATABASE_URL') } });
    const r = resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: `prisma+postgres://localhost:51213/?api_key=${key}` } });
    expect(r.urlInfo?.kind).toBe('accelerate');
    expect(r.directUrl).toBe(inner);
    expect(r.directInfo).toMatchObject({ kind: 'direct', host: 'localhost', port: 51214, database: 'template1', sslmode: 'disable' });
    expect(r.directSource).toBe('url (the direct URL inside the local prisma dev api_key)');
  });

  it('directUrl beats the api_key of a local prisma dev URL', () => {
    const key = Buffer.from(JSON.stringify({ databaseUrl: 'postgres://postgres:postgres@localhost:51214/template1' })).toString('base64url');
    const { config } = setup({ development: both });
    const r = resolveEnvironment(config, 'development', {
      processEnv: { DATABASE_URL: `prisma+postgres://localhost:51213/?api_key=${key}`, DIRECT_URL: DIRECT },
    });
    expect(r.directUrl).toBe(DIRECT);
  });

  it('an Accelerate URL without a directUrl is refused, explaining directUrl', () => {
    const { config } = setup({ staging: stagingEnv });
    expect(
      thrown(() => resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: 'prisma+postgres://accelerate.prisma-data.net/?api_key=eyJhbGciOiJIUzI1NiJ9.secret-part' } })),
    ).toMatchInlineSnapshot(`
      {
        "code": "E_DIRECT_URL_REQUIRED",
        "fix": "set environments.staging.directUrl: env('DIRECT_URL') in the config and DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DB" in .env.staging",
        "kind": "config",
        "message": "environments.staging.url is a Prisma Accelerate URL (prisma+postgres:// is Prisma Accelerate (an HTTP proxy): it cannot run migrations or backups); migrations, status and backups need a direct connection to PostgreSQL",
      }
    `);
  });

  it('a pooler URL without a directUrl is refused, explaining directUrl', () => {
    const { config } = setup({ staging: stagingEnv });
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: pooler } }))).toMatchInlineSnapshot(`
      {
        "code": "E_DIRECT_URL_REQUIRED",
        "fix": "set environments.staging.directUrl: env('DIRECT_URL') in the config and DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DB" in .env.staging",
        "kind": "config",
        "message": "environments.staging.url is a connection-pooler URL (host ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech is a connection pooler (-pooler)); migrations, status and backups need a direct connection to PostgreSQL",
      }
    `);
  });

  it('a configured directUrl whose variable is unset is reported as missing when url cannot serve DDL', () => {
    const { config } = setup({ staging: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL') } });
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: pooler } }))).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_VAR_MISSING",
        "fix": "add DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.staging, or export it",
        "kind": "config",
        "message": "staging is not configured: environments.staging.directUrl: environment variable DIRECT_URL is not set (looked in the shell, .env.staging)",
      }
    `);
  });

  it('an environment with only a directUrl reports its missing variable', () => {
    const { config } = setup({ staging: { directUrl: env('DIRECT_URL') } });
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: {} }))).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_VAR_MISSING",
        "fix": "add DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.staging, or export it",
        "kind": "config",
        "message": "staging is not configured: environments.staging.directUrl: environment variable DIRECT_URL is not set (looked in the shell, .env.staging)",
      }
    `);
  });

  it('a directUrl that is itself a pooler is refused', () => {
    const { config } = setup({ staging: both });
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: pooler, DIRECT_URL: pooler } }))).toMatchInlineSnapshot(`
      {
        "code": "E_DIRECT_URL_REQUIRED",
        "fix": "point environments.staging.directUrl at the database server itself (postgresql://USER:PASSWORD@HOST:5432/DB), not at a pooler or Accelerate",
        "kind": "config",
        "message": "directUrl (env DIRECT_URL) of environment staging is not a direct PostgreSQL URL (host ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech is a connection pooler (-pooler))",
      }
    `);
  });

  it('--url beats directUrl, url and the env files', () => {
    const { config } = setup({ staging: both }, { '.env.staging': `DATABASE_URL="${dbUrl('file')}"\nDIRECT_URL="${dbUrl('file-direct')}"\n` });
    const r = resolveEnvironment(config, 'staging', { processEnv: { DIRECT_URL: dbUrl('shell') }, urlOverride: dbUrl('flag') });
    expect(r).toMatchObject({ directUrl: dbUrl('flag'), directSource: '--url flag', url: dbUrl('file') });
  });

  it('--url works when the environment has no variables set at all', () => {
    const { config } = setup({ staging: stagingEnv });
    const r = resolveEnvironment(config, 'staging', { processEnv: {}, urlOverride: dbUrl('flag') });
    expect(r).toMatchObject({ directUrl: dbUrl('flag'), directSource: '--url flag', url: undefined });
  });

  it('--url must itself be direct', () => {
    const { config } = setup({ staging: stagingEnv });
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: DIRECT }, urlOverride: pooler })).message).toMatchInlineSnapshot(`"--url flag of environment staging is not a direct PostgreSQL URL (host ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech is a connection pooler (-pooler))"`);
  });

  it('inferred environments try DIRECT_URL, then DIRECT_DATABASE_URL', () => {
    const def: EnvironmentDefinition = { url: { $env: 'DATABASE_URL' }, directUrlCandidates: ['DIRECT_URL', 'DIRECT_DATABASE_URL'] };
    const { config } = setup({ development: def });
    const r1 = resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: pooler, DIRECT_DATABASE_URL: dbUrl('b') } });
    expect(r1).toMatchObject({ directUrl: dbUrl('b'), directSource: 'directUrl (env DIRECT_DATABASE_URL)' });
    const r2 = resolveEnvironment(config, 'development', { processEnv: { DATABASE_URL: pooler, DIRECT_URL: dbUrl('a'), DIRECT_DATABASE_URL: dbUrl('b') } });
    expect(r2).toMatchObject({ directUrl: dbUrl('a'), directSource: 'directUrl (env DIRECT_URL)' });
  });

  it('a malformed URL names the config key and never shows the password', () => {
    const { config } = setup({ staging: stagingEnv });
    const e = thrown(() => resolveEnvironment(config, 'staging', { processEnv: { DATABASE_URL: 'postgresql://app:hunter2-pw@db:port/app' } }));
    expect(e.code).toBe('E_URL_MALFORMED');
    expect(e.message).toMatchInlineSnapshot(`"environments.staging.url (DATABASE_URL from the shell) is not a valid URL (it is not shown: it may hold a password)"`);
    expect(e.message).not.toContain('hunter2-pw');
  });
});

describe('resolveEnvironment: protection and TLS', () => {
  const url = (q = '') => `postgresql://app:pw@db.example.com:5432/app${q}`;

  it('protection defaults by name: development none, staging guarded, production production, others guarded', () => {
    const { config } = setup({
      development: { url: url() },
      staging: { url: url() },
      production: { url: url('?sslmode=require') },
      qa: { url: url() },
    });
    const p = (name: string) => resolveEnvironment(config, name, { processEnv: {} }).protection;
    expect([p('development'), p('staging'), p('production'), p('qa')]).toEqual(['none', 'guarded', 'production', 'guarded']);
  });

  it('an explicit protection wins over the default', () => {
    const { config } = setup({ production: { url: url(), protection: 'guarded' }, qa: { url: url('?sslmode=require'), protection: 'production' } });
    expect(resolveEnvironment(config, 'production', { processEnv: {} })).toMatchObject({ protection: 'guarded', ssl: undefined });
    expect(resolveEnvironment(config, 'qa', { processEnv: {} })).toMatchObject({ protection: 'production', ssl: 'require' });
  });

  it('production requires sslmode=require or stronger', () => {
    const { config } = setup({ production: { url: env('DATABASE_URL') } });
    expect(thrown(() => resolveEnvironment(config, 'production', { processEnv: { DATABASE_URL: url() } }))).toMatchInlineSnapshot(`
      {
        "code": "E_SSL_REQUIRED",
        "fix": "add ?sslmode=require to the URL (RDS: also sslrootcert=<path to the RDS CA bundle> with verify-full), or set environments.production.ssl to "prefer" if this database is only reachable on a private network",
        "kind": "config",
        "message": "environment production requires sslmode=require or stronger, but its url (env DATABASE_URL) has sslmode=prefer: traffic to a production-level database must be encrypted",
      }
    `);
    expect(thrown(() => resolveEnvironment(config, 'production', { processEnv: { DATABASE_URL: url('?sslmode=prefer') } })).code).toBe('E_SSL_REQUIRED');
    for (const mode of ['require', 'verify-ca', 'verify-full']) {
      expect(resolveEnvironment(config, 'production', { processEnv: { DATABASE_URL: url(`?sslmode=${mode}`) } }).directInfo.sslmode).toBe(mode);
    }
  });

  it('the TLS check applies to the direct URL, not the application URL', () => {
    const { config } = setup({ production: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL') } });
    const processEnv = { DATABASE_URL: 'prisma+postgres://accelerate.prisma-data.net/?api_key=abcdef', DIRECT_URL: url() };
    expect(thrown(() => resolveEnvironment(config, 'production', { processEnv })).code).toBe('E_SSL_REQUIRED');
    expect(resolveEnvironment(config, 'production', { processEnv: { ...processEnv, DIRECT_URL: url('?sslmode=verify-full') } }).ssl).toBe('require');
  });

  it('ssl set lower lets a production database on a private network go without TLS', () => {
    const { config } = setup({ production: { url: url(), ssl: 'disable' }, internal: { url: url('?sslmode=prefer'), protection: 'production', ssl: 'prefer' } });
    expect(resolveEnvironment(config, 'production', { processEnv: {} })).toMatchObject({ protection: 'production', ssl: 'disable' });
    expect(resolveEnvironment(config, 'internal', { processEnv: {} }).ssl).toBe('prefer');
  });

  it('ssl set higher is enforced on any environment', () => {
    const { config } = setup({ staging: { url: url('?sslmode=require'), ssl: 'verify-full' } });
    expect(thrown(() => resolveEnvironment(config, 'staging', { processEnv: {} })).message).toMatchInlineSnapshot(`"environment staging requires sslmode=verify-full or stronger, but its url has sslmode=require: traffic to a guarded-level database must be encrypted"`);
  });

  it('--url is held to the same TLS rule', () => {
    const { config } = setup({ production: { url: url('?sslmode=require') } });
    expect(thrown(() => resolveEnvironment(config, 'production', { processEnv: {}, urlOverride: url() })).code).toBe('E_SSL_REQUIRED');
  });
});

describe('resolveEnvironment: passwords', () => {
  it('no error message or fix contains a password, after redaction', () => {
    const { config } = setup({ production: { url: env('DATABASE_URL') } });
    const e = thrown(() => resolveEnvironment(config, 'production', { processEnv: { DATABASE_URL: 'postgresql://app:Sup3r-Secret@db:5432/app' } }));
    expect(redact(`${e.message}\n${e.fix}`)).not.toContain('Sup3r-Secret');
  });
});

describe('resolveEnvironment: studio, replicas, pool and backup.rds', () => {
  it('studio is read-only by default on production-level environments only', () => {
    const { config } = setup({
      production: { url: `${DIRECT}?sslmode=require` },
      staging: { url: DIRECT },
      development: { url: DIRECT, studio: 'read-only', studioUrl: env('STUDIO_URL') },
    });
    const at = (name: string, processEnv: NodeJS.ProcessEnv = {}) => resolveEnvironment(config, name, { processEnv }).studio;
    expect(at('production')).toEqual({ mode: 'read-only', url: undefined, urlSource: undefined });
    expect(at('staging')).toEqual({ mode: 'read-write', url: undefined, urlSource: undefined });
    expect(at('development', { STUDIO_URL: dbUrl('reader') })).toEqual({ mode: 'read-only', url: dbUrl('reader'), urlSource: 'studioUrl (env STUDIO_URL)' });
    // A studioUrl the config names but whose variable is unset is an error, not a silent fall-back to the direct URL.
    expect(thrown(() => at('development')).code).toBe('E_ENV_VAR_MISSING');
  });

  it('replicas resolve in order; an unset variable drops the replica with a warning; passwords are redacted', () => {
    const { config } = setup({ development: { url: DIRECT, replicas: [env('REPLICA_1'), env('REPLICA_2'), dbUrl('replica3')], pool: { instances: 4 } } });
    const e = resolveEnvironment(config, 'development', { processEnv: { REPLICA_1: dbUrl('replica1') } });
    expect(e.replicas).toEqual([dbUrl('replica1'), dbUrl('replica3')]);
    expect(e.warnings).toEqual(['replicas.1: environment variable REPLICA_2 is not set; reads go to the primary']);
    expect(e.pool).toEqual({ max: undefined, instances: 4 });
    expect(redact(`x ${dbUrl('replica1')}`)).not.toContain('pw-replica1');
  });

  it('a malformed replica URL is reported with its config path', () => {
    const { config } = setup({ development: { url: DIRECT, replicas: ['not a url'] } });
    expect(thrown(() => resolveEnvironment(config, 'development', { processEnv: {} })).message).toContain('environments.development.replicas.0');
  });

  it('backup.rds takes the region from AWS_REGION when the config names none', () => {
    const { config } = setup({ production: { url: `${DIRECT}?sslmode=require`, backup: { rds: { instance: env('RDS_ID') } } } });
    const e = resolveEnvironment(config, 'production', { processEnv: { RDS_ID: 'app-prod', AWS_REGION: 'ap-northeast-2' } });
    expect(e.backup.rds).toEqual({ instance: 'app-prod', region: 'ap-northeast-2', endpoint: undefined });
    expect(resolveEnvironment(config, 'production', { processEnv: { RDS_ID: 'app-prod' } }).backup.rds?.region).toBe('us-east-1');
  });
});
