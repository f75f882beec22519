import { describe, expect, it } from 'vitest';
import { awsFailure, envCredentials, loadAwsSdk } from '../../src/aws/sdk.js';
import { StagedbError } from '../../src/errors.js';

/** The one loader of the optional AWS SDK peers (RDS, the RDS signer, Secrets Manager, CloudWatch). */
describe('loadAwsSdk', () => {
  it('loads an installed SDK package', async () => {
    const sdk = await loadAwsSdk<{ RDSClient: unknown }>({ name: '@aws-sdk/client-rds', code: 'E_RDS_SDK_MISSING', needs: 'x' });
    expect(typeof sdk.RDSClient).toBe('function');
  });

  it('a package that is not installed: one config error naming the package and the install command', async () => {
    const e = await loadAwsSdk({ name: '@aws-sdk/client-not-installed-here', code: 'E_X_SDK_MISSING', needs: 'the thing needs the AWS SDK for X', dev: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StagedbError);
    const err = e as StagedbError;
    expect([err.kind, err.code, err.message, err.fix]).toEqual([
      'config',
      'E_X_SDK_MISSING',
      'the thing needs the AWS SDK for X, which is not installed (an optional peer dependency of stagedb)',
      'npm install -D @aws-sdk/client-not-installed-here',
    ]);
  });
});

describe('envCredentials', () => {
  it('both keys (and a session token when set), or nothing so that the SDK uses its own chain', () => {
    expect(envCredentials({ AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's' })).toEqual({ accessKeyId: 'AKIA1', secretAccessKey: 's', sessionToken: undefined });
    expect(envCredentials({ AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' })?.sessionToken).toBe('t');
    expect(envCredentials({ AWS_ACCESS_KEY_ID: 'AKIA1' })).toBeUndefined();
    expect(envCredentials(undefined)).toBeUndefined();
  });
});

describe('awsFailure', () => {
  it('tells the four shared ways an AWS call fails, by name, HTTP status or socket code; anything else is the service’s own', () => {
    const kinds = [
      { name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' },
      { name: 'AccessDeniedException' },
      { name: 'SomethingElse', $metadata: { httpStatusCode: 403 } },
      { name: 'ThrottlingException' },
      { name: 'Error', code: 'ECONNREFUSED' },
      { name: 'DBInstanceNotFoundFault' },
    ].map((e) => awsFailure(e));
    expect(kinds).toEqual([
      { kind: 'no-credentials', shown: 'CredentialsProviderError' },
      { kind: 'refused', shown: 'AccessDeniedException' },
      { kind: 'refused', shown: 'SomethingElse' },
      { kind: 'throttled', shown: 'ThrottlingException' },
      { kind: 'unreachable', shown: 'ECONNREFUSED' },
      undefined,
    ]);
  });
});
