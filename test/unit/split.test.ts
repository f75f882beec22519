import { describe, expect, it } from 'vitest';
import { lineColumn, splitStatements } from '../../src/history/split.js';

const texts = (sql: string) => splitStatements(sql).map((s) => s.text);
const heads = (sql: string) => splitStatements(sql).map((s) => s.head);

describe('splitStatements', () => {
  it('splits on semicolons and drops the semicolon and trailing space', () => {
    expect(splitStatements('CREATE TABLE a (id int);\nCREATE TABLE b (id int)  ;\n')).toEqual([
      { text: 'CREATE TABLE a (id int)', start: 0, head: 'CREATE TABLE A (ID INT)' },
      { text: 'CREATE TABLE b (id int)', start: 25, head: 'CREATE TABLE B (ID INT)' },
    ]);
  });

  it('keeps a trailing statement without a semicolon', () => {
    expect(texts('SELECT 1;\nSELECT 2\n')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('skips empty statements, whitespace-only and comment-only pieces', () => {
    expect(texts(';;\n ; SELECT 1;;; -- nothing here\n; /* nor here */ ;')).toEqual(['SELECT 1']);
    expect(splitStatements('')).toEqual([]);
    expect(splitStatements('-- only a comment')).toEqual([]);
  });

  it("ignores semicolons inside '…' strings, with '' escapes", () => {
    expect(texts("INSERT INTO t VALUES ('a;b', 'it''s; fine');SELECT 2")).toEqual(["INSERT INTO t VALUES ('a;b', 'it''s; fine')", 'SELECT 2']);
  });

  it("treats a backslash as ordinary inside '…' (standard_conforming_strings)", () => {
    expect(texts(String.raw`SELECT 'C:\';SELECT 2`)).toEqual([String.raw`SELECT 'C:\'`, 'SELECT 2']);
  });

  it("understands E'…' strings with backslash escapes", () => {
    expect(texts(String.raw`SELECT E'it\'s; \\'; SELECT e'\';x'; SELECT 3`)).toEqual([String.raw`SELECT E'it\'s; \\'`, String.raw`SELECT e'\';x'`, 'SELECT 3']);
  });

  it("a word ending in e before a quote is not an E'…' prefix", () => {
    // THEN 'a\' is a complete standard string; were it read as E'…' the split would be lost.
    expect(texts(String.raw`SELECT CASE WHEN true THEN'a\' ELSE 'b' END; SELECT 2`)).toEqual([String.raw`SELECT CASE WHEN true THEN'a\' ELSE 'b' END`, 'SELECT 2']);
  });

  it('ignores semicolons inside "…" identifiers, with "" escapes', () => {
    expect(texts('CREATE TABLE "a;b" ("x"";y" int); SELECT 2')).toEqual(['CREATE TABLE "a;b" ("x"";y" int)', 'SELECT 2']);
  });

  it('keeps $$ and $tag$ bodies whole: a plpgsql function with inner semicolons', () => {
    const fn = `CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger AS $body$
BEGIN
  NEW."updatedAt" := now();
  RAISE NOTICE 'touched; %', $$not a close$$;
  RETURN NEW;
END;
$body$ LANGUAGE plpgsql`;
    const sql = `${fn};\nCREATE TRIGGER t BEFORE UPDATE ON "User" FOR EACH ROW EXECUTE FUNCTION touch_updated_at();\nDO $$ BEGIN PERFORM 1; END $$;`;
    const out = splitStatements(sql);
    expect(out.map((s) => s.text)).toEqual([
      fn,
      'CREATE TRIGGER t BEFORE UPDATE ON "User" FOR EACH ROW EXECUTE FUNCTION touch_updated_at()',
      'DO $$ BEGIN PERFORM 1; END $$',
    ]);
    expect(out.map((s) => s.head)).toEqual([
      'CREATE OR REPLACE FUNCTION TOUCH_UPDATED_AT() RETURNS TRIGGER AS $$ LANGUAGE PLPGSQL',
      'CREATE TRIGGER T BEFORE UPDATE ON "USER" FOR EACH ROW EXECUTE FUNCTION TOUCH_UPDATED_AT()',
      'DO $$',
    ]);
  });

  it('keeps a SQL-standard BEGIN ATOMIC … END body whole (psql\'s rule)', () => {
    const fn = `CREATE OR REPLACE FUNCTION grade(score int) RETURNS text LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN score > 90 THEN 'A;' ELSE 'B' END;
  SELECT 'unreachable';
END`;
    const proc = 'CREATE PROCEDURE bump() BEGIN ATOMIC UPDATE t SET n = n + 1; INSERT INTO log VALUES (1); END';
    expect(texts(`${fn};
${proc};
BEGIN;
SELECT 1;
END;`)).toEqual([fn, proc, 'BEGIN', 'SELECT 1', 'END']);
  });

  it('BEGIN and CASE outside a routine do not hold the statement open', () => {
    expect(texts('SELECT CASE WHEN a THEN 1 END FROM t; BEGIN; SELECT 2; COMMIT')).toEqual(['SELECT CASE WHEN a THEN 1 END FROM t', 'BEGIN', 'SELECT 2', 'COMMIT']);
    expect(texts('CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN CASE WHEN true THEN 1 END; SELECT 2')).toEqual([
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN CASE WHEN true THEN 1 END',
      'SELECT 2',
    ]);
  });

  it('$1 parameters and $ inside identifiers are not dollar quotes', () => {
    expect(texts('PREPARE p AS SELECT $1; SELECT a$b$ FROM t; SELECT 3')).toEqual(['PREPARE p AS SELECT $1', 'SELECT a$b$ FROM t', 'SELECT 3']);
  });

  it('an unterminated dollar quote runs to the end of the file', () => {
    expect(texts('SELECT 1; DO $x$ BEGIN; END;')).toEqual(['SELECT 1', 'DO $x$ BEGIN; END;']);
  });

  it('ignores semicolons in -- comments and nested /* */ comments', () => {
    const sql = '-- first; comment\nSELECT 1 /* a; /* nested; */ still; */ + 1; -- tail;\nSELECT 2';
    expect(splitStatements(sql)).toEqual([
      { text: 'SELECT 1 /* a; /* nested; */ still; */ + 1', start: 18, head: 'SELECT 1 + 1' },
      { text: 'SELECT 2', start: 71, head: 'SELECT 2' },
    ]);
  });

  it('start is the offset of the first token after leading comments and space', () => {
    const sql = '-- CreateEnum\nCREATE TYPE "Role" AS ENUM (\'USER\');\n\n  /* c */  -- d\n  ALTER TABLE "User" ADD COLUMN "role" "Role";\n';
    const out = splitStatements(sql);
    expect(out.map((s) => s.start)).toEqual([sql.indexOf('CREATE'), sql.indexOf('ALTER')]);
    expect(out.map((s) => s.start)).toEqual([14, 70]);
  });

  it('head: comments removed, whitespace collapsed, upper-cased, strings blanked', () => {
    expect(heads("create   unique\n\tindex /* why */ concurrently -- x\n idx ON t (lower(name)) WHERE name <> 'begin; commit'")).toEqual([
      "CREATE UNIQUE INDEX CONCURRENTLY IDX ON T (LOWER(NAME)) WHERE NAME <> ''",
    ]);
  });

  it('head keeps the start of a long statement only', () => {
    const long = `INSERT INTO t VALUES ${Array.from({ length: 200 }, (_, i) => `(${i})`).join(', ')}`;
    const [s] = splitStatements(long);
    expect(s!.text).toBe(long);
    expect(s!.head.length).toBeLessThanOrEqual(410);
    expect(long.toUpperCase().startsWith(s!.head)).toBe(true);
  });

  it('handles CRLF files', () => {
    expect(splitStatements('SELECT 1;\r\nSELECT 2;\r\n')).toEqual([
      { text: 'SELECT 1', start: 0, head: 'SELECT 1' },
      { text: 'SELECT 2', start: 11, head: 'SELECT 2' },
    ]);
  });
});

describe('lineColumn', () => {
  const text = 'line one\nline two\n\nline four';

  it('is 1-based', () => {
    expect(lineColumn(text, 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn(text, 5)).toEqual({ line: 1, column: 6 });
  });

  it('counts lines across newlines, blank lines included', () => {
    expect(lineColumn(text, text.indexOf('two'))).toEqual({ line: 2, column: 6 });
    expect(lineColumn(text, text.indexOf('four'))).toEqual({ line: 4, column: 6 });
  });

  it('the newline itself belongs to the line it ends', () => {
    expect(lineColumn(text, 8)).toEqual({ line: 1, column: 9 });
    expect(lineColumn(text, 9)).toEqual({ line: 2, column: 1 });
  });

  it('an offset at the end of the text', () => {
    expect(lineColumn(text, text.length)).toEqual({ line: 4, column: 10 });
  });
});

describe('splitStatements and parentheses', () => {
  it('keeps a multi-action CREATE RULE whole, as psql does', () => {
    const sql = 'CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;';
    expect(splitStatements(sql).map((s) => s.text)).toEqual([
      'CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))',
      'SELECT 1',
    ]);
  });

  it('splits statements longer than the classification head', () => {
    const cols = Array.from({ length: 40 }, (_, i) => `    "column_${i}" TEXT NOT NULL DEFAULT 'x'`).join(',\n');
    const sql = `CREATE TABLE "Wide" (\n${cols},\n    CONSTRAINT "Wide_pkey" PRIMARY KEY ("column_0")\n);\n\nCREATE INDEX "Wide_idx" ON "Wide"("column_1");\n`;
    const parts = splitStatements(sql);
    expect(parts).toHaveLength(2);
    expect(parts[0]!.text.endsWith(')')).toBe(true);
    expect(parts[1]!.text).toBe('CREATE INDEX "Wide_idx" ON "Wide"("column_1")');
  });

  it('an unbalanced closing parenthesis does not swallow the next statement', () => {
    expect(splitStatements('SELECT 1);\nSELECT 2;').map((s) => s.text)).toEqual(['SELECT 1)', 'SELECT 2']);
  });
});
