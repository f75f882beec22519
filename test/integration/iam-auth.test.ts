import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Signer } from '@aws-sdk/rds-signer';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clearIamAuth, iamAuthFor, registerIamAuth } from '../../src/aws/iam-token.js';
import { PoolRuntime } from '../../src/client/pool-runtime.js';
import { planClient } from '../../src/client/plan.js';
import { resolveEnvironment } from '../../src/config/environments.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { connect } from '../../src/pg/connect.js';
import { runDoctor } from '../../src/doctor/index.js';
import { toolConnectionFor } from '../../src/backup/libpq.js';
import { execCapture } from '../../src/pg/exec.js';
import { findPgTool } from '../../src/pg/find-binaries.js';
import { StagedbError } from '../../src/errors.js';
import { adminUrl, freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { checkIamToken } from '../helpers/sigv4.js';
import { serverCertPath, withParams } from '../helpers/tls.js';

/**
 * iamAuth against the real test cluster (scram-sha-256, TLS with a self-signed CN=localhost
 * certificate standing in for Amazon's RDS CA), with the real `@aws-sdk/rds-signer` making the tokens
 * from test credentials on a fake Date. PostgreSQL cannot check an IAM token the way RDS does, so
 * the application role's password IS the token RDS would accept at that moment (re-derived by the
 * same signer, and checked by test/helpers/sigv4.ts): a connection works only if that token was sent.
 * The role is an ordinary LOGIN role, neither superuser nor the database's owner, as on RDS.
 */
const cert = serverCertPath();
const role = `app_iam_${randomBytes(3).toString('hex')}`;
let db: FreshDatabase;
let admin: pg.Client;
const KEYS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key' };
const credentials = { accessKeyId: KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY };
/** The token RDS would accept for this user now (the fake Date): what the real signer makes. */
const signer = (r: { hostname: string; port: number; username: string; region: string }) => new Signer({ ...r, credentials }).getAuthToken();
const at = (iso: string) => vi.setSystemTime(new Date(iso));

afterEach(() => {
  vi.useRealTimers();
});
beforeAll(async () => {
  db = await freshDatabase('iam');
  admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  await admin.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${role}`);
});
afterAll(async () => {
  clearIamAuth();
  await admin.query(`DROP OWNED BY ${role}`).catch(() => {});
  await db.drop();
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

/** The role's password becomes the token a signer makes now (what RDS would accept). */
async function acceptToken(token: string) {
  await admin.query(`ALTER ROLE ${role} PASSWORD ${pg.Client.prototype.escapeLiteral(token)}`);
}

/** An environment whose URL names `urlUser` and no password, with iamAuth for the test role. */
function iamEnvironment(urlUser: string) {
  const u = new URL(withParams(db.url, { sslmode: 'disable' }, 'localhost'));
  u.username = urlUser;
  u.password = '';
  const config = {
    root: '/',
    schemaPath: '/schema.prisma',
    migrationsDir: '/migrations',
    environments: { production: { url: u.toString(), iamAuth: { region: 'eu-west-1', role, caBundle: cert! } } },
    warnings: [],
  } as unknown as ResolvedConfig;
  const env = resolveEnvironment(config, 'production', { processEnv: KEYS });
  const port = env.directInfo.port;
  const tokenNow = () => signer({ hostname: 'localhost', port, username: role, region: 'eu-west-1' });
  return { env, port, tokenNow };
}

describe.skipIf(!cert)('iamAuth on a real PostgreSQL', () => {
  it('stagedb connects with the provider token as password, over verify-full TLS, as the configured role', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T12:00:00Z') });
    const { env, port, tokenNow } = iamEnvironment('placeholder');
    expect(env.iamAuth).toEqual({ region: 'eu-west-1', role, caBundle: cert });
    // Resolving the environment registered the provider (the real SDK signer, not loaded yet).
    const provider = iamAuthFor('localhost', port, 'placeholder')!.provider;
    expect(provider.username).toBe(role);
    const token = await tokenNow();
    expect(await checkIamToken(token, { hostname: 'localhost', port, username: role, region: 'eu-west-1', ...credentials, now: new Date() })).toBeUndefined();
    await acceptToken(token);

    const c = await connect(env.directUrl, { label: 'production', purpose: 'test' });
    try {
      const r = await c.query<{ who: string; ssl: boolean }>('SELECT current_user AS who, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(r.rows[0]).toEqual({ who: role, ssl: true });
    } finally {
      await c.end();
    }
    expect(provider.made).toBe(1);

    // A token other than the one the role accepts is refused: the password really is the token.
    await acceptToken('not-the-token');
    const refused = (await connect(env.directUrl, { label: 'production', purpose: 'test' }).catch((e: unknown) => e)) as StagedbError;
    expect(refused).toBeInstanceOf(StagedbError);
    expect([refused.code, refused.message.replaceAll(role, '<role>'), refused.fix?.replaceAll(role, '<role>')]).toMatchInlineSnapshot(`
      [
        "E_AUTH",
        "production: the IAM token for user "<role>" was refused",
        "on the instance: GRANT rds_iam TO "<role>"; in IAM: allow rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<role> for the credentials in use (aws sts get-caller-identity)",
      ]
    `);
  });

  it("the runtime client's pool asks for the password per new connection, and gets the renewed token after 10 minutes", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T13:00:00Z') });
    const { env, port, tokenNow } = iamEnvironment('app');
    // The real SDK signer, on the fake Date (the provider's clock too).
    const provider = registerIamAuth({ hostname: 'localhost', port, urlUser: 'app', username: role, region: 'eu-west-1', caBundle: cert!, processEnv: KEYS, now: () => Date.now() });
    const { targets } = planClient(env, { pool: { max: 1 } });
    const runtime = new PoolRuntime(targets[0]!, { environment: 'production', instances: 1, logger: { warn: () => {} }, applicationName: 'iam-test', replicaConnectTimeoutMs: 5000 });
    try {
      await acceptToken(await tokenNow());
      const adapter = await runtime.get();
      const who = async () => (await adapter.queryRaw({ sql: 'SELECT current_user::text AS who, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl', args: [], argTypes: [] })).rows[0];
      expect(await who()).toEqual([role, true]);
      expect(provider.made).toBe(1);

      // Ten minutes on, the role accepts only a new token; the pool's next new connection must bring it.
      at('2026-12-05T13:10:00Z');
      const renewed = await tokenNow();
      await acceptToken(renewed);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
      let row: unknown[] | undefined;
      for (let i = 0; i < 3 && !row; i++) row = await who().catch(() => undefined); // the killed connection's one failure
      expect(row).toEqual([role, true]);
      expect(provider.made).toBe(2);
      expect(await provider.get()).toBe(renewed);
      expect(renewed).toContain('X-Amz-Date=20261205T131000Z');
    } finally {
      await runtime.dispose();
    }
  });

  it('pg_dump (backups) logs in with the token too: PGPASSWORD, the role, verify-full with the CA bundle', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T14:00:00Z') });
    const { env, tokenNow } = iamEnvironment('dumper');
    const token = await tokenNow();
    await acceptToken(token);
    const conn = await toolConnectionFor(env.directUrl, 'stagedb backup test', {});
    const d = new URL(conn.dbname);
    expect([d.username, d.password, d.searchParams.get('sslmode'), d.searchParams.get('sslrootcert')]).toEqual([role, '', 'verify-full', cert]);
    expect(conn.env.PGPASSWORD).toBe(token);
    const pgDump = await findPgTool('pg_dump', { env: process.env });
    const out = await execCapture(pgDump, ['--schema-only', `--dbname=${conn.dbname}`], { env: conn.env, timeoutMs: 30_000 });
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toContain('PostgreSQL database dump');
  });

  it('doctor connects with the token and reports the TLS iamAuth forces', async () => {
    const u = new URL(withParams(db.url, { sslmode: 'prefer' }, 'localhost'));
    u.username = 'doctor';
    u.password = '';
    const config = {
      root: '/',
      schemaPath: '/schema.prisma',
      migrationsDir: '/migrations',
      environments: { production: { directUrl: u.toString(), iamAuth: { region: 'eu-west-1', role, caBundle: cert! } } },
      warnings: [],
    } as unknown as ResolvedConfig;
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T15:00:00Z') });
    resolveEnvironment(config, 'production', { processEnv: KEYS });
    await acceptToken(await signer({ hostname: 'localhost', port: Number(u.port), username: role, region: 'eu-west-1' }));
    const report = await runDoctor({ config, env: 'production', processEnv: KEYS, timeoutMs: 5000 });
    const by = Object.fromEntries(report.checks.map((c) => [c.code, c]));
    expect([by.DOC006!.status, by.DOC007!.status, by.DOC008!.status]).toEqual(['ok', 'ok', 'ok']);
    expect(by.DOC006!.detail).toMatch(/certificate verified \(sslmode=verify-full\)$/);
  });
});
