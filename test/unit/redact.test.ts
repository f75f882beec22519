import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from '../../src/redact.js';

// registerSecret is process-wide state: every secret below is unique to its test, so order does not matter.

describe('redact: URL passwords', () => {
  it('masks the password of a URL and keeps everything else', () => {
    expect(redact('connecting to postgresql://app:s3cr3t-Pw@db.example.com:5432/app?sslmode=require')).toBe(
      'connecting to postgresql://app:****@db.example.com:5432/app?sslmode=require',
    );
  });

  it('masks percent-encoded passwords', () => {
    expect(redact('postgresql://app:p%40ss%3Aw%2Frd@db:5432/app')).toBe('postgresql://app:****@db:5432/app');
  });

  it('masks every URL in a text, whatever the scheme', () => {
    expect(redact('from postgres://a:one1@h1/db to prisma+postgres://b:two2@h2/db (redis://c:three3@h3)')).toBe(
      'from postgres://a:****@h1/db to prisma+postgres://b:****@h2/db (redis://c:****@h3)',
    );
  });

  it('masks a URL inside quotes without eating the closing quote', () => {
    expect(redact(`url: 'postgresql://app:pw1234@db/app', other: "postgresql://x:pw5678@db/x"`)).toBe(
      `url: 'postgresql://app:****@db/app', other: "postgresql://x:****@db/x"`,
    );
  });

  it('masks all of a raw password that itself contains @ (a URL nobody percent-encoded)', () => {
    expect(redact('postgresql://app:p@ss@w0rd@db:5432/app')).toBe('postgresql://app:****@db:5432/app');
  });

  it('leaves URLs without a password alone', () => {
    const text = 'postgresql://app@db:5432/app and postgresql://db:5432/app and https://example.com/a:b';
    expect(redact(text)).toBe(text);
  });
});

describe('redact: key=value credentials', () => {
  it('masks libpq keyword passwords', () => {
    expect(redact('host=db port=5432 user=app password=s3cret dbname=app')).toBe('host=db port=5432 user=app password=**** dbname=app');
    expect(redact('sslpassword=keypass sslmode=verify-full')).toBe('sslpassword=**** sslmode=verify-full');
  });

  it("masks libpq's quoted values, spaces and escaped quotes included", () => {
    expect(redact("host=db password='my s3cret' user=app")).toBe('host=db password=**** user=app');
    expect(redact(String.raw`host=db password='it\'s mine' user=app`)).toBe('host=db password=**** user=app');
  });

  it('masks passwords and api keys in query strings, any case', () => {
    expect(redact('postgresql://db/app?user=app&password=qs-secret&sslmode=require')).toBe('postgresql://db/app?user=app&password=****&sslmode=require');
    expect(redact('prisma+postgres://accelerate.prisma-data.net/?api_key=eyJhbGciOi.J9x')).toBe('prisma+postgres://accelerate.prisma-data.net/?api_key=****');
    expect(redact('PASSWORD=upper1 ApiKey=mixed2')).toBe('PASSWORD=**** ApiKey=****');
  });
});

describe('redact: registered secrets', () => {
  it('masks a registered secret wherever it appears verbatim', () => {
    registerSecret('Tr0ub4dor-x9');
    expect(redact('FATAL: role "app" with password Tr0ub4dor-x9 rejected; "Tr0ub4dor-x9"')).toBe('FATAL: role "app" with password **** rejected; "****"');
  });

  it('masks its percent-encoded and decoded forms too', () => {
    registerSecret('p%40ss-word9');
    expect(redact('got p@ss-word9 and p%40ss-word9')).toBe('got **** and ****');
    registerSecret('sp ace&amp9');
    expect(redact('encoded: sp%20ace%26amp9')).toBe('encoded: ****');
  });

  it('masks a longer secret whole when it contains a shorter one', () => {
    registerSecret('abcd1234');
    registerSecret('abcd1234-longer');
    expect(redact('x abcd1234-longer y')).toBe('x **** y');
  });

  it('ignores secrets shorter than 4 characters', () => {
    registerSecret('pw1');
    registerSecret('');
    registerSecret(undefined);
    registerSecret(null);
    expect(redact('pw1 is fine')).toBe('pw1 is fine');
  });

  it('a short, word-like password does not mangle the words that contain it', () => {
    // The guide's own example is postgresql://user:pass@localhost:5432/dev_db; a local default is postgres:postgres.
    registerSecret('pass');
    registerSecret('postgres');
    expect(redact('password authentication failed for user "user"')).toBe('password authentication failed for user "user"');
    expect(redact('connecting to postgresql://user:****@localhost:5432/postgres')).toBe('connecting to postgresql://user:****@localhost:5432/****');
    expect(redact('bad: pass, "postgres", postgres:// and (pass)')).toBe('bad: ****, "****", ****:// and (****)');
  });

  it('a registered secret next to a percent-escape is still masked', () => {
    registerSecret('zq9tok');
    expect(redact('options=secret%3Dzq9tok%26x')).toBe('options=secret%3D****%26x');
  });
});

describe('redact: text without secrets', () => {
  it('returns ordinary messages unchanged', () => {
    const text = 'relation "User" does not exist at line 3, column 14\nHINT: run stagedb migrate deploy --env staging';
    expect(redact(text)).toBe(text);
  });

  it('is idempotent', () => {
    const once = redact('postgresql://app:pw-idem@db/app password=x1y2z3');
    expect(redact(once)).toBe(once);
  });
});

describe('redact: placeholders and SQL passwords', () => {
  it('keeps the USER:PASSWORD placeholder of fix hints readable', () => {
    expect(redact('add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env')).toBe(
      'add DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to .env',
    );
  });

  it("masks CREATE/ALTER ROLE … PASSWORD '…' in SQL", () => {
    expect(redact("CREATE ROLE app LOGIN PASSWORD 'it''s-s3cret' VALID UNTIL 'infinity'")).toBe("CREATE ROLE app LOGIN PASSWORD '****' VALID UNTIL 'infinity'");
    expect(redact("alter user app with password 'x1y2z3'")).toBe("alter user app with password '****'");
  });
});
