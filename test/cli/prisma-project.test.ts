import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, DEFAULT_SCHEMA, type ProjectSpec, type TempProject } from '../helpers/project.js';

/**
 * A plain Prisma project (no stagedb config) through the built binary, on real PostgreSQL:
 * prisma.config.ts read as the TypeScript it is (issue 19.3), the shadow database it or the schema
 * names (19.5), and seeding as the project's Prisma version does it (19.6).
 */
const MIGRATIONS = { '20240101000000_init': `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n` };
const databases: FreshDatabase[] = [];
const projects: TempProject[] = [];
const role = `noshadow_${process.pid}`;
const rolePw = 'Rl9-no-createdb-pw';
forbidInOutput(rolePw);

async function db(prefix: string): Promise<FreshDatabase> {
  const d = await freshDatabase(prefix);
  forbidInOutput(passwordOf(d.url));
  databases.push(d);
  return d;
}
function project(spec: ProjectSpec): TempProject {
  const p = createProject(spec);
  projects.push(p);
  return p;
}
const tables = async (url: string) => (await query<{ t: string }>(url, `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.t);

beforeAll(async () => {
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
  await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD '${rolePw}' NOCREATEDB`);
});
afterAll(async () => {
  for (const p of projects) p.remove();
  for (const d of databases) await d.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
});

/** A seed that records which one ran, in a file of the project. */
const seedWriting = (label: string) => `node -e "require('fs').writeFileSync('seeded.txt', '${label}')"`;

describe('prisma.config.ts is read as TypeScript: commented-out lines do not count (issue 19.3)', () => {
  it('deploy goes to the url the config really names, and seed runs the seed it really names', async () => {
    const [app, other] = [await db('p19_app'), await db('p19_other')];
    const p = project({
      migrations: MIGRATIONS,
      schema: false,
      files: {
        'db/schema.prisma': DEFAULT_SCHEMA,
        'prisma.config.ts': `import 'dotenv/config';
import { defineConfig, env } from 'prisma/config';

export default defineConfig({
  // schema: 'prisma/schema.prisma',
  schema: 'db/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    // seed: ${JSON.stringify(seedWriting('commented'))},
    /* seed: 'node wipe-everything.mjs', */
    seed: ${JSON.stringify(seedWriting('real'))},
  },
  datasource: {
    // url: env('OTHER_DATABASE_URL'),
    url: env('APP_DATABASE_URL'),
  },
});
`,
        '.env': `OTHER_DATABASE_URL="${other.url}"\nAPP_DATABASE_URL="${app.url}"\n`,
      },
    });
    const r = await runCli(['migrate', 'deploy'], { cwd: p.dir });
    expect(r.code, r.all).toBe(0);
    expect(await tables(app.url)).toEqual(['User', '_prisma_migrations']);
    expect(await tables(other.url)).toEqual([]);

    const env = await runCli(['env', '--json'], { cwd: p.dir });
    expect(JSON.parse(env.stdout)).toMatchObject({ schema: p.path('db/schema.prisma') });

    const seed = await runCli(['seed'], { cwd: p.dir });
    expect(seed.code, seed.all).toBe(0);
    expect(readFileSync(p.path('seeded.txt'), 'utf8')).toBe('real');
  });

  it('prisma.config.ts is evaluated without the project having prisma installed, and .env is not loaded into stagedb by dotenv/config', async () => {
    const app = await db('p19_dotenv');
    const p = project({
      migrations: MIGRATIONS,
      files: {
        // Computed in code: no pattern could find this name.
        'prisma.config.ts': `import 'dotenv/config';\nimport { config } from 'dotenv';\nimport { defineConfig, env } from 'prisma/config';\nconfig({ path: '.env' });\nconst name = ['APP', 'URL'].join('_');\nexport default defineConfig({ datasource: { url: env(name) } });\n`,
        // .env names development's database; staging has its own file. Were .env loaded into the
        // process, its APP_URL would count as a shell variable and win over .env.staging's.
        '.env': `APP_URL="postgresql://nobody:x@127.0.0.1:1/nowhere"\n`,
        '.env.staging': `APP_URL="${app.url}"\n`,
      },
    });
    const r = await runCli(['deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: p.dir });
    expect(r.code, r.all).toBe(0);
    expect(await tables(app.url)).toContain('_prisma_migrations');
  });
});

describe('shadowDatabaseUrl from the Prisma project is passed on (issue 19.5)', () => {
  /** The main and shadow databases, owned by a role that may not create databases. */
  async function restricted(prefix: string) {
    const [main, shadow] = [await db(`${prefix}_main`), await db(`${prefix}_shadow`)];
    await query(adminUrl(), `ALTER DATABASE ${main.name} OWNER TO ${role}; ALTER DATABASE ${shadow.name} OWNER TO ${role}`);
    for (const x of [main, shadow]) await query(x.url, `ALTER SCHEMA public OWNER TO ${role}`);
    const as = (url: string) => {
      const u = new URL(url);
      u.username = role;
      u.password = rolePw;
      return u.toString();
    };
    return { main, url: as(main.url), shadowUrl: as(shadow.url) };
  }

  it("from the schema's datasource (Prisma 6)", async () => {
    const r = await restricted('p19s6');
    const p = project({
      schema: DEFAULT_SCHEMA.replace('provider = "postgresql"', 'provider = "postgresql"\n  url = env("DATABASE_URL")\n  shadowDatabaseUrl = env("SHADOW_DATABASE_URL")'),
      envFiles: { '.env': { DATABASE_URL: r.url, SHADOW_DATABASE_URL: r.shadowUrl } },
    });
    const out = await runCli(['migrate', 'dev', '--name', 'init'], { cwd: p.dir });
    expect(out.code, out.all).toBe(0);
    expect(await tables(r.main.url)).toEqual(['User', '_prisma_migrations']);
  });

  it('from prisma.config.ts', async () => {
    const r = await restricted('p19s7');
    const p = project({
      files: { 'prisma.config.ts': `import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({ datasource: { url: env('DATABASE_URL'), shadowDatabaseUrl: env('SHADOW_DATABASE_URL') } });\n` },
      envFiles: { '.env': { DATABASE_URL: r.url, SHADOW_DATABASE_URL: r.shadowUrl } },
    });
    const out = await runCli(['migrate', 'dev', '--name', 'init'], { cwd: p.dir });
    expect(out.code, out.all).toBe(0);
    expect(await tables(r.main.url)).toEqual(['User', '_prisma_migrations']);
  });
});

describe('seeding follows the Prisma version of the project (issue 19.6)', () => {
  const pkgWithSeed = (prismaVersion?: string) => ({
    name: 'seeding-app',
    private: true,
    prisma: { seed: seedWriting('package.json') },
    ...(prismaVersion ? { devDependencies: { prisma: prismaVersion } } : {}),
  });

  it('Prisma 7 (prisma.config.ts): package.json prisma.seed is not a seed, and reset does not seed', async () => {
    const d = await db('p19_seed7');
    const p = project({
      migrations: MIGRATIONS,
      packageJson: pkgWithSeed('7.1.0'),
      files: { 'prisma.config.ts': `import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({ datasource: { url: env('DATABASE_URL') } });\n` },
      envFiles: { '.env': { DATABASE_URL: d.url } },
    });
    const env = await runCli(['env'], { cwd: p.dir });
    expect(env.stdout).toContain('prisma: 7 (prisma 7.1.0 in package.json): no seed after a reset (stagedb seed runs it)');
    const reset = await runCli(['migrate', 'reset', '--force'], { cwd: p.dir });
    expect(reset.code, reset.all).toBe(0);
    expect(existsSync(p.path('seeded.txt'))).toBe(false);
    const seed = await runCli(['seed'], { cwd: p.dir });
    expect(seed.code).toBe(3);
    expect(seed.stderr).toMatchInlineSnapshot(`
      "error: no seed command is configured; package.json "prisma.seed" is not read: this project uses Prisma 7 (prisma 7.1.0 in package.json), which reads the seed from migrations.seed in prisma.config.ts
        fix: add migrations: { seed: 'tsx prisma/seed.ts' } to prisma.config.ts
      "
    `);

    // With migrations.seed: `stagedb seed` runs it; reset still does not.
    p.write('prisma.config.ts', `import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({ migrations: { seed: ${JSON.stringify(seedWriting('config'))} }, datasource: { url: env('DATABASE_URL') } });\n`);
    const again = await runCli(['migrate', 'reset', '--force'], { cwd: p.dir });
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain('stagedb seed');
    expect(existsSync(p.path('seeded.txt'))).toBe(false);
    const seeded = await runCli(['seed'], { cwd: p.dir });
    expect(seeded.code, seeded.all).toBe(0);
    expect(readFileSync(p.path('seeded.txt'), 'utf8')).toBe('config');
  });

  it('Prisma 6 (no prisma.config.ts, prisma 6 in package.json): package.json prisma.seed runs after a reset', async () => {
    const d = await db('p19_seed6');
    const p = project({ migrations: MIGRATIONS, packageJson: pkgWithSeed('^6.19.0'), envFiles: { '.env': { DATABASE_URL: d.url } } });
    const reset = await runCli(['migrate', 'reset', '--force'], { cwd: p.dir });
    expect(reset.code, reset.all).toBe(0);
    expect(readFileSync(p.path('seeded.txt'), 'utf8')).toBe('package.json');
  });

  it("a stagedb config's explicit seed wins over prisma.config.ts's", async () => {
    const d = await db('p19_seedcfg');
    const p = project({
      migrations: MIGRATIONS,
      packageJson: pkgWithSeed('7.1.0'),
      configJson: { seed: seedWriting('stagedb'), environments: { development: { url: { $env: 'DATABASE_URL' } } } },
      files: { 'prisma.config.ts': `import { defineConfig } from 'prisma/config';\nexport default defineConfig({ migrations: { seed: ${JSON.stringify(seedWriting('config'))} } });\n` },
      envFiles: { '.env': { DATABASE_URL: d.url } },
    });
    const seeded = await runCli(['seed'], { cwd: p.dir });
    expect(seeded.code, seeded.all).toBe(0);
    expect(readFileSync(p.path('seeded.txt'), 'utf8')).toBe('stagedb');
  });
});
