import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, normalize, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * The drift gate on deploy (issue 15), through the built binary, with the roles users have: the
 * databases are owned by non-superuser roles, one with CREATEDB (drift can be checked on its server),
 * one without (it cannot: no shadow database).
 */
const INIT = `-- CreateTable\nCREATE TABLE "User" (\n    "id" SERIAL NOT NULL,\n    "email" TEXT NOT NULL,\n\n    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n);\n`;
const NAME = `-- AlterTable\nALTER TABLE "User" ADD COLUMN "name" TEXT;\n`;
const SCHEMA = `datasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id    Int     @id @default(autoincrement())\n  email String\n  name  String?\n}\n`;

const owner = `drift_owner_${process.pid}`;
const nocreate = `drift_nocreate_${process.pid}`;
const PW = 'drift-gate-pw';
let project: TempProject;
let staging: FreshDatabase;
let production: FreshDatabase;
let qa: FreshDatabase;
let vars: Record<string, string>;
let shown: Record<string, string>;

const as = (url: string, role: string) => {
  const u = new URL(url);
  u.username = role;
  u.password = PW;
  return u.toString();
};

beforeAll(async () => {
  [staging, production, qa] = await Promise.all([freshDatabase('dg'), freshDatabase('dg'), freshDatabase('dg')]);
  for (const r of [owner, nocreate]) await query(adminUrl(), `DROP ROLE IF EXISTS ${r}`);
  await query(adminUrl(), `CREATE ROLE ${owner} LOGIN PASSWORD '${PW}' CREATEDB NOSUPERUSER`);
  await query(adminUrl(), `CREATE ROLE ${nocreate} LOGIN PASSWORD '${PW}' NOCREATEDB NOSUPERUSER`);
  await query(adminUrl(), `ALTER DATABASE ${staging.name} OWNER TO ${owner}`);
  await query(adminUrl(), `ALTER DATABASE ${production.name} OWNER TO ${nocreate}`);
  await query(adminUrl(), `ALTER DATABASE ${qa.name} OWNER TO ${nocreate}`);
  forbidInOutput(PW);
  // The first migration only: the second is the one each test deploys.
  project = createProject({
    schema: SCHEMA,
    migrations: { '20240101000000_init': INIT },
    configJson: {
      environments: {
        development: { url: 'postgresql://localhost:1/unused' },
        staging: { url: { $env: 'STAGING_URL' } },
        qa: { url: { $env: 'QA_URL' } },
        production: { url: { $env: 'PROD_URL' }, ssl: 'disable', backupBeforeDeploy: false },
      },
    },
  });
  vars = { STAGING_URL: as(staging.url, owner), PROD_URL: as(production.url, nocreate), QA_URL: as(qa.url, nocreate) };
  // A database with nothing applied needs no replay (nothing to compare but an empty schema): the first
  // deploy goes through everywhere; the gate matters from the second on.
  for (const env of ['production', 'qa']) {
    const r = await runCli(['deploy', '--env', env, '--skip-generate', '--confirm', env], { cwd: project.dir, env: vars });
    expect(r.code, r.stderr).toBe(0);
  }
  shown = { [project.dir]: '<project>', [`:${new URL(staging.url).port}/`]: ':<port>/', [staging.name]: '<db-staging>', [production.name]: '<db-production>', [qa.name]: '<db-qa>', [owner]: '<owner>', [nocreate]: '<role>' };
});

afterAll(async () => {
  project?.remove();
  for (const d of [staging, production, qa]) await d?.drop();
  for (const r of [owner, nocreate]) await query(adminUrl(), `DROP ROLE IF EXISTS ${r}`).catch(() => {});
});

const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env: vars });
const columns = async (url: string) => (await query<{ c: string }>(url, `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'User' ORDER BY ordinal_position`)).map((r) => r.c);
const audit = async (url: string) => query<{ outcome: string; summary: string }>(url, `SELECT outcome, summary FROM stagedb.audit_log ORDER BY at`);

describe('deploy: the drift gate', () => {
  it('guarded, clean: deploys, and the audit trail says drift was checked (from the cache status --drift just filled)', async () => {
    const r = await cli('deploy', '--env', 'staging', '--skip-generate', '--confirm', 'staging');
    expect(r.code, r.stderr).toBe(0);
    expect((await audit(staging.url)).at(-1)!.summary).toContain('drift: none');
    // status --drift fills the cache; the next deploy is answered from it, without a replay.
    expect((await cli('status', '--env', 'staging', '--drift')).code).toBe(0);
    expect((await cli('deploy', '--env', 'staging', '--skip-generate', '--confirm', 'staging')).code).toBe(0);
    expect((await audit(staging.url)).at(-1)!.summary).toContain('drift: none (cached)');
  });

  it('guarded, drifted: exit 2 before anything is applied, with the SQL and the way out; --allow-drift deploys and records the reason', async () => {
    project.addMigration('20240102000000_name', NAME);
    await query(staging.url, `ALTER TABLE "User" ADD COLUMN "sneaky" TEXT`);
    const r = await cli('deploy', '--env', 'staging', '--skip-generate', '--confirm', 'staging');
    expect(r.code).toBe(2);
    expect(normalize(r.stderr, shown)).toMatchInlineSnapshot(`
      "error: staging: the database has changed outside its migration history (drift); nothing was applied
        ALTER TABLE "public"."User" ADD COLUMN     "sneaky" TEXT;
        fix: see it: stagedb status --drift --env staging; keep it as a migration or undo it by hand (docs/release.md), or deploy anyway: stagedb deploy --env staging --allow-drift "<reason>""
    `);
    expect(await columns(staging.url)).toEqual(['id', 'email', 'sneaky']);
    expect((await audit(staging.url)).at(-1)).toMatchObject({ outcome: 'refused' });

    const empty = await cli('deploy', '--env', 'staging', '--skip-generate', '--confirm', 'staging', '--allow-drift', ' ');
    expect(empty.code).toBe(4);

    const ok = await cli('deploy', '--env', 'staging', '--skip-generate', '--confirm', 'staging', '--allow-drift', 'hotfix column added by hand, INC-42');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('deploying despite drift (--allow-drift: hotfix column added by hand, INC-42)');
    expect(await columns(staging.url)).toEqual(['id', 'email', 'sneaky', 'name']);
    expect((await audit(staging.url)).at(-1)).toMatchObject({ outcome: 'ok', summary: expect.stringContaining('overridden with --allow-drift: hotfix column added by hand, INC-42') });
  });

  it('production, drift cannot be checked (no CREATEDB, no shadowDatabaseUrl): refused, exit 3, nothing applied; --allow-drift goes through', async () => {
    // production and qa are in the state staging was in when status --drift checked it, on the same
    // server: the cache rightly answers for them. Emptied here, so the check must replay and cannot.
    rmSync(join(project.dir, '.stagedb', 'drift-cache'), { recursive: true, force: true });
    const r = await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production');
    expect(r.code).toBe(3);
    expect(normalize(r.stderr, shown)).toMatchInlineSnapshot(`
      "error: production: cannot check for drift before deploying to a production-level environment (cannot create the temporary shadow database this needs: user "<role>" may not create databases (no CREATEDB)); nothing was applied
        fix: either grant it (as a superuser: ALTER ROLE "<role>" CREATEDB), or create an empty database for it and set environments.production.shadowDatabaseUrl: env('SHADOW_DATABASE_URL') in stagedb.config.ts (SHADOW_DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DB_shadow"); or deploy without the check: stagedb deploy --env production --allow-drift "<reason>""
    `);
    expect(await columns(production.url)).toEqual(['id', 'email']);
    const ok = await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production', '--allow-drift', 'no shadow database yet, TICKET-7');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await columns(production.url)).toEqual(['id', 'email', 'name']);
    expect((await audit(production.url)).at(-1)!.summary).toContain('drift: not checked (E_SHADOW_DB), deployed with --allow-drift: no shadow database yet, TICKET-7');
  });

  it('guarded, drift cannot be checked: a warning that says why, and the deploy goes on', async () => {
    const r = await cli('deploy', '--env', 'qa', '--skip-generate', '--confirm', 'qa');
    expect(r.code, r.stderr).toBe(0);
    expect(normalize(r.stderr, shown)).toContain('qa: drift not checked: cannot create the temporary shadow database');
    expect(await columns(qa.url)).toEqual(['id', 'email', 'name']);
  });
});
