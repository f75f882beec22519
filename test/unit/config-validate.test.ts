import { describe, expect, it } from 'vitest';
import { defineConfig, env, secret } from '../../src/config/define.js';
import { validateConfig } from '../../src/config/validate.js';

describe('validateConfig', () => {
  it('accepts a complete config and returns it unchanged', () => {
    const input = defineConfig({
      schema: 'prisma/schema.prisma',
      migrations: 'prisma/migrations',
      seed: 'node prisma/seed.mjs',
      environments: {
        development: { url: env('DATABASE_URL') },
        staging: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL'), envFile: ['.env.staging', '.env.staging.local'] },
        production: { directUrl: 'postgresql://u:p@db:5432/app', protection: 'production', ssl: 'verify-full' },
        'eu-west_2': { url: env('EU_URL', 'postgresql://localhost/eu'), protection: 'guarded', shadowDatabaseUrl: env('SHADOW') },
      },
    });
    expect(validateConfig(input)).toEqual({ config: input, errors: [] });
  });

  it('iamAuth: true, or its region, role and CA bundle; nothing else', () => {
    const ok = defineConfig({
      environments: {
        staging: { url: env('DATABASE_URL'), iamAuth: true },
        production: { url: env('DATABASE_URL'), iamAuth: { region: env('AWS_REGION'), role: 'app_iam', caBundle: 'certs/global-bundle.pem' } },
      },
    });
    expect(validateConfig(ok).errors).toEqual([]);
    const { errors } = validateConfig({ environments: { production: { url: 'postgresql://h/db', iamAuth: { regoin: 'eu-west-1', caBundle: '' } } } });
    expect(errors.join('\n')).toMatch(/environments\.production\.iamAuth/);
    expect(errors.join('\n')).toMatch(/regoin/);
  });

  it('secret() in URL settings only, with a key or a URL to complete', () => {
    const ok = defineConfig({
      environments: {
        production: { url: secret('prod/app/db', 'DATABASE_URL'), directUrl: secret('arn:aws:secretsmanager:eu-west-1:1:secret:x'), replicas: [secret('rds!db-1', { url: 'postgresql://r1:5432/app' })] },
      },
    });
    expect(validateConfig(ok).errors).toEqual([]);
    expect(secret('a', 'K')).toEqual({ $secret: 'a', key: 'K' });
    const { errors } = validateConfig({ environments: { production: { url: secret(''), backup: { rds: { instance: secret('x') } } } } });
    expect(errors.join('\n')).toMatch(/environments\.production\.url/);
    expect(errors.join('\n')).toMatch(/environments\.production\.backup\.rds\.instance/);
  });

  it('env() builds the reference the validator accepts, with and without a default', () => {
    expect(env('DATABASE_URL')).toEqual({ $env: 'DATABASE_URL' });
    expect(env('DATABASE_URL', 'postgresql://localhost/dev')).toEqual({ $env: 'DATABASE_URL', default: 'postgresql://localhost/dev' });
  });

  it('reports every problem at once, each as `path: message`', () => {
    const { config, errors } = validateConfig({
      schemaPath: 'prisma/schema.prisma',
      environments: {
        development: { url: env('DATABASE_URL'), poolSize: 5 },
        staging: { url: env('DATABASE_URL'), protection: 'strict' },
        qa: { envFile: '.env.qa' },
        Preview: { url: 'postgresql://localhost/preview' },
        all: { url: 'postgresql://localhost/all' },
        dev: { url: 'postgresql://localhost/dev' },
        prod: { url: 'postgresql://localhost/prod' },
      },
    });
    expect(config).toBeUndefined();
    expect(errors).toMatchInlineSnapshot(`
      [
        "environments.development.poolSize: unknown key",
        "environments.staging.protection: must be one of "none", "guarded", "production"",
        "schemaPath: unknown key",
        "environments.qa: needs url or directUrl (e.g. url: env('DATABASE_URL'))",
        "environments.Preview: environment names are lower-case letters, digits, - and _",
        "environments.all: "all" is reserved for --env all",
        "environments.dev: "dev" is an alias; name it development",
        "environments.prod: "prod" is an alias; name it production",
      ]
    `);
  });

  it('reports a missing environments key', () => {
    expect(validateConfig({ schema: 'prisma/schema.prisma' }).errors).toMatchInlineSnapshot(`
      [
        "environments: is required",
      ]
    `);
  });

  it('reports an empty environments object', () => {
    expect(validateConfig({ environments: {} }).errors).toMatchInlineSnapshot(`
      [
        "environments: define at least one environment",
      ]
    `);
  });

  it('says what a wrongly typed value should be instead of calling it missing', () => {
    expect(validateConfig({ schema: 5, environments: { development: 'postgresql://localhost/dev' } }).errors).toMatchInlineSnapshot(`
      [
        "schema: expected string, got number",
        "environments.development: expected object, got string",
      ]
    `);
  });

  it('rejects values that are neither a string nor env()', () => {
    expect(
      validateConfig({
        environments: {
          development: { url: 5, directUrl: '', shadowDatabaseUrl: { $env: '' } },
          staging: { url: { env: 'DATABASE_URL' } },
        },
      }).errors,
    ).toMatchInlineSnapshot(`
      [
        "environments.development.url: must be a string or env('NAME')",
        "environments.development.directUrl: must not be empty",
        "environments.development.shadowDatabaseUrl.$env: must name an environment variable",
        "environments.staging.url: must be a string or env('NAME')",
      ]
    `);
  });

  it('rejects an unknown ssl mode and an empty envFile', () => {
    expect(validateConfig({ environments: { production: { url: 'postgresql://h/db', ssl: 'on', envFile: [''] } } }).errors).toMatchInlineSnapshot(`
      [
        "environments.production.envFile.0: must not be empty",
        "environments.production.ssl: must be one of "disable", "prefer", "require", "verify-ca", "verify-full"",
      ]
    `);
  });

  it('rejects a config that is not an object', () => {
    expect(validateConfig(undefined).errors).toMatchInlineSnapshot(`
      [
        "(config): is required",
      ]
    `);
    expect(validateConfig([]).errors).toMatchInlineSnapshot(`
      [
        "(config): must be an object (export default defineConfig({ environments: { … } }))",
      ]
    `);
  });

  it('reports environments of the wrong type once, not once per character', () => {
    expect(validateConfig({ environments: 'development' }).errors).toMatchInlineSnapshot(`
      [
        "environments: expected object, got string",
      ]
    `);
  });

  it('a name that only looks like an Object.prototype key is an ordinary name', () => {
    expect(validateConfig({ environments: { constructor: { url: 'postgresql://localhost/c' } } }).errors).toEqual([]);
  });

  it('rejects "stage" as a name, like the other aliases: --env stage would never reach it', () => {
    expect(validateConfig({ environments: { stage: { url: 'postgresql://localhost/stage' } } }).errors).toMatchInlineSnapshot(`
      [
        "environments.stage: "stage" is an alias; name it staging",
      ]
    `);
  });
});
