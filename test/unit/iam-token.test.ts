import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { IamTokenProvider, clearIamAuth, registerIamAuth, type TokenRequest } from '../../src/aws/iam-token.js';
import { clientConfig } from '../../src/pg/connect.js';
import { StagedbError } from '../../src/errors.js';
import { redact } from '../../src/redact.js';
import { presignSigner } from '../helpers/rds-iam-signer.js';

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

afterEach(() => clearIamAuth());

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

  it('a token is what rds-signer makes (a presigned connect request for rds-db), and is never printed', async () => {
    const signer = presignSigner({ accessKeyId: 'AKIASTAGEDBTEST', secretAccessKey: 'test-secret-key' }, () => new Date('2026-12-05T12:00:00Z'));
    const p = new IamTokenProvider({ ...REQ, signer });
    const token = await p.get();
    expect(token).toMatch(
      /^app\.abc123\.eu-west-1\.rds\.amazonaws\.com:5432\/\?Action=connect&DBUser=app_iam&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASTAGEDBTEST%2F20261205%2Feu-west-1%2Frds-db%2Faws4_request&X-Amz-Date=20261205T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$/,
    );
    expect(redact(`password authentication failed: ${token}`)).not.toContain('X-Amz-Signature');
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
