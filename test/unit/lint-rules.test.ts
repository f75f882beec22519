import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULE_NAMES } from '../../src/rule-codes.js';
import { RULES } from '../../src/lint/rules/index.js';
import { codes, db, lint, only } from '../helpers/lint.js';


// Prisma's exact shapes, from `prisma migrate dev` (see test/fixtures/prisma-history and examples/guide-app).
const CREATE_USER = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
`;

describe('the rule list', () => {
  it('has one file per rule, each with a unique code and name matching codes.ts', () => {
    const files = readdirSync(new URL('../../src/lint/rules/', import.meta.url)).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'util.ts');
    expect(RULES.length).toBe(files.length);
    expect(new Set(RULES.map((r) => r.code)).size).toBe(RULES.length);
    expect(Object.fromEntries(RULES.map((r) => [r.code, r.name]))).toEqual(RULE_NAMES);
    for (const r of RULES) expect(files).toContain(`${r.name}.ts`);
  });
});

describe('SDB001 create-index-concurrently', () => {
  it("flags Prisma's @@index and @unique on a live table, with CONCURRENTLY as the alternative", async () => {
    const fs = await lint(`-- CreateIndex\nCREATE INDEX "Post_authorId_idx" ON "Post"("authorId");\n\n-- CreateIndex\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n`);
    expect(codes(fs)).toEqual(['SDB001', 'SDB001']);
    expect(fs[0]).toMatchObject({ severity: 'warning', line: 2, column: 1, lock: 'SHARE on "Post" (blocks INSERT, UPDATE and DELETE; reads go on) for the whole build' });
    expect(fs[0]!.fix).toContain('CREATE INDEX CONCURRENTLY "Post_authorId_idx" ON "Post"("authorId");');
    expect(fs[1]!.why).toContain('duplicates');
    expect(fs[1]!.fix).toContain('SELECT "email", count(*) FROM "User" GROUP BY "email" HAVING count(*) > 1');
  });
  it('is silent for a table created earlier in the file or in a file deployed before it together', async () => {
    expect(await lint(`${CREATE_USER}\n-- CreateIndex\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");`)).toEqual([]);
    expect(await lint([CREATE_USER, 'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");'])).toEqual([]);
  });
  it('is silent for CONCURRENTLY', async () => {
    expect(await lint('CREATE INDEX CONCURRENTLY "Post_authorId_idx" ON "Post"("authorId");')).toEqual([]);
  });
  it('scales with the table: empty and small tables are info, large ones error', async () => {
    const sql = 'CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");';
    expect((await lint(sql, { database: db({ Post: { rows: 0, bytes: 16384, heapBytes: 0 } }) }))[0]).toMatchObject({ severity: 'info', note: 'empty on production: the lock lasts milliseconds' });
    expect((await lint(sql, { database: db({ Post: { rows: 900, bytes: 200_000, heapBytes: 120_000 } }) }))[0]).toMatchObject({ severity: 'info' });
    const large = (await lint(sql, { database: db({ Post: { rows: 40e6, bytes: 50 * 1024 ** 3, heapBytes: 40 * 1024 ** 3 } }) }))[0]!;
    expect(large).toMatchObject({ severity: 'error', note: 'large table (~40.0M rows, 50.0 GB on production)' });
    expect((await lint(sql, { database: db({ Post: {} }), severities: { SDB001: 'warning' } }))[0]).toMatchObject({ severity: 'warning', note: '~50k rows, 100 MB on production' });
  });
  it('with a database, a table that does not exist there is not live (an earlier pending migration creates it)', async () => {
    expect(await lint('CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");', { database: db({ User: {} }) })).toEqual([]);
  });
  it('honours the schema: "public"."User" and "User" are the same table', async () => {
    expect(await lint([CREATE_USER, 'CREATE INDEX "i" ON "public"."User"("email");'])).toEqual([]);
  });
});

describe('SDB002 drop-index-concurrently', () => {
  it("flags Prisma's -- DropIndex", async () => {
    const fs = await lint('-- DropIndex\nDROP INDEX "Post_authorId_idx";');
    expect(fs).toMatchObject([{ code: 'SDB002', severity: 'warning', line: 2, fix: expect.stringContaining('DROP INDEX CONCURRENTLY "Post_authorId_idx";') }]);
  });
  it('names the table from the database, and is silent on CONCURRENTLY or an index on a new table', async () => {
    const fs = await lint('DROP INDEX "Post_authorId_idx";', { database: db({ Post: {} }, { indexes: new Map([['public.Post_authorId_idx', 'public.Post']]) }) });
    expect(fs[0]!.lock).toBe('ACCESS EXCLUSIVE on "Post" and on "Post_authorId_idx" (blocks every read and write) until the drop commits');
    expect(await lint('DROP INDEX CONCURRENTLY "Post_authorId_idx";')).toEqual([]);
    expect(await lint(`${CREATE_USER}\nCREATE INDEX "User_x" ON "User"("email");\nDROP INDEX "User_x";`)).toEqual([]);
  });
});

describe('SDB003 concurrently-in-transaction, from the real run mode', () => {
  it('is fine where stagedb runs the file statement by statement', async () => {
    // (SDB028 not-rerunnable is about the same file failing half-way: see lint-rules-catalogue.test.ts.)
    expect(await lint('CREATE INDEX CONCURRENTLY "a" ON "Post"("x");\nCREATE INDEX CONCURRENTLY "b" ON "Post"("y");', { severities: { SDB028: 'off' } })).toEqual([]);
  });
  it("fails in a file with its own BEGIN/COMMIT (sent as one script), even outside the file's block", async () => {
    const fs = await lint('BEGIN;\nALTER TYPE "Role" RENAME VALUE \'A\' TO \'B\';\nCOMMIT;\nCREATE INDEX CONCURRENTLY "a" ON "Post"("x");');
    expect(only(fs, 'SDB003')).toMatchObject([{ severity: 'error', line: 4, message: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and here it does' }]);
  });
  it('under prisma migrate deploy, fails unless it is the only statement of the file', async () => {
    expect(only(await lint('CREATE INDEX CONCURRENTLY "a" ON "Post"("x");\nCREATE INDEX CONCURRENTLY "b" ON "Post"("y");', { runner: 'prisma' }), 'SDB003')).toHaveLength(2);
    expect(await lint('CREATE INDEX CONCURRENTLY "a" ON "Post"("x");', { runner: 'prisma' })).toEqual([]);
    expect(codes(await lint('DROP INDEX CONCURRENTLY "a";\nSELECT 1;', { runner: 'prisma' }))).toEqual(['SDB003']);
  });
});

describe('SDB004 foreign-key-not-valid', () => {
  const FK = '-- AddForeignKey\nALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE CASCADE ON UPDATE CASCADE;';
  it("flags Prisma's -- AddForeignKey on a live table, with NOT VALID + VALIDATE as the alternative", async () => {
    const fs = await lint(FK);
    expect(fs).toMatchObject([{ code: 'SDB004', severity: 'warning', line: 2, column: 27 }]);
    expect(fs[0]!.lock).toBe('SHARE ROW EXCLUSIVE on "Comment" and on "Post" (blocks INSERT, UPDATE and DELETE; reads go on) while it checks every row');
    expect(fs[0]!.fix).toBe(
      'ALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;\n' +
        '-- then in the next migration (its own transaction; VALIDATE takes only SHARE UPDATE EXCLUSIVE, so writes go on while it checks):\n' +
        'ALTER TABLE "Comment" VALIDATE CONSTRAINT "Comment_postId_fkey";',
    );
  });
  it('is silent for a new table referencing a live one, and for NOT VALID', async () => {
    expect(await lint(`CREATE TABLE "Comment" ("id" SERIAL NOT NULL, "postId" INTEGER NOT NULL, CONSTRAINT "Comment_pkey" PRIMARY KEY ("id"));\n${FK}`)).toEqual([]);
    expect(await lint(FK.replace(';', ' NOT VALID;'))).toEqual([]);
  });
  it('builds the alternative from the constraint alone in a multi-command ALTER', async () => {
    const fs = await lint('ALTER TABLE "Comment" ADD COLUMN "x" INTEGER, ADD CONSTRAINT "c_fkey" FOREIGN KEY ("x") REFERENCES "Post"("id");');
    expect(fs[0]!.fix!.split('\n')[0]).toBe('ALTER TABLE "Comment" ADD CONSTRAINT "c_fkey" FOREIGN KEY ("x") REFERENCES "Post"("id") NOT VALID;');
  });
});

describe('SDB005 check-not-valid and SDB006 validate-in-same-transaction', () => {
  it('flags a CHECK without NOT VALID, not one with it', async () => {
    expect(codes(await lint('ALTER TABLE "Post" ADD CONSTRAINT "views_positive" CHECK ("views" >= 0);'))).toEqual(['SDB005']);
    expect(await lint('ALTER TABLE "Post" ADD CONSTRAINT "views_positive" CHECK ("views" >= 0) NOT VALID;')).toEqual([]);
  });
  it('flags VALIDATE in the transaction of its NOT VALID add, not in a file of its own', async () => {
    const both = 'ALTER TABLE "Post" ADD CONSTRAINT "v" CHECK ("views" >= 0) NOT VALID;\nALTER TABLE "Post" VALIDATE CONSTRAINT "v";';
    expect(await lint(both)).toMatchObject([{ code: 'SDB006', line: 2, message: 'validates "v" in the same transaction as its NOT VALID add' }]);
    expect(await lint(['ALTER TABLE "Post" ADD CONSTRAINT "v" CHECK ("views" >= 0) NOT VALID;', 'ALTER TABLE "Post" VALIDATE CONSTRAINT "v";'])).toEqual([]);
  });
});

describe('SDB007 set-not-null', () => {
  it("flags Prisma's optional → required, with the CHECK NOT VALID path", async () => {
    const fs = await lint('-- AlterTable\nALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;');
    expect(fs).toMatchObject([{ code: 'SDB007', severity: 'warning', line: 2 }]);
    expect(fs[0]!.fix).toContain('ALTER TABLE "User" ADD CONSTRAINT "User_name_nn_check" CHECK ("name" IS NOT NULL) NOT VALID;');
  });
  it('is silent on a new table', async () => {
    expect(await lint(`${CREATE_USER}\nALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;`)).toEqual([]);
  });
  it('is silent once a CHECK (col IS NOT NULL) is validated: its own alternative passes, deployed as the migrations it says', async () => {
    const fix = (await lint('ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;'))[0]!.fix!;
    const steps = fix.split('\n').filter((l) => !l.startsWith('--'));
    expect(steps).toHaveLength(4);
    // Only the info that the helper CHECK is dropped at the end.
    expect((await lint([steps[0]!, steps.slice(1).join('\n')])).map((f) => [f.code, f.severity])).toEqual([['SDB021', 'info']]);
    // Not validated yet (or dropped again): the scan is still there.
    expect(codes(await lint([steps[0]!, 'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;']))).toEqual(['SDB007']);
    expect(codes(await lint([steps[0]!, steps[1]!, steps[3]!, 'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;']))).toEqual(['SDB021', 'SDB007']);
  });
  it('with the database: a validated check proves it; a NOT VALID one is validated first; a taken name is not picked again', async () => {
    const checks = { name: [{ name: 'User_name_nn_check', def: 'CHECK ((length(name) > 0))' }] };
    const taken = await lint('ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;', { database: db({ User: { checks, constraintNames: ['User_pkey', 'User_name_nn_check'] } }) });
    expect(taken[0]!.fix).toContain('ADD CONSTRAINT "User_name_nn_check_1" CHECK ("name" IS NOT NULL) NOT VALID;');
    const notValid = { name: [{ name: 'nn', def: 'CHECK ((name IS NOT NULL)) NOT VALID' }] };
    const pending = await lint('ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;', { database: db({ User: { checks: notValid, constraintNames: ['nn'] } }) });
    expect(pending[0]!.fix!.split('\n').slice(1)).toEqual(['ALTER TABLE "User" VALIDATE CONSTRAINT "nn";', 'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;', 'ALTER TABLE "User" DROP CONSTRAINT "nn";']);
    const valid = { name: [{ name: 'nn', def: 'CHECK ((name IS NOT NULL))' }] };
    expect(await lint('ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;', { database: db({ User: { checks: valid } }) })).toEqual([]);
  });
});

describe('SDB008 add-required-column', () => {
  it("flags Prisma's new required field and @updatedAt (NOT NULL, no default)", async () => {
    const fs = await lint('-- AlterTable\nALTER TABLE "Post" ADD COLUMN     "updatedAt" TIMESTAMP(3) NOT NULL;');
    expect(fs).toMatchObject([{ code: 'SDB008', severity: 'error', line: 2, column: 35, message: 'adds required column "updatedAt" TIMESTAMP(3) to live table "Post" without a default' }]);
    expect(fs[0]!.fix).toContain('ALTER TABLE "Post" ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;');
  });
  it('is silent with a default, for a nullable column and on a new table', async () => {
    expect(await lint('ALTER TABLE "Post" ADD COLUMN     "status" "PostStatus" NOT NULL DEFAULT \'DRAFT\';')).toEqual([]);
    expect(await lint('ALTER TABLE "Post" ADD COLUMN     "publishedAt" TIMESTAMP(3);')).toEqual([]);
    expect(await lint(`${CREATE_USER}\nALTER TABLE "User" ADD COLUMN "name" TEXT NOT NULL;`)).toEqual([]);
  });
  it('on an empty table it applies, but still breaks old app versions: a warning', async () => {
    const fs = await lint('ALTER TABLE "Post" ADD COLUMN "slug" TEXT NOT NULL;', { database: db({ Post: { rows: 0, heapBytes: 0, bytes: 8192 } }) });
    expect(fs).toMatchObject([{ code: 'SDB008', severity: 'warning', note: '"Post" is empty on production' }]);
  });
});

describe('SDB009 volatile-default', () => {
  it('flags dbgenerated("gen_random_uuid()") on a live table, not CURRENT_TIMESTAMP', async () => {
    const fs = await lint('ALTER TABLE "Post" ADD COLUMN     "uid" UUID NOT NULL DEFAULT gen_random_uuid();');
    expect(codes(fs)).toEqual(['SDB009']);
    expect(fs[0]!.fix).toContain('ALTER TABLE "Post" ALTER COLUMN "uid" SET DEFAULT gen_random_uuid();');
    expect(await lint('ALTER TABLE "Post" ADD COLUMN     "seenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;')).toEqual([]);
  });
  it('flags a STORED generated column, and any default before PostgreSQL 11', async () => {
    expect(codes(await lint('ALTER TABLE "Post" ADD COLUMN "t" TEXT GENERATED ALWAYS AS (lower("title")) STORED;'))).toEqual(['SDB009']);
    expect(codes(await lint('ALTER TABLE "Post" ADD COLUMN "n" INTEGER DEFAULT 0;', { serverVersionNum: 100000 }))).toEqual(['SDB009']);
  });
});

describe('SDB010 add-serial-column', () => {
  it("flags Prisma's new autoincrement() column (ADD COLUMN SERIAL), and identity", async () => {
    const fs = await lint('ALTER TABLE "Post" ADD COLUMN     "seq" SERIAL NOT NULL;');
    expect(codes(fs)).toEqual(['SDB010']);
    expect(fs[0]!.fix).toContain('CREATE SEQUENCE "Post_seq_seq";');
    expect(codes(await lint('ALTER TABLE "Post" ADD COLUMN "n" BIGINT GENERATED BY DEFAULT AS IDENTITY;'))).toEqual(['SDB010']);
  });
  it('is silent for a plain integer column and on a new table', async () => {
    expect(await lint('ALTER TABLE "Post" ADD COLUMN     "rank" INTEGER;')).toEqual([]);
    expect(await lint(`${CREATE_USER}\nALTER TABLE "User" ADD COLUMN "seq" SERIAL NOT NULL;`)).toEqual([]);
  });
});

describe('SDB011 column-type-change', () => {
  const SQL = '-- AlterTable\nALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200),\nALTER COLUMN "views" SET DATA TYPE BIGINT;';
  it("flags Prisma's SET DATA TYPE, each column at its own line", async () => {
    const fs = await lint(SQL);
    expect(fs.map((f) => [f.code, f.line, f.message])).toEqual([
      ['SDB011', 2, 'changes "Post"."title" to VARCHAR(200): a table rewrite'],
      ['SDB011', 3, 'changes "Post"."views" to BIGINT: a table rewrite'],
    ]);
    expect(fs[0]!.fix).toContain('CHECK (char_length("title") <= 200) NOT VALID');
  });
  it('knows safe changes from the current type in the database', async () => {
    const database = db({ Post: { columns: { title: 'character varying(100)', views: 'bigint', body: 'text' } } });
    expect(await lint('ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);', { database })).toEqual([]);
    expect(await lint('ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE TEXT;', { database })).toEqual([]);
    expect(await lint('ALTER TABLE "Post" ALTER COLUMN "views" SET DATA TYPE BIGINT;', { database })).toEqual([]);
    expect(codes(await lint('ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(50);', { database }))).toEqual(['SDB011']);
    expect((await lint('ALTER TABLE "Post" ALTER COLUMN "body" SET DATA TYPE VARCHAR(50);', { database }))[0]!.message).toBe('changes "Post"."body" from text to VARCHAR(50): a table rewrite');
  });
  it('without a database, a change to TEXT is taken as a widening', async () => {
    expect(await lint('ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE TEXT;')).toEqual([]);
  });
});

describe('SDB012 drop-and-recreate-column and SDB015 drop-column', () => {
  it("flags Prisma's drop and recreate as data loss (and not also as a drop)", async () => {
    const sql = `/*\n  Warnings:\n\n  - The \`score\` column on the \`Post\` table would be dropped and recreated. This will lead to data loss if there is data in the column.\n\n*/\n-- AlterTable\nALTER TABLE "Post" DROP COLUMN "score",\nADD COLUMN     "score" INTEGER;`;
    expect(await lint(sql)).toMatchObject([{ code: 'SDB012', severity: 'error', line: 8 }]);
  });
  it('flags a plain DROP COLUMN as a warning', async () => {
    expect(await lint('-- AlterTable\nALTER TABLE "User" DROP COLUMN "name";')).toMatchObject([{ code: 'SDB015', severity: 'warning' }]);
    expect(await lint(`${CREATE_USER}\nALTER TABLE "User" DROP COLUMN "email";`)).toEqual([]);
  });
});

describe('SDB013 unique-constraint and SDB014 add-primary-key', () => {
  it('flags ADD UNIQUE without USING INDEX, not with it', async () => {
    const fs = await lint('ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");');
    expect(codes(fs)).toEqual(['SDB013']);
    expect(fs[0]!.fix).toContain('ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";');
    expect(await lint('ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";')).toEqual([]);
  });
  it("flags the Prisma 6 upgrade's _AB_pkey on an implicit many-to-many table", async () => {
    const sql = '-- AlterTable\nALTER TABLE "_PostToTag" ADD CONSTRAINT "_PostToTag_AB_pkey" PRIMARY KEY ("A", "B");\n\n-- DropIndex\nDROP INDEX "_PostToTag_AB_unique";';
    const fs = await lint(sql);
    expect(codes(fs)).toEqual(['SDB014', 'SDB002']);
    expect(fs[0]!.fix).toContain('CREATE UNIQUE INDEX CONCURRENTLY "_PostToTag_AB_pkey" ON "_PostToTag" ("A", "B");');
  });
  it('is silent for PRIMARY KEY USING INDEX, and for the constraint in a new table', async () => {
    expect(await lint('ALTER TABLE "_PostToTag" ADD CONSTRAINT "_PostToTag_AB_pkey" PRIMARY KEY USING INDEX "_PostToTag_AB_pkey";')).toEqual([]);
    expect(await lint('CREATE TABLE "_PostToTag" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL, CONSTRAINT "_PostToTag_AB_pkey" PRIMARY KEY ("A","B"));')).toEqual([]);
  });
});

describe('SDB016 drop-table and SDB017 rename', () => {
  it('flags DROP TABLE of a live table (a removed or renamed model), DROP SCHEMA as an error', async () => {
    expect(await lint('-- DropTable\nDROP TABLE "Tag";')).toMatchObject([{ code: 'SDB016', severity: 'warning' }]);
    expect(await lint('DROP SCHEMA "legacy" CASCADE;')).toMatchObject([{ code: 'SDB016', severity: 'error' }]);
    expect(await lint(`${CREATE_USER}\nDROP TABLE "User";`)).toEqual([]);
  });
  it('flags renames of live columns and tables, not of indexes', async () => {
    expect(codes(await lint('ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";'))).toEqual(['SDB017']);
    expect(codes(await lint('ALTER TABLE "User" RENAME TO "Account";'))).toEqual(['SDB017']);
    expect(await lint('ALTER INDEX "a" RENAME TO "b";')).toEqual([]);
  });
});

describe('SDB018 enum-value-in-transaction', () => {
  it('is silent for Prisma\'s ADD VALUE alone, and flags a use of the new value in the same transaction', async () => {
    expect(await lint('-- AlterEnum\nALTER TYPE "Role" ADD VALUE \'MODERATOR\';')).toEqual([]);
    const fs = await lint('ALTER TYPE "Role" ADD VALUE \'MODERATOR\';\nALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT \'MODERATOR\';');
    expect(only(fs, 'SDB018')).toMatchObject([{ severity: 'error', message: "uses new enum value 'MODERATOR' (line 2) in the transaction that adds it" }]);
  });
  it('flags ADD VALUE in a transaction before PostgreSQL 12 (the Prisma runner), not under stagedb (statement by statement)', async () => {
    const sql = 'ALTER TYPE "Role" ADD VALUE \'MODERATOR\';\nCREATE TABLE "x" ("id" INTEGER);';
    expect(codes(await lint(sql, { runner: 'prisma', serverVersionNum: 110000 }))).toEqual(['SDB018']);
    expect(await lint(sql, { serverVersionNum: 110000, severities: { SDB028: 'off' } })).toEqual([]);
  });
});

describe('SDB019 enum-recreate', () => {
  const ENUM = `/*\n  Warnings:\n\n  - The values [EDITOR] on the enum \`Role\` will be removed. If these variants are still used in the database, this will fail.\n\n*/\n-- AlterEnum\nBEGIN;\nCREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');\nALTER TABLE "public"."User" ALTER COLUMN "role" DROP DEFAULT;\nALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");\nALTER TYPE "Role" RENAME TO "Role_old";\nALTER TYPE "Role_new" RENAME TO "Role";\nDROP TYPE "public"."Role_old";\nALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'USER';\nCOMMIT;`;
  it("flags Prisma's enum recreate once per column (not also as a type change), and not its BEGIN/COMMIT", async () => {
    const fs = await lint(ENUM);
    expect(fs.map((f) => [f.code, f.line])).toEqual([['SDB019', 11]]);
    expect(fs[0]!.lock).toBe('ACCESS EXCLUSIVE on "User" (blocks every read and write) for a rewrite of the table and all its indexes');
  });
  it('under prisma migrate deploy the BEGIN/COMMIT block spanning the file is fine too (no lock_timeout is not)', async () => {
    expect(codes(await lint(ENUM, { runner: 'prisma' }))).toEqual(['SDB022', 'SDB019']);
  });
});

describe('SDB020 drop-not-null and SDB021 drop-constraint', () => {
  it("reports Prisma's required → optional and -- DropForeignKey as info", async () => {
    expect(await lint('ALTER TABLE "Post" ALTER COLUMN "content" DROP NOT NULL;')).toMatchObject([{ code: 'SDB020', severity: 'info' }]);
    expect(await lint('-- DropForeignKey\nALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";')).toMatchObject([{ code: 'SDB021', severity: 'info' }]);
  });
  it('is silent on a table created by the same files', async () => {
    expect(await lint([CREATE_USER, 'ALTER TABLE "User" ALTER COLUMN "email" DROP NOT NULL;\nALTER TABLE "User" DROP CONSTRAINT "User_pkey";'])).toEqual([]);
  });
});

describe('SDB022 lock-timeout', () => {
  const SQL = 'ALTER TABLE "Post" ADD COLUMN "x" TEXT;\nALTER TABLE "Post" ADD COLUMN "y" TEXT;';
  it("is silent under stagedb's deploy, which sets lock_timeout (default 5 s)", async () => {
    expect(await lint(SQL)).toEqual([]);
  });
  it('flags the first strong lock on a live table, once per file, when nothing sets lock_timeout', async () => {
    expect(await lint(SQL, { runner: 'prisma' })).toMatchObject([{ code: 'SDB022', line: 1, message: 'waits for ACCESS EXCLUSIVE on "Post" with no lock_timeout (prisma migrate deploy sets no lock_timeout)' }]);
    expect(codes(await lint(SQL, { runnerLockTimeoutMs: 0 }))).toEqual(['SDB022']);
  });
  it("follows the file's own SET lock_timeout and RESET", async () => {
    expect(await lint(`SET lock_timeout = '2s';\n${SQL}`, { runner: 'prisma' })).toEqual([]);
    expect(codes(await lint(`SET lock_timeout = 0;\n${SQL}`))).toEqual(['SDB022']);
  });
  it('is silent for new tables and for weak locks (CONCURRENTLY)', async () => {
    expect(await lint(CREATE_USER + 'CREATE INDEX "i" ON "User"("email");', { runner: 'prisma' })).toEqual([]);
    expect(await lint('CREATE INDEX CONCURRENTLY "i" ON "User"("email");', { runner: 'prisma' })).toEqual([]);
  });
});

describe('SDB023 backfill-with-ddl', () => {
  it('flags a backfill in the transaction of DDL on a live table', async () => {
    const fs = await lint('ALTER TABLE "Post" ADD COLUMN "slug" TEXT;\nUPDATE "Post" SET "slug" = lower("title");');
    expect(fs).toMatchObject([{ code: 'SDB023', line: 2, message: 'UPDATE on "Post" runs in the same transaction as the DDL at line 1, which locks "Post"' }]);
  });
  it('is silent statement by statement, for INSERT … VALUES, and for DDL on new tables only', async () => {
    expect(await lint('CREATE INDEX CONCURRENTLY "i" ON "Post"("x");\nUPDATE "Post" SET "slug" = lower("title");', { severities: { SDB028: 'off' } })).toEqual([]);
    expect(await lint('ALTER TABLE "Post" ADD COLUMN "slug" TEXT;\nINSERT INTO "Setting" ("k") VALUES (\'a\');')).toEqual([]);
    expect(await lint(`${CREATE_USER}\nINSERT INTO "User" ("email") SELECT "email" FROM "LegacyUser";`)).toEqual([]);
  });
});

describe('SDB024 transaction-control', () => {
  it('flags BEGIN without COMMIT as an error', async () => {
    expect(codes(await lint('BEGIN;\nALTER TABLE "Post" ADD COLUMN "x" TEXT;'))).toEqual(['SDB024']);
  });
  it("flags statements outside the file's own block under stagedb", async () => {
    const fs = await lint('ALTER TABLE "Post" ADD COLUMN "x" TEXT;\nBEGIN;\nALTER TABLE "Post" ADD COLUMN "y" TEXT;\nCOMMIT;');
    expect(fs).toMatchObject([{ code: 'SDB024', severity: 'warning', line: 2 }]);
  });
});

describe('SDB025 blocking-maintenance', () => {
  it('flags REINDEX without CONCURRENTLY, VACUUM FULL and CLUSTER', async () => {
    const fs = await lint('REINDEX TABLE "Post";');
    expect(fs).toMatchObject([{ code: 'SDB025', fix: expect.stringContaining('REINDEX TABLE CONCURRENTLY "Post";') }]);
    expect(codes(await lint('VACUUM FULL "Post";'))).toEqual(['SDB025']);
    expect(codes(await lint('CLUSTER "Post" USING "Post_pkey";'))).toEqual(['SDB025']);
    expect(await lint('REINDEX TABLE CONCURRENTLY "Post";')).toEqual([]);
  });
});

describe('SDB026 type-hygiene', () => {
  it("is off by default, and when on, flags Prisma's defaults as info", async () => {
    expect(await lint(CREATE_USER)).toEqual([]);
    const fs = await lint(CREATE_USER, { severities: { 'type-hygiene': 'info' } });
    expect(fs.map((f) => f.message)).toEqual(['"User"."id" is SERIAL: prefer BIGINT GENERATED BY DEFAULT AS IDENTITY', '"User"."createdAt" is TIMESTAMP: prefer TIMESTAMPTZ(3)']);
    expect(fs.every((f) => f.severity === 'info')).toBe(true);
  });
});

describe('severities from config', () => {
  it('turns rules off or changes their level, by code or name, and refuses unknown rules', async () => {
    expect(await lint('DROP INDEX "i";', { severities: { 'drop-index-concurrently': 'off' } })).toEqual([]);
    expect((await lint('DROP INDEX "i";', { severities: { SDB002: 'error' } }))[0]!.severity).toBe('error');
    await expect(lint('SELECT 1;', { severities: { SDB999: 'off' } })).rejects.toThrow('lint.rules names unknown rule: SDB999');
  });
});
