import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, DEFAULT_SCHEMA, type TempProject } from '../helpers/project.js';

/** The guide's development commands (db:migrate, db:push, db:migrate:reset) through the built binary. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const WITH_POSTS = DEFAULT_SCHEMA.replace(
  'model User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n}',
  'model User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n  posts Post[]\n}\n\nmodel Post {\n  id       Int    @id @default(autoincrement())\n  title    String\n  authorId Int\n  author   User   @relation(fields: [authorId], references: [id])\n}',
);

async function setup(opts: { migrations?: Record<string, string>; seed?: boolean; schema?: string } = {}) {
  const dev = await freshDatabase('cli_dev');
  const staging = await freshDatabase('cli_stg');
  forbidInOutput(passwordOf(dev.url));
  const config = {
    ...(opts.seed ? { seed: `node -e "console.log('seeded')"` } : {}),
    environments: {
      development: { url: { $env: 'DEV_URL' } },
      staging: { url: { $env: 'STAGING_URL' } },
      // Its own database name (never created: production is only ever refused here); sharing staging's
      // would make status report two environments on one database.
      production: { url: { $env: 'PROD_URL' }, ssl: 'disable' },
    },
  };
  const p: TempProject = createProject({ configJson: config, migrations: opts.migrations ?? {}, ...(opts.schema ? { schema: opts.schema } : {}) });
  cleanups.push(() => dev.drop(), () => staging.drop(), () => p.remove());
  const env = { DEV_URL: dev.url, STAGING_URL: staging.url, PROD_URL: staging.url.replace(`/${staging.name}`, '/never_created_production') };
  return { dev, staging, p, cli: (...args: string[]) => runCli(args, { cwd: p.dir, env }) };
}

const migrationDirs = (p: TempProject) => readdirSync(p.migrationsDir).filter((d) => d !== 'migration_lock.toml').sort();

describe('stagedb migrate dev', () => {
  it('creates the first migration from schema.prisma and applies it; then there is nothing to create', async () => {
    const { dev, p, cli } = await setup();
    const r = await cli('migrate', 'dev');
    expect(r.code, r.stderr).toBe(0);
    const [dir] = migrationDirs(p);
    expect(dir).toMatch(/^\d{14}_init$/);
    expect(readFileSync(join(p.migrationsDir, dir!, 'migration.sql'), 'utf8')).toContain('CREATE TABLE "User"');
    expect(readFileSync(join(p.migrationsDir, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');
    expect(r.stdout).toContain(`development: created and applied ${dir}.`);
    expect(await query(dev.url, `SELECT migration_name, applied_steps_count FROM _prisma_migrations`)).toEqual([{ migration_name: dir, applied_steps_count: 1 }]);

    const again = await cli('migrate', 'dev');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('schema.prisma matches the migrations; nothing to create');

    // A schema change makes the next one, named as given.
    p.write('prisma/schema.prisma', WITH_POSTS);
    const next = await cli('migrate', 'dev', '--name', 'Add posts');
    expect(next.code, next.stderr).toBe(0);
    expect(migrationDirs(p)[1]).toMatch(/^\d{14}_add_posts$/);
    // status agrees, and the history deploys to staging with no drift left anywhere.
    expect((await cli('deploy', '--env', 'staging', '--skip-generate', '--confirm', 'staging')).code).toBe(0);
    const drift = await cli('status', '--env', 'development,staging', '--drift');
    expect(drift.code, drift.stdout + drift.stderr).toBe(0);
    expect(drift.stdout.match(/no drift/g)).toHaveLength(2);
  });

  it('is development only: refused on staging (exit 5) before anything is read', async () => {
    const { p, cli } = await setup();
    const r = await cli('migrate', 'dev', '--env', 'staging');
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('stagedb migrate dev is refused on staging (protection: guarded)');
    expect(existsSync(p.migrationsDir) ? migrationDirs(p) : []).toEqual([]);
  });

  it('a drifted database needs a reset: without a terminal it stops (exit 6) and says how', async () => {
    const { dev, p, cli } = await setup();
    expect((await cli('migrate', 'dev')).code).toBe(0);
    await query(dev.url, 'ALTER TABLE "User" ADD COLUMN "sneaky" TEXT');
    const r = await cli('migrate', 'dev', '--name', 'next');
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('the database must be reset before a migration can be created');
    // The drift itself, as SQL (not "1 SQL line"), what keeps it, and the reset.
    expect(r.stderr).toContain('    ALTER TABLE "public"."User" ADD COLUMN     "sneaky" TEXT;');
    expect(r.stderr).toContain('fix: keep the drift as a migration: mkdir prisma/migrations/<timestamp>_<name> && stagedb migrate diff --from migrations --to env:development > prisma/migrations/<timestamp>_<name>/migration.sql');
    expect(r.stderr).toContain('Or reset (drops every row): stagedb migrate reset --env development --force, then: stagedb migrate dev');
    expect(r.stderr.match(/ADD COLUMN/g)).toHaveLength(1);
    // Nothing was dropped.
    expect(await query(dev.url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'sneaky'`)).toHaveLength(1);
    const status = await cli('status', '--drift');
    expect(status.code).toBe(2);
    expect(status.stdout).toContain('DRIFT');
    expect(status.stdout).toContain('"sneaky"');

    // The fix works as written: the drift kept as a migration, then migrate dev goes on, with the data.
    await query(dev.url, `INSERT INTO "User" (email, sneaky) VALUES ('kept@example.com', 'yes')`);
    const diff = await cli('migrate', 'diff', '--from', 'migrations', '--to', 'env:development');
    expect(diff.code, diff.stderr).toBe(0);
    p.addMigration('20990101000000_sneaky', `${diff.stdout}\n`);
    p.write('prisma/schema.prisma', DEFAULT_SCHEMA.replace('email String @unique', 'email  String  @unique\n  sneaky String?'));
    expect((await cli('migrate', 'resolve', '--applied', '20990101000000_sneaky')).code).toBe(0);
    const again = await cli('migrate', 'dev', '--name', 'next');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('schema.prisma matches the migrations; nothing to create');
    expect(await query(dev.url, `SELECT email, sneaky FROM "User"`)).toEqual([{ email: 'kept@example.com', sneaky: 'yes' }]);
  });
});

describe('stagedb push', () => {
  it('guarded needs --confirm without a terminal, production refuses; a push applies the schema', async () => {
    const { staging, cli } = await setup();
    const refused = await cli('push', '--env', 'production');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('stagedb push is refused on production (protection: production)');
    const unconfirmed = await cli('push', '--env', 'staging');
    expect(unconfirmed.code).toBe(5);
    expect(unconfirmed.stdout).toContain('CREATE TABLE "User"');
    expect(unconfirmed.stderr).toContain('fix: stagedb push --env staging --confirm staging');
    const ok = await cli('push', '--env', 'staging', '--confirm', 'staging');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await query(staging.url, `SELECT to_regclass('public."User"') IS NOT NULL AS present`)).toEqual([{ present: true }]);
  });

  it('data loss needs --accept-data-loss; without it nothing changes (exit 5)', async () => {
    const { dev, p, cli } = await setup();
    p.write('prisma/schema.prisma', WITH_POSTS);
    expect((await cli('push')).code).toBe(0);
    await query(dev.url, `INSERT INTO "User" (email) VALUES ('a@example.com'); INSERT INTO "Post" (title, "authorId") SELECT 'hello', id FROM "User"`);
    p.write('prisma/schema.prisma', DEFAULT_SCHEMA);
    const refused = await cli('push');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('data loss');
    expect(refused.stderr).toContain('fix: stagedb push --env development --accept-data-loss');
    expect(await query(dev.url, 'SELECT count(*)::int AS n FROM "Post"')).toEqual([{ n: 1 }]);
    const ok = await cli('push', '--accept-data-loss');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await query(dev.url, `SELECT to_regclass('public."Post"') IS NULL AS gone`)).toEqual([{ gone: true }]);
  });
});

describe('stagedb migrate reset', () => {
  it('needs --force without a terminal; drops the data, re-applies every migration and seeds', async () => {
    const { dev, cli } = await setup({ seed: true });
    expect((await cli('migrate', 'dev')).code).toBe(0);
    await query(dev.url, `INSERT INTO "User" (email) VALUES ('a@example.com')`);
    const unforced = await cli('migrate', 'reset');
    expect(unforced.code).toBe(5);
    expect(unforced.stderr).toContain('fix: stagedb migrate reset --env development --force');
    expect(await query(dev.url, 'SELECT count(*)::int AS n FROM "User"')).toEqual([{ n: 1 }]);
    const r = await cli('migrate', 'reset', '--force');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('seeded');
    expect(r.stdout).toMatch(/reset done, 1 migration applied, seeded\./);
    expect(await query(dev.url, 'SELECT count(*)::int AS n FROM "User"')).toEqual([{ n: 0 }]);
    // --force never reaches a protected environment.
    const prod = await cli('migrate', 'reset', '--env', 'staging', '--force');
    expect(prod.code).toBe(5);
    expect(prod.stderr).toContain('stagedb migrate reset is refused on staging (protection: guarded)');
  });
});

describe('stagedb migrate reset of a multiSchema datasource', () => {
  it('resets every schema the datasource names, says which, and leaves the others alone', async () => {
    const schema = `datasource db {\n  provider = "postgresql"\n  schemas  = ["public", "auth"]\n}\n\nmodel Account {\n  id Int @id @default(autoincrement())\n  @@schema("auth")\n}\n\nmodel User {\n  id Int @id @default(autoincrement())\n  @@schema("public")\n}\n`;
    const init = `CREATE SCHEMA IF NOT EXISTS "auth";\nCREATE TABLE "auth"."Account" ("id" SERIAL NOT NULL, CONSTRAINT "Account_pkey" PRIMARY KEY ("id"));\nCREATE TABLE "public"."User" ("id" SERIAL NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n`;
    const { dev, cli } = await setup({ schema, migrations: { '20240101000000_init': init } });
    expect((await cli('deploy', '--skip-generate')).code).toBe(0);
    await query(dev.url, `INSERT INTO auth."Account" DEFAULT VALUES; INSERT INTO "User" DEFAULT VALUES; ALTER TABLE auth."Account" ADD COLUMN extra int; CREATE SCHEMA other; CREATE TABLE other.keep (id int)`);
    const r = await cli('migrate', 'reset', '--force', '--skip-seed');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('development: schemas "public", "auth" dropped and recreated');
    expect(r.stdout).toContain('reset done, 1 migration applied.');
    expect(await query(dev.url, `SELECT (SELECT count(*)::int FROM auth."Account") AS a, (SELECT count(*)::int FROM "User") AS u, to_regclass('other.keep') IS NOT NULL AS kept`)).toEqual([{ a: 0, u: 0, kept: true }]);
    expect(await query(dev.url, `SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NULL`)).toEqual([{ n: 0 }]);
  });
});

describe('stagedb migrate diff', () => {
  it('prints the SQL between two sides; --exit-code says whether they differ', async () => {
    const { cli } = await setup();
    const r = await cli('migrate', 'diff', '--from', 'empty', '--to', 'schema', '--exit-code');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('CREATE TABLE "User"');
    const same = await cli('migrate', 'diff', '--from', 'schema', '--to', 'schema', '--exit-code');
    expect(same.code).toBe(0);
    const bad = await cli('migrate', 'diff', '--from', 'nowhere', '--to', 'schema');
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('--from nowhere: not a diff side');
  });
});
