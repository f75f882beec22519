import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { environmentStatus } from '../../src/history/status.js';
import { freshDatabase, type FreshDatabase, query } from '../helpers/db.js';
import { createProject, environmentFor, rejection, type ProjectSpec, type TempProject } from '../helpers/project.js';


interface Row {
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
  checksum: string;
}

const rows = (url: string) => query<Row>(url, `SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name`);
const tables = async (url: string) =>
  (await query<{ t: string }>(url, `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.t);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(spec: ProjectSpec): Promise<{ db: FreshDatabase; project: TempProject; run: ((o?: Partial<Parameters<typeof deploy>[0]>) => ReturnType<typeof deploy>) & { db: () => Promise<FreshDatabase> } }> {
  const db = await freshDatabase('fail');
  const project = createProject(spec);
  cleanups.push(() => db.drop(), () => project.remove());
  const run = Object.assign((o: Partial<Parameters<typeof deploy>[0]> = {}) => deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, ...o }), { db: async () => db });
  return { db, project, run };
}

/** The library shows paths relative to the process's working directory, as a user in a shell sees them. */
const shown = (project: TempProject) => ({ [relative(process.cwd(), project.dir)]: '<project>' });

const INIT = `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;

describe('a migration that fails', () => {
  it('in transaction mode leaves no partial change, records a failed row, and locates the statement', async () => {
    const bad = `-- CreateTable
CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL);

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey"
    FOREIGN KEY ("authorId") REFERENCES "Author"("id");
`;
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_posts': bad } });
    const err = await rejection(run(), shown(project));
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_FAILED",
        "details": [
          "at 20240102000000_posts/migration.sql:5:1",
          "statement: ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" …",
          "PostgreSQL error 42P01",
          "committed: nothing of it was committed (it ran in one transaction)",
          "applied before it in this run: 20240101000000_init",
        ],
        "fix": "fix migration.sql, then: stagedb deploy --env development   (nothing of it was committed: deploy runs it again; if you complete it by hand instead: stagedb migrate resolve --applied 20240102000000_posts --env development)",
        "kind": "migration",
        "message": "development: migration 20240102000000_posts failed: relation "Author" does not exist",
      }
    `);

    // The first migration committed; nothing of the failing one did: "Post" would exist otherwise.
    expect(await tables(db.url)).toEqual(['User', '_prisma_migrations']);
    const [init, posts] = await rows(db.url);
    expect(init).toMatchObject({ migration_name: '20240101000000_init', applied_steps_count: 1, logs: null });
    expect(posts).toMatchObject({ migration_name: '20240102000000_posts', finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(posts!.logs).toMatchInlineSnapshot(`
      "Database error code: 42P01

      Database error:
      ERROR: relation "Author" does not exist

      Position: line 5, column 1
      Statement: ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey"
          FOREIGN KEY ("authorId") REFERENCES "Author"("id")

      stagedb: nothing of it was committed (it ran in one transaction)
      stagedb-progress: {"v":1,"mode":"transaction","statements":2,"committed":0}"
    `);
  });

  it('in statements mode reports how many statements were committed', async () => {
    const file = `CREATE TABLE "Tag" ("id" SERIAL PRIMARY KEY, "name" TEXT NOT NULL);
CREATE INDEX CONCURRENTLY "Tag_name_idx" ON "Tag" ("name");
INSERT INTO "Tag" ("name") VALUES ('a'), ('b');
ALTER TABLE "Tag" ALTER COLUMN "name" TYPE INTEGER USING "name"::integer;
CREATE TABLE "Never" ("id" INT);
`;
    const { db, run } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_tags': file } });
    const err = await rejection(run());
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_FAILED",
        "details": [
          "at 20240102000000_tags/migration.sql:4:1",
          "statement: ALTER TABLE "Tag" ALTER COLUMN "name" TYPE INTEGER USING "name"::integer",
          "PostgreSQL error 22P02",
          "committed: statements 1–3 of 5 (lines 1–3) were committed; statements 4–5 (lines 4–5) were not",
          "applied before it in this run: 20240101000000_init",
        ],
        "fix": "fix migration.sql, then either undo what statements 1–3 did, then: stagedb migrate resolve --rolled-back 20240102000000_tags --env development && stagedb deploy --env development   (the whole file runs again); or finish it by hand — run statements 4–5 — then: stagedb migrate resolve --applied 20240102000000_tags --env development",
        "kind": "migration",
        "message": "development: migration 20240102000000_tags failed: invalid input syntax for type integer: "a"",
      }
    `);
    expect(await tables(db.url)).toEqual(['Tag', 'User', '_prisma_migrations']);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM "Tag"`)).toEqual([{ n: 2 }]);
    const [, tags] = await rows(db.url);
    expect(tags).toMatchObject({ migration_name: '20240102000000_tags', finished_at: null, applied_steps_count: 0 });
    expect(tags!.logs).toContain('22P02');
  });

  it('in statements mode, failing on the first statement, says nothing was committed', async () => {
    const { run } = await setup({ migrations: { '20240101000000_idx': `CREATE INDEX CONCURRENTLY "x_idx" ON "Missing" ("id");\n` } });
    const err = await rejection(run());
    expect(err.details).toMatchInlineSnapshot(`
      [
        "at 20240101000000_idx/migration.sql:1:1",
        "statement: CREATE INDEX CONCURRENTLY "x_idx" ON "Missing" ("id")",
        "PostgreSQL error 42P01",
        "committed: its one statement was not committed",
      ]
    `);
  });

  it('points at the exact line and column when PostgreSQL gives a position inside a statement', async () => {
    const file = `CREATE TABLE "Order" ("id" SERIAL PRIMARY KEY);\n\n-- AddColumn\nALTER TABLE "Order" ADD COLUMN "total" INTEGR NOT NULL;\n`;
    const { db, run } = await setup({ migrations: { '20240101000000_orders': file } });
    const err = await rejection(run());
    expect(err.details?.slice(0, 3)).toMatchInlineSnapshot(`
      [
        "at 20240101000000_orders/migration.sql:4:40",
        "statement: ALTER TABLE "Order" ADD COLUMN "total" INTEGR NOT NULL",
        "PostgreSQL error 42704",
      ]
    `);
    expect(await tables(db.url)).toEqual(['_prisma_migrations']);
  });

  it('sends a file whole when its statement boundaries are uncertain, and still applies it in one transaction', async () => {
    // Semicolons inside a multi-action rule's parentheses: splitting there would break the file.
    const file = `CREATE TABLE "A" ("id" INT);\nCREATE TABLE "B" ("id" INT);\nCREATE TABLE "C" ("id" INT);\nCREATE RULE "copy" AS ON INSERT TO "A" DO ALSO (INSERT INTO "B" VALUES (NEW."id"); INSERT INTO "C" VALUES (NEW."id"));\n`;
    const { db, run } = await setup({ migrations: { '20240101000000_rule': file } });
    const result = await run();
    expect(result.applied.map((a) => a.mode)).toEqual(['transaction']);
    await query(db.url, `INSERT INTO "A" VALUES (7)`);
    expect(await query(db.url, `SELECT (SELECT count(*)::int FROM "B") AS b, (SELECT count(*)::int FROM "C") AS c`)).toEqual([{ b: 1, c: 1 }]);
  });

  it('in a file with its own BEGIN/COMMIT rolls the file back and says what may have committed', async () => {
    const file = `BEGIN;\nCREATE TABLE "Half" ("id" INT);\nSELECT 1/0;\nCOMMIT;\n`;
    const { db, run } = await setup({ migrations: { '20240101000000_half': file } });
    const err = await rejection(run());
    expect(err.code).toBe('E_MIGRATION_FAILED');
    expect(err.details).toMatchInlineSnapshot(`
      [
        "at 20240101000000_half/migration.sql:3:1",
        "statement: SELECT 1/0",
        "PostgreSQL error 22012",
        "committed: none of its 4 statements was committed",
      ]
    `);
    expect(await tables(db.url)).toEqual(['_prisma_migrations']);
    const [row] = await rows(db.url);
    expect(row).toMatchObject({ finished_at: null, applied_steps_count: 0 });
    expect(row!.logs).toContain('22012');
  });
});

describe('deploy refuses a history it cannot trust, before changing anything', () => {
  it('an applied migration whose file changed (E_MODIFIED_MIGRATION), unless allowModified', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT } });
    await run();
    project.addMigration('20240101000000_init', `${INIT}-- edited after it was applied\nALTER TABLE "User" ADD COLUMN "name" TEXT;\n`);
    project.addMigration('20240102000000_next', `CREATE TABLE "Next" ("id" INT);\n`);
    const err = await rejection(run(), { [project.migrationsDir]: '<migrations>' });
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MODIFIED_MIGRATION",
        "fix": "restore the file from version control (git log -p -- <migrations>/20240101000000_init/migration.sql) and put new changes in a new migration; to deploy anyway: stagedb deploy --allow-modified --env development",
        "kind": "history",
        "message": "development: applied migration 20240101000000_init changed on disk since it was applied",
      }
    `);
    expect(await tables(db.url)).toEqual(['User', '_prisma_migrations']);

    const status = await environmentStatus(environmentFor(db.url), readLocalHistory(project.migrationsDir));
    expect(status.state).toBe('blocked');
    expect(status.history?.modified.map((m) => m.name)).toEqual(['20240101000000_init']);

    const ok = await run({ allowModified: true });
    expect(ok.applied.map((a) => a.name)).toEqual(['20240102000000_next']);
    // The edited file is not re-run: allowing a modified migration never re-applies it.
    expect(await query(db.url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'name'`)).toEqual([]);
  });

  it('a file whose only change is CRLF line endings is not "modified" (Prisma tolerates it)', async () => {
    const { project, run } = await setup({ migrations: { '20240101000000_init': `CREATE TABLE "A" ("id" INT);\nCREATE TABLE "B" ("id" INT);\n` } });
    await run();
    project.addMigration('20240101000000_init', `CREATE TABLE "A" ("id" INT);\r\nCREATE TABLE "B" ("id" INT);\r\n`);
    const again = await run();
    expect(again).toMatchObject({ applied: [], alreadyApplied: 1 });
  });

  it('a migration applied in the database but missing from the folder (E_MISSING_MIGRATION), unless allowMissing', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_gone': `CREATE TABLE "Gone" ("id" INT);\n` } });
    await run();
    rmSync(join(project.migrationsDir, '20240102000000_gone'), { recursive: true });
    project.addMigration('20240103000000_next', `CREATE TABLE "Next" ("id" INT);\n`);
    const err = await rejection(run());
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MISSING_MIGRATION",
        "fix": "pull the branch that added it (git pull), or deploy anyway: stagedb deploy --allow-missing --env development",
        "kind": "history",
        "message": "development: the database has applied migration not in the folder: 20240102000000_gone",
      }
    `);
    expect(await tables(db.url)).toEqual(['Gone', 'User', '_prisma_migrations']);

    const ok = await run({ allowMissing: true });
    expect(ok.applied.map((a) => a.name)).toEqual(['20240103000000_next']);
  });

  it('a pending migration that sorts before the newest applied one (E_OUT_OF_ORDER), unless allowOutOfOrder', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT, '20240103000000_third': `CREATE TABLE "Third" ("id" INT);\n` } });
    await run();
    // Someone merges a branch whose migration was created earlier.
    project.addMigration('20240102000000_from_old_branch', `CREATE TABLE "Second" ("id" INT);\n`);
    const err = await rejection(run());
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_OUT_OF_ORDER",
        "fix": "check that it does not depend on later migrations, then: stagedb deploy --allow-out-of-order --env development",
        "kind": "history",
        "message": "development: pending migration 20240102000000_from_old_branch sorts before the newest applied one (20240103000000_third)",
      }
    `);
    expect(await tables(db.url)).toEqual(['Third', 'User', '_prisma_migrations']);

    const ok = await run({ allowOutOfOrder: true });
    expect(ok.applied.map((a) => a.name)).toEqual(['20240102000000_from_old_branch']);
  });
});

describe('folder names without a timestamp (issue 19 item 7)', () => {
  it('an applied folder without a timestamp prefix does not make later timestamped migrations "out of order": Prisma applies them', async () => {
    const { project, run } = await setup({ migrations: { init: INIT } });
    await run();
    project.addMigration('20240601000000_posts', `CREATE TABLE "Post" ("id" INT);\n`);
    const st = await environmentStatus(environmentFor((await run.db()).url), readLocalHistory(project.migrationsDir));
    expect(st.history?.outOfOrder).toEqual([]);
    expect((await run()).applied.map((a) => a.name)).toEqual(['20240601000000_posts']);
  });

  it('the order is Prisma\'s (localeCompare of the folder names), and timestamped migrations are still checked among themselves', async () => {
    const { project, run } = await setup({ migrations: { '20240101000000_a': INIT, 'B_second': `CREATE TABLE "B" ("id" INT);\n`, 'a_first': `CREATE TABLE "A" ("id" INT);\n` } });
    // localeCompare puts "a_first" before "B_second" (a plain sort would not).
    expect((await run()).applied.map((a) => a.name)).toEqual(['20240101000000_a', 'a_first', 'B_second']);
    project.addMigration('20240301000000_c', `CREATE TABLE "C" ("id" INT);\n`);
    await run();
    project.addMigration('20240201000000_old_branch', `CREATE TABLE "Old" ("id" INT);\n`);
    expect((await rejection(run())).code).toBe('E_OUT_OF_ORDER');
  });
});

describe('a broken migrations folder is reported before any database change', () => {
  // Each case: the database stays exactly as it was (no _prisma_migrations table is created).
  it('missing folder', async () => {
    const { db, project, run } = await setup({});
    const err = await rejection(run(), shown(project));
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATIONS_MISSING",
        "fix": "create the first migration: stagedb migrate dev --name init   (or set migrations in stagedb.config.ts to the folder)",
        "kind": "history",
        "message": "migrations folder <project>/prisma/migrations does not exist",
      }
    `);
    expect(await tables(db.url)).toEqual([]);
  });

  it('a migration directory without migration.sql', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_empty': null } });
    const err = await rejection(run(), shown(project));
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_FILE_MISSING",
        "fix": "restore it from version control (git checkout -- <project>/prisma/migrations/20240102000000_empty) or delete the empty directory",
        "kind": "history",
        "message": "migration 20240102000000_empty has no migration.sql (<project>/prisma/migrations/20240102000000_empty/)",
      }
    `);
    expect(await tables(db.url)).toEqual([]);
  });

  it('migration_lock.toml written for another provider', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT }, lockProvider: 'mysql' });
    const err = await rejection(run(), shown(project));
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_PROVIDER",
        "fix": "point stagedb at a PostgreSQL project (provider = "postgresql" in schema.prisma and migration_lock.toml)",
        "kind": "history",
        "message": "<project>/prisma/migrations was written for provider "mysql"; stagedb runs PostgreSQL migrations only",
      }
    `);
    expect(await tables(db.url)).toEqual([]);
  });

  it('the migrations path is a file', async () => {
    const { db, project, run } = await setup({});
    project.write('prisma/migrations', 'not a folder');
    const err = await rejection(run(), shown(project));
    expect(err.code).toBe('E_MIGRATIONS_CORRUPT');
    expect(await tables(db.url)).toEqual([]);
  });

  it('a NUL byte in migration.sql: the file and the byte named, exit kind history (issue 12 item 8)', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT, '20240102000000_nul': `CREATE TABLE "A" ("id" INT);\n-- stray \u0000 byte\nCREATE TABLE "B" ("id" INT);\n` } });
    const err = await rejection(run(), shown(project));
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_NUL",
        "fix": "remove the NUL bytes (tr -d '\\000' < <project>/prisma/migrations/20240102000000_nul/migration.sql > migration.sql.clean && mv migration.sql.clean <project>/prisma/migrations/20240102000000_nul/migration.sql), or restore the file: git checkout -- <project>/prisma/migrations/20240102000000_nul/migration.sql",
        "kind": "history",
        "message": "<project>/prisma/migrations/20240102000000_nul/migration.sql holds a NUL byte at byte 39 (line 2): PostgreSQL cannot run a file with NUL bytes",
      }
    `);
    expect(await tables(db.url)).toEqual([]);
  });

  it('a migration.sql that is a symlink to a file outside the migrations folder is refused, not read (issue 12 item 8)', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT } });
    const outside = join(project.dir, '..', `stagedb-secret-${process.pid}.sql`);
    writeFileSync(outside, 'SELECT 1;\n');
    cleanups.push(() => rmSync(outside, { force: true }));
    mkdirSync(join(project.migrationsDir, '20240102000000_link'));
    symlinkSync(outside, join(project.migrationsDir, '20240102000000_link', 'migration.sql'));
    const err = await rejection(run(), { ...shown(project), [outside]: '<outside>' });
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_SYMLINK",
        "fix": "replace the link with the file itself: cp --remove-destination <outside> <project>/prisma/migrations/20240102000000_link/migration.sql   (after checking it is the migration you mean)",
        "kind": "history",
        "message": "<project>/prisma/migrations/20240102000000_link/migration.sql is a symbolic link to <outside>, outside <project>/prisma/migrations: stagedb does not read migration files from elsewhere",
      }
    `);
    expect(await tables(db.url)).toEqual([]);
    // A link that stays inside the folder is read as the file it points to.
    rmSync(join(project.migrationsDir, '20240102000000_link', 'migration.sql'));
    symlinkSync(join(project.migrationsDir, '20240101000000_init', 'migration.sql'), join(project.migrationsDir, '20240102000000_link', 'migration.sql'));
    expect(readLocalHistory(project.migrationsDir).migrations.map((m) => m.name)).toEqual(['20240101000000_init', '20240102000000_link']);
    // A link to nothing is a missing migration.sql (the file is opened without following links, issue 18).
    rmSync(join(project.migrationsDir, '20240102000000_link', 'migration.sql'));
    symlinkSync(join(project.dir, 'nowhere.sql'), join(project.migrationsDir, '20240102000000_link', 'migration.sql'));
    expect(() => readLocalHistory(project.migrationsDir)).toThrow(expect.objectContaining({ code: 'E_MIGRATION_FILE_MISSING' }));
  });

  it('a corrupt migration_lock.toml', async () => {
    const { db, project, run } = await setup({ migrations: { '20240101000000_init': INIT } });
    writeFileSync(join(project.migrationsDir, 'migration_lock.toml'), '<<<<<<< HEAD\nprovider = \n');
    const err = await rejection(run(), shown(project));
    expect(err.code).toBe('E_MIGRATIONS_CORRUPT');
    expect(await tables(db.url)).toEqual([]);
  });
});

describe('transactional migrations sent together', () => {
  const second = `-- AlterTable
ALTER TABLE "User" ADD COLUMN "name" TEXT;

-- CreateIndex
CREATE INDEX "User_nmae_idx" ON "User"("nmae");
`;
  it('commit those before the failure, not the failing one, and never run the ones after it', async () => {
    const { db, run } = await setup({
      migrations: {
        '20240101000000_init': INIT,
        '20240102000000_name': second,
        '20240103000000_later': 'CREATE TABLE "Later" ("id" SERIAL PRIMARY KEY);\n',
      },
    });
    const err = await rejection(run());
    expect(err.code).toBe('E_MIGRATION_FAILED');
    expect(err.message).toContain('migration 20240102000000_name failed: column "nmae" does not exist');
    // The location is in the failing file, not in the message the files were sent in together.
    expect(err.details).toContain('at 20240102000000_name/migration.sql:5:1');
    expect(err.details).toContain('applied before it in this run: 20240101000000_init');
    expect(await tables(db.url)).toEqual(['User', '_prisma_migrations']);
    const columns = await query<{ column_name: string }>(db.url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'User' ORDER BY 1`);
    expect(columns.map((c) => c.column_name)).toEqual(['email', 'id']);
    const recorded = await rows(db.url);
    expect(recorded.map((r) => [r.migration_name, r.finished_at === null, r.applied_steps_count])).toEqual([
      ['20240101000000_init', false, 1],
      ['20240102000000_name', true, 0],
    ]);
    expect(recorded[1]!.logs).toContain('42703');
  });

  it('a run-time error (no position from PostgreSQL) is still traced to its statement', async () => {
    const runtime = `-- AlterTable
ALTER TABLE "User" ADD COLUMN "age" INTEGER;

-- Data
UPDATE "User" SET "age" = 1 / 0;
`;
    const { db, run } = await setup({ migrations: { '20240101000000_init': INIT + `INSERT INTO "User" ("email") VALUES ('a@example.com');\n`, '20240102000000_age': runtime } });
    const err = await rejection(run());
    expect(err.message).toContain('division by zero');
    expect(err.details).toContain('at 20240102000000_age/migration.sql:5:1');
    expect(err.details).toContain('statement: UPDATE "User" SET "age" = 1 / 0');
    const columns = await query<{ column_name: string }>(db.url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'User' ORDER BY 1`);
    expect(columns.map((c) => c.column_name)).toEqual(['email', 'id']);
  });
});

describe('a syntax error in a later migration of a batch (issue 19 item 1)', () => {
  // PostgreSQL parses a whole simple-query message before running any of it: a syntax error in the
  // third file used to stop the whole batch, and the blame (and a failed row) fell on the first.
  it('applies the migrations before it, blames the right file, line and column, and its advice works', async () => {
    const { db, project, run } = await setup({
      migrations: {
        '20240101000000_init': INIT,
        '20240102000000_posts': `CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY);\n`,
        '20240103000000_typo': `-- CreateTable\nCREAT TABLE "Tag" ("id" SERIAL PRIMARY KEY);\n`,
        '20240104000000_after': `CREATE TABLE "After" ("id" INT);\n`,
      },
    });
    const err = await rejection(run(), shown(project));
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_FAILED",
        "details": [
          "at 20240103000000_typo/migration.sql:2:1",
          "statement: CREAT TABLE "Tag" ("id" SERIAL PRIMARY KEY)",
          "PostgreSQL error 42601",
          "committed: nothing of it was committed (it ran in one transaction)",
          "applied before it in this run: 20240101000000_init, 20240102000000_posts",
        ],
        "fix": "fix migration.sql, then: stagedb deploy --env development   (nothing of it was committed: deploy runs it again; if you complete it by hand instead: stagedb migrate resolve --applied 20240103000000_typo --env development)",
        "kind": "migration",
        "message": "development: migration 20240103000000_typo failed: syntax error at or near "CREAT"",
      }
    `);
    // Prisma would apply the first two and fail on the third: so does stagedb.
    expect(await tables(db.url)).toEqual(['Post', 'User', '_prisma_migrations']);
    const recorded = await rows(db.url);
    expect(recorded.map((r) => [r.migration_name, r.finished_at === null])).toEqual([
      ['20240101000000_init', false],
      ['20240102000000_posts', false],
      ['20240103000000_typo', true],
    ]);
    expect(recorded[2]!.logs).toContain('Position: line 2, column 1');

    // The advice works: fix the file, deploy again (nothing of it was committed: no resolve needed).
    project.addMigration('20240103000000_typo', `-- CreateTable\nCREATE TABLE "Tag" ("id" SERIAL PRIMARY KEY);\n`);
    const again = await run();
    expect(again.applied.map((a) => a.name)).toEqual(['20240103000000_typo', '20240104000000_after']);
  });

  it('a syntax error in the first file of the batch still commits nothing and blames the first', async () => {
    const { db, run } = await setup({
      migrations: { '20240101000000_typo': `CREATE TABLE "A" ("id" INT);\nALTER TABLE "A" ADD COLUMN "b" INT NOT NUL;\n`, '20240102000000_next': `CREATE TABLE "B" ("id" INT);\n` },
    });
    const err = await rejection(run());
    expect(err.message).toContain('migration 20240101000000_typo failed: syntax error at or near "NUL"');
    expect(err.details).toContain('at 20240101000000_typo/migration.sql:2:40');
    expect(await tables(db.url)).toEqual(['_prisma_migrations']);
  });

  it('a file that ends inside an unfinished statement is blamed, not the file after it', async () => {
    const { db, run } = await setup({
      migrations: { '20240101000000_ok': INIT, '20240102000000_cut': `CREATE TABLE "Cut" ("id" INT,\n`, '20240103000000_next': `CREATE TABLE "B" ("id" INT);\n` },
    });
    const err = await rejection(run());
    expect(err.message).toContain('migration 20240102000000_cut failed: syntax error');
    expect(await tables(db.url)).toEqual(['User', '_prisma_migrations']);
    expect((await rows(db.url)).map((r) => r.migration_name)).toEqual(['20240101000000_ok', '20240102000000_cut']);
  });
});
