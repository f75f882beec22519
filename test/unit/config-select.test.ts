import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectEnvironments } from '../../src/config/environments.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { StagedbError } from '../../src/errors.js';

function config(names: string[], configFile?: string): ResolvedConfig {
  return {
    root: '/project',
    configFile,
    schemaPath: '/project/prisma/schema.prisma',
    migrationsDir: '/project/prisma/migrations',
    environments: Object.fromEntries(names.map((n) => [n, { url: { $env: 'DATABASE_URL' } }])),
    warnings: [],
  };
}

const three = config(['development', 'staging', 'production']);

/** The error a call throws, as the fields a user sees. */
function thrown(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StagedbError);
    const { kind, code, message, fix } = e as StagedbError;
    return { kind, code, message, fix };
  }
  return expect.unreachable('expected an error');
}

describe('selectEnvironments: --env > STAGEDB_ENV > development', () => {
  it('defaults to development', () => {
    expect(selectEnvironments(three, undefined, {})).toEqual(['development']);
  });

  it('STAGEDB_ENV beats the default', () => {
    expect(selectEnvironments(three, undefined, { STAGEDB_ENV: 'staging' })).toEqual(['staging']);
  });

  it('--env beats STAGEDB_ENV', () => {
    expect(selectEnvironments(three, 'production', { STAGEDB_ENV: 'staging' })).toEqual(['production']);
  });

  it('an empty STAGEDB_ENV counts as unset', () => {
    expect(selectEnvironments(three, undefined, { STAGEDB_ENV: '' })).toEqual(['development']);
  });

  it('accepts the aliases dev, prod and stage, from the flag and from STAGEDB_ENV', () => {
    expect(selectEnvironments(three, 'dev', {})).toEqual(['development']);
    expect(selectEnvironments(three, 'prod', {})).toEqual(['production']);
    expect(selectEnvironments(three, 'stage', {})).toEqual(['staging']);
    expect(selectEnvironments(three, undefined, { STAGEDB_ENV: 'prod' })).toEqual(['production']);
  });

  it('`all` is every defined environment, in config order', () => {
    const cfg = config(['production', 'development', 'qa', 'staging']);
    expect(selectEnvironments(cfg, 'all', {})).toEqual(['production', 'development', 'qa', 'staging']);
    expect(selectEnvironments(cfg, undefined, { STAGEDB_ENV: 'all' })).toEqual(['production', 'development', 'qa', 'staging']);
  });

  it('takes a comma list, in the order given, with aliases and spaces', () => {
    expect(selectEnvironments(three, 'prod, dev', {})).toEqual(['production', 'development']);
    expect(selectEnvironments(three, 'staging,,production,', {})).toEqual(['staging', 'production']);
  });

  it('names each environment once even when a list repeats it through an alias', () => {
    expect(selectEnvironments(three, 'dev,development,staging,stage', {})).toEqual(['development', 'staging']);
  });

  it('an unknown --env lists the defined environments', () => {
    expect(thrown(() => selectEnvironments(three, 'qa', {}))).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_UNKNOWN",
        "fix": "use --env development, or run \`stagedb init\` to define environments",
        "kind": "config",
        "message": "unknown environment "qa" (from --env qa); defined: development, staging, production",
      }
    `);
  });

  it('an unknown STAGEDB_ENV says it came from STAGEDB_ENV', () => {
    expect(thrown(() => selectEnvironments(three, undefined, { STAGEDB_ENV: 'preview' })).message).toMatchInlineSnapshot(`"unknown environment "preview" (from STAGEDB_ENV=preview); defined: development, staging, production"`);
  });

  it('a project without development says the default was used, and how to add one', () => {
    const cfg = config(['staging', 'production']);
    expect(thrown(() => selectEnvironments(cfg, undefined, {}))).toMatchInlineSnapshot(`
      {
        "code": "E_ENV_UNKNOWN",
        "fix": "use --env staging, or run \`stagedb init\` to define environments",
        "kind": "config",
        "message": "unknown environment "development" (from the default environment); defined: staging, production",
      }
    `);
  });

  it('with a config file, the fix names the file', () => {
    const file = join(process.cwd(), 'stagedb.config.ts');
    const e = thrown(() => selectEnvironments(config(['development'], file), 'staging', {}));
    expect(e.fix).toBe(`use --env development (or add "staging" under environments in ${relative(process.cwd(), file)})`);
  });

  it('an unknown name inside a list is reported by name', () => {
    expect(thrown(() => selectEnvironments(three, 'staging,qa', {})).message).toMatchInlineSnapshot(`"unknown environment "qa" (from --env qa); defined: development, staging, production"`);
  });

  it('Object.prototype keys are not environments', () => {
    expect(thrown(() => selectEnvironments(three, 'toString', {})).code).toBe('E_ENV_UNKNOWN');
    expect(thrown(() => selectEnvironments(three, 'constructor', {})).code).toBe('E_ENV_UNKNOWN');
    expect(selectEnvironments(config(['constructor']), 'constructor', {})).toEqual(['constructor']);
  });
});
