import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/config/url.js';
import { StagedbError } from '../../src/errors.js';
import { redact } from '../../src/redact.js';

/** The error a call throws, as the fields a user sees. */
function thrown(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StagedbError);
    const { kind, code, message, fix } = e as StagedbError;
    return { kind, code, message, fix };
  }
  return expect.unreachable('expected an error');
}

const localKey = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

describe('parseDatabaseUrl: direct URLs', () => {
  it('parses every part of a direct URL', () => {
    expect(parseDatabaseUrl('postgresql://app:pw-direct@db.example.com:6432/shop?schema=tenant_1&sslmode=verify-full', 'x')).toEqual({
      kind: 'direct',
      reason: 'postgresql:// URL to the server itself',
      host: 'db.example.com',
      port: 6432,
      database: 'shop',
      user: 'app',
      schema: 'tenant_1',
      sslmode: 'verify-full',
    });
  });

  it('accepts postgres://, defaults the port to 5432 and the schema to public', () => {
    expect(parseDatabaseUrl('postgres://app@localhost/dev', 'x')).toMatchObject({ kind: 'direct', port: 5432, schema: 'public', sslmode: undefined, user: 'app' });
  });

  it('decodes percent-encoded parts and unwraps IPv6 hosts', () => {
    expect(parseDatabaseUrl('postgresql://my%20user:pw@[::1]:5433/my%2Ddb', 'x')).toMatchObject({ host: '::1', port: 5433, user: 'my user', database: 'my-db' });
  });

  it('trims surrounding whitespace (a value pasted into .env with a trailing space)', () => {
    expect(parseDatabaseUrl('  postgresql://app:pw@db:5432/app \n', 'x')).toMatchObject({ host: 'db', database: 'app' });
  });

  it('a plain RDS instance endpoint is direct', () => {
    expect(parseDatabaseUrl('postgresql://app:pw@mydb.c9akciq32.eu-west-1.rds.amazonaws.com:5432/app', 'x').kind).toBe('direct');
  });
});

describe('parseDatabaseUrl: poolers', () => {
  const reason = (url: string) => {
    const p = parseDatabaseUrl(url, 'x');
    expect(p.kind).toBe('pooler');
    return p.reason;
  };

  it('a -pooler host (Neon)', () => {
    expect(reason('postgresql://app:pw@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech/app?sslmode=require')).toBe(
      'host ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech is a connection pooler (-pooler)',
    );
  });

  it('pgbouncer=true', () => {
    expect(reason('postgresql://app:pw@db.example.com:5432/app?pgbouncer=true')).toBe('the URL sets pgbouncer=true');
  });

  it('port 6543 (Supabase transaction mode) and any *.pooler.supabase.com host', () => {
    expect(reason('postgresql://postgres.abc:pw@db.example.com:6543/postgres')).toBe('host db.example.com:6543 is a transaction-mode pooler');
    expect(reason('postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres')).toBe(
      'host aws-0-eu-central-1.pooler.supabase.com:5432 is a transaction-mode pooler',
    );
  });

  it('an RDS Proxy endpoint', () => {
    expect(reason('postgresql://app:pw@myproxy.proxy-c9akciq32.eu-west-1.rds.amazonaws.com:5432/app')).toBe(
      'host myproxy.proxy-c9akciq32.eu-west-1.rds.amazonaws.com is an RDS Proxy endpoint',
    );
  });
});

describe('parseDatabaseUrl: Prisma Accelerate', () => {
  it('prisma+postgres:// and prisma:// are Accelerate, with no direct URL inside a remote key', () => {
    for (const url of ['prisma+postgres://accelerate.prisma-data.net/?api_key=eyJhbGciOiJIUzI1NiJ9.e30.sig', 'prisma://accelerate.prisma-data.net/?api_key=abc']) {
      const p = parseDatabaseUrl(url, 'x');
      expect(p.kind).toBe('accelerate');
      expect(p.embeddedDirectUrl).toBeUndefined();
    }
    expect(parseDatabaseUrl('prisma+postgres://accelerate.prisma-data.net/?api_key=abc', 'x').reason).toBe(
      'prisma+postgres:// is Prisma Accelerate (an HTTP proxy): it cannot run migrations or backups',
    );
  });

  it('a local `prisma dev` key yields the databaseUrl it carries', () => {
    const inner = 'postgres://postgres:postgres@localhost:51214/template1?sslmode=disable&connection_limit=1&connect_timeout=0';
    const p = parseDatabaseUrl(`prisma+postgres://localhost:51213/?api_key=${localKey({ databaseUrl: inner, name: 'default' })}`, 'x');
    expect(p).toMatchObject({ kind: 'accelerate', host: 'localhost', port: 51213, embeddedDirectUrl: inner });
  });

  it('a key whose databaseUrl is not PostgreSQL, or that is not JSON, yields nothing', () => {
    expect(parseDatabaseUrl(`prisma+postgres://localhost:51213/?api_key=${localKey({ databaseUrl: 'mysql://root@localhost/db' })}`, 'x').embeddedDirectUrl).toBeUndefined();
    expect(parseDatabaseUrl(`prisma+postgres://localhost:51213/?api_key=${localKey({ url: 'postgres://a@b/c' })}`, 'x').embeddedDirectUrl).toBeUndefined();
    expect(parseDatabaseUrl('prisma+postgres://localhost:51213/?api_key=!!not-base64!!', 'x').embeddedDirectUrl).toBeUndefined();
  });

  it('the password inside a local key is registered for redaction', () => {
    const inner = 'postgres://postgres:inner-Secret-77@localhost:51214/template1';
    parseDatabaseUrl(`prisma+postgres://localhost:51213/?api_key=${localKey({ databaseUrl: inner })}`, 'x');
    expect(redact('auth failed with inner-Secret-77')).toBe('auth failed with ****');
  });
});

describe('parseDatabaseUrl: bad input', () => {
  it('a malformed URL names where it came from and how to write one', () => {
    expect(thrown(() => parseDatabaseUrl('postgresql://app:Hunter2-pw@db:port/app', 'environments.staging.url'))).toMatchInlineSnapshot(`
      {
        "code": "E_URL_MALFORMED",
        "fix": "write it as postgresql://USER:PASSWORD@HOST:5432/DATABASE, with these percent-encoded in the user and password: @ as %40, # as %23, / as %2F, ? as %3F, : as %3A, % as %25, a space as %20",
        "kind": "config",
        "message": "environments.staging.url is not a valid URL (it is not shown: it may hold a password)",
      }
    `);
  });

  it('a malformed URL never shows its password, whatever the password holds', () => {
    const cases: Array<[string, string]> = [
      ['postgresql://app:Plain-pw1@db:port/app', 'Plain-pw1'],
      ['postgresql://app:At@Sign-pw2@db:port/app', 'Sign-pw2'],
      ["postgresql://app:Quote'pw3@db:port/app", "Quote'pw3"],
      ['postgresql://app:Slash/pw4@db/app', 'pw4'],
      ['postgresql://app:Hash#pw5@db/app', 'pw5'],
      ['postgresql://app:Space pw6@db:port/app', 'pw6'],
    ];
    for (const [url, secret] of cases) {
      const e = thrown(() => parseDatabaseUrl(url, 'x'));
      expect(e.code, url).toBe('E_URL_MALFORMED');
      expect(e.message, url).not.toContain(secret);
    }
  });

  it('a bad percent-escape is a malformed URL, not a crash', () => {
    expect(thrown(() => parseDatabaseUrl('postgresql://app:pw-pct@db:5432/%zz', 'environments.development.url'))).toMatchInlineSnapshot(`
      {
        "code": "E_URL_MALFORMED",
        "fix": "percent-encode special characters in the user, password and database name (% itself is %25)",
        "kind": "config",
        "message": "environments.development.url has an invalid percent-escape (the URL is not shown: it may hold a password)",
      }
    `);
    expect(thrown(() => parseDatabaseUrl('postgresql://%zz:pw-pct@db:5432/app', 'x')).code).toBe('E_URL_MALFORMED');
  });

  it('something that is not a URL at all', () => {
    expect(thrown(() => parseDatabaseUrl('localhost:5432/app', 'x')).message).toMatchInlineSnapshot(`"x is not a URL of the form postgresql://… (it is not shown: it may hold a password)"`);
    expect(thrown(() => parseDatabaseUrl('db.example.com', 'x')).message).toMatchInlineSnapshot(`"x is not a valid URL (it is not shown: it may hold a password)"`);
  });

  it('a URL without a host', () => {
    expect(thrown(() => parseDatabaseUrl('postgresql:///app', 'x')).message).toMatchInlineSnapshot(`"x has no host (the URL is not shown: it may hold a password)"`);
  });

  it('a non-PostgreSQL protocol is refused, password masked', () => {
    expect(thrown(() => parseDatabaseUrl('mysql://root:my-sql-pw@db:3306/app', 'environments.production.url'))).toMatchInlineSnapshot(`
      {
        "code": "E_URL_PROTOCOL",
        "fix": "use a postgresql:// URL (or prisma+postgres:// for Accelerate, with a directUrl beside it)",
        "kind": "config",
        "message": "environments.production.url uses mysql://, which is not PostgreSQL",
      }
    `);
  });

  it('registers the password, so a driver error that echoes it is redacted later', () => {
    parseDatabaseUrl('postgresql://app:Echoed%21pw@db:5432/app', 'x');
    expect(redact('FATAL: bad password "Echoed!pw" / Echoed%21pw')).toBe('FATAL: bad password "****" / ****');
  });
});

describe('parseDatabaseUrl: a URL that cannot be parsed is never echoed (issue 12.4)', () => {
  // Each case's secret parts are distinctive tokens: not one of them may reach the message or the fix.
  const cases: Array<[string, string[]]> = [
    ['postgresql:/app:Pw1Alpha@host/db', ['Pw1Alpha']],
    ['not a url Pw2Bravo', ['Pw2Bravo']],
    ['postgresql://app:Pw3Charlie@Pw3Delta#Pw3Echo@host/db', ['Pw3Charlie', 'Pw3Delta', 'Pw3Echo']],
    ['postgresql://app:Pw4Fox#Pw4Golf@host/db', ['Pw4Fox', 'Pw4Golf']],
    ['postgresql://app:Pw5Hotel@Pw5India/Pw5Juliet@host/db', ['Pw5Hotel', 'Pw5India', 'Pw5Juliet']],
    ['app:Pw6Kilo@host/db', ['Pw6Kilo']],
    ['postgresql://app:Pw7Lima@/db', ['Pw7Lima']],
    ['postgresql://app:Pw8Mike@host/%zz', ['Pw8Mike']],
  ];
  it.each(cases)('%s', (url, secrets) => {
    const e = thrown(() => parseDatabaseUrl(url, 'environments.development.url (DATABASE_URL from .env)'));
    expect(e.code).toMatch(/^E_URL_/);
    expect(e.message).toContain('environments.development.url (DATABASE_URL from .env)');
    for (const s of secrets) {
      expect(e.message, s).not.toContain(s);
      expect(e.fix ?? '', s).not.toContain(s);
      expect(redact(`${e.message} ${e.fix}`), s).not.toContain(s);
    }
  });

  it('says what shape was expected and what to percent-encode', () => {
    expect(thrown(() => parseDatabaseUrl('postgresql://app:Pw9a@Pw9b#Pw9c@host/db', 'environments.staging.url (DATABASE_URL from .env.staging)'))).toMatchInlineSnapshot(`
      {
        "code": "E_URL_MALFORMED",
        "fix": "write it as postgresql://USER:PASSWORD@HOST:5432/DATABASE, with these percent-encoded in the user and password: @ as %40, # as %23, / as %2F, ? as %3F, : as %3A, % as %25, a space as %20",
        "kind": "config",
        "message": "environments.staging.url (DATABASE_URL from .env.staging) is not a valid URL (it is not shown: it may hold a password): it contains a # (percent-encode # as %23 in the password); it contains more than one @ (percent-encode @ as %40 in the password)",
      }
    `);
    expect(thrown(() => parseDatabaseUrl('postgresql:/app:Pw10a@host/db', 'x'))).toMatchInlineSnapshot(`
      {
        "code": "E_URL_MALFORMED",
        "fix": "write it as postgresql://USER:PASSWORD@HOST:5432/DATABASE, with these percent-encoded in the user and password: @ as %40, # as %23, / as %2F, ? as %3F, : as %3A, % as %25, a space as %20",
        "kind": "config",
        "message": "x has one slash after postgresql: where two belong (it is not shown: it may hold a password)",
      }
    `);
    expect(thrown(() => parseDatabaseUrl('not a url Pw11a', 'x'))).toMatchInlineSnapshot(`
      {
        "code": "E_URL_MALFORMED",
        "fix": "write it as postgresql://USER:PASSWORD@HOST:5432/DATABASE, with these percent-encoded in the user and password: @ as %40, # as %23, / as %2F, ? as %3F, : as %3A, % as %25, a space as %20",
        "kind": "config",
        "message": "x is not a valid URL (it is not shown: it may hold a password): it contains a space (a URL has none: percent-encode one in the password as %20)",
      }
    `);
  });

  it('decodes every percent-escape of the database name as libpq does (%24 is $)', () => {
    expect(parseDatabaseUrl('postgresql://app:pw@db:5432/shop%24test', 'x').database).toBe('shop$test');
  });
});
