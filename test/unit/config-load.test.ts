import { mkdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { findConfigFile, loadConfig } from '../../src/config/load.js';
import { StagedbError } from '../../src/errors.js';
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

/** The error a promise rejects with, as the fields a user sees, with the temp root replaced by <root>. */
async function rejection(promise: Promise<unknown>, root: string) {
  const e = await promise.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StagedbError);
  const { kind, code, message, fix, details } = e as StagedbError;
  const clean = (s: string | undefined) => s?.split(root).join('<root>');
  return { kind, code, message: clean(message), fix: clean(fix), details };
}

const ENVS = {
  development: { url: { $env: 'DATABASE_URL' } },
  production: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' }, protection: 'production' },
};

describe('loadConfig: config files', () => {
  it('loads stagedb.config.json; relative paths resolve against the config file', async () => {
    const p = project({ 'stagedb.config.json': JSON.stringify({ schema: 'db/schema.prisma', seed: 'node db/seed.mjs', environments: ENVS }) });
    const c = await loadConfig({ cwd: p.root });
    expect(c).toEqual({
      root: p.root,
      configFile: p.path('stagedb.config.json'),
      schemaPath: p.path('db/schema.prisma'),
      migrationsDir: p.path('db/migrations'),
      seed: 'node db/seed.mjs',
      prisma: { major: 6, why: 'no prisma package found, and no prisma.config.ts', seedsAfterReset: true },
      environments: ENVS,
      datasource: undefined,
      warnings: [],
    });
  });

  it('loads stagedb.config.mjs (default export)', async () => {
    const p = project({
      'stagedb.config.mjs': `export default { migrations: 'sql/migrations', environments: { development: { url: { $env: 'DATABASE_URL' } } } };\n`,
      'prisma/schema.prisma': 'datasource db {\n  provider = "postgresql"\n}\n',
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.configFile).toBe(p.path('stagedb.config.mjs'));
    expect(c.schemaPath).toBe(p.path('prisma/schema.prisma'));
    expect(c.migrationsDir).toBe(p.path('sql/migrations'));
    expect(c.datasource?.provider).toBe('postgresql');
  });

  it("loads stagedb.config.ts that imports defineConfig and env from 'stagedb'", async () => {
    const p = project({
      'stagedb.config.ts': `import { defineConfig, env } from 'stagedb';

const shared: string = 'DATABASE_URL';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  environments: {
    development: { url: env(shared) },
    staging: { url: env(shared), directUrl: env('DIRECT_URL'), envFile: '.env.staging' },
    production: { url: env(shared), directUrl: env('DIRECT_URL', 'postgresql://localhost/prod') },
  },
});
`,
    });
    const c = await loadConfig({ cwd: p.root });
    expect(c.configFile).toBe(p.path('stagedb.config.ts'));
    expect(c.environments).toEqual({
      development: { url: { $env: 'DATABASE_URL' } },
      staging: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' }, envFile: '.env.staging' },
      production: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL', default: 'postgresql://localhost/prod' } },
    });
  });

  it('prefers stagedb.config.ts over .mjs over .json in one directory', async () => {
    const env = (n: string) => JSON.stringify({ environments: { [n]: { url: 'postgresql://localhost/x' } } });
    const p = project({ 'stagedb.config.json': env('json'), 'stagedb.config.mjs': `export default ${env('mjs')};\n` });
    expect(Object.keys((await loadConfig({ cwd: p.root })).environments)).toEqual(['mjs']);
    p.write('stagedb.config.ts', `export default ${env('ts')};\n`);
    expect(Object.keys((await loadConfig({ cwd: p.root })).environments)).toEqual(['ts']);
  });

  it('a config that fails validation lists every problem', async () => {
    const p = project({
      'stagedb.config.json': JSON.stringify({ environments: { development: { url: 'x', poolSize: 1 }, qa: {} }, typo: true }),
    });
    expect(await rejection(loadConfig({ cwd: p.root }), p.root)).toMatchInlineSnapshot(`
      {
        "code": "E_CONFIG_INVALID",
        "details": [
          "environments.development.poolSize: unknown key",
          "typo: unknown key",
          "environments.qa: needs url or directUrl (e.g. url: env('DATABASE_URL'))",
        ],
        "fix": "edit <root>/stagedb.config.json",
        "kind": "config",
        "message": "stagedb.config.json has 3 problems",
      }
    `);
  });
});

describe('loadConfig: broken config files', () => {
  it('invalid JSON → E_CONFIG_SYNTAX', async () => {
    const p = project({ 'stagedb.config.json': '{ environments: {} }' });
    const e = await rejection(loadConfig({ cwd: p.root }), p.root);
    expect(e.code).toBe('E_CONFIG_SYNTAX');
    expect(e.message).toMatch(/^stagedb\.config\.json is not valid JSON: /);
    expect(e.fix).toBe('fix the JSON syntax in <root>/stagedb.config.json');
  });

  it('a syntax error in .mjs → E_CONFIG_LOAD, first line of the error only', async () => {
    // The parser's own words differ between Node and the test runner's module loader: pin the shape only.
    const p = project({ 'stagedb.config.mjs': 'export default { environments: { ;\n' });
    const e = await rejection(loadConfig({ cwd: p.root }), p.root);
    expect(e).toMatchObject({ kind: 'config', code: 'E_CONFIG_LOAD', fix: 'fix the error in <root>/stagedb.config.mjs', details: [] });
    expect(e.message).toMatch(/^could not load stagedb\.config\.mjs: \S/);
    expect(e.message).not.toContain('\n');
  });

  it('a syntax error in .ts → E_CONFIG_LOAD', async () => {
    const p = project({ 'stagedb.config.ts': 'export default { environments: { development: { url: } } };\n' });
    const e = await rejection(loadConfig({ cwd: p.root }), p.root);
    expect(e.code).toBe('E_CONFIG_LOAD');
    expect(e.message).toMatch(/^could not load stagedb\.config\.ts: /);
    expect(e.message).not.toContain('\n');
  });

  it('a config that throws while loading → E_CONFIG_LOAD with its message', async () => {
    const p = project({ 'stagedb.config.mjs': "throw new Error('DATABASE_URL missing at config time');\n" });
    expect((await rejection(loadConfig({ cwd: p.root }), p.root)).message).toMatchInlineSnapshot(`"could not load stagedb.config.mjs: DATABASE_URL missing at config time"`);
  });
});

describe('findConfigFile', () => {
  it('--config names a file that does not exist → E_CONFIG_MISSING', async () => {
    const p = project({ 'stagedb.config.json': JSON.stringify({ environments: ENVS }) });
    expect(await rejection(loadConfig({ cwd: p.root, configFile: 'config/stagedb.prod.ts' }), p.root)).toMatchInlineSnapshot(`
      {
        "code": "E_CONFIG_MISSING",
        "details": [],
        "fix": "stagedb init   (writes stagedb.config.ts), or pass --config <path> to an existing file",
        "kind": "config",
        "message": "config file config/stagedb.prod.ts does not exist",
      }
    `);
  });

  it('--config is resolved against cwd and used even outside the search path', async () => {
    const p = project({ 'deploy/prod.json': JSON.stringify({ environments: { production: ENVS.production } }) });
    const c = await loadConfig({ cwd: p.root, configFile: 'deploy/prod.json' });
    expect(c.configFile).toBe(p.path('deploy/prod.json'));
    expect(c.root).toBe(p.path('deploy'));
  });

  it('searches up from a subdirectory to the package root', () => {
    const p = project({ 'stagedb.config.json': '{}' });
    mkdirSync(p.path('src/deep/er'), { recursive: true });
    expect(findConfigFile(p.path('src/deep/er'))).toBe(p.path('stagedb.config.json'));
  });

  it('stops at the first package.json: a config above it belongs to another project', async () => {
    const p = project({ 'stagedb.config.json': JSON.stringify({ environments: ENVS }), 'apps/web/package.json': '{"name":"web"}' });
    mkdirSync(p.path('apps/web/src'), { recursive: true });
    expect(findConfigFile(p.path('apps/web/src'))).toBeUndefined();
    const c = await loadConfig({ cwd: p.path('apps/web') });
    expect(c.configFile).toBeUndefined();
    expect(Object.keys(c.environments)).toEqual(['development']);
  });

  it('stops at a .git directory too', () => {
    const p = project({ 'stagedb.config.json': '{}' });
    mkdirSync(p.path('repo/.git'), { recursive: true });
    mkdirSync(p.path('repo/sub'), { recursive: true });
    expect(findConfigFile(p.path('repo/sub'))).toBeUndefined();
  });

  it('a config in the package root itself is found', () => {
    const p = project({ 'apps/web/package.json': '{}', 'apps/web/stagedb.config.mjs': 'export default {};\n' });
    expect(findConfigFile(p.path('apps/web'))).toBe(p.path('apps/web/stagedb.config.mjs'));
  });
});
