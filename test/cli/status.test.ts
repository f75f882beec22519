import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { closedPort, forbidInOutput, normalize, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, type TempProject } from '../helpers/project.js';

/**
 * `stagedb status` against the built binary: one project, one database per environment, each in a
 * different state, so every documented exit code comes from a real history.
 */
const INIT = `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;
const POSTS = `CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL REFERENCES "User"("id"));\n`;
const MIGRATIONS = { '20240101000000_init': INIT, '20240102000000_posts': POSTS };

async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

let project: TempProject;
let dbs: Record<'current' | 'behind' | 'failed' | 'modified', FreshDatabase>;
let deadPort: number;
let vars: Record<string, string>;
let replacements: Record<string, string>;

beforeAll(async () => {
  const [current, behind, failed, modified] = await Promise.all([freshDatabase('st'), freshDatabase('st'), freshDatabase('st'), freshDatabase('st')]);
  dbs = { current, behind, failed, modified };
  forbidInOutput(passwordOf(current.url));
  deadPort = await closedPort();
  project = createProject({
    migrations: MIGRATIONS,
    configJson: {
      environments: {
        development: { url: { $env: 'DEV_URL' } },
        staging: { url: { $env: 'STAGING_URL' } },
        qa: { url: { $env: 'QA_URL' } },
        review: { url: { $env: 'REVIEW_URL' } },
        production: { url: { $env: 'PROD_URL' }, ssl: 'prefer' },
      },
    },
  });
  vars = { DEV_URL: current.url, STAGING_URL: behind.url, QA_URL: failed.url, REVIEW_URL: modified.url, PROD_URL: `postgresql://app:Unreachable-Pw-7731@127.0.0.1:${deadPort}/prod` };
  forbidInOutput('Unreachable-Pw-7731');
  replacements = {
    [project.dir]: '<project>',
    [`:${deadPort}/`]: ':<dead-port>/',
    [`127.0.0.1:${deadPort}`]: '127.0.0.1:<dead-port>',
    [`:${new URL(current.url).port}/`]: ':<port>/',
    [current.name]: '<db-current>',
    [behind.name]: '<db-behind>',
    [failed.name]: '<db-failed>',
    [modified.name]: '<db-modified>',
  };

  // current: everything applied. behind: only the first migration. modified: applied, then the
  // recorded checksum no longer matches the file (as after an edit).
  await deploy({ env: environmentFor(current.url), migrationsDir: project.migrationsDir });
  const first = createProject({ migrations: { '20240101000000_init': INIT } });
  await deploy({ env: environmentFor(behind.url), migrationsDir: first.migrationsDir });
  first.remove();
  await deploy({ env: environmentFor(modified.url), migrationsDir: project.migrationsDir });
  await sql(modified.url, `UPDATE _prisma_migrations SET checksum = '${'0'.repeat(64)}' WHERE migration_name = '20240101000000_init'`);
  // failed: the second migration failed after some of its statements committed (it runs statement by
  // statement), so it blocks; its file has been fixed since, as it would be in a real repo.
  const broken = createProject({
    migrations: { ...MIGRATIONS, '20240102000000_posts': `CREATE TABLE "Post" ("id" INT);\nCREATE INDEX CONCURRENTLY "Post_id_idx" ON "Post" ("id");\nALTER TABLE "Post" ADD COLUMN "authorId" INT REFERENCES "Users"("id");\n` },
  });
  await deploy({ env: environmentFor(failed.url), migrationsDir: broken.migrationsDir }).catch(() => undefined);
  broken.remove();
});

afterAll(async () => {
  project?.remove();
  await Promise.all(Object.values(dbs ?? {}).map((d) => d.drop()));
});

const status = (...args: string[]) => runCli(['status', ...args], { cwd: project.dir, env: vars });

describe('status exit codes (README: 0 up to date, 1 pending, 2 failed or modified, 3 config or connection, 4 usage)', () => {
  it('0 when up to date', async () => {
    const r = await status('--env', 'development');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(normalize(r.stdout, replacements)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE       APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED                   SERVER
      development  none        up to date  2        0        0       0                 20240102000000_posts (<ago>)  PostgreSQL <version>

      2 migrations in the folder.
      History only: drift not checked (changes made outside the migrations): stagedb status --drift"
    `);
  });

  it('1 when migrations are pending, naming them and the command that applies them', async () => {
    const r = await status('--env', 'staging');
    expect(r.code).toBe(1);
    expect(normalize(r.stdout, replacements)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE    APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED                  SERVER
      staging      guarded     pending  1        1        0       0                 20240101000000_init (<ago>)  PostgreSQL <version>

      2 migrations in the folder.
      History only: drift not checked (changes made outside the migrations): stagedb status --drift

      staging (127.0.0.1:<port>/<db-behind>, via url (env STAGING_URL)):
        pending   20240102000000_posts
        apply with: stagedb deploy --env staging"
    `);
  });

  it('2 when a migration failed, with the recovery commands', async () => {
    const r = await status('--env', 'qa');
    expect(r.code).toBe(2);
    expect(normalize(r.stdout, replacements)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE    APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED                  SERVER
      qa           guarded     BLOCKED  1        0        1       0                 20240101000000_init (<ago>)  PostgreSQL <version>

      2 migrations in the folder.
      History only: drift not checked (changes made outside the migrations): stagedb status --drift

      qa (127.0.0.1:<port>/<db-failed>, via url (env QA_URL)):
        FAILED    20240102000000_posts (started <time>)
                  ERROR: relation "Users" does not exist
                  committed: statements 1–2 of 3 were committed; statement 3 was not
                  fix: either undo what statements 1–2 did, then: stagedb migrate resolve --rolled-back 20240102000000_posts --env qa && stagedb deploy --env qa   (the whole file runs again); or finish it by hand — run statement 3 — then: stagedb migrate resolve --applied 20240102000000_posts --env qa"
    `);
  });

  it('2 when an applied migration was modified', async () => {
    const r = await status('--env', 'review');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('MODIFIED  20240101000000_init');
  });

  it('3 when the database cannot be reached, with a hint', async () => {
    const r = await status('--env', 'production');
    expect(r.code).toBe(3);
    expect(normalize(r.stdout, replacements)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE  APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED  SERVER
      production   production  ERROR  -        -        -       -                 -             -

      2 migrations in the folder.

      production (127.0.0.1:<dead-port>/prod, via url (env PROD_URL)):
        error: production (url (env PROD_URL)): nothing accepts connections at 127.0.0.1:<dead-port>
        fix: start the local server: stagedb dev up"
    `);
  });

  it('3 for a config error (the environment variable is not set)', async () => {
    const r = await runCli(['status', '--env', 'staging'], { cwd: project.dir, env: { ...vars, STAGING_URL: undefined } });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('environments.staging.url: environment variable STAGING_URL is not set');
  });

  it('4 for a usage error', async () => {
    const r = await status('--frobnicate');
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: stagedb status: Unknown option '--frobnicate'
        fix: stagedb status --help
      "
    `);
  });

  it('`migrate status` is the same command', async () => {
    const [a, b] = await Promise.all([status('--env', 'staging', '--json'), runCli(['migrate', 'status', '--env', 'staging', '--json'], { cwd: project.dir, env: vars })]);
    expect(b.code).toBe(a.code);
    expect(JSON.parse(b.stdout).environments[0].state).toBe('pending');
  });

  it('STAGEDB_ENV picks the environment when --env is absent; --env wins over it', async () => {
    const [fromVar, fromFlag] = await Promise.all([
      runCli(['status'], { cwd: project.dir, env: { ...vars, STAGEDB_ENV: 'staging' } }),
      runCli(['status', '--env', 'dev'], { cwd: project.dir, env: { ...vars, STAGEDB_ENV: 'staging' } }),
    ]);
    expect([fromVar.code, fromFlag.code]).toEqual([1, 0]);
    expect(fromVar.stdout).toMatch(/^staging\s/m);
    expect(fromFlag.stdout).toMatch(/^development\s/m);
  });
});

describe('status --env all', () => {
  it('reports every environment, the unreachable one included, and exits with the worst code (3)', async () => {
    const r = await status('--env', 'all');
    expect(r.code).toBe(3);
    // The table's columns closed up: their widths follow "<n>s ago", which reaches 10 s on a loaded machine.
    const [table, ...rest] = normalize(r.stdout, replacements).split('\n\n');
    expect([table!.replace(/ {2,}/g, '  '), ...rest].join('\n\n')).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE  APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED  SERVER
      development  none  up to date  2  0  0  0  20240102000000_posts (<ago>)  PostgreSQL <version>
      staging  guarded  pending  1  1  0  0  20240101000000_init (<ago>)  PostgreSQL <version>
      qa  guarded  BLOCKED  1  0  1  0  20240101000000_init (<ago>)  PostgreSQL <version>
      review  guarded  BLOCKED  2  0  0  1  20240102000000_posts (<ago>)  PostgreSQL <version>
      production  production  ERROR  -  -  -  -  -  -

      2 migrations in the folder.
      History only: drift not checked (changes made outside the migrations): stagedb status --drift

      staging (127.0.0.1:<port>/<db-behind>, via url (env STAGING_URL)):
        pending   20240102000000_posts
        apply with: stagedb deploy --env staging

      qa (127.0.0.1:<port>/<db-failed>, via url (env QA_URL)):
        FAILED    20240102000000_posts (started <time>)
                  ERROR: relation "Users" does not exist
                  committed: statements 1–2 of 3 were committed; statement 3 was not
                  fix: either undo what statements 1–2 did, then: stagedb migrate resolve --rolled-back 20240102000000_posts --env qa && stagedb deploy --env qa   (the whole file runs again); or finish it by hand — run statement 3 — then: stagedb migrate resolve --applied 20240102000000_posts --env qa

      review (127.0.0.1:<port>/<db-modified>, via url (env REVIEW_URL)):
        MODIFIED  20240101000000_init  (migration.sql changed after it was applied: restore it from git)

      production (127.0.0.1:<dead-port>/prod, via url (env PROD_URL)):
        error: production (url (env PROD_URL)): nothing accepts connections at 127.0.0.1:<dead-port>
        fix: start the local server: stagedb dev up"
    `);
  });

  it('three environments, one of them unreachable: each reported, exit 3', async () => {
    const three = createProject({
      migrations: MIGRATIONS,
      configJson: {
        environments: {
          development: { url: { $env: 'DEV_URL' } },
          staging: { url: { $env: 'STAGING_URL' } },
          production: { url: { $env: 'PROD_URL' }, ssl: 'prefer' },
        },
      },
    });
    try {
      const r = await runCli(['status', '--env', 'all', '--json'], { cwd: three.dir, env: vars });
      expect(r.code).toBe(3);
      const out = JSON.parse(r.stdout) as { environments: Array<{ env: string; state: string; error?: { code: string } }>; exitCode: number };
      expect(out.exitCode).toBe(3);
      expect(out.environments.map((e) => [e.env, e.state, e.error?.code])).toEqual([
        ['development', 'up-to-date', undefined],
        ['staging', 'pending', undefined],
        ['production', 'error', 'E_CONN_REFUSED'],
      ]);
    } finally {
      three.remove();
    }
  });

  it('--json: one JSON document on stdout, with a stable shape', async () => {
    const r = await status('--env', 'all', '--json');
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as {
      migrationsDir: string;
      localMigrations: number;
      exitCode: number;
      environments: Array<Record<string, unknown>>;
    };
    expect(out.migrationsDir).toBe(project.migrationsDir);
    expect(out.localMigrations).toBe(2);
    expect(out.exitCode).toBe(r.code);
    const byEnv = Object.fromEntries(out.environments.map((e) => [e.env, e]));
    expect(Object.keys(byEnv)).toEqual(['development', 'staging', 'qa', 'review', 'production']);
    expect(byEnv.development).toEqual({
      env: 'development',
      protection: 'none',
      target: expect.stringMatching(/^127\.0\.0\.1:\d+\/st_/),
      connection: 'url (env DEV_URL)',
      serverVersion: expect.stringMatching(/^\d+\.\d+/),
      state: 'up-to-date',
      applied: 2,
      pending: [],
      failed: [],
      modified: [],
      missingLocally: [],
      lastApplied: { name: '20240102000000_posts', finishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    expect(byEnv.staging).toMatchObject({ state: 'pending', applied: 1, pending: [{ name: '20240102000000_posts', outOfOrder: false }] });
    expect(byEnv.qa).toMatchObject({ state: 'blocked', failed: [{ name: '20240102000000_posts', startedAt: expect.any(String), logs: expect.stringContaining('42P01') }] });
    expect(byEnv.review).toMatchObject({ state: 'blocked', modified: ['20240101000000_init'] });
    expect(byEnv.production).toEqual({
      env: 'production',
      protection: 'production',
      target: `127.0.0.1:${deadPort}/prod`,
      connection: 'url (env PROD_URL)',
      state: 'error',
      error: { code: 'E_CONN_REFUSED', message: expect.stringContaining('nothing accepts connections'), fix: 'start the local server: stagedb dev up' },
    });
  });
});
