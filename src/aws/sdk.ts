import { StagedbError } from '../errors.js';

/**
 * The AWS SDK packages are optional peers of stagedb: each is imported only by the command that needs
 * it, and a project without it gets one line naming the package to install. One loader for the four
 * of them (RDS, the RDS signer, Secrets Manager, CloudWatch).
 */
export interface AwsSdkPackage {
  /** The npm name, e.g. `@aws-sdk/client-rds`. */
  name: string;
  /** The error code when it is missing, e.g. `E_RDS_SDK_MISSING`. */
  code: string;
  /** The sentence saying what needs it and that it is not installed. */
  needs: string;
  /** Installed as a devDependency (a command-line job) rather than a dependency (the app's runtime). */
  dev?: boolean;
}

/** @throws config/`pkg.code` when the package is not installed */
export async function loadAwsSdk<T>(pkg: AwsSdkPackage): Promise<T> {
  // The SDK's notice that its future releases need Node 22 is nothing a user can act on mid-command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  try {
    // A variable specifier: the bundler leaves the optional peer to Node.
    const name = pkg.name;
    return (await import(name)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new StagedbError('config', pkg.code, `${pkg.needs}, which is not installed (an optional peer dependency of stagedb)`, {
        fix: `npm install ${pkg.dev ? '-D ' : ''}${pkg.name}`,
        cause: e,
      });
    }
    throw e;
  }
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when both keys are set; undefined leaves the SDK's own chain (profile, instance or task role). */
export function envCredentials(processEnv: NodeJS.ProcessEnv | undefined): AwsCredentials | undefined {
  const e = processEnv ?? {};
  return e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, sessionToken: e.AWS_SESSION_TOKEN || undefined } : undefined;
}

/** How an AWS SDK call failed, told the same way for every service; a service's own errors are left to its caller. */
export type AwsFailureKind = 'no-credentials' | 'refused' | 'throttled' | 'unreachable';

const REFUSED = new Set([
  'AccessDenied', 'AccessDeniedException', 'AuthFailure', 'DecryptionFailure', 'ExpiredToken', 'ExpiredTokenException', 'IncompleteSignature',
  'InvalidClientTokenId', 'InvalidSignatureException', 'MissingAuthenticationToken', 'SignatureDoesNotMatch', 'UnrecognizedClientException',
]);
const THROTTLED = new Set(['LimitExceeded', 'RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']);
const UNREACHABLE = new Set(['EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'TimeoutError']);

/**
 * The failure's kind, with the name to show (`AccessDenied`, `HTTP 403`, `ECONNREFUSED`): no credentials
 * anywhere in the SDK's chain; credentials refused (or the request's signature, or the KMS key behind a
 * secret); throttled; the endpoint not reached. Undefined for anything else.
 */
export function awsFailure(e: unknown): { kind: AwsFailureKind; shown: string } | undefined {
  const err = (e ?? {}) as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = (err.name ?? err.Code ?? '').replace(/Fault$/, '');
  const status = err.$metadata?.httpStatusCode;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(err.message ?? '')) return { kind: 'no-credentials', shown: name };
  if (REFUSED.has(name) || status === 401 || status === 403) return { kind: 'refused', shown: name || `HTTP ${status}` };
  if (THROTTLED.has(name) || status === 429) return { kind: 'throttled', shown: name || `HTTP ${status}` };
  const net = err.code ?? name;
  if (UNREACHABLE.has(net)) return { kind: 'unreachable', shown: net };
  return undefined;
}
