import { afterEach, describe, expect, it } from 'vitest';
import { deploy, loadConfig, resolveEnvironment } from '../../src/index.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, rejection } from '../helpers/project.js';

/**
 * The library's `deploy` runs through the same guard as the CLI (issue 17): a library caller gets the
 * protection matrix, the marker and the audit record, not a bare apply.
 */
const INIT = `-- CreateTable\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const db = await freshDatabase('lib_deploy');
  forbidInOutput(passwordOf(db.url));
  // backupBeforeDeploy off: this test is about the guard, not pg_dump.
  const p = createProject({ configJson: { environments: { production: { url: { $env: 'PROD_URL' }, ssl: 'disable', backupBeforeDeploy: false } } }, migrations: { '20240101000000_init': INIT } });
  cleanups.push(() => db.drop(), () => p.remove());
  const processEnv = { PROD_URL: db.url };
  const config = await loadConfig({ cwd: p.dir });
  const env = resolveEnvironment(config, 'production', { processEnv });
  return { db, p, processEnv, config, env };
}

const userTable = async (url: string) => (await query<{ present: boolean }>(url, `SELECT to_regclass('public."User"') IS NOT NULL AS present`))[0]!.present;

describe("the library's deploy", () => {
  it('refuses a production deploy without confirmation exactly as the CLI does: same kind (exit 5), message and fix; nothing applied, the refusal audited', async () => {
    const { db, p, processEnv, config, env } = await setup();

    const lib = await rejection(deploy({ config, env, processEnv }));
    expect(lib).toMatchInlineSnapshot(`
      {
        "code": "E_CONFIRM_REQUIRED",
        "fix": "stagedb deploy --env production --confirm production",
        "kind": "guard",
        "message": "stagedb deploy on production (protection: production) needs confirmation, and there is no terminal to ask in",
      }
    `);
    expect(exitCodeFor(lib.kind as never)).toBe(5);

    const cli = await runCli(['migrate', 'deploy', '--env', 'production'], { cwd: p.dir, env: processEnv });
    expect(cli.code).toBe(exitCodeFor(lib.kind as never));
    expect(cli.stderr).toBe(`error: ${lib.message}\n  fix: ${lib.fix}\n`);

    expect(await userTable(db.url)).toBe(false);
    // Both refusals are in the audit trail, the library's with the command it was given.
    const rows = await query<{ command: string; outcome: string }>(db.url, 'SELECT command, outcome FROM stagedb.audit_log ORDER BY id');
    expect(rows).toEqual([
      { command: 'deploy --env production', outcome: 'refused' },
      { command: 'migrate deploy --env production', outcome: 'refused' },
    ]);
  });

  it('with confirm, applies, marks the database as production and audits the deploy', async () => {
    const { db, processEnv, config, env } = await setup();
    const events: string[] = [];
    const r = await deploy({ config, env, processEnv, confirm: 'production', onEvent: (e) => events.push(e.type) });
    expect(r.applied.map((a) => a.name)).toEqual(['20240101000000_init']);
    expect(events).toContain('lint-gate');
    expect(await userTable(db.url)).toBe(true);
    expect(await query(db.url, 'SELECT protection, environment FROM stagedb.marker')).toEqual([{ protection: 'production', environment: 'production' }]);
    const [row] = await query<{ outcome: string; summary: string }>(db.url, 'SELECT outcome, summary FROM stagedb.audit_log ORDER BY id DESC LIMIT 1');
    expect(row!.outcome).toBe('ok');
    expect(row!.summary).toContain('applied 20240101000000_init');

    // A wrong name is refused as the CLI refuses it.
    expect((await rejection(deploy({ config, env, processEnv, confirm: 'staging' }))).code).toBe('E_CONFIRM_MISMATCH');
  });
});
