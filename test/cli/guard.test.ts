import { afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { GUIDE_SCRIPTS } from '../../src/project/init.js';

/** Protection through the built binary: the matrix, the marker stored in the database, the audit trail. */
const INIT = `-- CreateTable\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const db = await freshDatabase('cli_guard');
  const password = passwordOf(db.url);
  forbidInOutput(password);
  const config = {
    seed: 'node -e "console.log(\'seeding\')"',
    environments: {
      development: { url: { $env: 'DEV_URL' } },
      production: { url: { $env: 'PROD_URL' }, ssl: 'disable' },
    },
  };
  const p: TempProject = createProject({ configJson: config, migrations: { '20240101000000_init': INIT } });
  cleanups.push(() => db.drop(), () => p.remove());
  // Both environments point at the same database: the classic wrong-URL accident, on purpose.
  const env = { DEV_URL: db.url, PROD_URL: db.url };
  return { db, p, password, cli: (...args: string[]) => runCli(args, { cwd: p.dir, env }) };
}

describe('protection through the CLI', () => {
  it("a refusal's fix names the project's own script too, with the runner its lock file shows (the guide runs yarn run db:deploy:production)", async () => {
    const db = await freshDatabase('cli_guard_scripts');
    forbidInOutput(passwordOf(db.url));
    const p = createProject({
      packageJson: { name: 'app', private: true, scripts: Object.fromEntries(GUIDE_SCRIPTS) },
      configJson: { environments: { production: { url: { $env: 'PROD_URL' }, ssl: 'disable' } } },
      migrations: { '20240101000000_init': INIT },
      files: { 'yarn.lock': '' },
    });
    cleanups.push(() => db.drop(), () => p.remove());
    const r = await runCli(['deploy', '--env', 'production', '--skip-generate'], { cwd: p.dir, env: { PROD_URL: db.url } });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: stagedb deploy on production (protection: production) needs confirmation, and there is no terminal to ask in
        fix: stagedb deploy --env production --confirm production
         or: yarn run db:deploy:production --confirm production
      "
    `);
    // Run by npm (npm_config_user_agent), the same hint in npm's form, and in --json as fixScripts.
    const npm = await runCli(['deploy', '--env', 'production', '--skip-generate', '--json'], { cwd: p.dir, env: { PROD_URL: db.url, npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64' } });
    expect((JSON.parse(npm.stdout) as { error: { fixScripts: string[] } }).error.fixScripts).toEqual(['npm run db:deploy:production -- --confirm production']);
  });

  it('production deploy needs --confirm; afterwards the database is marked and a development config pointing at it is refused', async () => {
    const { db, cli, password } = await setup();

    const unconfirmed = await cli('deploy', '--env', 'production', '--skip-generate');
    expect(unconfirmed.code).toBe(5);
    expect(unconfirmed.stderr).toContain('fix: stagedb deploy --env production --confirm production');
    expect(await query(db.url, `SELECT to_regclass('public."User"') IS NULL AS absent`)).toEqual([{ absent: true }]);

    const wrong = await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'staging');
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('--confirm staging does not name the target environment (production)');

    const ok = await cli('deploy', '--env', 'production', '--skip-generate', '--confirm', 'production');
    expect(ok.code, ok.stderr).toBe(0);
    const [marker] = await query<{ p: string; e: string }>(db.url, `SELECT protection AS p, environment AS e FROM stagedb.marker`);
    expect(marker).toEqual({ p: 'production', e: 'production' });

    // The development config now reaches a database that says it is production.
    const seed = await cli('seed', '--env', 'development');
    expect(seed.code).toBe(5);
    expect(seed.stdout).not.toContain('seeding');
    expect(seed.stderr).toContain('this database is marked "production" (environment production), but environment development has protection "none"');
    expect(seed.stderr).toContain('fix: check development\'s URL; to act on production, use --env production');
    const devDeploy = await cli('migrate', 'deploy', '--env', 'development');
    expect(devDeploy.code).toBe(5);

    // Everything above is in the audit trail, newest first, with the refusals, and without the password.
    const history = await cli('history', '--env', 'production', '--json');
    expect(history.code).toBe(0);
    const records = JSON.parse(history.stdout).records as Array<{ outcome: string; command: string }>;
    expect(records.map((r) => [r.outcome, r.command])).toEqual([
      ['ok', 'deploy --env production'],
      ['refused', 'deploy --env production'],
      ['refused', 'deploy --env production'],
    ]);
    const devHistory = JSON.parse((await cli('history', '--env', 'development', '--json')).stdout).records as Array<{ outcome: string; command: string }>;
    expect(devHistory.map((r) => [r.outcome, r.command])).toEqual([
      ['refused', 'migrate deploy --env development'],
      ['refused', 'seed --env development'],
    ]);
    const dump = JSON.stringify(await query(db.url, 'SELECT * FROM stagedb.audit_log'));
    expect(dump).not.toContain(password);
    // The audit lives outside the application's schema: Prisma sees no drift from it.
    expect(await query(db.url, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'audit_log'`)).toEqual([{ table_schema: 'stagedb' }]);
  });

  it('production refuses seed outright: --confirm does not help', async () => {
    const { cli } = await setup();
    const r = await cli('seed', '--env', 'production', '--confirm', 'production');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: stagedb seed is refused on production (protection: production)
        fix: seed a development or staging environment (stagedb seed --env staging); production data belongs in a reviewed migration (or set allowSeed: true for production in the config)
      "
    `);
  });
});
