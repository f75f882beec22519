import { describe, expect, it } from 'vitest';
import { describeFailure, failureLogs } from '../../src/history/failure.js';
import { splitStatements } from '../../src/history/split.js';
import { registerSecret } from '../../src/redact.js';

const SCRIPT = `-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "authorId" INTEGER NOT NULL
);

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey"
    FOREIGN KEY ("authorId") REFERENCES "Author"("id");
`;
const STATEMENTS = splitStatements(SCRIPT);

/** A node-postgres DatabaseError, reduced to the fields PostgreSQL sends. */
const pgError = (fields: Record<string, string>) => Object.assign(new Error(fields.message), fields);

describe('describeFailure', () => {
  it('locates a position inside one statement sent on its own (offset = where it starts in the file)', () => {
    const failing = STATEMENTS[1]!;
    const position = failing.text.indexOf('"Author"') + 1; // PostgreSQL: 1-based, within the query sent
    const f = describeFailure(
      pgError({ message: 'relation "Author" does not exist', code: '42P01', position: String(position) }),
      SCRIPT,
      STATEMENTS,
      failing.start,
    );
    expect(f).toEqual({
      message: 'relation "Author" does not exist',
      code: '42P01',
      detail: undefined,
      hint: undefined,
      where: undefined,
      line: 9,
      column: 41,
      statement: failing.text,
    });
    expect(SCRIPT.split('\n')[8]!.slice(40, 48)).toBe('"Author"');
  });

  it('locates a position in the whole file sent at once (offset undefined) and picks the statement around it', () => {
    const position = SCRIPT.indexOf('"authorId" INTEGER') + 1;
    const f = describeFailure(pgError({ message: 'type "integr" does not exist', code: '42704', position: String(position) }), SCRIPT, STATEMENTS, undefined);
    expect(f).toMatchObject({ line: 4, column: 5, statement: STATEMENTS[0]!.text });
  });

  it('counts PostgreSQL positions in characters: an emoji before the error is one character', () => {
    const script = "INSERT INTO \"Tag\" (name) VALUES ('🚀 launch', '数据');\nINSERT INTO \"Tag\" (nme) VALUES ('x');\n";
    // Whole file sent: PostgreSQL's position of "nme", in code points.
    const position = [...script.slice(0, script.indexOf('nme'))].length + 1;
    expect(position).toBe(script.indexOf('nme')); // one less than the UTF-16 index + 1: the rocket is two units
    const f = describeFailure(pgError({ message: 'column "nme" of relation "Tag" does not exist', code: '42703', position: String(position) }), script, splitStatements(script), undefined);
    expect(f).toMatchObject({ line: 2, column: 20, statement: 'INSERT INTO "Tag" (nme) VALUES (\'x\')' });
  });

  it('without a position, points at the start of the statement that was sent', () => {
    const failing = STATEMENTS[1]!;
    const f = describeFailure(pgError({ message: 'deadlock detected', code: '40P01' }), SCRIPT, STATEMENTS, failing.start);
    expect(f).toMatchObject({ line: 8, column: 1, statement: failing.text });
  });

  it('without a position, the first statement of a file (offset 0) is still located', () => {
    const script = 'ALTER TABLE "Post" ALTER COLUMN "title" SET NOT NULL;\nSELECT 1;';
    const f = describeFailure(pgError({ message: 'column "title" of relation "Post" contains null values', code: '23502' }), script, splitStatements(script), 0);
    expect(f).toMatchObject({ line: 1, column: 1, statement: 'ALTER TABLE "Post" ALTER COLUMN "title" SET NOT NULL' });
  });

  it('without a position and with the whole file sent, gives no location', () => {
    const f = describeFailure(pgError({ message: 'canceling statement due to lock timeout', code: '55P03' }), SCRIPT, STATEMENTS, undefined);
    expect(f).toEqual({ message: 'canceling statement due to lock timeout', code: '55P03', detail: undefined, hint: undefined, where: undefined });
  });

  it('keeps detail, hint and where', () => {
    const f = describeFailure(
      pgError({ message: 'could not create unique index "User_email_key"', code: '23505', detail: 'Key (email)=(a@b.c) is duplicated.', hint: 'dedupe first', where: 'SQL statement' }),
      SCRIPT,
      STATEMENTS,
      undefined,
    );
    expect(f).toMatchObject({ detail: 'Key (email)=(a@b.c) is duplicated.', hint: 'dedupe first', where: 'SQL statement' });
  });

  it('redacts passwords in the message, the detail and the statement', () => {
    registerSecret('Registered-Secret-1');
    const script = `CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db');\nCREATE USER MAPPING FOR app SERVER remote OPTIONS (user 'app', password 'Registered-Secret-1');\n`;
    const statements = splitStatements(script);
    const f = describeFailure(
      pgError({
        message: 'could not connect to postgresql://app:Url-Secret-2@db:5432/app',
        detail: 'connection string was "host=db password=Kv-Secret-3"',
        code: '08001',
        position: '1',
      }),
      script,
      statements,
      statements[1]!.start,
    );
    expect(f.message).toBe('could not connect to postgresql://app:****@db:5432/app');
    expect(f.detail).toBe('connection string was "host=db password=****"');
    expect(f.statement).toBe("CREATE USER MAPPING FOR app SERVER remote OPTIONS (user 'app', password '****')");
    expect(failureLogs(f)).not.toMatch(/Secret-\d/);
    expect(f).toMatchObject({ line: 2, column: 1 });
  });

  it('redacts the hint and the context too', () => {
    const f = describeFailure(
      pgError({
        message: 'could not establish connection',
        hint: 'check postgresql://app:Hint-Secret-4@remote/app',
        where: 'SQL statement "SELECT dblink_connect(\'host=remote password=Where-Secret-5\')"\nPL/pgSQL function inline_code_block line 3 at PERFORM',
      }),
      SCRIPT,
      STATEMENTS,
      undefined,
    );
    expect(f.hint).toBe('check postgresql://app:****@remote/app');
    expect(f.where).toBe('SQL statement "SELECT dblink_connect(\'host=remote password=****\')"\nPL/pgSQL function inline_code_block line 3 at PERFORM');
    expect(failureLogs(f)).toContain('HINT: check postgresql://app:****@remote/app');
  });

  it('shortens a long statement to 500 characters', () => {
    const long = `INSERT INTO t VALUES ${Array.from({ length: 300 }, (_, i) => `(${i})`).join(', ')}`;
    const f = describeFailure(pgError({ message: 'boom', position: '1' }), long, splitStatements(long), undefined);
    expect(f.statement).toBe(`${long.slice(0, 500)}…`);
  });

  it('accepts errors that are not PostgreSQL errors', () => {
    expect(describeFailure(new Error('Connection terminated unexpectedly'), SCRIPT, STATEMENTS, undefined)).toMatchObject({
      message: 'Connection terminated unexpectedly',
      code: undefined,
    });
    expect(describeFailure('plain string', SCRIPT, STATEMENTS, undefined).message).toBe('plain string');
    expect(describeFailure(undefined, SCRIPT, STATEMENTS, undefined).message).toBe('undefined');
  });
});

describe('failureLogs', () => {
  it("writes Prisma's shape: code, message, detail, hint, then where in the file", () => {
    const failing = STATEMENTS[1]!;
    const f = describeFailure(
      pgError({ message: 'relation "Author" does not exist', code: '42P01', position: String(failing.text.indexOf('"Author"') + 1), hint: 'create "Author" first' }),
      SCRIPT,
      STATEMENTS,
      failing.start,
    );
    expect(failureLogs(f)).toMatchInlineSnapshot(`
      "Database error code: 42P01

      Database error:
      ERROR: relation "Author" does not exist
      HINT: create "Author" first

      Position: line 9, column 41
      Statement: ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey"
          FOREIGN KEY ("authorId") REFERENCES "Author"("id")"
    `);
  });

  it('leaves out what it does not have', () => {
    expect(failureLogs({ message: 'Connection terminated unexpectedly' })).toMatchInlineSnapshot(`
      "Database error:
      ERROR: Connection terminated unexpectedly"
    `);
    expect(failureLogs({ message: 'duplicate key', code: '23505', detail: 'Key (id)=(1) already exists.' })).toMatchInlineSnapshot(`
      "Database error code: 23505

      Database error:
      ERROR: duplicate key
      DETAIL: Key (id)=(1) already exists."
    `);
  });
});
