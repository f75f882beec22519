import { describe, expect, it } from 'vitest';
import { byteToChar, charToByte, lineStartsOf, loadParser, parseFile, position } from '../../src/lint/parse.js';
import { lintFiles } from '../../src/lint/run.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseMode } from '../../src/history/mode.js';
import { runModel } from '../../src/lint/model.js';

describe('positions: the parser counts bytes, findings count characters', () => {
  it('maps UTF-8 byte offsets to string indexes (identity for ASCII)', () => {
    const ascii = byteToChar('SELECT 1');
    expect(ascii(7)).toBe(7);
    const text = 'é😀a';
    const b2c = byteToChar(text);
    expect([b2c(0), b2c(2), b2c(6), b2c(7)]).toEqual([0, 1, 3, 4]);
    expect(charToByte(text)(3)).toBe(6);
  });
  it('gives 1-based line and column in code points', () => {
    const text = 'ab\n😀😀x';
    expect(position(text, lineStartsOf(text), 7)).toEqual({ line: 2, column: 3 });
  });
  it('locates statements after non-ASCII comments and strings', async () => {
    const sql = "-- Crée l'index 😀\nCOMMENT ON TABLE \"Post\" IS 'déjà vu';\nCREATE INDEX \"i\" ON \"Post\"(\"x\");\n";
    const f = (await lintFiles([{ path: 'm.sql', sql }])).findings;
    expect(f).toMatchObject([{ code: 'SDB001', line: 3, column: 1, statement: 'CREATE INDEX "i" ON "Post"("x")' }]);
  });
  it('points at the part at fault inside a multi-line statement', async () => {
    const sql = 'ALTER TABLE "Pöst" ADD COLUMN "a" TEXT,\n   ADD COLUMN "é" TEXT NOT NULL;';
    const f = (await lintFiles([{ path: 'm.sql', sql }])).findings;
    expect(f).toMatchObject([{ code: 'SDB008', line: 2, column: 15, endLine: 2 }]);
  });
});

describe('the parser input buffer, reused between files (issue 18)', () => {
  it('parses a long text after short ones and short ones after it, each as its own text', async () => {
    const p = await loadParser();
    const one = (sql: string) => (p.parse(sql).stmts ?? []).map((s) => Object.keys(s.stmt ?? {})[0]);
    const long = `${'SELECT 1;\n'.repeat(5000)}CREATE TABLE "Last" ("id" INT);`;
    expect(one('CREATE TABLE "A" ("id" INT); DROP TABLE "B";')).toEqual(['CreateStmt', 'DropStmt']);
    expect(one(long)).toHaveLength(5001);
    expect(one(long).at(-1)).toBe('CreateStmt');
    // A shorter text in the grown buffer: nothing of the long one's tail is read after it.
    expect(one('DROP TABLE "B";')).toEqual(['DropStmt']);
    expect(() => p.parse('SELECT FROM WHERE;')).toThrow(/syntax error/);
    expect(one('SELECT 1')).toEqual(['SelectStmt']);
  });
});

describe('parse errors', () => {
  it('reports the statement that does not parse and still lints the others', async () => {
    const sql = 'CREATE INDEX "a" ON "Post"("x");\nALTER TABLE "Post" ADD COLUMN;\nDROP INDEX "b";';
    const r = await lintFiles([{ path: 'm.sql', sql }]);
    expect(r.findings.map((f) => [f.code, f.line, f.severity])).toEqual([
      ['SDB000', 2, 'error'],
      ['SDB001', 1, 'warning'],
      ['SDB002', 3, 'warning'],
    ]);
    expect(r.findings[0]!.message).toBe('PostgreSQL cannot parse this statement: syntax error at or near ";"');
    expect(r.findings[0]!.column).toBe(30);
  });
  it('parses a whole file in one call when it is valid', async () => {
    const p = await loadParser();
    const f = parseFile(p, 'SELECT 1;\n\n  -- c\n  SELECT 2');
    expect(f.problems).toEqual([]);
    expect(f.statements.map((s) => [s.kind, s.start, s.end, s.text])).toEqual([
      ['SelectStmt', 0, 8, 'SELECT 1'],
      ['SelectStmt', 20, 28, 'SELECT 2'],
    ]);
  });
});

describe('run model: which statements share a transaction', () => {
  const kinds = (sql: string) => sql.split(';').filter((s) => s.trim()).map((s) => (/^\s*(BEGIN|COMMIT)/.test(s) ? { kind: 'TransactionStmt', txKind: /BEGIN/.test(s) ? 'TRANS_STMT_BEGIN' : 'TRANS_STMT_COMMIT' } : { kind: 'X' }));
  it("follows stagedb's own per-file choice", () => {
    const one = 'CREATE TABLE a (x int); CREATE INDEX i ON a (x);';
    expect(runModel(one, kinds(one), 'stagedb', 170000)).toMatchObject({ mode: 'transaction', tx: [0, 0] });
    const conc = 'CREATE TABLE a (x int); CREATE INDEX CONCURRENTLY i ON a (x);';
    expect(runModel(conc, kinds(conc), 'stagedb', 170000)).toMatchObject({ mode: 'statements', tx: [null, null] });
    const managed = 'ALTER TABLE a ADD b int; BEGIN; ALTER TABLE a ADD c int; COMMIT; ALTER TABLE a ADD d int;';
    expect(runModel(managed, kinds(managed), 'stagedb', 170000)).toMatchObject({ mode: 'file-managed', tx: [0, 0, 0, 0, 1] });
  });
  it('ADD VALUE runs statement by statement before PostgreSQL 12', () => {
    const sql = "ALTER TYPE r ADD VALUE 'x'; CREATE TABLE a (x int);";
    expect(runModel(sql, kinds(sql), 'stagedb', 110000).mode).toBe('statements');
    expect(runModel(sql, kinds(sql), 'stagedb', 120000).mode).toBe('transaction');
  });
  it('prisma migrate deploy: one multi-statement query, or a lone statement outside a transaction', () => {
    const conc = 'CREATE TABLE a (x int); CREATE INDEX CONCURRENTLY i ON a (x);';
    expect(runModel(conc, kinds(conc), 'prisma', 170000)).toMatchObject({ mode: 'prisma-script', tx: [0, 0] });
    expect(runModel('CREATE INDEX CONCURRENTLY i ON a (x)', [{ kind: 'IndexStmt' }], 'prisma', 170000)).toMatchObject({ mode: 'prisma-single', tx: [null] });
  });
  it("agrees with deploy's own chooseMode on every file (the keyword shortcut included)", () => {
    const samples = [
      'CREATE INDEX CONCURRENTLY i ON a (x)',
      'create unique index concurrently if not exists i on a (x)',
      'DROP INDEX CONCURRENTLY i',
      'REINDEX TABLE CONCURRENTLY a',
      'ALTER TABLE p DETACH PARTITION c CONCURRENTLY',
      'VACUUM a',
      'CREATE DATABASE d',
      'DROP TABLESPACE t',
      'ALTER SYSTEM SET work_mem = 1',
      'CREATE SUBSCRIPTION s CONNECTION $$x$$ PUBLICATION p',
      "ALTER TYPE r ADD VALUE 'x'",
      'BEGIN; CREATE TABLE a (x int); COMMIT;',
      'START TRANSACTION; CREATE TABLE a (x int); END;',
      'CREATE TABLE "Appendix" ("endDate" DATE, "valueOf" INT); CREATE INDEX "Appendix_endDate_idx" ON "Appendix"("endDate");',
    ];
    const files = ['test/fixtures/prisma-history/prisma/migrations', 'examples/guide-app/prisma/migrations'].flatMap((root) =>
      readdirSync(root)
        .filter((d) => !d.includes('.'))
        .map((d) => readFileSync(join(root, d, 'migration.sql'), 'utf8')),
    );
    for (const sql of [...samples, ...files]) {
      for (const v of [110000, 170000]) {
        const kinds = chooseMode(sql, v).statements.map(() => ({ kind: 'X' }));
        expect(runModel(sql, kinds, 'stagedb', v).mode, `${sql} @ ${v}`).toBe(chooseMode(sql, v).mode);
      }
    }
  });
});
