import { StagedbError } from '../errors.js';
import { envCredentials, loadAwsSdk } from './sdk.js';
import { redact, registerSecret } from '../redact.js';

/**
 * IAM database authentication for RDS: instead of a password, a short-lived token (a SigV4-presigned
 * `connect` request, valid 15 minutes) made from the caller's AWS credentials. node-postgres asks for
 * the password on every new connection (`password` may be an async function), so the provider hands
 * out a cached token and makes a new one once the cached one is `refreshAfterMs` old (default 10 min),
 * well before it expires: a connection opened at 14:59 of a token's life would still work, but one
 * whose clock is a little off would not.
 *
 * The signer is `@aws-sdk/rds-signer` (an optional peer dependency, imported only when a token is
 * first asked for; the tests run it on a fake Date and re-derive its tokens), or any function with
 * the same shape.
 */

/** What a signer is asked for: one token for this user on this endpoint. */
export interface TokenRequest {
  hostname: string;
  port: number;
  username: string;
  region: string;
}

/** Makes one token (e.g. `new Signer(request).getAuthToken()` of `@aws-sdk/rds-signer`). */
export type TokenSigner = (request: TokenRequest) => Promise<string>;

export interface IamTokenProviderOptions extends TokenRequest {
  /** Default: `@aws-sdk/rds-signer`, imported on first use. */
  signer?: TokenSigner;
  /** Default Date.now; tests pass a fake clock. */
  now?: () => number;
  /** A token this old is replaced before it is handed out again. Default 10 minutes (tokens live 15). */
  refreshAfterMs?: number;
  /** Where AWS_ACCESS_KEY_ID and friends are read for the default signer (default: the SDK's own chain). */
  processEnv?: NodeJS.ProcessEnv;
}

/** RDS IAM tokens are valid for 15 minutes. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
export const DEFAULT_REFRESH_AFTER_MS = 10 * 60_000;

export class IamTokenProvider {
  private token: string | undefined;
  private madeAt = 0;
  private pending: Promise<string> | undefined;
  private readonly now: () => number;
  private readonly refreshAfterMs: number;
  /** How many tokens were made (for tests and `doctor`). */
  made = 0;
  /** The database role the tokens are for. */
  readonly username: string;
  readonly region: string;

  constructor(private readonly o: IamTokenProviderOptions) {
    this.now = o.now ?? Date.now;
    this.refreshAfterMs = o.refreshAfterMs ?? DEFAULT_REFRESH_AFTER_MS;
    this.username = o.username;
    this.region = o.region;
  }

  /** A token valid for at least `TOKEN_LIFETIME_MS - refreshAfterMs` more; concurrent callers share one request. */
  get(): Promise<string> {
    const age = this.now() - this.madeAt;
    if (this.token !== undefined && age < this.refreshAfterMs) return Promise.resolve(this.token);
    this.pending ??= this.make().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** node-postgres's `password` option: called for every new connection. */
  readonly password = (): Promise<string> => this.get();

  private async make(): Promise<string> {
    const started = this.now();
    try {
      const signer = this.o.signer ?? (await defaultSigner(this.o.processEnv));
      const token = await signer({ hostname: this.o.hostname, port: this.o.port, username: this.o.username, region: this.o.region });
      // A credential for 15 minutes: never shown, even inside a driver's error text.
      registerSecret(token);
      this.token = token;
      this.madeAt = started;
      this.made += 1;
      return token;
    } catch (e) {
      // A token that is still valid beats a failed refresh (AWS throttling, a network blip): use it
      // while it has a minute left, so the next connection retries the refresh.
      if (this.token !== undefined && this.now() - this.madeAt < TOKEN_LIFETIME_MS - 60_000) return this.token;
      throw tokenError(e, this.o);
    }
  }
}

async function defaultSigner(processEnv: NodeJS.ProcessEnv | undefined): Promise<TokenSigner> {
  const mod = await loadAwsSdk<{ Signer: new (o: TokenRequest & { credentials?: unknown }) => { getAuthToken(): Promise<string> } }>({
    name: '@aws-sdk/rds-signer',
    code: 'E_IAM_SDK_MISSING',
    needs: 'iamAuth needs the AWS SDK RDS signer',
  });
  const credentials = envCredentials(processEnv);
  return (r) => new mod.Signer({ ...r, ...(credentials ? { credentials } : {}) }).getAuthToken();
}

function tokenError(e: unknown, r: TokenRequest): StagedbError {
  if (e instanceof StagedbError) return e;
  const err = e as { name?: string; message?: string; code?: string };
  const name = err.name ?? '';
  const where = `an IAM token for user "${r.username}" on ${r.hostname}:${r.port} (${r.region})`;
  if (name === 'CredentialsProviderError' || /credential/i.test(err.message ?? '')) {
    return new StagedbError('connection', 'E_IAM_NO_CREDENTIALS', `cannot make ${where}: no AWS credentials found (${redact(err.message ?? name)})`, {
      fix: 'export AWS_PROFILE=<profile> (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where an instance or task role is attached; the role needs rds-db:connect on this user',
      cause: e,
    });
  }
  return new StagedbError('connection', 'E_IAM_TOKEN', `cannot make ${where}: ${redact(err.message ?? name)}`, {
    fix: 'check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and the region in environments.<name>.iamAuth',
    cause: e,
  });
}

/**
 * The providers of the environments that use IAM authentication, by host, port and user: every
 * connection stagedb opens goes through `clientConfig` with only a URL, and this is where it finds
 * the token for that URL's user. Registered when an environment is resolved (no SDK is loaded then).
 */
const providers = new Map<string, { provider: IamTokenProvider; caBundle?: string }>();

const keyOf = (host: string, port: number, user: string) => `${host.toLowerCase()}:${port}:${user}`;

/**
 * Connections to `hostname:port` as `urlUser` (the URL's user) log in as `username` with tokens.
 * The same settings registered again (every command resolves its environment) keep the cached token.
 */
export function registerIamAuth(r: TokenRequest & { urlUser: string; caBundle?: string } & Pick<IamTokenProviderOptions, 'signer' | 'processEnv' | 'now'>): IamTokenProvider {
  const key = keyOf(r.hostname, r.port, r.urlUser);
  const have = providers.get(key);
  if (have && have.provider.username === r.username && have.provider.region === r.region && have.caBundle === r.caBundle && !r.signer && !r.now) return have.provider;
  const provider = new IamTokenProvider(r);
  providers.set(key, { provider, caBundle: r.caBundle });
  return provider;
}

/** The IAM settings for a connection, if its host, port and user belong to an environment with `iamAuth`. */
export function iamAuthFor(host: string | undefined, port: number, user: string | undefined): { provider: IamTokenProvider; caBundle?: string } | undefined {
  if (!host || !user || providers.size === 0) return undefined;
  return providers.get(keyOf(host, port, user));
}

/** For tests. */
export function clearIamAuth(): void {
  providers.clear();
}
