import type { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { StagedbError } from '../../src/errors.js';
import { connect } from '../../src/pg/connect.js';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase } from '../helpers/db.js';
import { createProject } from '../helpers/project.js';
import { serverCertPath, serverWithoutTls, unrelatedCa, withParams } from '../helpers/tls.js';

/**
 * `sslmode` with libpq's meaning, against the shared test cluster (TLS on, self-signed certificate
 * CN=localhost). Whether a session is encrypted is read from the server's side: pg_stat_ssl.
 */
const cert = serverCertPath();
const other = cert ? unrelatedCa() : undefined;
afterAll(() => other?.remove());

async function session(url: string): Promise<{ ssl: boolean; version: string | null }> {
  let client: Client | undefined;
  try {
    client = await connect(url, { label: 'test', purpose: 'tls-test' });
    const r = await client.query<{ ssl: boolean; version: string | null }>('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return r.rows[0]!;
  } finally {
    await client?.end();
  }
}

/** What `connect` threw, as data: a StagedbError with kind, code, message, fix. */
async function failure(url: string): Promise<{ kind: string; code: string; message: string; fix?: string }> {
  try {
    const c = await connect(url, { label: 'test', purpose: 'tls-test' });
    await c.end();
  } catch (e) {
    expect(e).toBeInstanceOf(StagedbError);
    const err = e as StagedbError;
    // Never the password, whatever went wrong.
    expect(`${err.message}\n${err.fix}`).not.toContain(passwordOf(url));
    return { kind: err.kind, code: err.code, message: err.message, fix: err.fix };
  }
  throw new Error(`expected ${url.replace(/:[^:@/]*@/, ':***@')} to fail`);
}

const base = () => adminUrl();

describe.skipIf(!cert)('sslmode against a server with a self-signed certificate (CN=localhost)', () => {
  it('require: encrypted, certificate not verified', async () => {
    const s = await session(withParams(base(), { sslmode: 'require' }));
    expect(s.ssl).toBe(true);
    expect(s.version).toMatch(/^TLSv1\.[23]$/);
  });

  it('prefer, and no sslmode at all (libpq\'s default is prefer): encrypted', async () => {
    expect((await session(withParams(base(), { sslmode: 'prefer' }))).ssl).toBe(true);
    expect((await session(withParams(base(), { sslmode: undefined }))).ssl).toBe(true);
  });

  it('disable and allow: plain', async () => {
    expect((await session(withParams(base(), { sslmode: 'disable' }))).ssl).toBe(false);
    expect((await session(withParams(base(), { sslmode: 'allow' }))).ssl).toBe(false);
  });

  it('verify-full with sslrootcert=<server.crt> and host localhost: encrypted and verified', async () => {
    expect((await session(withParams(base(), { sslmode: 'verify-full', sslrootcert: cert }, 'localhost'))).ssl).toBe(true);
  });

  it('verify-ca with sslrootcert: the CA is checked, not the name, so 127.0.0.1 connects', async () => {
    expect((await session(withParams(base(), { sslmode: 'verify-ca', sslrootcert: cert }, '127.0.0.1'))).ssl).toBe(true);
  });

  it('verify-full without sslrootcert: refused, E_TLS, says what to add', async () => {
    const f = await failure(withParams(base(), { sslmode: 'verify-full' }, 'localhost'));
    expect(f).toMatchInlineSnapshot(`
      {
        "code": "E_TLS",
        "fix": "name the CA that signed it: add sslrootcert=<path to the CA certificate> to the URL (RDS: the RDS CA bundle); or use sslmode=require to encrypt without verifying",
        "kind": "connection",
        "message": "test: TLS failed (sslmode=verify-full): the server's certificate is not signed by a CA this machine trusts (self-signed certificate)",
      }
    `);
  });

  it('verify-full with the right CA but host 127.0.0.1: refused, the certificate names localhost', async () => {
    const f = await failure(withParams(base(), { sslmode: 'verify-full', sslrootcert: cert }, '127.0.0.1'));
    expect(f.code).toBe('E_TLS');
    expect(f.message).toContain("the server's certificate is not for the host name in the URL, 127.0.0.1");
    expect(f.fix).toContain('sslmode=verify-ca');
  });

  it('verify-ca without sslrootcert: refused before connecting (nothing to check against)', async () => {
    const f = await failure(withParams(base(), { sslmode: 'verify-ca' }));
    expect(f.code).toBe('E_TLS');
    expect(f.message).toBe('test: sslmode=verify-ca needs the CA certificate to check against (sslrootcert), and the URL names none');
  });

  it('require with an sslrootcert checks the chain, as libpq does (verify-ca): a wrong CA is refused', async () => {
    const f = await failure(withParams(base(), { sslmode: 'require', sslrootcert: other!.path }));
    expect(f.code).toBe('E_TLS');
    expect(f.message).toContain('is not signed by the CA in sslrootcert');
    // …and the right one connects, by IP too (no name check).
    expect((await session(withParams(base(), { sslmode: 'require', sslrootcert: cert }, '127.0.0.1'))).ssl).toBe(true);
  });

  it('prefer with a wrong sslrootcert falls back to plain, as libpq does', async () => {
    expect((await session(withParams(base(), { sslmode: 'prefer', sslrootcert: other!.path }))).ssl).toBe(false);
  });

  it('sslrootcert=system: only with verify-full; then the public CAs, which did not sign a self-signed certificate', async () => {
    const weak = await failure(withParams(base(), { sslmode: 'require', sslrootcert: 'system' }));
    expect(weak.code).toBe('E_TLS');
    expect(weak.message).toContain('sslmode=require may not be used with sslrootcert=system');
    const strict = await failure(withParams(base(), { sslrootcert: 'system' }, 'localhost'));
    expect(strict.message).toContain('TLS failed (sslmode=verify-full)');
  });

  it('a missing sslrootcert file and an unknown sslmode are E_TLS errors, not crashes', async () => {
    const missing = await failure(withParams(base(), { sslmode: 'verify-full', sslrootcert: '/nonexistent/ca.pem' }));
    expect(missing.code).toBe('E_TLS');
    expect(missing.message).toBe('test: sslrootcert file /nonexistent/ca.pem does not exist');
    const typo = await failure(withParams(base(), { sslmode: 'verify_full' }));
    expect(typo.message).toBe('test: invalid sslmode "verify_full" in the URL');
  });

  it('the CLI: verify-full works end to end with sslrootcert; without it, status fails (exit 3) saying why and what to add, with no password anywhere', async () => {
    const db = await freshDatabase('tls_cli');
    const project = createProject({ migrations: { '20240101000000_init': 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);\n' } });
    try {
      forbidInOutput(passwordOf(db.url));
      const verified = withParams(db.url, { sslmode: 'verify-full', sslrootcert: cert }, 'localhost');
      const ok = await runCli(['migrate', 'deploy', '--url', verified], { cwd: project.dir });
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('applied 1 migration');
      project.write('.env', `DATABASE_URL="${withParams(db.url, { sslmode: 'verify-full' }, 'localhost')}"\n`);
      const bad = await runCli(['status'], { cwd: project.dir });
      expect(bad.code).toBe(3);
      expect(bad.all).toContain("TLS failed (sslmode=verify-full): the server's certificate is not signed by a CA this machine trusts");
      expect(bad.all).toContain('add sslrootcert=');
    } finally {
      project.remove();
      await db.drop();
    }
  });
});

describe('sslmode against a server without TLS', () => {
  it('require: a clear E_TLS error; prefer: asks for TLS, then falls back to plain', async () => {
    const server = await serverWithoutTls();
    try {
      const url = `postgresql://nobody:canary-secret@127.0.0.1:${server.port}/db`;
      const f = await failure(withParams(url, { sslmode: 'require' }));
      expect(f.code).toBe('E_TLS');
      expect(f.message).toBe(`test: the server at 127.0.0.1:${server.port} does not accept TLS connections, and sslmode=require requires TLS`);
      expect(server.seen).toEqual(['ssl-request']);
      server.seen.length = 0;
      // The stand-in refuses the password: what matters is that the second connection came, in plain.
      const p = await failure(withParams(url, { sslmode: 'prefer' }));
      expect(p.code).toBe('E_AUTH');
      expect(server.seen).toEqual(['ssl-request', 'startup']);
      server.seen.length = 0;
      await failure(withParams(url, { sslmode: 'disable' }));
      expect(server.seen).toEqual(['startup']);
    } finally {
      await server.close();
    }
  });
});

describe('other libpq URL parameters', () => {
  it("options (server settings for the session) are kept, together with Prisma's ?schema=", async () => {
    const url = withParams(adminUrl(), { options: '-c statement_timeout=4321', schema: 'some_schema' });
    const client = await connect(url, { label: 'test' });
    try {
      const r = await client.query<{ st: string; sp: string }>(`SELECT current_setting('statement_timeout') AS st, current_setting('search_path') AS sp`);
      expect(r.rows[0]).toEqual({ st: '4321ms', sp: '"some_schema"' });
    } finally {
      await client.end();
    }
  });
});
