import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, normalize, passwordOf, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * `status --drift` as a CI gate: drift found exits 2, drift that could not be checked is never read as
 * clean (exit 3), plain `status` says it did not look, and a drift report names the next step.
 */
const INIT = `-- CreateTable\nCREATE TABLE "User" (\n    "id" SERIAL NOT NULL,\n    "email" TEXT NOT NULL,\n\n    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n);\n`;
const SCHEMA = `datasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String\n}\n`;

const role = `nocreatedb_st_${process.pid}`;
let project: TempProject;
let clean: FreshDatabase;
let drifted: FreshDatabase;
let restricted: FreshDatabase;
let vars: Record<string, string>;
let replacements: Record<string, string>;

beforeAll(async () => {
  [clean, drifted, restricted] = await Promise.all([freshDatabase('sd'), freshDatabase('sd'), freshDatabase('sd')]);
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
  await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'dev-only-pw' NOCREATEDB`);
  await query(adminUrl(), `ALTER DATABASE ${restricted.name} OWNER TO ${role}`);
  const as = new URL(restricted.url);
  as.username = role;
  as.password = 'dev-only-pw';
  forbidInOutput(passwordOf(clean.url));
  forbidInOutput('dev-only-pw');
  project = createProject({
    schema: SCHEMA,
    migrations: { '20240101000000_init': INIT },
    configJson: {
      environments: {
        development: { url: { $env: 'DEV_URL' } },
        staging: { url: { $env: 'STAGING_URL' } },
        qa: { url: { $env: 'QA_URL' } },
      },
    },
  });
  vars = { DEV_URL: clean.url, STAGING_URL: drifted.url, QA_URL: as.toString() };
  replacements = { [project.dir]: '<project>', [`:${new URL(clean.url).port}/`]: ':<port>/', [clean.name]: '<db-clean>', [drifted.name]: '<db-drifted>', [restricted.name]: '<db-restricted>', [role]: '<role>' };
  for (const env of ['development', 'staging', 'qa']) {
    const r = await runCli(['deploy', '--env', env, '--skip-generate', '--confirm', env], { cwd: project.dir, env: vars });
    expect(r.code, r.stderr).toBe(0);
  }
  await query(drifted.url, `ALTER TABLE "User" ADD COLUMN "sneaky" TEXT`);
});

afterAll(async () => {
  project?.remove();
  for (const d of [clean, drifted, restricted]) await d?.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
});

const status = (...args: string[]) => runCli(['status', ...args], { cwd: project.dir, env: vars });

/** The output, normalised, with the table's columns closed up: their widths follow "<n>s ago", which varies with the run's speed. */
const shown = (stdout: string) => {
  const [table, ...rest] = normalize(stdout, replacements).split('\n\n');
  return [table!.replace(/ {2,}/g, '  '), ...rest].join('\n\n');
};

describe('status --drift', () => {
  it('exits 3 when drift could not be checked (no CREATEDB, no shadowDatabaseUrl): not checked is not clean', async () => {
    const r = await status('--env', 'qa', '--drift');
    expect(r.code).toBe(3);
    expect(shown(r.stdout)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE  APPLIED  PENDING  FAILED  MODIFIED/MISSING  DRIFT  LAST APPLIED  SERVER
      qa  guarded  up to date  1  0  0  0  NOT CHECKED  20240101000000_init (<ago>)  PostgreSQL <version>

      1 migration in the folder.

      qa (127.0.0.1:<port>/<db-restricted>, via url (env QA_URL)):
        DRIFT NOT CHECKED: qa: cannot create the temporary shadow database this needs: user "<role>" may not create databases (no CREATEDB)
        fix: either grant it (as a superuser: ALTER ROLE "<role>" CREATEDB), or create an empty database for it and set environments.qa.shadowDatabaseUrl: env('SHADOW_DATABASE_URL') in stagedb.config.ts (SHADOW_DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DB_shadow")"
    `);
    expect(JSON.parse((await status('--env', 'qa', '--drift', '--json')).stdout).environments[0].drift).toMatchObject({ checked: false, error: { code: 'E_SHADOW_DB' } });
  });

  it('a drifted database: 2, a DRIFT column that says so, the SQL, and the next step', async () => {
    const r = await status('--env', 'staging', '--drift');
    expect(r.code).toBe(2);
    const out = shown(r.stdout);
    expect(out).not.toContain('DRIFTED');
    expect(out).toMatch(/^staging\s.*\byes\b/m);
    expect(out).toContain('"sneaky"');
    expect(out).toContain('stagedb migrate diff --from migrations --to env:staging');
    expect(out).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE  APPLIED  PENDING  FAILED  MODIFIED/MISSING  DRIFT  LAST APPLIED  SERVER
      staging  guarded  BLOCKED  1  0  0  0  yes  20240101000000_init (<ago>)  PostgreSQL <version>

      1 migration in the folder.

      staging (127.0.0.1:<port>/<db-drifted>, via url (env STAGING_URL)):
        DRIFT     the database differs from what its applied migrations produce (changes made outside them):
            ALTER TABLE "public"."User" ADD COLUMN     "sneaky" TEXT;
        next:     see it as SQL: stagedb migrate diff --from migrations --to env:staging
                  keep it: save that SQL as prisma/migrations/<timestamp>_<name>/migration.sql (mkdir the folder first), add the change to schema.prisma,
                           then record it as applied here: stagedb migrate resolve --applied <timestamp>_<name> --env staging
                  undo it: revert the change by hand
        schema.prisma differs from this database: 1 SQL line(s) (stagedb migrate diff --from env:staging --to schema)"
    `);
  });

  it('a clean database: 0, "no drift"', async () => {
    const r = await status('--env', 'development', '--drift');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^development\s.*\bno\b/m);
  });
});

describe('plain status', () => {
  it('does not check drift, and says so', async () => {
    const r = await status('--env', 'staging');
    expect(r.code).toBe(0);
    expect(shown(r.stdout)).toMatchInlineSnapshot(`
      "ENVIRONMENT  PROTECTION  STATE  APPLIED  PENDING  FAILED  MODIFIED/MISSING  LAST APPLIED  SERVER
      staging  guarded  up to date  1  0  0  0  20240101000000_init (<ago>)  PostgreSQL <version>

      1 migration in the folder.
      History only: drift not checked (changes made outside the migrations): stagedb status --drift"
    `);
  });
});

describe('the drift report\'s "keep it" step', () => {
  it('works as written: the SQL saved as a migration and resolved as applied leaves no drift', async () => {
    const diff = await runCli(['migrate', 'diff', '--from', 'migrations', '--to', 'env:staging'], { cwd: project.dir, env: vars });
    expect(diff.code, diff.stderr).toBe(0);
    project.addMigration('20240102000000_sneaky', `${diff.stdout}\n`);
    project.write('prisma/schema.prisma', SCHEMA.replace('email String', 'email  String\n  sneaky String?'));
    const resolve = await runCli(['migrate', 'resolve', '--applied', '20240102000000_sneaky', '--env', 'staging', '--confirm', 'staging'], { cwd: project.dir, env: vars });
    expect(resolve.code, resolve.stderr).toBe(0);
    const r = await status('--env', 'staging', '--drift');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('no drift');
    expect(r.stdout).not.toContain('schema.prisma differs');
  });
});

describe('status --drift with an empty drift cache (a fresh checkout)', () => {
  // A role users have: CREATEDB, owner of its database, not a superuser; the temporary databases made
  // ahead (while the histories are read) are its own, so the count below sees only this test's.
  const maker = `ahead_st_${process.pid}`;
  let own: FreshDatabase;
  let fresh: TempProject;
  let broken: TempProject;
  let env: Record<string, string>;
  const leftovers = async () =>
    (await query<{ n: number }>(adminUrl(), `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%' AND datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [maker]))[0]!.n;

  beforeAll(async () => {
    own = await freshDatabase('sda');
    await query(adminUrl(), `DROP ROLE IF EXISTS ${maker}`);
    await query(adminUrl(), `CREATE ROLE ${maker} LOGIN PASSWORD 'dev-only-pw' CREATEDB NOSUPERUSER`);
    await query(adminUrl(), `ALTER DATABASE ${own.name} OWNER TO ${maker}`);
    await query(own.url, `ALTER SCHEMA public OWNER TO ${maker}`);
    const u = new URL(own.url);
    u.username = maker;
    u.password = 'dev-only-pw';
    env = { UAT_URL: u.toString() };
    const config = { environments: { uat: { url: { $env: 'UAT_URL' } } } };
    fresh = createProject({ schema: SCHEMA, migrations: { '20240101000000_init': INIT }, configJson: config });
    // A migration directory without migration.sql: the folder cannot be read, after the environment was resolved.
    broken = createProject({ schema: SCHEMA, migrations: { '20240101000000_init': INIT, '20240102000000_empty': null }, configJson: config });
    const r = await runCli(['deploy', '--env', 'uat', '--skip-generate', '--confirm', 'uat'], { cwd: fresh.dir, env });
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    fresh?.remove();
    broken?.remove();
    await own?.drop();
    await query(adminUrl(), `DROP ROLE IF EXISTS ${maker}`).catch(() => {});
  });

  it('replays on the temporary database made ahead, leaves none behind, and the next run answers from the cache', async () => {
    const first = await runCli(['status', '--env', 'uat', '--drift', '--json'], { cwd: fresh.dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).environments[0].drift).toMatchObject({ checked: true, drifted: false, report: { cache: 'miss' } });
    expect(await leftovers()).toBe(0);
    const again = await runCli(['status', '--env', 'uat', '--drift', '--json'], { cwd: fresh.dir, env });
    expect(JSON.parse(again.stdout).environments[0].drift).toMatchObject({ checked: true, drifted: false, report: { cache: 'hit' } });
    expect(await leftovers()).toBe(0);
  });

  it('a migrations folder that cannot be read fails the command, and the database made ahead is dropped', async () => {
    const r = await runCli(['status', '--env', 'uat', '--drift'], { cwd: broken.dir, env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/20240102000000_empty/);
    expect(await leftovers()).toBe(0);
  });
});
