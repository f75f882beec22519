import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * The production marker with the roles users really have: a database owner that is not a superuser
 * (the RDS master user) and an application role that does not own the database.
 */
const INIT = `-- CreateTable\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\nINSERT INTO "User" ("email") VALUES ('a@example.com');\n`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A login role (not a superuser) and its URL on `database`. */
async function role(database: string, attrs: string): Promise<{ name: string; url: string; password: string }> {
  const name = `r_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  await query(adminUrl(), `CREATE ROLE ${name} LOGIN PASSWORD '${password}' ${attrs}`);
  cleanups.push(async () => {
    await query(adminUrl(), `DROP OWNED BY ${name} CASCADE`).catch(() => {});
    await query(adminUrl(), `DROP ROLE IF EXISTS ${name}`).catch(() => {});
  });
  forbidInOutput(password);
  const u = new URL(adminUrl());
  u.username = name;
  u.password = password;
  u.pathname = `/${database}`;
  return { name, url: u.toString(), password };
}

/** A database owned by a CREATEDB, NOSUPERUSER role, as on RDS. */
async function ownedDatabase() {
  const db = await freshDatabase('cli_marker');
  const owner = await role(db.name, 'CREATEDB NOSUPERUSER');
  await query(adminUrl(), `ALTER DATABASE ${db.name} OWNER TO ${owner.name}`);
  // The drop runs after the role's own cleanup (reverse order): give the database back first.
  cleanups.push(() => db.drop());
  return { db, owner };
}

function project(config: unknown, env: Record<string, string>): { p: TempProject; cli: (...args: string[]) => ReturnType<typeof runCli> } {
  const p = createProject({ configJson: config, migrations: { '20240101000000_init': INIT } });
  cleanups.push(() => p.remove());
  return { p, cli: (...args: string[]) => runCli(args, { cwd: p.dir, env }) };
}

const BOTH = {
  environments: {
    development: { url: { $env: 'DEV_URL' } },
    production: { url: { $env: 'PROD_URL' }, ssl: 'disable' },
  },
};

describe('the marker, stored by a database owner that is not a superuser', () => {
  it('a production deploy by the owner marks the database; a development config pointing at it is then refused reset', async () => {
    const { db, owner } = await ownedDatabase();
    const { cli } = project(BOTH, { DEV_URL: owner.url, PROD_URL: owner.url });

    const deploy = await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production');
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).not.toContain('protection marker');

    const reset = await cli('migrate', 'reset', '--force', '--env', 'development');
    expect(reset.code, reset.stdout).toBe(5);
    expect(reset.stderr).toContain('this database is marked "production" (environment production), but environment development has protection "none"');
    expect(await query(db.url, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 1 }]);
  });
});

/** An application role that logs in to `database` and may use schema public, but owns nothing. */
async function appRole(db: { name: string; url: string }, owner: { name: string }) {
  const app = await role(db.name, 'NOCREATEDB NOSUPERUSER');
  await query(adminUrl(), `REVOKE CREATE ON DATABASE ${db.name} FROM PUBLIC`);
  await query(db.url, `SET ROLE ${owner.name}; GRANT USAGE, CREATE ON SCHEMA public TO ${app.name}`);
  return app;
}

describe('the marker is invisible to Prisma', () => {
  it('no drift after a production deploy marked the database', async () => {
    const { owner } = await ownedDatabase();
    const { cli } = project({ environments: { production: { url: { $env: 'PROD_URL' }, ssl: 'disable' } } }, { PROD_URL: owner.url });
    expect((await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production')).code).toBe(0);
    const status = await cli('status', '--env', 'production', '--drift');
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toContain('no drift  the database is what its applied migrations produce');
  });
});

describe('the marker, with an application role that does not own the database', () => {
  it('production: the deploy is refused before anything changes, with the fix; the owner marks it once and the application role deploys', async () => {
    const { db, owner } = await ownedDatabase();
    const app = await appRole(db, owner);
    const { cli } = project(BOTH, { DEV_URL: app.url, PROD_URL: app.url });

    const refused = await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production');
    expect(refused.code).toBe(5);
    const port = new URL(adminUrl()).port;
    expect(refused.stderr.replaceAll(db.name, '<db>').replaceAll(app.name, '<app>').replaceAll(owner.name, '<owner>').replace(`:${port}/`, ':<port>/')).toMatchInlineSnapshot(`
      "warning: production: could not record the audit entry (audit table "stagedb"."audit_log": permission denied for database <db>)
      error: production: could not store the protection marker in <db> (permission denied for database <db>); nothing was changed: without the marker, a config whose URL points here by mistake could treat it as development
        fix: mark it once as the database owner: stagedb marker set --env production --url "postgresql://<owner>:PASSWORD@127.0.0.1:<port>/<db>" --confirm production   (or let <app> write it: GRANT CREATE ON DATABASE "<db>" TO "<app>";  (as the database owner, <owner>))
      "
    `);
    expect(await query(db.url, `SELECT to_regclass('public."User"') IS NULL AS absent`)).toEqual([{ absent: true }]);

    // doctor says so before anyone deploys (DOC017), with the same fix.
    const doctor = await cli('doctor', '--env', 'production', '--json');
    const doc017 = () => (JSON.parse(doctor.stdout).environments[0].checks as Array<{ code: string; status: string; detail: string; fix: string }>).find((c) => c.code === 'DOC017')!;
    expect(doc017()).toMatchObject({ status: 'fail', detail: `not marked, and role ${app.name} may not store the marker (permission denied for database ${db.name}): deploys to production are refused until it is stored` });
    expect(doc017().fix).toContain('mark it once as the database owner: stagedb marker set --env production --url');

    // The fix, as printed, with the owner's password in place of PASSWORD.
    const fix = /fix: mark it once as the database owner: stagedb (marker set --env production --url "([^"]+)" --confirm production)/.exec(refused.stderr);
    expect(fix).not.toBeNull();
    const ownerUrl = fix![2]!.replace('PASSWORD', encodeURIComponent(owner.password));
    const marked = await cli('marker', 'set', '--env', 'production', '--url', ownerUrl, '--confirm', 'production');
    expect(marked.code, marked.stderr).toBe(0);
    expect(marked.stdout).toContain('is marked "production" (environment production) (was none)');

    const after = JSON.parse((await cli('doctor', '--env', 'production', '--json')).stdout).environments[0].checks.find((c: { code: string }) => c.code === 'DOC017');
    expect(after).toMatchObject({ status: 'ok', detail: 'marked "production" (environment production), as the config says' });
    const deployed = await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr).not.toContain('marker');
    const reset = await cli('migrate', 'reset', '--force', '--env', 'development');
    expect(reset.code).toBe(5);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 1 }]);
  });

  it('a marker this role may not read is not taken for "unmarked": refused, with the GRANT', async () => {
    const { db, owner } = await ownedDatabase();
    const app = await appRole(db, owner);
    const { cli } = project(BOTH, { DEV_URL: app.url, PROD_URL: owner.url });
    expect((await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production')).code).toBe(0);
    await query(db.url, `SET ROLE ${owner.name}; REVOKE SELECT ON stagedb.marker FROM PUBLIC`);
    const r = await cli('migrate', 'reset', '--force', '--env', 'development');
    expect(r.code).toBe(5);
    expect(r.stderr.replaceAll(db.name, '<db>').replaceAll(app.name, '<app>').split('\n').filter((l) => !l.startsWith('warning:'))).toMatchInlineSnapshot(`
      [
        "error: this database has a protection marker ("stagedb"."marker") that role <app> may not read: stagedb cannot tell which environment it is",
        "  fix: as the owner of "stagedb"."marker" (the role that created it, usually the database owner): GRANT USAGE ON SCHEMA stagedb TO PUBLIC; GRANT SELECT ON "stagedb"."marker" TO PUBLIC;  (in database <db>)",
        "",
      ]
    `);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 1 }]);
  });

  it('guarded: the deploy goes on with a warning that says how to store the marker', async () => {
    const { db, owner } = await ownedDatabase();
    const app = await appRole(db, owner);
    const { cli } = project({ environments: { staging: { url: { $env: 'STAGING_URL' } } } }, { STAGING_URL: app.url });
    const r = await cli('deploy', '--env', 'staging', '--skip-generate');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: staging: could not store the protection marker in ${db.name} (permission denied for database ${db.name})`);
    expect(r.stderr).toContain(`fix: mark it once as the database owner: stagedb marker set --env staging --url "postgresql://${owner.name}:PASSWORD@`);
  });
});

describe('stagedb marker: show, set, clear', () => {
  it('a development database wrongly marked as staging: show says so, clear takes "staging" typed ahead, and development works again', async () => {
    const db = await freshDatabase('cli_marker_dev');
    cleanups.push(() => db.drop());
    // Staging's config borrows development's URL: its deploy marks development's database as staging.
    const { cli } = project(
      { environments: { development: { url: { $env: 'DEV_URL' } }, staging: { url: { $env: 'DEV_URL' } } } },
      { DEV_URL: db.url },
    );
    expect((await cli('deploy', '--env', 'staging', '--skip-generate')).code).toBe(0);
    const refused = await cli('migrate', 'reset', '--force', '--env', 'development');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('fix: check development\'s URL; to act on staging, use --env staging (if this database really is development\'s, see stagedb marker --env development)');

    const show = await cli('marker', '--env', 'development');
    expect(show.code).toBe(0);
    expect(show.stdout.replace(/set \S+ by \w+/, 'set <time> by <role>').replaceAll(db.name, '<db>').replace(/127\.0\.0\.1:\d+/, '127.0.0.1:<port>')).toMatchInlineSnapshot(`
      "development: <db> on 127.0.0.1:<port> (via url (env DEV_URL), protection none)
        marker: "guarded" (environment staging)
          stagedb.marker: guarded (environment staging), set <time> by <role>
        DOES NOT MATCH: development: this database is marked "guarded" (environment staging), but environment development has protection "none": its URL probably points at the wrong database
      "
    `);

    const unconfirmed = await cli('marker', 'clear', '--env', 'development');
    expect(unconfirmed.code).toBe(5);
    expect(unconfirmed.stderr).toMatchInlineSnapshot(`
      "error: stagedb marker on development (protection: none) needs confirmation, and there is no terminal to ask in
        fix: stagedb marker clear --env development --confirm staging
      "
    `);
    const wrongName = await cli('marker', 'clear', '--env', 'development', '--confirm', 'development');
    expect(wrongName.code).toBe(5);
    expect(wrongName.stderr).toContain('--confirm development does not name the environment this database says it is (staging)');
    expect(await query(db.url, 'SELECT environment FROM stagedb.marker')).toEqual([{ environment: 'staging' }]);

    const cleared = await cli('marker', 'clear', '--env', 'development', '--confirm', 'staging');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toContain('has no protection marker now (was "guarded" (environment staging))');
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM stagedb.marker')).toEqual([{ n: 0 }]);
    const reset = await cli('migrate', 'reset', '--force', '--env', 'development', '--skip-seed');
    expect(reset.code, reset.stderr).toBe(0);

    // The change is in the audit trail, with the refusals before it.
    const history = JSON.parse((await cli('history', '--env', 'development', '--json')).stdout).records as Array<{ outcome: string; command: string; summary: string }>;
    expect(history.slice(0, 4).map((r) => [r.outcome, r.command])).toEqual([
      ['ok', 'migrate reset --env development'],
      ['ok', 'marker clear --env development'],
      ['refused', 'marker clear --env development'],
      ['refused', 'marker clear --env development'],
    ]);
    expect(history[1]!.summary).toBe('cleared the marker; was "guarded" (environment staging)');
  });

  it('set takes no level other than the environment\'s own', async () => {
    const db = await freshDatabase('cli_marker_lvl');
    cleanups.push(() => db.drop());
    const { cli } = project({ environments: { staging: { url: { $env: 'S' } } } }, { S: db.url });
    const r = await cli('marker', 'set', 'production', '--env', 'staging');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: the marker records staging's own level, "guarded", not "production"
        fix: set protection: 'production' for environments.staging in the config, then: stagedb marker set --env staging
      "
    `);
    const ok = await cli('marker', 'set', 'guarded', '--env', 'staging', '--confirm', 'staging');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await query(db.url, 'SELECT protection, environment FROM stagedb.marker')).toEqual([{ protection: 'guarded', environment: 'staging' }]);
  });
});

describe('the old marker (ALTER DATABASE … SET stagedb.protection)', () => {
  it('still counts; a non-superuser owner cannot remove it, and clear changes nothing then', async () => {
    const { db, owner } = await ownedDatabase();
    await query(adminUrl(), `ALTER DATABASE ${db.name} SET stagedb.protection = 'production'; ALTER DATABASE ${db.name} SET stagedb.environment = 'production'`);
    const { cli } = project(BOTH, { DEV_URL: owner.url, PROD_URL: owner.url });
    const reset = await cli('migrate', 'reset', '--force', '--env', 'development');
    expect(reset.code).toBe(5);
    expect(reset.stderr).toContain('this database is marked "production" (environment production)');

    // A production deploy by the owner stores the new marker beside it.
    expect((await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production')).code).toBe(0);
    expect(await query(db.url, 'SELECT protection, environment FROM stagedb.marker')).toEqual([{ protection: 'production', environment: 'production' }]);

    const clear = await cli('marker', 'clear', '--env', 'production', '--confirm', 'production');
    expect(clear.code).toBe(5);
    expect(clear.stderr.replaceAll(db.name, '<db>')).toMatchInlineSnapshot(`
      "error: production: the database also carries the old marker setting stagedb.protection = production (environment production), which this role may not remove (permission denied to set parameter "stagedb.protection"); nothing was changed
        fix: as a superuser, run: ALTER DATABASE "<db>" RESET stagedb.protection; ALTER DATABASE "<db>" RESET stagedb.environment; then run this command again
      "
    `);
    expect(await query(db.url, 'SELECT protection FROM stagedb.marker')).toEqual([{ protection: 'production' }]);

    // A superuser can: the old settings go with the row.
    const admin = new URL(adminUrl());
    admin.pathname = `/${db.name}`;
    const asAdmin = await cli('marker', 'clear', '--env', 'production', '--url', admin.toString(), '--confirm', 'production');
    expect(asAdmin.code, asAdmin.stderr).toBe(0);
    const fresh = await cli('marker', '--env', 'development', '--json');
    expect(JSON.parse(fresh.stdout).marker).toEqual({});
  });
});

describe('a restore never carries the source\'s marker', () => {
  it('production restored into a new staging database and into development: each is marked as itself', async () => {
    const [prod, staging, dev] = await Promise.all([freshDatabase('cli_mk_prod'), freshDatabase('cli_mk_stg'), freshDatabase('cli_mk_dev')]);
    cleanups.push(() => prod.drop(), () => staging.drop(), () => dev.drop());
    const { cli } = project(
      {
        environments: {
          development: { url: { $env: 'DEV_URL' } },
          staging: { url: { $env: 'STAGING_URL' } },
          production: { url: { $env: 'PROD_URL' }, ssl: 'disable', backupBeforeDeploy: false },
        },
      },
      { DEV_URL: dev.url, STAGING_URL: staging.url, PROD_URL: prod.url },
    );
    expect((await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production')).code).toBe(0);
    const backup = await cli('backup', '--env', 'production');
    expect(backup.code, backup.stderr).toBe(0);

    const toStaging = await cli('restore', 'latest', '--from', 'production', '--to', 'staging', '--confirm', 'staging');
    expect(toStaging.code, toStaging.stderr).toBe(0);
    expect(await query(staging.url, 'SELECT protection, environment FROM stagedb.marker')).toEqual([{ protection: 'guarded', environment: 'staging' }]);
    expect(await query(staging.url, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 1 }]);

    const toDev = await cli('restore', 'latest', '--from', 'production', '--to', 'development');
    expect(toDev.code, toDev.stderr).toBe(0);
    // No marker at all: the restore brought only the backup's audit_log into a database without a stagedb schema.
    const marker = (await query<{ marker: string | null }>(dev.url, "SELECT to_regclass('stagedb.marker')::text AS marker"))[0]?.marker;
    if (marker) expect(await query(dev.url, 'SELECT count(*)::int AS n FROM stagedb.marker')).toEqual([{ n: 0 }]);
    const reset = await cli('migrate', 'reset', '--force', '--env', 'development', '--skip-seed');
    expect(reset.code, reset.stderr).toBe(0);
    // Production itself is untouched by all this.
    expect(await query(prod.url, 'SELECT protection, environment FROM stagedb.marker')).toEqual([{ protection: 'production', environment: 'production' }]);
  });
});
