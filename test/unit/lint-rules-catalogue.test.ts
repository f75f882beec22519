import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintFiles } from '../../src/lint/run.js';
import { codes, db, lint, only } from '../helpers/lint.js';

/**
 * The rules for the catalogue's hazards R16, R28, R30, R33, R35–R38 and R40–R42
 * (../shared/research/lint-catalogue.md): SDB027–SDB037.
 */

// Prisma's exact shapes.
const CREATE_INDEX = '-- CreateIndex\nCREATE INDEX "Post_authorId_idx" ON "Post"("authorId");\n';
const SET_DATA_TYPE = '-- AlterTable\nALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);\n';
const INIT = readFileSync(join('test/fixtures/prisma-history/prisma/migrations', readdirSync('test/fixtures/prisma-history/prisma/migrations').filter((d) => d.endsWith('_init'))[0]!, 'migration.sql'), 'utf8');

describe('SDB027 statement-timeout (R28)', () => {
  const on = { severities: { SDB027: 'warning' as const } };
  it('is off by default', async () => {
    expect(codes(await lint(CREATE_INDEX))).toEqual(['SDB001']);
  });
  it("when on, flags Prisma's index build on a live table once per file when nothing sets statement_timeout", async () => {
    const fs = only(await lint(`${CREATE_INDEX}\n${SET_DATA_TYPE}`, on), 'SDB027');
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ line: 2, severity: 'warning', table: '"Post"', message: 'builds an index on live table "Post" under SHARE with no statement_timeout (the environment sets no statementTimeout for stagedb deploy)' });
    expect(fs[0]!.fix).toContain("SET statement_timeout = '1min';");
    expect(only(await lint(CREATE_INDEX, { ...on, runner: 'prisma' }), 'SDB027')[0]!.message).toContain('prisma migrate deploy sets none');
  });
  it("is silent with the file's own SET statement_timeout, the runner's, CONCURRENTLY, and on new tables", async () => {
    expect(only(await lint(`SET statement_timeout = '5min';\n${CREATE_INDEX}`, on), 'SDB027')).toEqual([]);
    expect(only(await lint(CREATE_INDEX, { ...on, runnerStatementTimeoutMs: 60_000 }), 'SDB027')).toEqual([]);
    expect(only(await lint('CREATE INDEX CONCURRENTLY "i" ON "Post"("x");', on), 'SDB027')).toEqual([]);
    expect(only(await lint(`CREATE TABLE "Post" ("id" TEXT NOT NULL);\n${CREATE_INDEX}`, on), 'SDB027')).toEqual([]);
    // RESET goes back to the runner's (none here), and brief locks (a nullable ADD COLUMN) never count.
    expect(only(await lint(`SET statement_timeout = '5min';\nRESET statement_timeout;\n${CREATE_INDEX}`, on), 'SDB027')).toHaveLength(1);
    expect(only(await lint('ALTER TABLE "Post" ADD COLUMN "x" TEXT;', on), 'SDB027')).toEqual([]);
  });
  it('a widening the database confirms is instant: not reported; the same change without a database is', async () => {
    const sql = 'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE TEXT;';
    expect(only(await lint(sql, { ...on, database: db({ Post: { columns: { title: 'character varying(100)' } } }) }), 'SDB027')).toEqual([]);
    expect(only(await lint(sql, on), 'SDB027')).toHaveLength(1);
  });
});

describe('SDB028 not-rerunnable (R30)', () => {
  it('flags a statement committed on its own before the rest of a statement-by-statement file, not the last one', async () => {
    const fs = only(await lint('CREATE TABLE "Tag" ("id" TEXT NOT NULL);\nALTER TABLE "Post" ADD COLUMN "tagId" TEXT;\nCREATE INDEX CONCURRENTLY "Post_tagId_idx" ON "Post"("tagId");\nCREATE INDEX CONCURRENTLY "Tag_id_idx" ON "Tag"("id");'), 'SDB028');
    expect(fs.map((f) => f.line)).toEqual([1, 2, 3]);
    expect(fs[0]).toMatchObject({ severity: 'warning', fix: 'CREATE TABLE IF NOT EXISTS "Tag" ("id" TEXT NOT NULL);' });
    expect(fs[0]!.why).toContain('"already exists"');
    expect(fs[1]!.fix).toBe('ALTER TABLE "Post" ADD COLUMN IF NOT EXISTS "tagId" TEXT;');
    // A failed CONCURRENTLY build leaves an invalid index: drop it first rather than IF NOT EXISTS.
    expect(fs[2]!.fix).toBe('-- drop a leftover (an invalid index from a failed build, or the one this statement made) first:\nDROP INDEX CONCURRENTLY IF EXISTS "Post_tagId_idx";\nCREATE INDEX CONCURRENTLY "Post_tagId_idx" ON "Post"("tagId");');
  });
  it("flags Prisma's -- DropIndex made CONCURRENTLY by hand, with IF EXISTS", async () => {
    const fs = only(await lint('-- DropIndex\nDROP INDEX CONCURRENTLY "Post_slug_key";\n\n-- CreateIndex\nCREATE UNIQUE INDEX CONCURRENTLY "Post_slug_title_key" ON "Post"("slug", "title");\n'), 'SDB028');
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ line: 2, fix: 'DROP INDEX CONCURRENTLY IF EXISTS "Post_slug_key";' });
    expect(fs[0]!.why).toContain('"does not exist"');
  });
  it('is silent with IF [NOT] EXISTS, and for statements without such a form', async () => {
    expect(only(await lint('CREATE INDEX CONCURRENTLY IF NOT EXISTS "a" ON "Post"("x");\nDROP INDEX CONCURRENTLY IF EXISTS "b";\nALTER TABLE "Post" ADD COLUMN IF NOT EXISTS "y" TEXT;\nCREATE INDEX CONCURRENTLY "c" ON "Post"("y");'), 'SDB028')).toEqual([]);
    expect(only(await lint('ALTER TABLE "Post" ADD CONSTRAINT "c" CHECK ("x" > 0) NOT VALID;\nCREATE INDEX CONCURRENTLY "c" ON "Post"("y");'), 'SDB028')).toEqual([]);
  });
  it("is silent where the file runs as one transaction: Prisma's own files, its enum BEGIN/COMMIT, and prisma migrate deploy", async () => {
    expect(only(await lint(INIT), 'SDB028')).toEqual([]);
    const enumRecreate = `-- AlterEnum\nBEGIN;\nCREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');\nALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");\nALTER TYPE "Role" RENAME TO "Role_old";\nALTER TYPE "Role_new" RENAME TO "Role";\nDROP TYPE "Role_old";\nCOMMIT;\n\n-- AddForeignKey\nALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n`;
    expect(only(await lint(enumRecreate), 'SDB028')).toEqual([]);
    expect(only(await lint('CREATE TABLE "Tag" ("id" TEXT);\nCREATE INDEX CONCURRENTLY "a" ON "Post"("x");', { runner: 'prisma' }), 'SDB028')).toEqual([]);
  });
  it('flags ADD VALUE before PostgreSQL 12, where it runs statement by statement', async () => {
    const fs = only(await lint('ALTER TYPE "Role" ADD VALUE \'MODERATOR\';\nCREATE TABLE "x" ("id" INTEGER);', { serverVersionNum: 110000 }), 'SDB028');
    expect(fs[0]!.fix).toBe("ALTER TYPE \"Role\" ADD VALUE IF NOT EXISTS 'MODERATOR';");
  });
});

describe('SDB029 truncate-cascade (R35)', () => {
  it('flags TRUNCATE … CASCADE of a live table, with the explicit list as the alternative', async () => {
    const fs = await lint('TRUNCATE "Session", "Token" RESTART IDENTITY CASCADE;');
    expect(codes(fs)).toEqual(['SDB029']);
    expect(fs[0]).toMatchObject({ severity: 'error', table: '"Session"', message: 'TRUNCATE "Session", "Token" CASCADE empties every table that references them too' });
    expect(fs[0]!.lock).toBe('ACCESS EXCLUSIVE on "Session" and on "Token" (blocks every read and write) and on every table it reaches through foreign keys');
    expect(fs[0]!.fix).toContain('TRUNCATE "Session", "Token" RESTART IDENTITY;');
  });
  it('is silent without CASCADE and for tables the same files create', async () => {
    expect(only(await lint('TRUNCATE "Session";'), 'SDB029')).toEqual([]);
    expect(only(await lint('CREATE TABLE "Session" ("id" TEXT);\nTRUNCATE "Session" CASCADE;'), 'SDB029')).toEqual([]);
  });
});

describe('SDB038 truncate', () => {
  it('flags a plain TRUNCATE of a live table (ACCESS EXCLUSIVE, its rows gone), not one the same files create, nor CASCADE (SDB029)', async () => {
    const fs = await lint('TRUNCATE "Session";');
    expect(fs.map((f) => [f.code, f.severity, f.message])).toEqual([['SDB038', 'warning', 'TRUNCATE empties live table "Session"']]);
    expect(fs[0]!.lock).toBe('ACCESS EXCLUSIVE on "Session" (blocks every read and write) until the transaction commits');
    expect(fs[0]!.claim).toMatchObject({ rewrites: true, scans: false, blocksReads: true });
    expect(await lint('CREATE TABLE "T" ("id" INT);\nTRUNCATE "T";')).toEqual([]);
    expect(codes(await lint('TRUNCATE "Session" CASCADE;'))).toEqual(['SDB029']);
  });
});

describe('SDB030 domain-constraint (R36)', () => {
  it('flags ALTER DOMAIN ADD CHECK without NOT VALID, and SET NOT NULL', async () => {
    const fs = await lint('ALTER DOMAIN "Email" ADD CONSTRAINT "Email_check" CHECK (VALUE LIKE \'%@%\');\nALTER DOMAIN "Email" SET NOT NULL;');
    expect(codes(fs)).toEqual(['SDB030', 'SDB030']);
    expect(fs[0]).toMatchObject({ severity: 'warning', line: 1, column: 26 });
    expect(fs[0]!.lock).toContain('SHARE on every table with a column of domain "Email"');
    expect(fs[0]!.fix).toBe(
      [
        'ALTER DOMAIN "Email" ADD CONSTRAINT "Email_check" CHECK (VALUE LIKE \'%@%\') NOT VALID;',
        '-- new and updated rows are checked from now on (a quick catalog change); the old ones are not checked yet.',
        '-- there is no online way to check "Email"\'s values: ALTER DOMAIN … VALIDATE CONSTRAINT also holds SHARE on every table',
        "-- using it while it reads them (unlike a table's VALIDATE CONSTRAINT, which takes SHARE UPDATE EXCLUSIVE). To keep writes going,",
        '-- check the columns instead: on each table with such a column, ADD CONSTRAINT … CHECK (<column> …) NOT VALID, then VALIDATE it',
        '-- in the next migration; or run it at the lowest traffic if those tables are small.',
        '-- (or, at the lowest traffic, in a later migration: ALTER DOMAIN "Email" VALIDATE CONSTRAINT "Email_check";)',
      ].join('\n'),
    );
    expect(fs[1]!.fix).toContain('ALTER DOMAIN "Email" ADD CONSTRAINT "Email_not_null" CHECK (VALUE IS NOT NULL) NOT VALID;');
  });
  it("flags PostgreSQL 18's ADD NOT NULL like SET NOT NULL", async () => {
    expect((await lint('ALTER DOMAIN "Email" ADD CONSTRAINT "Email_nn" NOT NULL;')).map((f) => f.message)).toEqual(['sets NOT NULL on domain "Email"']);
  });
  it('flags VALIDATE CONSTRAINT too: a domain’s VALIDATE holds SHARE on every table using it (the lock oracle saw writes wait)', async () => {
    const fs = await lint('ALTER DOMAIN "Email" ADD CONSTRAINT "c" CHECK (VALUE <> \'\') NOT VALID;\nALTER DOMAIN "Email" VALIDATE CONSTRAINT "c";');
    expect(fs.map((f) => [f.code, f.line, f.message])).toEqual([['SDB030', 2, 'validates constraint "c" of domain "Email"']]);
    expect(fs[0]!.claim).toMatchObject({ locks: [{ on: 'every table with a column of domain "Email"', mode: 'SHARE' }], scans: true, blocksWrites: true, blocksReads: false });
  });
  it('is silent for NOT VALID, and a domain created by the same files', async () => {
    expect(await lint('ALTER DOMAIN "Email" ADD CONSTRAINT "c" CHECK (VALUE <> \'\') NOT VALID;')).toEqual([]);
    expect(await lint('CREATE DOMAIN "Email" AS TEXT;\nALTER DOMAIN "Email" ADD CONSTRAINT "c" CHECK (VALUE <> \'\');')).toEqual([]);
  });
});

describe('SDB031 table-rewrite (R38)', () => {
  it('flags SET LOGGED, SET UNLOGGED, SET ACCESS METHOD and SET TABLESPACE on a live table', async () => {
    const fs = await lint('ALTER TABLE "Event" SET UNLOGGED;\nALTER TABLE "Event" SET LOGGED, SET ACCESS METHOD "columnar", SET TABLESPACE "fast";');
    expect(codes(fs)).toEqual(['SDB031', 'SDB031', 'SDB031', 'SDB031']);
    expect(fs.map((f) => f.message)).toEqual([
      'SET UNLOGGED rewrites live table "Event"',
      'SET LOGGED rewrites live table "Event"',
      'SET ACCESS METHOD "columnar" rewrites live table "Event"',
      'SET TABLESPACE "fast" rewrites live table "Event"',
    ]);
    expect(fs[0]).toMatchObject({ severity: 'warning', lock: 'ACCESS EXCLUSIVE on "Event" (blocks every read and write) for the whole rewrite' });
    expect(fs[0]!.fix).toContain('CREATE UNLOGGED TABLE "Event_new" (LIKE "Event" INCLUDING ALL);');
    expect(fs[3]!.fix).toContain('pg_repack --tablespace');
  });
  it('is silent on a new table and on a partitioned one (only the default for new partitions changes), info on a small one', async () => {
    expect(await lint('CREATE TABLE "Event" ("id" TEXT);\nALTER TABLE "Event" SET UNLOGGED;')).toEqual([]);
    expect(await lint('ALTER TABLE "Event" SET ACCESS METHOD "heap2";', { database: db({ Event: { kind: 'p' } }) })).toEqual([]);
    expect((await lint('ALTER TABLE "Event" SET LOGGED;', { database: db({ Event: { bytes: 100_000 } }) }))[0]).toMatchObject({ severity: 'info' });
  });
});

describe('SDB032 table-settings (R40)', () => {
  it('flags REPLICA IDENTITY FULL and NOTHING', async () => {
    const fs = await lint('ALTER TABLE "Order" REPLICA IDENTITY FULL;\nALTER TABLE "Item" REPLICA IDENTITY NOTHING;');
    expect(codes(fs)).toEqual(['SDB032', 'SDB032']);
    expect(fs[0]).toMatchObject({ severity: 'warning', lock: 'ACCESS EXCLUSIVE on "Order" (blocks every read and write) briefly' });
    expect(fs[0]!.why).toContain('whole old row to the WAL');
    expect(fs[1]!.why).toContain('does not have a replica identity');
    expect(fs[0]!.fix).toContain('ALTER TABLE "Order" REPLICA IDENTITY DEFAULT;');
  });
  it('flags autovacuum turned off, on a table or in CREATE TABLE', async () => {
    const fs = await lint('ALTER TABLE "Log" SET (autovacuum_enabled = false);\nALTER TABLE "Log" SET (toast.autovacuum_enabled = off);\nCREATE TABLE "Audit" ("id" TEXT) WITH (autovacuum_enabled = 0);');
    expect(fs.map((f) => f.message)).toEqual(['turns autovacuum_enabled off for "Log"', 'turns toast.autovacuum_enabled off for "Log"', 'turns autovacuum_enabled off for "Audit"']);
    expect(fs[0]!.lock).toBe('SHARE UPDATE EXCLUSIVE on "Log" (blocks other DDL and VACUUM, not reads or writes) briefly');
    expect(fs[0]!.fix).toContain('ALTER TABLE "Log" RESET (autovacuum_enabled);');
  });
  it('is silent for REPLICA IDENTITY DEFAULT / USING INDEX, autovacuum on, and other storage parameters', async () => {
    expect(await lint('ALTER TABLE "Order" REPLICA IDENTITY DEFAULT;\nALTER TABLE "Order" REPLICA IDENTITY USING INDEX "Order_key";\nALTER TABLE "Log" SET (autovacuum_enabled = true, fillfactor = 90);')).toEqual([]);
  });
});

describe('SDB033 type-change-with-check (R41)', () => {
  const checked = db({ Post: { columns: { title: 'character varying(100)' }, checks: { title: [{ name: 'Post_title_check', def: "CHECK ((length((title)::text) > 0))" }] } } });
  it("flags Prisma's widening SET DATA TYPE on a column a CHECK reads (known from the database)", async () => {
    const fs = await lint(SET_DATA_TYPE, { database: checked });
    expect(codes(fs)).toEqual(['SDB033']);
    expect(fs[0]).toMatchObject({ line: 2, lock: 'ACCESS EXCLUSIVE on "Post" (blocks every read and write) while it checks every row', message: 'changes the type of "title" on live table "Post", which CHECK constraint "Post_title_check" reads' });
    expect(fs[0]!.fix).toBe(
      [
        'ALTER TABLE "Post" DROP CONSTRAINT "Post_title_check";',
        'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);',
        'ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK ((length((title)::text) > 0)) NOT VALID;',
        '-- then, in the next migration (VALIDATE takes only SHARE UPDATE EXCLUSIVE):',
        'ALTER TABLE "Post" VALIDATE CONSTRAINT "Post_title_check";',
      ].join('\n'),
    );
  });
  it('knows a CHECK added earlier by the linted files', async () => {
    const fs = await lint(['ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK (length("title") > 0) NOT VALID;', 'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE TEXT;']);
    expect(only(fs, 'SDB033')[0]!.fix).toContain('ADD CONSTRAINT "Post_title_check" CHECK (length("title") > 0) NOT VALID;');
  });
  it('is silent without a CHECK on the column, and leaves a rewriting change to SDB011', async () => {
    expect(await lint(SET_DATA_TYPE, { database: db({ Post: { columns: { title: 'character varying(100)' } } }) })).toEqual([]);
    expect(await lint(SET_DATA_TYPE)).toEqual(only(await lint(SET_DATA_TYPE), 'SDB011'));
    const rewrite = 'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(50);';
    expect(codes(await lint(rewrite, { database: checked }))).toEqual(['SDB011']);
  });
});

describe('SDB034 concurrent-index-pg14 (R42)', () => {
  it('flags CONCURRENTLY builds on PostgreSQL 14.0–14.3', async () => {
    const sql = 'CREATE INDEX CONCURRENTLY "Post_authorId_idx" ON "Post"("authorId");\nREINDEX INDEX CONCURRENTLY "Post_slug_key";';
    // (The index build, committed before the REINDEX, is also SDB028's: it would fail if the file ran again.)
    const fs = only(await lint(sql, { database: db({ Post: {} }, { serverVersionNum: 140003 }) }), 'SDB034');
    expect(fs).toHaveLength(2);
    expect(fs[0]).toMatchObject({ severity: 'error', message: 'builds an index CONCURRENTLY on PostgreSQL 14.3, which can build it with rows missing' });
    expect(fs[0]!.fix).toContain('REINDEX INDEX CONCURRENTLY "Post_authorId_idx";');
    expect(only(await lint(sql, { serverVersionNum: 140000 }), 'SDB034')).toHaveLength(2);
  });
  it('is silent from 14.4, without a database (a current server is assumed), and for non-concurrent builds', async () => {
    const sql = 'CREATE INDEX CONCURRENTLY "i" ON "Post"("authorId");';
    expect(await lint(sql, { serverVersionNum: 140004 })).toEqual([]);
    expect(await lint(sql)).toEqual([]);
    expect(only(await lint('CREATE INDEX "i" ON "Post"("authorId");', { serverVersionNum: 140002 }), 'SDB034')).toEqual([]);
  });
});

describe('the new rules keep the new-tables-only property', () => {
  it("Prisma's init migration stays silent with every rule on, the off-by-default ones included", async () => {
    const all = { severities: { SDB026: 'off' as const, SDB027: 'error' as const, 'drop-not-null': 'error' as const } };
    for (const runner of ['stagedb', 'prisma'] as const) expect(await lint(INIT, { ...all, runner })).toEqual([]);
  });
});

describe('the ALTER TABLE dispatch by subcommand', () => {
  it('changes no finding: every rule run on every ALTER TABLE finds the same', async () => {
    const root = 'test/fixtures/prisma-history/prisma/migrations';
    const history = readdirSync(root)
      .filter((d) => !d.includes('.'))
      .sort()
      .map((d) => ({ path: d, sql: readFileSync(join(root, d, 'migration.sql'), 'utf8') }));
    const hand = [
      'ALTER TABLE "Post" ADD COLUMN "a" TEXT NOT NULL, ADD COLUMN "b" SERIAL, ADD COLUMN "c" UUID DEFAULT gen_random_uuid();',
      'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE BIGINT, ALTER COLUMN "x" SET NOT NULL, ALTER COLUMN "y" DROP NOT NULL;',
      'ALTER TABLE "Post" ADD CONSTRAINT "c" CHECK ("x" > 0), ADD CONSTRAINT "u" UNIQUE ("x"), ADD CONSTRAINT "p" PRIMARY KEY ("id"), ADD CONSTRAINT "f" FOREIGN KEY ("u") REFERENCES "User"("id");',
      'ALTER TABLE "Post" DROP COLUMN "z", DROP CONSTRAINT "k";\nALTER TABLE "Post" VALIDATE CONSTRAINT "c";',
      'ALTER TABLE "Post" SET UNLOGGED, REPLICA IDENTITY FULL, SET (autovacuum_enabled = off);',
      'ALTER TABLE "Part" DETACH PARTITION "Part_2020" CONCURRENTLY;\nCREATE INDEX CONCURRENTLY "i" ON "Post"("x");',
    ].map((sql, i) => ({ path: `hand${i}.sql`, sql }));
    const options = { separately: true, severities: { SDB026: 'info' as const, SDB027: 'warning' as const }, database: db({ Post: { columns: { title: 'integer' }, checks: { title: [{ name: 'c', def: 'CHECK (title > 0)' }] } }, User: {}, Part: { kind: 'p' } }) };
    const { RULES } = await import('../../src/lint/rules/index.js');
    const withDispatch = await lintFiles([...history, ...hand], options);
    const saved = RULES.map((r) => r.subtypes);
    try {
      for (const r of RULES) (r as { subtypes?: readonly string[] }).subtypes = undefined;
      expect(await lintFiles([...history, ...hand], options)).toEqual(withDispatch);
    } finally {
      RULES.forEach((r, i) => ((r as { subtypes?: readonly string[] }).subtypes = saved[i]));
    }
    expect(withDispatch.findings.length).toBeGreaterThan(20);
  });
});

// R16, R33, R37: SDB035–SDB037. Prisma emits none of these shapes; the hand-written ones sit in Prisma-style files.
const EXCLUDE = '-- AlterTable\nALTER TABLE "Booking" ADD CONSTRAINT "Booking_no_overlap" EXCLUDE USING gist ("roomId" WITH =, "during" WITH &&) WHERE (NOT "cancelled");\n';
const DETACH = 'ALTER TABLE "Event" DETACH PARTITION "Event_2020";';
const TRIGGER = 'CREATE TRIGGER "Post_updatedAt" BEFORE UPDATE ON "Post" FOR EACH ROW EXECUTE FUNCTION set_updated_at();';

describe('SDB035 exclusion-constraint (R16)', () => {
  it('flags ADD CONSTRAINT … EXCLUDE on a live table: ACCESS EXCLUSIVE for the build, no NOT VALID, the window as the way out', async () => {
    const fs = await lint(EXCLUDE);
    expect(codes(fs)).toEqual(['SDB035']);
    expect(fs[0]).toMatchObject({
      severity: 'warning',
      line: 2,
      column: 27,
      table: '"Booking"',
      message: 'adds exclusion constraint "Booking_no_overlap" to live table "Booking", building its index under the lock',
      lock: 'ACCESS EXCLUSIVE on "Booking" (blocks every read and write) for the whole index build and check',
    });
    expect(fs[0]!.why).toContain('cannot be added NOT VALID');
    expect(fs[0]!.fix).toBe(
      [
        '-- no form of this runs without the lock; keep the outage short and planned:',
        '-- 1. before the window, look for rows that conflict (the build fails on the first one, after holding the lock):',
        '-- WITH r AS (SELECT ctid AS row_id, "roomId", "during" FROM "Booking" WHERE (NOT "cancelled")) SELECT a.row_id, b.row_id FROM r a JOIN r b ON a.row_id < b.row_id AND a."roomId" = b."roomId" AND a."during" && b."during" LIMIT 10;',
        '-- 2. in a maintenance window (or at the lowest traffic), in a migration of its own:',
        '-- (the lock_timeout in effect, 5 s, makes it give up rather than queue every query behind it)',
        "SET maintenance_work_mem = '1GB';   -- (what the server can spare) a faster index build: less time under the lock",
        '-- stagedb-lint-disable-next-statement SDB035: planned maintenance window (the outage is accepted and recorded)',
        'ALTER TABLE "Booking" ADD CONSTRAINT "Booking_no_overlap" EXCLUDE USING gist ("roomId" WITH =, "during" WITH &&) WHERE (NOT "cancelled");',
        '-- or stay online: create a copy of "Booking" with the constraint, copy the rows in batches (a trigger keeps it current), and swap the names in one short transaction',
      ].join('\n'),
    );
  });
  it('under prisma migrate deploy the fix sets the lock_timeout itself; among other subcommands it names only the constraint; an expression element gets no query', async () => {
    expect((await lint(EXCLUDE, { runner: 'prisma' })).find((f) => f.code === 'SDB035')!.fix).toContain("SET lock_timeout = '5s';");
    const two = only(await lint('ALTER TABLE "Booking" ADD COLUMN "note" TEXT, ADD EXCLUDE USING gist (lower("room") WITH =, "during" WITH &&);'), 'SDB035');
    expect(two[0]!.message).toContain('"Booking_lower_during_excl"');
    expect(two[0]!.fix).toContain('\nALTER TABLE "Booking" ADD EXCLUDE USING gist (lower("room") WITH =, "during" WITH &&);\n');
    expect(two[0]!.fix).not.toContain('WITH r AS');
    const paren = only(await lint('ALTER TABLE "Booking" ADD EXCLUDE USING gist ("roomId" WITH =, ("during") WITH &&) WHERE\n  ("cancelled" = false AND "kind" <> \'x\');'), 'SDB035')[0]!;
    expect(paren.message).toContain('"Booking_roomId_during_excl"');
    expect(paren.fix).toContain('-- WITH r AS (SELECT ctid AS row_id, "roomId", "during" FROM "Booking" WHERE ("cancelled" = false AND "kind" <> \'x\')) SELECT');
  });
  it('is silent on a table created in the same file or by an earlier file of the history, and in CREATE TABLE', async () => {
    const create = 'CREATE TABLE "Booking" ("roomId" INTEGER NOT NULL, "during" TSTZRANGE NOT NULL, "cancelled" BOOLEAN NOT NULL DEFAULT false);\n';
    expect(await lint(`${create}${EXCLUDE}`)).toEqual([]);
    expect(await lint([create, EXCLUDE])).toEqual([]);
    expect(await lint('CREATE TABLE "Booking" ("roomId" INTEGER, "during" TSTZRANGE, EXCLUDE USING gist ("roomId" WITH =, "during" WITH &&));')).toEqual([]);
  });
  it('scales with the table: info on a small one, error on a large one', async () => {
    expect((await lint(EXCLUDE, { database: db({ Booking: { bytes: 100_000 } }) }))[0]).toMatchObject({ code: 'SDB035', severity: 'info' });
    expect((await lint(EXCLUDE, { database: db({ Booking: { bytes: 5 * 1024 ** 3 } }) }))[0]).toMatchObject({ code: 'SDB035', severity: 'error', note: 'large table (~50k rows, 5.0 GB on production)' });
  });
  it('is suppressed by a directive with a reason, which is kept', async () => {
    const r = await lintFiles([{ path: 'm.sql', sql: `-- stagedb-lint-disable-next-statement exclusion-constraint: "Booking" is empty until launch\n${EXCLUDE}` }]);
    expect(r.findings).toEqual([]);
    expect(r.suppressed.map((f) => [f.code, f.reason])).toEqual([['SDB035', '"Booking" is empty until launch']]);
  });
});

describe('SDB036 detach-partition-concurrently (R33)', () => {
  it('flags DETACH PARTITION without CONCURRENTLY on a live table, at the partition, with CONCURRENTLY for this file', async () => {
    const fs = await lint(DETACH);
    expect(codes(fs)).toEqual(['SDB036']);
    expect(fs[0]).toMatchObject({
      severity: 'warning',
      line: 1,
      column: 38,
      table: '"Event"',
      message: 'DETACH PARTITION "Event_2020" from live table "Event" without CONCURRENTLY',
      lock: 'ACCESS EXCLUSIVE on "Event" and on "Event_2020" (blocks every read and write) until the detach commits',
    });
    expect(fs[0]!.fix).toBe(
      [
        '-- stagedb runs a file with CONCURRENTLY outside a transaction, as it needs:',
        'ALTER TABLE "Event" DETACH PARTITION "Event_2020" CONCURRENTLY;',
        '-- (it takes SHARE UPDATE EXCLUSIVE on "Event" and "Event_2020": reads and writes go on; but its second transaction waits for every query that may use "Event_2020" and then takes ACCESS EXCLUSIVE on "Event_2020" for a moment, so queries of "Event_2020" itself queue briefly; it is refused while "Event" has a DEFAULT partition)',
        '-- if it is interrupted, the partition is left "detach pending"; finish it with:',
        '-- ALTER TABLE "Event" DETACH PARTITION "Event_2020" FINALIZE;',
      ].join('\n'),
    );
  });
  it('says where CONCURRENTLY can go given how the file runs', async () => {
    const fix = async (sql: string, runner: 'stagedb' | 'prisma' = 'stagedb') => only(await lint(sql, { runner }), 'SDB036')[0]!.fix!.split('\n')[0];
    const more = `${DETACH}\nALTER TABLE "Event" ADD COLUMN "x" TEXT;`;
    expect(await fix(more)).toBe('-- in a migration of its own (stagedb runs a file with CONCURRENTLY statement by statement, outside a transaction):');
    expect(await fix(`BEGIN;\n${more}\nCOMMIT;`)).toBe('-- not in this file (this file has its own BEGIN/COMMIT, so stagedb sends it as one script, and CONCURRENTLY fails inside it: 25001); as the only statement of a migration of its own:');
    expect(await fix(more, 'prisma')).toBe('-- not in this file (prisma migrate deploy sends this file as one query, and CONCURRENTLY fails inside it: 25001); as the only statement of a migration of its own:');
    expect(await fix(DETACH, 'prisma')).toBe('-- the only statement of its file, so prisma migrate deploy runs it outside a transaction, as CONCURRENTLY needs:');
  });
  it('before PostgreSQL 14 there is no CONCURRENTLY: a short wait at low traffic instead', async () => {
    const fs = only(await lint(DETACH, { database: db({ Event: { kind: 'p' } }, { serverVersionNum: 130011 }) }), 'SDB036');
    expect(fs[0]!.fix).toBe('-- DETACH PARTITION … CONCURRENTLY needs PostgreSQL 14 (this server is 13): keep the wait short, at the lowest traffic:\n-- (the lock_timeout in effect, 5 s, makes it give up rather than queue every query behind it)\nALTER TABLE "Event" DETACH PARTITION "Event_2020";');
  });
  it('is silent for CONCURRENTLY (SDB003 says when that is in a transaction), FINALIZE, and a table the history creates', async () => {
    expect(await lint('ALTER TABLE "Event" DETACH PARTITION "Event_2020" CONCURRENTLY;\nALTER TABLE "Event" DETACH PARTITION "Event_2021" FINALIZE;')).toEqual([]);
    expect(codes(await lint(`BEGIN;\nALTER TABLE "Event" DETACH PARTITION "Event_2020" CONCURRENTLY;\nCOMMIT;`))).toEqual(['SDB003']);
    const create = 'CREATE TABLE "Event" ("id" TEXT, "at" DATE) PARTITION BY RANGE ("at");\nCREATE TABLE "Event_2020" PARTITION OF "Event" FOR VALUES FROM (\'2020-01-01\') TO (\'2021-01-01\');';
    expect(await lint(`${create}\n${DETACH}`)).toEqual([]);
    expect(await lint([create, DETACH])).toEqual([]);
    expect(await lint(DETACH, { database: db({ Other: {} }) })).toEqual([]);
  });
  it('is suppressed for the file by name', async () => {
    const r = await lintFiles([{ path: 'm.sql', sql: `-- stagedb-lint-disable-file detach-partition-concurrently: archive job, run at night\n${DETACH}` }]);
    expect(r.findings).toEqual([]);
    expect(r.suppressed.map((f) => f.code)).toEqual(['SDB036']);
  });
});

describe('SDB037 create-trigger (R37)', () => {
  it('flags CREATE TRIGGER on a live table: SHARE ROW EXCLUSIVE, with the lock_timeout in effect', async () => {
    const fs = await lint(TRIGGER);
    expect(codes(fs)).toEqual(['SDB037']);
    expect(fs[0]).toMatchObject({
      severity: 'warning',
      line: 1,
      column: 1,
      table: '"Post"',
      message: 'CREATE TRIGGER "Post_updatedAt" on live table "Post"',
      lock: 'SHARE ROW EXCLUSIVE on "Post" (blocks INSERT, UPDATE and DELETE; reads go on) until the transaction commits',
    });
    expect(fs[0]!.why).toBe('Creating a trigger is a quick catalog change, but it first waits for every open transaction that has written to "Post" to end, and every INSERT, UPDATE and DELETE on "Post" queues behind it.');
    expect(fs[0]!.fix).toBe(`-- at the lowest traffic:\n-- (the lock_timeout in effect, 5 s, makes it give up rather than stall writes; stagedb deploy retries a migration that hits it)\n${TRIGGER}`);
  });
  it('under prisma migrate deploy sets a lock_timeout; says how long a transaction keeps the lock; CREATE OR REPLACE and CONSTRAINT triggers too', async () => {
    expect(only(await lint(TRIGGER, { runner: 'prisma' }), 'SDB037')[0]!.fix).toBe(`-- at the lowest traffic:\nSET lock_timeout = '2s';  -- give up rather than stall writes, and run the migration again\n${TRIGGER}`);
    const held = only(await lint(`${TRIGGER}\nUPDATE "Post" SET "x" = 1;\nALTER TABLE "Post" ADD COLUMN "y" TEXT;`), 'SDB037')[0]!;
    expect(held.why).toContain('here it then holds the lock until the transaction commits, through the 2 statements after it in this file');
    expect(held.fix).toContain('-- at the lowest traffic, in a migration of its own (or as the last statement of its transaction):');
    // Its own COMMIT, a RESET, and statements after the COMMIT do not count.
    const last = only(await lint(`BEGIN;\n${TRIGGER}\nRESET lock_timeout;\nCOMMIT;\nALTER TABLE "Post" ADD COLUMN "y" TEXT;`), 'SDB037')[0]!;
    expect(last.why).not.toContain('holds the lock until');
    expect(last.fix!.split('\n')[0]).toBe('-- at the lowest traffic:');
    const fs = await lint('CREATE OR REPLACE TRIGGER "t" AFTER INSERT ON "Post" FOR EACH ROW EXECUTE FUNCTION f();\nCREATE CONSTRAINT TRIGGER "c" AFTER INSERT ON "Post" DEFERRABLE FOR EACH ROW EXECUTE FUNCTION g();');
    expect(fs.map((f) => f.message)).toEqual(['CREATE OR REPLACE TRIGGER "t" on live table "Post"', 'CREATE CONSTRAINT TRIGGER "c" on live table "Post"']);
  });
  it('on a partitioned table, locks every partition', async () => {
    expect((await lint(TRIGGER, { database: db({ Post: { kind: 'p' } }) }))[0]!.lock).toBe('SHARE ROW EXCLUSIVE on "Post" (blocks INSERT, UPDATE and DELETE; reads go on) and on every partition, until the transaction commits');
  });
  it("is silent on Prisma's table created in the same file or history, on a table the database lacks, and for INSTEAD OF triggers on views", async () => {
    const create = '-- CreateTable\nCREATE TABLE "Post" (\n    "id" TEXT NOT NULL,\n    "updatedAt" TIMESTAMP(3) NOT NULL,\n\n    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")\n);\n';
    expect(await lint(`${create}\n${TRIGGER}`)).toEqual([]);
    expect(await lint([create, TRIGGER])).toEqual([]);
    expect(await lint(TRIGGER, { database: db({ User: {} }) })).toEqual([]);
    expect(await lint('CREATE VIEW "PostView" AS SELECT 1 AS "id";\nCREATE TRIGGER "v" INSTEAD OF INSERT ON "PostView" FOR EACH ROW EXECUTE FUNCTION f();')).toEqual([]);
  });
  it('is suppressed by a directive with a reason, and a directive without one suppresses nothing', async () => {
    const ok = await lintFiles([{ path: 'm.sql', sql: `-- stagedb-lint-disable-next-statement SDB037: "Post" gets one write a minute\n${TRIGGER}` }]);
    expect([ok.findings, ok.suppressed.map((f) => f.code)]).toEqual([[], ['SDB037']]);
    const bare = await lintFiles([{ path: 'm.sql', sql: `-- stagedb-lint-disable-next-statement SDB037\n${TRIGGER}` }]);
    expect(codes(bare.findings).sort()).toEqual(['SDB037', 'SDB090']);
  });
});

describe('SDB035–SDB037 and Prisma', () => {
  it("none fires on Prisma's fixture history, under either runner", async () => {
    const root = 'test/fixtures/prisma-history/prisma/migrations';
    const history = readdirSync(root)
      .filter((d) => !d.includes('.'))
      .sort()
      .map((d) => ({ path: d, sql: readFileSync(join(root, d, 'migration.sql'), 'utf8') }));
    for (const runner of ['stagedb', 'prisma'] as const) {
      for (const separately of [false, true]) {
        const r = await lintFiles(history, { runner, separately });
        expect(r.findings.filter((f) => ['SDB035', 'SDB036', 'SDB037'].includes(f.code))).toEqual([]);
      }
    }
  });
  it('the ALTER TABLE dispatch changes none of their findings', async () => {
    const files = [EXCLUDE, DETACH, `${DETACH}\nALTER TABLE "Booking" ADD COLUMN "a" TEXT, ADD CONSTRAINT "x" EXCLUDE USING gist ("during" WITH &&);`, 'ALTER TABLE "Event" DETACH PARTITION "Event_2020" FINALIZE;'].map((sql, i) => ({ path: `m${i}.sql`, sql }));
    const { RULES } = await import('../../src/lint/rules/index.js');
    const withDispatch = await lintFiles(files, { separately: true });
    const saved = RULES.map((r) => r.subtypes);
    try {
      for (const r of RULES) (r as { subtypes?: readonly string[] }).subtypes = undefined;
      expect(await lintFiles(files, { separately: true })).toEqual(withDispatch);
    } finally {
      RULES.forEach((r, i) => ((r as { subtypes?: readonly string[] }).subtypes = saved[i]));
    }
    expect(codes(withDispatch.findings).filter((c) => c >= 'SDB035' && c <= 'SDB037').sort()).toEqual(['SDB035', 'SDB035', 'SDB036', 'SDB036']);
  });
});

describe('DETACH PARTITION … FINALIZE takes SHARE UPDATE EXCLUSIVE, not ACCESS EXCLUSIVE', () => {
  it('under prisma migrate deploy (no lock_timeout) FINALIZE is no lock-timeout hazard, while a plain DETACH is', async () => {
    const finalize = only(await lint('ALTER TABLE "Event" DETACH PARTITION "Event_2020" FINALIZE;', { runner: 'prisma' }), 'SDB022');
    expect(finalize).toEqual([]);
    const plain = only(await lint('ALTER TABLE "Event" DETACH PARTITION "Event_2020";', { runner: 'prisma' }), 'SDB022');
    expect(plain).toHaveLength(1);
  });
});
