import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject, DEFAULT_SCHEMA, type TempProject } from '../helpers/project.js';

/** `migrate dev` writes zero-downtime steps by default; `--prisma-sql` and `zeroDowntime: false` keep Prisma's SQL. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const USER = 'model User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n}';
/** A new optional field and an index on an existing table: Prisma writes ADD COLUMN and a plain CREATE INDEX in one file. */
const EDITED = DEFAULT_SCHEMA.replace(USER, 'model User {\n  id    Int     @id @default(autoincrement())\n  email String  @unique\n  name  String?\n\n  @@index([name])\n}');

async function setup(extra: Record<string, unknown> = {}) {
  const dev = await freshDatabase('zdt_dev');
  const prod = await freshDatabase('zdt_prod');
  forbidInOutput(passwordOf(dev.url), passwordOf(prod.url));
  // Every table with a row counts as live and not small, so the production gate judges these files as on a real table.
  const config = { lint: { smallTableBytes: 0 }, ...extra, environments: { development: { url: { $env: 'DEV_URL' } }, production: { url: { $env: 'PROD_URL' }, ssl: 'disable' } } };
  const p: TempProject = createProject({ configJson: config, migrations: {} });
  cleanups.push(() => dev.drop(), () => prod.drop(), () => p.remove());
  const cli = (...args: string[]) => runCli(args, { cwd: p.dir, env: { DEV_URL: dev.url, PROD_URL: prod.url } });
  expect((await cli('migrate', 'dev')).code).toBe(0);
  expect((await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate')).code).toBe(0);
  await query(prod.url, `INSERT INTO "User" (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 1000) g; ANALYZE "User"`);
  p.write('prisma/schema.prisma', EDITED);
  return { dev, prod, p, cli };
}

const dirs = (p: TempProject) => readdirSync(p.migrationsDir).filter((d) => d !== 'migration_lock.toml').sort();
const sql = (p: TempProject, d: string) => readFileSync(join(p.migrationsDir, d, 'migration.sql'), 'utf8');

describe('stagedb migrate dev, zero-downtime', () => {
  it('writes the index CONCURRENTLY in a folder of its own, says why, applies both; the production gate lets them through', async () => {
    const { p, cli } = await setup();
    const r = await cli('migrate', 'dev', '--name', 'user name');
    expect(r.code, r.stderr).toBe(0);
    const [, first, second, ...rest] = dirs(p);
    expect(rest).toEqual([]);
    expect(first).toMatch(/^\d{14}_user_name$/);
    expect(second).toMatch(/^\d{14}_user_name_02_index_user_name_idx$/);
    expect(first! < second!).toBe(true);
    expect(sql(p, first!)).toBe('-- AlterTable\nALTER TABLE "User" ADD COLUMN     "name" TEXT;\n');
    expect(sql(p, second!)).toContain('\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "User_name_idx" ON "User"("name");\n');
    expect(r.stdout).toContain("development: zero-downtime: Prisma's migration becomes 2 folders (--prisma-sql keeps Prisma's SQL):");
    expect(r.stdout).toContain('ZDT001 "User_name_idx" is built CONCURRENTLY, in a migration of its own');
    expect(r.stdout).toContain(`development: created and applied 2 zero-downtime migrations, ${first} … ${second}.`);

    // Nothing left to create, no drift; and production's lint gate finds nothing to block.
    expect((await cli('migrate', 'dev')).stdout).toContain('nothing to create');
    const deploy = await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate');
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    const lint = await cli('lint');
    expect(lint.code, lint.stdout).toBeLessThan(2);
  });

  it('--prisma-sql writes Prisma\'s file as it is, for one run', async () => {
    const { dev, p, cli } = await setup();
    const r = await cli('migrate', 'dev', '--name', 'user name', '--prisma-sql', '--create-only');
    expect(r.code, r.stderr).toBe(0);
    expect(dirs(p)).toHaveLength(2);
    expect(sql(p, dirs(p)[1]!)).toBe('-- AlterTable\nALTER TABLE "User" ADD COLUMN     "name" TEXT;\n\n-- CreateIndex\nCREATE INDEX "User_name_idx" ON "User"("name");\n');
    expect(r.stdout).not.toContain('zero-downtime');
    // --create-only applied nothing.
    expect(await query(dev.url, `SELECT count(*)::int AS n FROM _prisma_migrations`)).toEqual([{ n: 1 }]);
    // The same change as Prisma writes it is what production's gate stops.
    const blocked = await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate');
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toContain('SDB001');
  });

  it('zeroDowntime: false in the config turns it off', async () => {
    const { p, cli } = await setup({ zeroDowntime: false });
    const r = await cli('migrate', 'dev', '--name', 'user name');
    expect(r.code, r.stderr).toBe(0);
    expect(dirs(p)).toHaveLength(2);
    expect(sql(p, dirs(p)[1]!)).toContain('CREATE INDEX "User_name_idx"');
  });
});

describe('stagedb migrate dev, a type change (ZDT009)', () => {
  it('writes the expand/contract migrations with what it reads of the column in the development database; production deploys them through the gate, values kept', async () => {
    const wallet = (type: string) => `${DEFAULT_SCHEMA}\nmodel Wallet {\n  id     Int  @id\n  points ${type} @default(0)\n\n  @@index([points])\n}\n`;
    const dev = await freshDatabase('zdt_dev');
    const prod = await freshDatabase('zdt_prod');
    const config = { lint: { smallTableBytes: 0 }, environments: { development: { url: { $env: 'DEV_URL' } }, production: { url: { $env: 'PROD_URL' }, ssl: 'disable' } } };
    const p = createProject({ configJson: config, migrations: {}, schema: wallet('Int   ') });
    cleanups.push(() => dev.drop(), () => prod.drop(), () => p.remove());
    const cli = (...args: string[]) => runCli(args, { cwd: p.dir, env: { DEV_URL: dev.url, PROD_URL: prod.url } });
    expect((await cli('migrate', 'dev')).code).toBe(0);
    expect((await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate')).code).toBe(0);
    await query(prod.url, `INSERT INTO "Wallet" (id, points) SELECT g, g * 3 FROM generate_series(1, 2000) g; ANALYZE "Wallet"`);
    p.write('prisma/schema.prisma', wallet('BigInt'));

    const r = await cli('migrate', 'dev', '--name', 'big points');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('ZDT009 "Wallet"."points" moves to bigint by expand/contract: "points_zdt_new" added and kept in step by a trigger, a batched backfill, its indexes built CONCURRENTLY, NOT NULL through a validated CHECK, then a short switch that gives it the name "points"');
    expect(r.stderr).not.toContain('not made safe');
    expect(dirs(p).slice(1).map((d) => d.replace(/^\d{14}_/, ''))).toEqual([
      'big_points',
      'big_points_02_backfill_points',
      'big_points_03_vacuum_wallet',
      'big_points_04_index_wallet_points_idx_zdt',
      'big_points_05_check',
      'big_points_06_validate',
      'big_points_07_not_null',
      'big_points_08_switch',
    ]);
    expect((await cli('migrate', 'dev')).stdout).toContain('nothing to create');
    const deploy = await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate');
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    expect(await query(prod.url, `SELECT format_type(atttypid, atttypmod) AS type, (SELECT sum(points)::text FROM "Wallet") AS sum FROM pg_attribute WHERE attrelid = '"Wallet"'::regclass AND attname = 'points'`)).toEqual([{ type: 'bigint', sum: String(3 * 2000 * 2001 / 2) }]);
  });
});

describe('stagedb lint --fix', () => {
  const INIT = 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT, "name" TEXT);\n';
  const M2 = '-- CreateIndex\nCREATE INDEX "User_name_idx" ON "User"("name");\n';
  const M3 = '-- AlterTable\nALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n\n-- CreateIndex\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n';

  async function project(extraEnvs: Record<string, unknown> = {}) {
    const dev = await freshDatabase('fix_dev');
    const prod = await freshDatabase('fix_prod');
    const config = { environments: { development: { url: { $env: 'DEV_URL' } }, production: { url: { $env: 'PROD_URL' }, ssl: 'disable' }, ...extraEnvs } };
    const p = createProject({ configJson: config, migrations: { '20240101000000_init': INIT, '20240102000000_name_index': M2 } });
    cleanups.push(() => dev.drop(), () => prod.drop(), () => p.remove());
    const cli = (...args: string[]) => runCli(args, { cwd: p.dir, env: { DEV_URL: dev.url, PROD_URL: prod.url } });
    // Production has both; the third migration is new, applied nowhere.
    expect((await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate', '--allow-hazards', 'empty table')).code).toBe(0);
    p.write('prisma/migrations/20240103000000_email_required/migration.sql', M3);
    return { p, cli, prod };
  }

  it('rewrites only what no environment has applied, says what it changed, and is idempotent', async () => {
    const { p, cli, prod } = await project();
    const r = await cli('lint', '--fix');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('left 20240102000000_name_index as it is: applied on production');
    expect(r.stdout).toContain('fixed 20240103000000_email_required → 4 migrations:');
    expect(r.stdout).toContain('ZDT004');
    expect(r.stdout).toContain('ZDT001');
    expect(sql(p, '20240102000000_name_index')).toBe(M2);
    expect(dirs(p).filter((d) => d.startsWith('20240103000000_email_required'))).toEqual([
      '20240103000000_email_required',
      '20240103000000_email_required_02_index_user_email_key',
      '20240103000000_email_required_03_validate',
      '20240103000000_email_required_04_not_null',
    ]);
    expect(sql(p, '20240103000000_email_required')).toContain('ADD CONSTRAINT "User_email_not_null_check" CHECK ("email" IS NOT NULL) NOT VALID;');
    const again = await cli('lint', '--fix');
    expect(again.stdout).toContain('0 migrations rewritten');
    // The rewritten ones deploy to production and leave no drift-inducing leftovers: the CHECK is gone, the column NOT NULL.
    await query(prod.url, `INSERT INTO "User" (email) SELECT 'u' || g FROM generate_series(1, 100) g`);
    const d = await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate');
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(await query(prod.url, `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'email'`)).toEqual([{ is_nullable: 'NO' }]);
    expect(await query(prod.url, `SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'User_email_not_null_check'`)).toEqual([{ n: 0 }]);
  });

  it('rewrites a type change with what it reads of the column in an environment at the state before it', async () => {
    const dev = await freshDatabase('fix_dev');
    const prod = await freshDatabase('fix_prod');
    const config = { environments: { development: { url: { $env: 'DEV_URL' } }, production: { url: { $env: 'PROD_URL' }, ssl: 'disable' } } };
    const p = createProject({ configJson: config, migrations: { '20240101000000_init': 'CREATE TABLE "W" ("id" INTEGER PRIMARY KEY, "n" INTEGER NOT NULL DEFAULT 0);\n' } });
    cleanups.push(() => dev.drop(), () => prod.drop(), () => p.remove());
    const cli = (...args: string[]) => runCli(args, { cwd: p.dir, env: { DEV_URL: dev.url, PROD_URL: prod.url } });
    expect((await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate')).code).toBe(0);
    await query(prod.url, `INSERT INTO "W" (id, n) SELECT g, g FROM generate_series(1, 500) g`);
    p.write('prisma/migrations/20240102000000_big_n/migration.sql', '-- AlterTable\nALTER TABLE "W" ALTER COLUMN "n" SET DATA TYPE BIGINT;\n');
    // Development has nothing applied: production is the environment at the state the new migration starts from.
    const r = await cli('lint', '--fix');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('fixed 20240102000000_big_n → 7 migrations:');
    expect(r.stdout).toContain('ZDT009 "W"."n" moves to bigint by expand/contract');
    const d = await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate');
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(await query(prod.url, `SELECT format_type(atttypid, atttypmod) AS type, (SELECT sum(n)::int FROM "W") AS sum FROM pg_attribute WHERE attrelid = '"W"'::regclass AND attname = 'n'`)).toEqual([{ type: 'bigint', sum: 125250 }]);
  });

  it('refuses, changing nothing, when an environment cannot be asked', async () => {
    const { p, cli } = await project({ staging: { url: { $env: 'STAGING_URL' } } });
    const r = await cli('lint', '--fix');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('staging could not be asked; nothing was changed');
    expect(r.stderr).toContain('fix: run it where every environment is reachable, or name the migrations you know are applied nowhere');
    expect(sql(p, '20240103000000_email_required')).toBe(M3);
  });
});
