import { describe, expect, it } from 'vitest';
import { objectName } from '../../src/rewrite/names.js';
import { lintFiles } from '../../src/lint/run.js';
import { rewriteMigration, stepDirectoryNames } from '../../src/rewrite/index.js';

/** The rewriter as a pure function: exact SQL out for Prisma's SQL in (the database proofs are in rewrite-equivalence.test.ts). */
describe('rewriteMigration', () => {
  it('keeps the other subcommands of an ALTER TABLE, and Prisma\'s comment, where they were', async () => {
    const r = await rewriteMigration('-- AlterTable\nALTER TABLE "Account" ADD COLUMN     "nick" TEXT,\nALTER COLUMN "email" SET NOT NULL;\n');
    expect(r.steps.map((s) => s.script)).toEqual([
      '-- AlterTable\nALTER TABLE "Account" ADD COLUMN     "nick" TEXT,\nADD CONSTRAINT "Account_email_not_null_check" CHECK ("email" IS NOT NULL) NOT VALID;\n',
      expect.stringContaining('\nALTER TABLE "Account" VALIDATE CONSTRAINT "Account_email_not_null_check";\n'),
      expect.stringContaining('\nALTER TABLE "Account" ALTER COLUMN "email" SET NOT NULL;\nALTER TABLE "Account" DROP CONSTRAINT "Account_email_not_null_check";\n'),
    ]);
  });

  it('builds a replaced primary key\'s index under a temporary name, and drops the old key only when the new one is attached', async () => {
    const r = await rewriteMigration('-- AlterTable\nALTER TABLE "Tag" DROP CONSTRAINT "Tag_pkey",\nADD CONSTRAINT "Tag_pkey" PRIMARY KEY ("label");\n');
    expect(r.steps.map((s) => s.script.split('\n').filter((l) => !l.startsWith('-- stagedb')).join('\n'))).toEqual([
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Tag_pkey_new" ON "Tag"("label");\n',
      '-- AlterTable\nALTER TABLE "Tag" DROP CONSTRAINT "Tag_pkey",\nADD CONSTRAINT "Tag_pkey" PRIMARY KEY USING INDEX "Tag_pkey_new";\n',
    ]);
  });

  it('leaves a new table\'s statements, and SQL it cannot parse, as they are', async () => {
    const created = '-- CreateTable\nCREATE TABLE "N" ("id" INTEGER NOT NULL, "a" INTEGER);\n\n-- CreateIndex\nCREATE INDEX "N_a_idx" ON "N"("a");\n\n-- AddForeignKey\nALTER TABLE "N" ADD CONSTRAINT "N_a_fkey" FOREIGN KEY ("a") REFERENCES "A"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n';
    expect(await rewriteMigration(created)).toEqual({ changed: false, steps: [{ label: '', script: created, codes: [] }], changes: [], unsafe: [] });
    const broken = 'CREATE INDEX "x" ON;\n';
    expect((await rewriteMigration(broken)).steps).toEqual([{ label: '', script: broken, codes: [] }]);
  });

  it('a rewriting type change without what the database knows of the column is left as written, reported with a plan and why', async () => {
    const sql = '-- AlterTable\nALTER TABLE "Account" ALTER COLUMN "balance" SET DATA TYPE BIGINT;\n';
    const r = await rewriteMigration(sql);
    expect(r.changed).toBe(false);
    expect(r.unsafe).toMatchObject([{ code: 'ZDT009', statement: 'ALTER TABLE "Account" ALTER COLUMN "balance" SET DATA TYPE BIGINT', message: expect.stringContaining('no database at the state before this migration to read the column in'), plan: expect.stringContaining('expand/contract') }]);
    expect((await rewriteMigration('ALTER TABLE "A" ALTER COLUMN "c" SET DATA TYPE VARCHAR(40);\n')).unsafe).toEqual([]);
    // A column in a constraint is not moved alone: the plan would have to move the constraint too.
    const asked: unknown[] = [];
    const blocked = await rewriteMigration(sql, {
      describeColumns: async (targets) => {
        asked.push(...targets);
        return [{ ...targets[0]!, quoted: 'balance', notNull: true, indexes: [], blocker: 'the constraint "Account_balance_fkey" uses it' }];
      },
    });
    expect(asked).toEqual([{ schema: 'public', table: 'Account', column: 'balance' }]);
    expect(blocked.changed).toBe(false);
    expect(blocked.unsafe[0]!.message).toBe('"Account"."balance" changes type to bigint: PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE; left as Prisma wrote it: the constraint "Account_balance_fkey" uses it');
  });

  it('a type change is not moved when the same migration builds an index on the column (the index would be left on the dropped one)', async () => {
    const facts = async (targets: Array<{ schema: string; table: string; column: string }>) => targets.map((t) => ({ ...t, quoted: t.column, notNull: false, indexes: [] }));
    const moved = await rewriteMigration('ALTER TABLE "W" ALTER COLUMN "n" SET DATA TYPE BIGINT;\n', { describeColumns: facts });
    expect(moved.changes.map((c) => c.code)).toEqual(['ZDT009']);
    const r = await rewriteMigration('ALTER TABLE "W" ALTER COLUMN "n" SET DATA TYPE BIGINT;\n\n-- CreateIndex\nCREATE INDEX "W_n_idx" ON "W"("n");\n', { describeColumns: facts });
    expect(r.changes.map((c) => c.code)).toEqual(['ZDT001']);
    expect(r.unsafe).toMatchObject([{ code: 'ZDT009', message: expect.stringContaining('this migration also builds an index or a constraint on it') }]);
  });

  it('an enum recreate that only tables of the same migration use is left alone, unreported', async () => {
    const sql = 'CREATE TABLE "N" ("id" INTEGER NOT NULL, "r" "Role");\n\nBEGIN;\nCREATE TYPE "Role_new" AS ENUM (\'USER\');\nALTER TABLE "N" ALTER COLUMN "r" TYPE "Role_new" USING ("r"::text::"Role_new");\nALTER TYPE "Role" RENAME TO "Role_old";\nALTER TYPE "Role_new" RENAME TO "Role";\nDROP TYPE "Role_old";\nCOMMIT;\n';
    expect(await rewriteMigration(sql, { describeColumns: async () => [] })).toMatchObject({ changed: false, unsafe: [] });
  });

  it('a hand-written RENAME COLUMN is left as written and reported; stagedb\'s own switch is not', async () => {
    const r = await rewriteMigration('ALTER TABLE "Account" RENAME COLUMN "name" TO "fullName";\n');
    expect(r.changed).toBe(false);
    expect(r.unsafe).toMatchObject([{ code: 'ZDT012', message: 'renames "Account"."name" to "fullName": the app version still running fails on its next query that names "name"', plan: expect.stringContaining('fullName … @map("name")') }]);
    expect((await rewriteMigration('-- stagedb-lint-disable-next-statement SDB017: stagedb\'s switch\nALTER TABLE "Account" RENAME COLUMN "a_zdt_new" TO "a";\n')).unsafe).toEqual([]);
  });
});

describe('step folder names', () => {
  it('share the timestamp, number the steps and sort in order', () => {
    const steps = ['', 'index_Account_email_idx', 'validate', 'not_null', ...Array.from({ length: 8 }, (_, i) => `x${i}`)].map((label) => ({ label, script: '', codes: [] }));
    const names = stepDirectoryNames('20261205112233_add_email', steps);
    expect(names.slice(0, 4)).toEqual(['20261205112233_add_email', '20261205112233_add_email_02_index_account_email_idx', '20261205112233_add_email_03_validate', '20261205112233_add_email_04_not_null']);
    expect([...names].sort()).toEqual(names);
    expect(names.every((n) => n < '20261205112234')).toBe(true);
  });

  it('names stagedb adds fit PostgreSQL\'s 63 bytes and stay distinct', () => {
    const a = objectName(`${'VeryLongModelName'.repeat(3)}_someColumn_not_null_check`);
    const b = objectName(`${'VeryLongModelName'.repeat(3)}_someColumm_not_null_check`);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(objectName('Account_email_not_null_check')).toBe('Account_email_not_null_check');
  });
});

describe('foreign keys and lock order (ZDT003)', () => {
  it('locks the referenced table first, in its own transaction; ACCESS EXCLUSIVE when the old key is dropped in it', async () => {
    const add = await rewriteMigration('-- AddForeignKey\nALTER TABLE "Ledger" ADD CONSTRAINT "Ledger_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n');
    expect(add.steps[0]!.script).toMatch(/\nBEGIN;\nLOCK TABLE "Account", "Ledger" IN SHARE ROW EXCLUSIVE MODE;\n\n-- AddForeignKey\nALTER TABLE "Ledger" ADD CONSTRAINT .* NOT VALID;\n\nCOMMIT;\n$/);
    const swap = await rewriteMigration('-- DropForeignKey\nALTER TABLE "Ledger" DROP CONSTRAINT "Ledger_accountId_fkey";\n\n-- AddForeignKey\nALTER TABLE "Ledger" ADD CONSTRAINT "Ledger_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;\n');
    expect(swap.steps[0]!.script).toContain('\nBEGIN;\nLOCK TABLE "Account", "Ledger" IN ACCESS EXCLUSIVE MODE;\n\n-- DropForeignKey\n');
    expect(swap.steps[1]!.script).toContain('\nALTER TABLE "Ledger" VALIDATE CONSTRAINT "Ledger_accountId_fkey";\n');
  });
});

describe('SDB007 and a validated CHECK (c IS NOT NULL)', () => {
  const check = 'ALTER TABLE "A" ADD CONSTRAINT "A_c_not_null_check" CHECK ("c" IS NOT NULL) NOT VALID;\n';
  const validate = 'ALTER TABLE "A" VALIDATE CONSTRAINT "A_c_not_null_check";\n';
  const setNotNull = 'ALTER TABLE "A" ALTER COLUMN "c" SET NOT NULL;\nALTER TABLE "A" DROP CONSTRAINT "A_c_not_null_check";\n';
  const sdb007 = async (files: string[], separately = false) =>
    (await lintFiles(files.map((sql, i) => ({ path: `m${i + 1}.sql`, sql })), { separately })).findings.filter((f) => f.code === 'SDB007').map((f) => f.file);

  it('is not reported once the CHECK is validated, together or file by file; still reported without the VALIDATE', async () => {
    expect(await sdb007([check, validate, setNotNull])).toEqual([]);
    expect(await sdb007([check, validate, setNotNull], true)).toEqual([]);
    expect(await sdb007([check, setNotNull])).toEqual(['m2.sql']);
    expect(await sdb007([setNotNull])).toEqual(['m1.sql']);
    // A CHECK added valid proves it at once.
    expect(await sdb007(['ALTER TABLE "A" ADD CONSTRAINT "k" CHECK ("c" IS NOT NULL);\n', setNotNull])).toEqual([]);
  });
});
