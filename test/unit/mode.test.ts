import { describe, expect, it } from 'vitest';
import { chooseMode } from '../../src/history/mode.js';

const PG16 = 160004;
const PG11 = 110022;
const mode = (sql: string, version = PG16) => chooseMode(sql, version).mode;

/** What `prisma migrate dev` writes when an enum loses a value: its own BEGIN/COMMIT around the swap. */
const PRISMA_ENUM_SWAP = `/*
  Warnings:

  - The values [GUEST] on the enum \`Role\` will be removed. If these variants are still used in the database, this will fail.

*/
-- AlterEnum
BEGIN;
CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');
ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'USER';
COMMIT;
`;

/** What Prisma writes when an enum gains values. */
const PRISMA_ENUM_ADD = `-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "Role" ADD VALUE 'MODERATOR';
ALTER TYPE "Role" ADD VALUE 'OWNER';
`;

describe('chooseMode: transaction', () => {
  it('an ordinary Prisma migration runs in one transaction', () => {
    const sql = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
`;
    const choice = chooseMode(sql, PG16);
    expect(choice.mode).toBe('transaction');
    expect(choice.reason).toBe('one transaction');
    expect(choice.statements.map((s) => s.head.slice(0, 24))).toEqual(['CREATE TABLE "USER" ( "I', 'CREATE UNIQUE INDEX "USE']);
  });

  it('an empty file runs in one transaction', () => {
    expect(chooseMode('-- This is an empty migration.', PG16)).toEqual({ mode: 'transaction', reason: 'one transaction', statements: [] });
  });

  it('ADD VALUE on PostgreSQL 12 and later stays in the transaction (Prisma\'s enum shape)', () => {
    expect(mode(PRISMA_ENUM_ADD, 120000)).toBe('transaction');
    expect(mode(PRISMA_ENUM_ADD, PG16)).toBe('transaction');
  });
});

describe('chooseMode: file-managed', () => {
  it("Prisma's enum swap with its own BEGIN/COMMIT runs as written", () => {
    const choice = chooseMode(PRISMA_ENUM_SWAP, PG16);
    expect(choice).toMatchObject({ mode: 'file-managed', reason: 'the file has its own BEGIN/COMMIT' });
    expect(choice.statements).toHaveLength(9);
  });

  it('START TRANSACTION … COMMIT, and lower case', () => {
    expect(mode('START TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nUPDATE t SET x = 1;\nCOMMIT;')).toBe('file-managed');
    expect(mode('begin;\nupdate t set x = 1;\nend;')).toBe('file-managed');
  });

  it('own transaction control beats a non-transactional statement', () => {
    expect(mode('BEGIN; CREATE TABLE a (id int); COMMIT;\nCREATE INDEX CONCURRENTLY a_id ON a (id);')).toBe('file-managed');
  });
});

describe('chooseMode: statements', () => {
  const reason = (sql: string, version = PG16) => {
    const c = chooseMode(sql, version);
    expect(c.mode).toBe('statements');
    return c.reason;
  };

  it('CREATE [UNIQUE] INDEX CONCURRENTLY', () => {
    expect(reason('CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a (id);')).toBe(
      'CREATE INDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own',
    );
    expect(reason('create unique index concurrently if not exists "a_id" on a (id)')).toBe(
      'CREATE INDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own',
    );
  });

  it('DROP INDEX CONCURRENTLY', () => {
    expect(reason('DROP INDEX CONCURRENTLY IF EXISTS "a_id";')).toBe('DROP INDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own');
  });

  it('REINDEX … CONCURRENTLY', () => {
    expect(reason('REINDEX INDEX CONCURRENTLY "a_id";')).toBe('REINDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own');
    expect(reason('REINDEX (VERBOSE) TABLE CONCURRENTLY a;')).toBe('REINDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own');
    expect(mode('REINDEX TABLE a;')).toBe('transaction');
  });

  it('VACUUM', () => {
    expect(reason('VACUUM (ANALYZE) "User";')).toBe('VACUUM cannot run inside a transaction: each statement commits on its own');
  });

  it('a statement that comes after comments and other statements still counts', () => {
    expect(mode('-- CreateIndex\n/* big table */\nSELECT 1;\n  CREATE /* c */ INDEX\n  CONCURRENTLY "x" ON t (a);')).toBe('statements');
  });

  it('ALTER TYPE … ADD VALUE only before PostgreSQL 12', () => {
    expect(reason(PRISMA_ENUM_ADD, PG11)).toBe('ALTER TYPE … ADD VALUE cannot run inside a transaction before PostgreSQL 12');
    expect(mode(PRISMA_ENUM_ADD, 119999)).toBe('statements');
    expect(mode(PRISMA_ENUM_ADD, 120000)).toBe('transaction');
    expect(mode('ALTER TYPE "Role" ADD VALUE IF NOT EXISTS \'X\' BEFORE \'USER\';', PG11)).toBe('statements');
  });

  it('returns the statements to run one by one', () => {
    const c = chooseMode('CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n', PG16);
    expect(c.statements.map((s) => s.text)).toEqual(['CREATE TABLE a (id int)', 'CREATE INDEX CONCURRENTLY a_id ON a (id)']);
  });
});

describe('chooseMode: keywords that must not count', () => {
  it('inside -- and /* */ comments', () => {
    const sql = `-- Run this by hand: CREATE INDEX CONCURRENTLY x ON t (a);
-- BEGIN; ... COMMIT;
/* VACUUM FULL; ALTER TYPE "Role" ADD VALUE 'X'; */
CREATE TABLE t (a int);`;
    expect(mode(sql, PG11)).toBe('transaction');
  });

  it('inside strings, E-strings, identifiers and dollar bodies', () => {
    const sql = `INSERT INTO notes (body) VALUES ('BEGIN; COMMIT; VACUUM;'), (E'CREATE INDEX CONCURRENTLY \\'x\\'');
CREATE TABLE "VACUUM" ("BEGIN" int);
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'VACUUM';
  COMMIT;
END;
$$;
DO $do$ BEGIN ALTER TYPE "Role" ADD VALUE 'X'; END $do$;`;
    expect(mode(sql, PG11)).toBe('transaction');
  });

  it('the END of a BEGIN ATOMIC function body (PostgreSQL 14+)', () => {
    const sql = 'CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT a + b;\nEND;\nCREATE INDEX t_a ON t (a);';
    expect(mode(sql)).toBe('transaction');
  });

  it('as part of other words or later in a statement', () => {
    expect(mode('CREATE TABLE beginnings (vacuumed bool, committed bool);')).toBe('transaction');
    expect(mode('COMMENT ON TABLE t IS \'see VACUUM\';')).toBe('transaction');
    expect(mode('ALTER TABLE "Role" ADD COLUMN value int;', PG11)).toBe('transaction');
    expect(mode('CREATE INDEX "concurrently" ON t (a);')).toBe('transaction');
  });
});

describe('a DO block that commits (the zero-downtime backfill)', () => {
  it('runs statement by statement: COMMIT inside DO is refused in a transaction block', () => {
    const backfill = 'DO $stagedb$\nBEGIN\n  UPDATE "T" SET "c" = DEFAULT WHERE "c" IS NULL;\n  COMMIT;\nEND\n$stagedb$;\n';
    expect(mode(backfill)).toBe('statements');
    expect(mode('DO $$ BEGIN RAISE NOTICE \'x\'; END $$;')).toBe('transaction');
  });
});
