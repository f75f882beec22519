/**
 * How the drift check's own replay (drift-replay.ts) sends a history to the shadow database: which
 * migrations share one transaction and which run as deploy runs them alone.
 */
import { describe, expect, it } from 'vitest';
import { replayBatches, replayMessages } from '../../src/develop/drift-replay.js';

const m = (name: string, script: string) => ({ name, script });
const shape = (ms: ReturnType<typeof m>[], server = 150000) => [...replayBatches(ms, server)].map((b) => `${b.kind}:${b.migrations.join('+')}`);

describe('replayBatches', () => {
  it('consecutive DDL-only migrations share one script; an enum value added ends the group (the next file may use it)', () => {
    expect(
      shape([
        m('1_init', 'CREATE TYPE "S" AS ENUM (\'A\');\nCREATE TABLE "T" ("id" INT, "s" "S");'),
        m('2_idx', 'CREATE INDEX "T_s_idx" ON "T"("s");\n-- a trailing comment'),
        m('3_value', 'ALTER TYPE "S" ADD VALUE \'B\';'),
        m('4_default', 'ALTER TABLE "T" ALTER COLUMN "s" SET DEFAULT \'B\';'),
        m('5_comment', 'COMMENT ON TABLE "T" IS \'x\';\nDROP INDEX "T_s_idx";'),
      ]),
    ).toEqual(['script:1_init+2_idx+3_value', 'script:4_default+5_comment']);
  });

  it('data changes, SET and DO blocks run in their own transaction; CONCURRENTLY statement by statement; BEGIN/COMMIT files as written', () => {
    expect(
      shape([
        m('1_a', 'CREATE TABLE "A" ("id" INT);'),
        m('2_data', 'INSERT INTO "A" VALUES (1);'),
        m('3_b', 'CREATE TABLE "B" ("id" INT);'),
        m('4_set', 'SET LOCAL lock_timeout = \'1s\';\nCREATE TABLE "C" ("id" INT);'),
        m('5_conc', 'CREATE INDEX CONCURRENTLY "A_id" ON "A"("id");\nCREATE TABLE "D" ("id" INT);'),
        m('6_own', 'BEGIN;\nCREATE TABLE "E" ("id" INT);\nCOMMIT;'),
        m('7_f', 'CREATE TABLE "F" ("id" INT);'),
        m('8_g', 'CREATE TABLE "G" ("id" INT);'),
      ]),
    ).toEqual(['script:1_a', 'script:2_data', 'script:3_b', 'script:4_set', 'statements:5_conc', 'script:6_own', 'script:7_f+8_g']);
  });

  it('before PostgreSQL 12 an enum value is added outside any transaction, as deploy adds it', () => {
    const batches = [...replayBatches([m('1_a', 'CREATE TABLE "A" ("id" INT);'), m('2_v', 'ALTER TYPE "S" ADD VALUE \'B\';')], 110000)];
    expect(batches.map((b) => b.kind)).toEqual(['script', 'statements']);
    expect(batches[1]!.texts).toEqual(["ALTER TYPE \"S\" ADD VALUE 'B'"]);
  });
});

describe('replayMessages', () => {
  it('consecutive transactions go in one message, each in its own BEGIN … COMMIT, files with their own BEGIN/COMMIT as written; CONCURRENTLY alone', () => {
    const msgs = [
      ...replayMessages(
        replayBatches(
          [
            m('1_init', 'CREATE TYPE "S" AS ENUM (\'A\');'),
            m('2_value', 'ALTER TYPE "S" ADD VALUE \'B\';'),
            m('3_use', 'ALTER TABLE "T" ALTER COLUMN "s" SET DEFAULT \'B\'; -- no newline'),
            m('4_data', 'INSERT INTO "T" VALUES (1);'),
            m('5_own', 'BEGIN;\nCREATE TABLE "E" ("id" INT);\nCOMMIT;'),
            m('6_conc', 'CREATE INDEX CONCURRENTLY "A_id" ON "A"("id");'),
            m('7_f', 'CREATE TABLE "F" ("id" INT);'),
          ],
          150000,
        ),
      ),
    ];
    expect(msgs.map((x) => x.kind)).toEqual(['script', 'statements', 'script']);
    expect(msgs[0]!.texts).toEqual([
      'BEGIN;\nCREATE TYPE "S" AS ENUM (\'A\');\n;\nALTER TYPE "S" ADD VALUE \'B\';\n;\nCOMMIT;\nBEGIN;\nALTER TABLE "T" ALTER COLUMN "s" SET DEFAULT \'B\'; -- no newline\n;\nCOMMIT;\nBEGIN;\nINSERT INTO "T" VALUES (1);\n;\nCOMMIT;\nBEGIN;\nCREATE TABLE "E" ("id" INT);\nCOMMIT;\n;',
    ]);
    expect(msgs[2]!.texts[0]).toMatch(/^BEGIN;\nCREATE TABLE "F"/);
  });
});
