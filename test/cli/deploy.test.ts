import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_CLASS, LOCK_WORKFLOW } from '../../src/guard/lock.js';
import { forbidInOutput, normalize, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject, type ProjectSpec, type TempProject } from '../helpers/project.js';

/** `migrate deploy`, `deploy` and `migrate resolve` through the built binary, against real databases. */
const INIT = `-- CreateTable\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;
const INDEX = `-- Build without locking writes\nCREATE INDEX CONCURRENTLY "User_email_idx" ON "User" ("email");\n`;
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

async function setup(spec: ProjectSpec): Promise<{ db: FreshDatabase; p: TempProject; cli: (...args: string[]) => ReturnType<typeof runCli>; shown: Record<string, string> }> {
  const db = await freshDatabase('cli_deploy');
  forbidInOutput(passwordOf(db.url));
  const p = createProject({ envFiles: { '.env': { DATABASE_URL: db.url } }, ...spec });
  cleanups.push(() => db.drop(), () => p.remove());
  const shown = { [db.name]: '<db>', [`127.0.0.1:${new URL(db.url).port}`]: '127.0.0.1:<port>' };
  return { db, p, cli: (...args) => runCli(args, { cwd: p.dir }), shown };
}

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t);
  } finally {
    await c.end();
  }
}

describe('stagedb migrate deploy', () => {
  it('prints each step and how each file runs; a second run is a no-op (exit 0 both times)', async () => {
    const { cli, shown } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_email_idx': INDEX } });
    const first = await cli('migrate', 'deploy');
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    expect(normalize(first.stdout, shown)).toMatchInlineSnapshot(`
      "development: 127.0.0.1:<port>/<db> (schema public, via url (env DATABASE_URL), protection none)
      development: created _prisma_migrations
      development: PostgreSQL <version>, 2 pending migrations
        applied  20240101000000_init (<ms> ms)
        applying 20240102000000_email_idx [CREATE INDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own]
        applied  20240102000000_email_idx (<ms> ms)
      development: applied 2 migrations (0 already applied before)."
    `);
    const second = await cli('migrate', 'deploy');
    expect(second.code).toBe(0);
    expect(normalize(second.stdout, shown)).toMatchInlineSnapshot(`
      "development: 127.0.0.1:<port>/<db> (schema public, via url (env DATABASE_URL), protection none)
      development: PostgreSQL <version>, 0 pending migrations
      development: already up to date (2 applied)."
    `);
    expect((await cli('status')).code).toBe(0);
  });

  it('--json: the result on stdout, progress on stderr', async () => {
    const { cli } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_email_idx': INDEX } });
    const r = await cli('migrate', 'deploy', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { env: string; serverVersion: string; applied: Array<{ name: string; mode: string; ms: number }>; alreadyApplied: number };
    expect(out).toEqual({
      env: 'development',
      serverVersion: expect.any(String),
      applied: [
        { name: '20240101000000_init', mode: 'transaction', ms: expect.any(Number) },
        { name: '20240102000000_email_idx', mode: 'statements', ms: expect.any(Number) },
      ],
      alreadyApplied: 0,
    });
    expect(r.stderr).toContain('applying 20240102000000_email_idx [CREATE INDEX CONCURRENTLY');
  });

  it("the guide's `deploy` without a Prisma CLI in the project: applies, says generation was skipped and how to fix it", async () => {
    const { cli } = await setup({ migrations: { '20240101000000_init': INIT } });
    const r = await cli('deploy', '--env', 'development');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('development: applied 1 migration (0 already applied before).');
    expect(r.stderr).toContain('warning: development: client generation skipped: the Prisma CLI is not installed in this project');
    expect(r.stderr).toContain('npm install --save-dev prisma');
  });

  it("the guide's `deploy` with the project's Prisma CLI: applies, then generates the client without downloading an engine", async () => {
    const schema = `generator client {\n  provider = "prisma-client"\n  output   = "../generated/prisma"\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String\n}\n`;
    const { p, cli } = await setup({ migrations: { '20240101000000_init': INIT }, schema });
    // The project's dependencies: lend it the repository's (which include prisma).
    symlinkSync(join(import.meta.dirname, '..', '..', 'node_modules'), p.path('node_modules'));
    const r = await cli('deploy', '--env', 'development');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('development: applied 1 migration (0 already applied before).');
    expect(r.stdout).toMatch(/Generated Prisma Client \(7\.\d+\.\d+\) to \.\/generated\/prisma/);
    expect(r.stdout).toMatch(/generated the Prisma client \(Prisma 7\.\d+\.\d+, \d+ ms\)\./);
    expect(r.stdout + r.stderr).not.toContain('binaries.prisma.sh');
    expect(existsSync(p.path('generated/prisma/client.ts'))).toBe(true);
  });

  it('a failing migration: exit 2, located, nothing of it committed; the fixed file deploys with no resolve', async () => {
    const { db, p, cli, shown } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_posts': BROKEN } });
    const failed = await cli('migrate', 'deploy');
    expect(failed.code).toBe(2);
    expect(normalize(failed.stderr, shown)).toMatchInlineSnapshot(`
      "error: development: migration 20240102000000_posts failed: relation "Users" does not exist
        at 20240102000000_posts/migration.sql:5:1
        statement: ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "Users"("id")
        PostgreSQL error 42P01
        committed: nothing of it was committed (it ran in one transaction)
        applied before it in this run: 20240101000000_init
        fix: fix migration.sql, then: stagedb deploy --env development   (nothing of it was committed: deploy runs it again; if you complete it by hand instead: stagedb migrate resolve --applied 20240102000000_posts --env development)"
    `);
    expect(await tables(db.url)).toEqual(['User', '_prisma_migrations']);

    // Nothing of it was committed (one transaction): once the file is fixed, a plain deploy runs it
    // again, with no migrate resolve (issue 15 item 5); status calls it pending, not failed.
    p.addMigration('20240102000000_posts', FIXED);
    const st = await cli('status');
    expect(st.code).toBe(1);
    expect(st.stdout).toContain('(its attempt started ');
    expect(st.stdout).toContain('failed with nothing committed: deploy runs it again)');
    const ok = await cli('migrate', 'deploy');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('  retrying 20240102000000_posts: its attempt started ');
    expect(await tables(db.url)).toEqual(['Post', 'User', '_prisma_migrations']);
    expect((await cli('status')).code).toBe(0);
  });

  it('baselining through the CLI: E_NOT_BASELINED (exit 2), resolve --applied, then deploy applies the rest', async () => {
    const { db, cli, shown } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_posts': FIXED } });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(INIT);
    await c.end();
    const refused = await cli('migrate', 'deploy');
    expect(refused.code).toBe(2);
    expect(normalize(refused.stderr, shown)).toMatchInlineSnapshot(`
      "error: development: schema "public" already has 2 objects but no _prisma_migrations table, so stagedb cannot tell which migrations it already has (Prisma P3005)
        fix: baseline it: stagedb migrate resolve --applied 20240101000000_init --env development   (for each migration already reflected in the database), then deploy again"
    `);
    expect((await cli('migrate', 'resolve', '--applied', '20240101000000_init')).code).toBe(0);
    const ok = await cli('migrate', 'deploy');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('development: applied 1 migration (1 already applied before).');
  });

  it('a refusal after --url gives fix lines for the same database: --url carried over, never its password (issue 19 item 9)', async () => {
    const { db, p, cli, shown } = await setup({ migrations: { '20240101000000_init': INIT } });
    const other = await freshDatabase('cli_deploy_other');
    cleanups.push(() => other.drop());
    const c = new pg.Client({ connectionString: other.url });
    await c.connect();
    await c.query(INIT);
    await c.end();
    const refused = await cli('migrate', 'deploy', '--url', other.url);
    expect(refused.code).toBe(2);
    const password = decodeURIComponent(new URL(other.url).password);
    expect(refused.all).not.toContain(password);
    const noPassword = new URL(other.url);
    noPassword.password = '';
    expect(normalize(refused.stderr, { ...shown, [other.name]: '<other>', [`//${noPassword.username}@`]: '//<user>@' })).toMatchInlineSnapshot(`
      "error: development: schema "public" already has 2 objects but no _prisma_migrations table, so stagedb cannot tell which migrations it already has (Prisma P3005)
        fix: baseline it: stagedb migrate resolve --applied 20240101000000_init --env development --url postgresql://<user>@127.0.0.1:<port>/<other>   (for each migration already reflected in the database), then deploy again   (the --url is shown without its password: set PGPASSWORD before running it)"
    `);
    // The fix line, run as printed (the password from PGPASSWORD), acts on the --url database, not on development's.
    const line = /stagedb (migrate resolve [^(]*?)\s{3}/.exec(refused.stderr)![1]!;
    const argv = line.trim().split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
    const resolved = await runCli(argv, { cwd: p.dir, env: { PGPASSWORD: password } });
    expect(resolved.code, resolved.all).toBe(0);
    const recorded = async (url: string) => {
      const k = new pg.Client({ connectionString: url });
      await k.connect();
      try {
        return (await k.query(`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS t`)).rows[0].t as boolean;
      } finally {
        await k.end();
      }
    };
    expect(await recorded(other.url)).toBe(true);
    expect(await recorded(db.url)).toBe(false);
  });

  it('an out-of-order migration: status advises the command that works, and it does (issue 12 item 8)', async () => {
    const { p, cli } = await setup({ migrations: { '20240101000000_init': INIT, '20240103000000_third': `CREATE TABLE "Third" ("id" INT);\n` } });
    expect((await cli('migrate', 'deploy')).code).toBe(0);
    p.addMigration('20240102000000_from_old_branch', `CREATE TABLE "Second" ("id" INT);\n`);
    const st = await cli('status');
    expect(st.code).toBe(1);
    const advice = /apply with: stagedb (.*?)(\s{3}|$)/m.exec(st.stdout)![1]!;
    expect(advice).toBe('migrate deploy --allow-out-of-order --env development');
    expect((await cli(...advice.split(' '))).code).toBe(0);
    expect((await cli('status')).code).toBe(0);
  });

  it('an edited applied migration: exit 2 unless --allow-modified', async () => {
    const { p, cli } = await setup({ migrations: { '20240101000000_init': INIT } });
    expect((await cli('migrate', 'deploy')).code).toBe(0);
    p.addMigration('20240101000000_init', `${INIT}-- tweak\n`);
    const refused = await cli('migrate', 'deploy');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error: development: applied migration 20240101000000_init changed on disk since it was applied');
    expect((await cli('status')).stdout).toContain('MODIFIED  20240101000000_init');
    expect((await cli('migrate', 'deploy', '--allow-modified')).code).toBe(0);
  });

  it('a held deploy lock: exit 5 after --lock-timeout, naming the holder', async () => {
    const { db, cli } = await setup({ migrations: { '20240101000000_init': INIT } });
    const holder = new pg.Client({ connectionString: db.url, application_name: 'ci-job-8812' });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, LOCK_WORKFLOW]);
    const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const r = await cli('migrate', 'deploy', '--lock-timeout', '0.3');
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(`development: waiting for the deploy lock held by pid ${pid} (ci-job-8812)…`);
    expect(r.stderr).toContain(`another stagedb run holds the deploy lock (pid ${pid}, ci-job-8812, user postgres`);
    expect(r.stderr).toContain(`SELECT pg_terminate_backend(${pid});`);
    expect(await tables(db.url)).toEqual([]);
  });
});
