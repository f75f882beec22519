import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearSecrets, loadSecrets } from '../../src/aws/secrets.js';
import { secret } from '../../src/config/define.js';
import { resolveEnvironment } from '../../src/config/environments.js';
import type { EnvironmentDefinition, ResolvedConfig } from '../../src/config/load.js';
import { StagedbError } from '../../src/errors.js';
import { connect } from '../../src/pg/connect.js';
import { redact } from '../../src/redact.js';
import { adminUrl, freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { startSecretsServer, type SecretsServer } from '../helpers/secrets-server.js';

/**
 * secret() URLs: fetched by the real `@aws-sdk/client-secrets-manager` (GetSecretValue, SigV4-signed)
 * from a loopback stand-in of the Secrets Manager JSON API that re-derives the signature
 * (test/helpers/secrets-server.ts, reached through AWS_ENDPOINT_URL_SECRETS_MANAGER), then used to log in to the real
 * test cluster as an ordinary role whose password needs percent-encoding. Not against AWS.
 */
const KEYS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key', AWS_REGION: 'eu-west-1' };
const role = `app_sm_${randomBytes(3).toString('hex')}`;
const password = `p@ss:w/rd#${randomBytes(4).toString('hex')}?&%`;
let db: FreshDatabase;
let admin: pg.Client;
const servers: SecretsServer[] = [];

beforeAll(async () => {
  db = await freshDatabase('sm');
  admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD ${admin.escapeLiteral(password)}`);
  await admin.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${role}`);
});
afterEach(async () => {
  clearSecrets();
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await db.drop();
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

function project(environments: Record<string, EnvironmentDefinition>): ResolvedConfig {
  return { root: '/', schemaPath: '/schema.prisma', migrationsDir: '/migrations', environments, warnings: [] } as unknown as ResolvedConfig;
}

async function server(secrets: Record<string, string>, o: { accessDenied?: boolean; throttle?: boolean } = {}) {
  const s = await startSecretsServer({ secrets, ...o });
  servers.push(s);
  return { s, env: { ...KEYS, AWS_ENDPOINT_URL_SECRETS_MANAGER: s.endpoint } };
}

const processEnv = { AWS_REGION: 'eu-west-1' };

describe('secret(): a URL from AWS Secrets Manager', () => {
  it('an RDS credentials secret becomes a URL (password percent-encoded) that logs in; fetched once; never printed', async () => {
    const u = new URL(db.url);
    const rdsSecret = JSON.stringify({ engine: 'postgres', username: role, password, host: u.hostname, port: Number(u.port), dbname: db.name, dbInstanceIdentifier: 'app-production' });
    const { s, env: processEnv } = await server({ 'prod/app/db': rdsSecret });
    const config = project({
      production: { directUrl: secret('prod/app/db'), url: secret('arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/db-AbCdEf'), ssl: 'disable' },
    });
    await loadSecrets(config, ['production'], processEnv);
    await loadSecrets(config, ['production'], processEnv);
    // Two ids (the name and the ARN), each fetched once over two loads; both signed for the region.
    expect(s.requests.map((r) => [r.target, r.body.SecretId]).sort()).toEqual([
      ['secretsmanager.GetSecretValue', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/db-AbCdEf'],
      ['secretsmanager.GetSecretValue', 'prod/app/db'],
    ]);
    for (const r of s.requests) expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIASTAGEDBTEST\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, ?SignedHeaders=\S*host\S*, ?Signature=[0-9a-f]{64}$/);

    const env = resolveEnvironment(config, 'production', { processEnv });
    expect(env.directSource).toBe('directUrl (secret prod/app/db)');
    expect(env.directInfo).toMatchObject({ user: role, database: db.name, port: Number(u.port) });
    const c = await connect(env.directUrl, { label: 'production', purpose: 'test' });
    try {
      expect((await c.query<{ who: string }>('SELECT current_user AS who')).rows[0]!.who).toBe(role);
    } finally {
      await c.end();
    }
    // The password, raw and encoded, is masked wherever a URL or message is shown.
    const shown = redact(`${env.directUrl} ${password} ${encodeURIComponent(password)}`);
    expect(shown).not.toContain(password);
    expect(shown).not.toContain(encodeURIComponent(password));
  });

  it("a JSON key that holds a whole URL; an RDS-managed master secret (username and password only) put into the config's URL", async () => {
    const u = new URL(db.url);
    const whole = new URL(db.url);
    whole.username = role;
    whole.password = encodeURIComponent(password);
    const { env: processEnv } = await server({ 'app/urls': JSON.stringify({ DATABASE_URL: whole.toString() }), 'rds!db-1234': JSON.stringify({ username: role, password }) });
    const config = project({
      staging: { url: secret('app/urls', 'DATABASE_URL') },
      production: { url: secret('rds!db-1234', { url: `postgresql://${u.host}/${db.name}?sslmode=disable` }), ssl: 'disable' },
    });
    await loadSecrets(config, ['staging', 'production'], processEnv);
    expect(resolveEnvironment(config, 'staging', { processEnv }).directInfo.user).toBe(role);
    const prod = resolveEnvironment(config, 'production', { processEnv });
    expect(prod.directInfo).toMatchObject({ user: role, host: u.hostname, database: db.name, sslmode: 'disable' });
    const c = await connect(prod.directUrl, { label: 'production', purpose: 'test' });
    await c.end();
  });

  it('one clear error each: no such secret, a missing key, access denied, throttled, unreachable', async () => {
    const { env: processEnv } = await server({ 'app/urls': JSON.stringify({ DATABASE_URL: 'postgresql://h/db' }), 'rds!db-1': JSON.stringify({ username: 'u', password: 'p' }) });
    const err = async (def: EnvironmentDefinition, pe: NodeJS.ProcessEnv = processEnv) => {
      clearSecrets();
      const config = project({ production: def });
      const e = await loadSecrets(config, ['production'], pe)
        .then(() => resolveEnvironment(config, 'production', { processEnv: pe }))
        .then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(StagedbError);
      return `${(e as StagedbError).code} ${(e as StagedbError).kind}: ${(e as StagedbError).message}\n  fix: ${(e as StagedbError).fix}`;
    };
    expect(await err({ url: secret('app/missing') })).toMatchInlineSnapshot(`
      "E_SECRET_NOT_FOUND config: there is no secret app/missing (eu-west-1)
        fix: check the name or ARN in secret() and the region (AWS_REGION); the secrets there: aws secretsmanager list-secrets --region eu-west-1 --query 'SecretList[].Name'"
    `);
    expect(await err({ url: secret('app/urls', 'DIRECT_URL') })).toMatchInlineSnapshot(`
      "E_SECRET_KEY config: environments.production.url: secret app/urls has no key "DIRECT_URL" (its keys: DATABASE_URL)
        fix: name one of its keys in secret("app/urls", '<key>'), or leave the key out for an RDS credentials secret (username, password, host, port, dbname)"
    `);
    expect(await err({ url: secret('rds!db-1') })).toMatchInlineSnapshot(`
      "E_SECRET_KEY config: environments.production.url: secret rds!db-1 holds no host to build a URL from (its keys: username, password)
        fix: name the server: secret("rds!db-1", { url: 'postgresql://<instance endpoint>:5432/<database>' }) (an RDS-managed master secret holds only username and password), or name the key that holds a whole URL: secret("rds!db-1", '<key>')"
    `);
    const denied = await server({}, { accessDenied: true });
    expect(await err({ url: secret('app/urls') }, denied.env)).toMatchInlineSnapshot(`
      "E_SECRET_AUTH connection: secret app/urls (eu-west-1) refused the credentials (AccessDeniedException)
        fix: check AWS_PROFILE / AWS_ACCESS_KEY_ID and the role's permissions: secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key); see aws secretsmanager describe-secret --secret-id app/urls --region eu-west-1"
    `);
    const throttled = await server({}, { throttle: true });
    expect(await err({ url: secret('app/urls') }, throttled.env)).toMatchInlineSnapshot(`
      "E_SECRET_THROTTLED connection: AWS throttled the request for secret app/urls (eu-west-1) (Rate exceeded)
        fix: run the same command again in a moment"
    `);
    const gone = await server({});
    await gone.s.close();
    servers.splice(servers.indexOf(gone.s), 1);
    expect(await err({ url: secret('app/urls') }, gone.env)).toMatch(/^E_SECRET_UNREACHABLE connection: cannot reach AWS Secrets Manager for secret app\/urls \(eu-west-1\) \(ECONNREFUSED\)/);
    const other = await server({});
    // The right key id with the wrong secret: the stand-in re-derives the signature and refuses it.
    expect(await err({ url: secret('app/urls') }, { ...other.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' })).toMatch(/^E_SECRET_AUTH connection: secret app\/urls \(eu-west-1\) refused the credentials \(InvalidSignatureException\)/);
    expect(await err({ url: secret('app/urls') }, { ...other.env, AWS_ACCESS_KEY_ID: 'AKIAWRONG' })).toMatch(/^E_SECRET_AUTH connection: secret app\/urls \(eu-west-1\) refused the credentials \(UnrecognizedClientException\)/);
  });

  it('an environment that does not need its secret (e.g. --url) does not fetch it; one that does and was not loaded says so', () => {
    const config = project({ production: { url: secret('prod/app/db') } });
    expect(resolveEnvironment(config, 'production', { processEnv, urlOverride: 'postgresql://backups-only@localhost/unused?sslmode=verify-full' }).directSource).toBe('--url flag');
    expect(() => resolveEnvironment(config, 'production', { processEnv })).toThrow(/secret prod\/app\/db was not fetched/);
  });
});
