import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { resolveMigration } from '../../src/history/resolve.js';
import { environmentStatus } from '../../src/history/status.js';
import { freshDatabase, type FreshDatabase, query } from '../helpers/db.js';
import { createProject, environmentFor, rejection, type ProjectSpec, type TempProject } from '../helpers/project.js';


interface Row {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

const rows = (url: string) => query<Row>(url, `SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name`);
const tables = async (url: string) =>
  (await query<{ t: string }>(url, `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.t);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(spec: ProjectSpec) {
  const db: FreshDatabase = await freshDatabase('resolve');
  const project: TempProject = createProject(spec);
  cleanups.push(() => db.drop(), () => project.remove());
  const env = environmentFor(db.url);
  return {
    db,
    project,
    deploy: () => deploy({ env, migrationsDir: project.migrationsDir }),
    resolve: (name: string, as: 'applied' | 'rolled-back') => resolveMigration({ env, migrationsDir: project.migrationsDir, name, as }),
    status: () => environmentStatus(env, readLocalHistory(project.migrationsDir)),
  };
}

const INIT = `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;
const POSTS = `CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL REFERENCES "User"("id"));\n`;
const BROKEN = `CREATE TABLE "Comment" ("id" SERIAL PRIMARY KEY);\nALTER TABLE "Comment" ADD COLUMN "postId" INTEGER REFERENCES "Posts"("id");\n`;
const FIXED = `CREATE TABLE "Comment" ("id" SERIAL PRIMARY KEY);\nALTER TABLE "Comment" ADD COLUMN "postId" INTEGER REFERENCES "Post"("id");\n`;

describe('a failed migration', () => {
  it('blocks the next deploy until resolved --rolled-back; then the fixed file deploys', async () => {
    const { db, project, deploy, resolve, status } = await setup({
      migrations: { '20240101000000_init': INIT, '20240102000000_posts': POSTS, '20240103000000_comments': BROKEN },
    });
    await expect(deploy()).rejects.toMatchObject({ code: 'E_MIGRATION_FAILED' });
    // The row as Prisma's own deploy leaves it: no stagedb record that nothing of it was committed.
    await query(db.url, `UPDATE _prisma_migrations SET logs = regexp_replace(logs, '\n\nstagedb: .*$', '') WHERE finished_at IS NULL`);

    // Even with the file fixed, the failed row blocks: Prisma's P3009.
    project.addMigration('20240103000000_comments', FIXED);
    project.addMigration('20240104000000_later', `CREATE TABLE "Later" ("id" INT);\n`);
    const blocked = await rejection(deploy());
    expect(blocked).toMatchInlineSnapshot(`
      {
        "code": "E_FAILED_MIGRATION",
        "details": [
          "Database error code: 42P01",
          "",
          "Database error:",
          "ERROR: relation "Posts" does not exist",
          "",
          "Position: line 2, column 1",
          "Statement: ALTER TABLE "Comment" ADD COLUMN "postId" INTEGER REFERENCES "Posts"("id")",
        ],
        "fix": "undo its partial changes, then: stagedb migrate resolve --rolled-back 20240103000000_comments --env development && stagedb deploy --env development; or, if you finish it by hand: stagedb migrate resolve --applied 20240103000000_comments --env development",
        "kind": "history",
        "message": "development: migration 20240103000000_comments failed (started <time>) and blocks new deploys (Prisma P3009)",
      }
    `);
    expect(await tables(db.url)).toEqual(['Post', 'User', '_prisma_migrations']);
    expect((await status()).state).toBe('blocked');

    const r = await resolve('20240103000000_comments', 'rolled-back');
    expect(r).toEqual({ env: 'development', name: '20240103000000_comments', as: 'rolled-back', rolledBackAttempts: 1 });
    expect((await status()).state).toBe('pending');

    const ok = await deploy();
    expect(ok.applied.map((a) => a.name)).toEqual(['20240103000000_comments', '20240104000000_later']);
    const recorded = await rows(db.url);
    const attempts = recorded.filter((x) => x.migration_name === '20240103000000_comments');
    // The failed attempt stays, marked rolled back; the new attempt is a separate, finished row.
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ finished_at: null, applied_steps_count: 0 });
    expect(attempts[0]!.rolled_back_at).toBeInstanceOf(Date);
    expect(attempts[0]!.logs).toContain('42P01');
    expect(attempts[1]).toMatchObject({ rolled_back_at: null, applied_steps_count: 1, logs: null });
    expect(attempts[1]!.finished_at).toBeInstanceOf(Date);
    expect((await status()).state).toBe('up-to-date');
  });

  it('resolved --applied after finishing it by hand: recorded as applied, the failed attempt retired', async () => {
    const { db, project, deploy, resolve, status } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_posts': POSTS, '20240103000000_comments': BROKEN } });
    await expect(deploy()).rejects.toMatchObject({ code: 'E_MIGRATION_FAILED' });
    // The operator runs the corrected SQL by hand and fixes the file to match.
    await query(db.url, FIXED);
    project.addMigration('20240103000000_comments', FIXED);

    const r = await resolve('20240103000000_comments', 'applied');
    expect(r).toEqual({ env: 'development', name: '20240103000000_comments', as: 'applied', rolledBackAttempts: 1 });
    const attempts = (await rows(db.url)).filter((x) => x.migration_name === '20240103000000_comments');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.rolled_back_at).toBeInstanceOf(Date);
    // Prisma records a resolved migration with applied_steps_count 0 and the current file's checksum.
    expect(attempts[1]).toMatchObject({ rolled_back_at: null, applied_steps_count: 0 });
    expect(attempts[1]!.finished_at).toBeInstanceOf(Date);
    expect(attempts[1]!.checksum).toBe(readLocalHistory(project.migrationsDir).migrations[2]!.checksum);
    expect((await status()).state).toBe('up-to-date');
    expect((await deploy()).applied).toEqual([]);
  });
});

describe('baselining a database that already has the schema', () => {
  it('deploy refuses (E_NOT_BASELINED) until resolve --applied; then deploys only the rest', async () => {
    const { db, deploy, resolve, status } = await setup({
      migrations: { '20240101000000_init': INIT, '20240102000000_posts': POSTS, '20240103000000_comments': FIXED },
    });
    // A database made before the project used migrations: the first migration's schema is already there.
    await query(db.url, INIT);
    await query(db.url, `INSERT INTO "User" (email) VALUES ('existing@example.com')`);

    const err = await rejection(deploy());
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_NOT_BASELINED",
        "fix": "baseline it: stagedb migrate resolve --applied 20240101000000_init --env development   (for each migration already reflected in the database), then deploy again",
        "kind": "history",
        "message": "development: schema "public" already has 2 objects but no _prisma_migrations table, so stagedb cannot tell which migrations it already has (Prisma P3005)",
      }
    `);
    // Nothing was written: not even the history table.
    expect(await tables(db.url)).toEqual(['User']);
    // status says what deploy says: blocked until baselined.
    expect(await status()).toMatchObject({ state: 'blocked', uninitialized: true, error: { code: 'E_NOT_BASELINED' } });

    const r = await resolve('20240101000000_init', 'applied');
    expect(r).toMatchObject({ as: 'applied', rolledBackAttempts: 0 });
    const [baseline] = await rows(db.url);
    expect(baseline).toMatchObject({ migration_name: '20240101000000_init', applied_steps_count: 0, rolled_back_at: null, logs: '' }); // '' as Prisma's markMigrationApplied writes it
    expect(baseline!.finished_at).toBeInstanceOf(Date);

    const result = await deploy();
    expect(result.applied.map((a) => a.name)).toEqual(['20240102000000_posts', '20240103000000_comments']);
    expect(result.alreadyApplied).toBe(1);
    expect(await tables(db.url)).toEqual(['Comment', 'Post', 'User', '_prisma_migrations']);
    expect(await query(db.url, `SELECT email FROM "User"`)).toEqual([{ email: 'existing@example.com' }]);
  });

  it('counts enums (types) as existing objects too', async () => {
    const { db, deploy } = await setup({ migrations: { '20240101000000_init': INIT } });
    await query(db.url, `CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN')`);
    await expect(deploy()).rejects.toMatchObject({ code: 'E_NOT_BASELINED' });
  });
});

describe('resolve refuses what makes no sense', () => {
  it('an unknown migration name (P3017), --applied twice (P3008), rolling back an applied or never-run migration (P3012, P3011)', async () => {
    const { db, deploy, resolve } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_posts': POSTS } });
    expect(await rejection(resolve('20240101000000_typo', 'applied'))).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_UNKNOWN",
        "fix": "use a directory name from the folder, e.g. stagedb migrate resolve --applied 20240101000000_init --env development",
        "kind": "usage",
        "message": "development: there is no migration named 20240101000000_typo in the migrations folder (Prisma P3017)",
      }
    `);
    expect(await rejection(resolve('20240101000000_init', 'rolled-back'))).toMatchInlineSnapshot(`
      {
        "code": "E_NEVER_APPLIED",
        "fix": "see the history: stagedb status --env development",
        "kind": "history",
        "message": "development: migration 20240101000000_init has no failed attempt to roll back (Prisma P3011)",
      }
    `);
    expect(await tables(db.url)).toEqual([]);

    await deploy();
    expect(await rejection(resolve('20240101000000_init', 'applied'))).toMatchInlineSnapshot(`
      {
        "code": "E_ALREADY_APPLIED",
        "fix": "nothing to do; see: stagedb status --env development",
        "kind": "history",
        "message": "development: migration 20240101000000_init is already recorded as applied (Prisma P3008)",
      }
    `);
    expect(await rejection(resolve('20240102000000_posts', 'rolled-back'))).toMatchInlineSnapshot(`
      {
        "code": "E_NOT_FAILED",
        "fix": "see the history: stagedb status --env development",
        "kind": "history",
        "message": "development: migration 20240102000000_posts is applied, not failed: only a failed migration can be marked rolled back (Prisma P3012)",
      }
    `);
    expect(await rows(db.url)).toHaveLength(2);
  });
});
