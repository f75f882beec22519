import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IamTokenProvider, clearIamAuth, registerIamAuth, type TokenRequest } from '../../src/aws/iam-token.js';
import { clientConfig } from '../../src/pg/connect.js';
import { StagedbError } from '../../src/errors.js';
import { redact } from '../../src/redact.js';
import { checkIamToken } from '../helpers/sigv4.js';

/** A signer that numbers its tokens and remembers what it was asked. */
function countingSigner() {
  const asked: TokenRequest[] = [];
  let fail: Error | undefined;
  const signer = async (r: TokenRequest) => {
    asked.push(r);
    if (fail) throw fail;
    return `token-${asked.length}`;
  };
  return { signer, asked, failNext: (e: Error | undefined) => (fail = e) };
}

const REQ = { hostname: 'app.abc123.eu-west-1.rds.amazonaws.com', port: 5432, username: 'app_iam', region: 'eu-west-1' };
const MIN = 60_000;

afterEach(() => {
  clearIamAuth();
  vi.useRealTimers();
});

describe('IamTokenProvider: a token per connection, renewed before it expires', () => {
  it('hands out the cached token for 10 minutes, then makes a new one (fake clock)', async () => {
    let t = 1_000_000;
    const s = countingSigner();
    const p = new IamTokenProvider({ ...REQ, signer: s.signer, now: () => t });
    expect(await p.password()).toBe('token-1');
    t += 9 * MIN + 59_000;
    expect(await p.password()).toBe('token-1');
    t += 1_000; // exactly 10 minutes old: renewed, 5 minutes before AWS would refuse it
    expect(await p.password()).toBe('token-2');
    t += 5 * MIN;
    expect(await p.password()).toBe('token-2');
    expect(s.asked).toEqual([REQ, REQ]);
    expect(p.made).toBe(2);
  });

  it('connections opened at the same moment share one request', async () => {
    const s = countingSigner();
    const p = new IamTokenProvider({ ...REQ, signer: s.signer });
    expect(await Promise.all([p.get(), p.get(), p.get()])).toEqual(['token-1', 'token-1', 'token-1']);
    expect(s.asked).toHaveLength(1);
  });

  it('a failed renewal keeps a token that is still valid, and fails once it is not', async () => {
    let t = 0;
    const s = countingSigner();
    const p = new IamTokenProvider({ ...REQ, signer: s.signer, now: () => t });
    await p.get();
    s.failNext(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    t = 11 * MIN;
    expect(await p.get()).toBe('token-1');
    t = 14 * MIN + 1;
    const e = await p.get().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StagedbError);
    expect([(e as StagedbError).code, (e as StagedbError).kind, (e as StagedbError).message]).toMatchInlineSnapshot(`
      [
        "E_IAM_TOKEN",
        "connection",
        "cannot make an IAM token for user "app_iam" on app.abc123.eu-west-1.rds.amazonaws.com:5432 (eu-west-1): Rate exceeded",
      ]
    `);
  });

  it('no AWS credentials: one error naming what to set', async () => {
    const p = new IamTokenProvider({ ...REQ, signer: async () => Promise.reject(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })) });
    const e = (await p.get().catch((x: unknown) => x)) as StagedbError;
    expect([e.code, e.fix]).toMatchInlineSnapshot(`
      [
        "E_IAM_NO_CREDENTIALS",
        "export AWS_PROFILE=<profile> (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where an instance or task role is attached; the role needs rds-db:connect on this user",
      ]
    `);
  });

  const signerInstalled = (() => {
    try {
      createRequire(import.meta.url).resolve('@aws-sdk/rds-signer');
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(signerInstalled)('without @aws-sdk/rds-signer installed: says how to install it', async () => {
    const e = (await new IamTokenProvider(REQ).get().catch((x: unknown) => x)) as StagedbError;
    expect([e.code, e.kind, e.message, e.fix]).toMatchInlineSnapshot(`
      [
        "E_IAM_SDK_MISSING",
        "config",
        "iamAuth needs the AWS SDK RDS signer, which is not installed (an optional peer dependency of stagedb)",
        "npm install @aws-sdk/rds-signer",
      ]
    `);
  });

  const KEYS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key' };
  const verify = (token: string, now: Date) => checkIamToken(token, { ...REQ, accessKeyId: KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY, now });

  it.runIf(signerInstalled)('the real @aws-sdk/rds-signer makes the token (a presigned connect for rds-db that re-derives), never printed', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T12:00:00Z') });
    const p = new IamTokenProvider({ ...REQ, processEnv: KEYS, now: () => Date.now() });
    const token = await p.get();
    expect(token).toMatch(
      /^app\.abc123\.eu-west-1\.rds\.amazonaws\.com:5432\/\?Action=connect&DBUser=app_iam&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASTAGEDBTEST%2F20261205%2Feu-west-1%2Frds-db%2Faws4_request&X-Amz-Date=20261205T120000Z&X-Amz-Expires=900&X-Amz-Signature=[0-9a-f]{64}&X-Amz-SignedHeaders=host$/,
    );
    expect(await verify(token, new Date())).toBeUndefined();
    // Signed with another key, RDS would refuse it.
    expect(await checkIamToken(token, { ...REQ, accessKeyId: KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: 'another-key' })).toBe('signature does not match');
    expect(redact(`password authentication failed: ${token}`)).not.toContain('X-Amz-Signature');
  });

  it.runIf(signerInstalled)('with the real signer on a fake clock: the same token for 10 minutes, a new valid one after, each valid when handed out', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T12:00:00Z') });
    const p = new IamTokenProvider({ ...REQ, processEnv: KEYS, now: () => Date.now() });
    const first = await p.get();
    vi.setSystemTime(new Date('2026-12-05T12:09:59Z'));
    expect(await p.get()).toBe(first);
    expect(await verify(first, new Date())).toBeUndefined();
    vi.setSystemTime(new Date('2026-12-05T12:10:00Z'));
    const second = await p.get();
    expect(second).not.toBe(first);
    expect(second).toContain('X-Amz-Date=20261205T121000Z');
    expect(await verify(second, new Date())).toBeUndefined();
    // The first would have run out at 12:15; the provider never hands it out that late.
    expect(await verify(first, new Date('2026-12-05T12:15:01Z'))).toBe('token expired');
    expect(p.made).toBe(2);
  });

  it.runIf(signerInstalled)('the real signer with no AWS credentials anywhere: one error naming what to set', async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, { AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config' });
    try {
      const e = (await new IamTokenProvider({ ...REQ, processEnv: {} }).get().catch((x: unknown) => x)) as StagedbError;
      expect([e.code, e.kind]).toEqual(['E_IAM_NO_CREDENTIALS', 'connection']);
      expect(e.message).toMatch(/^cannot make an IAM token for user "app_iam" on app\.abc123\.eu-west-1\.rds\.amazonaws\.com:5432 \(eu-west-1\): no AWS credentials found/);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('connections to an iamAuth environment', () => {
  it('log in as the role with the token as password, over verify-full TLS whatever the URL says', async () => {
    const s = countingSigner();
    registerIamAuth({ ...REQ, urlUser: 'app', username: 'app_iam', signer: s.signer });
    const { config, sslmode } = await clientConfig(`postgresql://app:old-password@${REQ.hostname}:5432/app?sslmode=disable`, { label: 'production' });
    expect(sslmode).toBe('verify-full');
    expect(config.user).toBe('app_iam');
    expect(config.ssl).toEqual({ rejectUnauthorized: true, servername: REQ.hostname });
    expect(typeof config.password).toBe('function');
    expect(await (config.password as () => Promise<string>)()).toBe('token-1');
    // Another user on the same host is not touched.
    const other = await clientConfig(`postgresql://admin:pw@${REQ.hostname}:5432/app?sslmode=require`, { label: 'production' });
    expect([other.config.user, other.config.password, other.sslmode]).toEqual(['admin', 'pw', 'require']);
  });
});
