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
    expect(second).toMatch(/^\d{14}_user_name_index_user_name_idx$/);
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
