import { afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, normalize, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * Where an environment's URL comes from (issue 12 item 2, issue 13 item 7): a guarded or production
 * environment never borrows the shared .env's URL, two environments on one database are an error in
 * env, status and doctor, and an environment with no URL yet is "not configured" in status --env all.
 */
const INIT = `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;

/** What `stagedb init` writes. */
const INIT_CONFIG = {
  environments: {
    development: { url: { $env: 'DATABASE_URL' } },
    staging: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' } },
    production: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' } },
  },
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function newProject(files: Record<string, Record<string, string>>, config: unknown = INIT_CONFIG) {
  const p: TempProject = createProject({ configJson: config, migrations: { '20240101000000_init': INIT }, envFiles: files });
  cleanups.push(() => p.remove());
  return { p, cli: (...args: string[]) => runCli(args, { cwd: p.dir }) };
}

describe('a new project with only .env', () => {
  it('staging and production are "not configured", never development\'s database', async () => {
    const dev = await freshDatabase('cli_envs_dev');
    cleanups.push(() => dev.drop());
    forbidInOutput(passwordOf(dev.url));
    const { cli } = await newProject({ '.env': { DATABASE_URL: dev.url } });
    const shown = (t: string) => normalize(t, { [dev.name]: '<dev-db>' }).replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>');

    const all = await cli('status', '--env', 'all');
    // development's own state decides: 1 pending; the unconfigured ones do not fail it.
    expect(all.code, all.stderr).toBe(1);
    expect(shown(all.stdout)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE           APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED  SERVER
      development  none        pending         0        1        0       0                 (none)        PostgreSQL <version>
      staging                  not configured  -        -        -       -                 -             -
      production               not configured  -        -        -       -                 -             -

      1 migration in the folder.
      History only: drift not checked (changes made outside the migrations): stagedb status --drift

      development (127.0.0.1:<port>/<dev-db>, via url (env DATABASE_URL)):
        pending   20240101000000_init
        apply with: stagedb migrate deploy --env development

      staging (not configured):
        error: staging is not configured: environments.staging.url reads DATABASE_URL, which is set only in .env, the file every environment shares: a guarded-level environment never takes its URL from there
        fix: add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.staging, or export it

      production (not configured):
        error: production is not configured: environments.production.url reads DATABASE_URL, which is set only in .env, the file every environment shares: a production-level environment never takes its URL from there
        fix: add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.production, or export it"
    `);

    const prod = await cli('status', '--env', 'production');
    expect(prod.code).toBe(3);
    expect(prod.stdout).toContain('production is not configured');

    const deploy = await cli('deploy', '--env', 'staging', '--skip-generate');
    expect(deploy.code).toBe(3);
    expect(deploy.stderr).toMatchInlineSnapshot(`
      "error: staging is not configured: environments.staging.url reads DATABASE_URL, which is set only in .env, the file every environment shares: a guarded-level environment never takes its URL from there
        fix: add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.staging, or export it
      "
    `);
    // Nothing reached development's database: not deployed, not marked.
    expect(await query(dev.url, `SELECT to_regclass('stagedb.marker') IS NULL AND to_regclass('public."User"') IS NULL AS untouched`)).toEqual([{ untouched: true }]);

    const doctor = await cli('doctor', '--env', 'staging', '--json');
    expect(doctor.code).toBe(3);
    const checks = JSON.parse(doctor.stdout).environments[0].checks as Array<{ code: string; status: string; detail: string; fix?: string }>;
    expect(checks[0]).toMatchObject({ code: 'DOC001', status: 'fail', fix: 'add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env.staging, or export it' });

    // Its own file configures it.
    const stg = await freshDatabase('cli_envs_stg');
    cleanups.push(() => stg.drop());
    const { cli: cli2 } = await newProject({ '.env': { DATABASE_URL: dev.url }, '.env.staging': { DATABASE_URL: stg.url } });
    const ok = await cli2('deploy', '--env', 'staging', '--skip-generate');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await query(stg.url, 'SELECT environment FROM stagedb.marker')).toEqual([{ environment: 'staging' }]);
  });
});

describe('two environments on one database', () => {
  it('is an error in env, status and doctor (localhost and 127.0.0.1 are the same host)', async () => {
    const dev = await freshDatabase('cli_envs_same');
    cleanups.push(() => dev.drop());
    forbidInOutput(passwordOf(dev.url));
    const viaLocalhost = dev.url.replace('127.0.0.1', 'localhost');
    const { cli } = await newProject({ '.env': { DATABASE_URL: dev.url }, '.env.staging': { DATABASE_URL: viaLocalhost } });
    const shown = (t: string) => normalize(t, { [dev.name]: '<db>' }).replace(/(127\.0\.0\.1|localhost):\d+/g, '$1:<port>');

    const env = await cli('env', '--json');
    expect(env.code).toBe(3);
    const rows = JSON.parse(env.stdout).environments as Array<{ env: string; error?: string; fix?: string }>;
    expect(rows.map((r) => [r.env, shown(r.error ?? 'ok')])).toMatchInlineSnapshot(`
      [
        [
          "development",
          "development and staging resolve to the same database (127.0.0.1:<port>/<db>): a deploy to one is a deploy to the other, and its protection marker can only name one of them",
        ],
        [
          "staging",
          "staging and development resolve to the same database (localhost:<port>/<db>): a deploy to one is a deploy to the other, and its protection marker can only name one of them",
        ],
        [
          "production",
          "production is not configured: environments.production.url reads DATABASE_URL, which is set only in .env, the file every environment shares: a production-level environment never takes its URL from there",
        ],
      ]
    `);

    const status = await cli('status', '--env', 'staging');
    expect(status.code).toBe(3);
    expect(shown(status.stdout)).toContain('staging and development resolve to the same database (localhost:<port>/<db>)');

    const doctor = await cli('doctor', '--env', 'development', '--json');
    expect(doctor.code).toBe(3);
    const check = (JSON.parse(doctor.stdout).environments[0].checks as Array<{ code: string; status: string; detail: string; fix: string }>).find((c) => c.code === 'DOC016')!;
    expect({ ...check, detail: shown(check.detail) }).toMatchInlineSnapshot(`
      {
        "code": "DOC016",
        "detail": "development and staging resolve to the same database (127.0.0.1:<port>/<db>): a deploy to one is a deploy to the other, and its protection marker can only name one of them",
        "fix": "give each environment its own database: check the URL development takes from url (env DATABASE_URL) and staging's (stagedb env shows where each comes from)",
        "name": "distinct-database",
        "status": "fail",
      }
    `);
  });
});
