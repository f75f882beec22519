import { configError, StagedbError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';
import { shellQuote } from '../shell-quote.js';
import type { SecretRef, UrlValue } from '../config/define.js';
import { awsFailure, envCredentials, loadAwsSdk } from './sdk.js';
import type { EnvironmentDefinition, ResolvedConfig } from '../config/load.js';

/**
 * `secret('<arn or name>', …)` in the config: a URL read from AWS Secrets Manager (GetSecretValue)
 * when an environment is used. Each secret is fetched once per process, kept in memory only (never
 * written, never printed: every value in it is registered with the redaction function), before the
 * environment is resolved — `resolveEnvironment` is synchronous and reads it from here.
 *
 * `@aws-sdk/client-secrets-manager` is an optional peer dependency, imported only when a config
 * names a secret (the tests run it against a loopback stand-in that re-derives the signature).
 */

/** Fetches one secret's SecretString. */
export type SecretFetcher = (request: { secretId: string; region: string }) => Promise<string>;

/** SecretString by secret id: fetched once per process. */
const fetched = new Map<string, Promise<string>>();
const values = new Map<string, string>();
/** Why a secret could not be fetched, for the environment that names it (with --env all, each reports its own). */
const failures = new Map<string, StagedbError>();

export const isSecretRef = (v: unknown): v is SecretRef => typeof v === 'object' && v !== null && typeof (v as SecretRef).$secret === 'string';

/** The secrets an environment's connection settings name. */
export function secretRefs(def: EnvironmentDefinition): SecretRef[] {
  const vals: Array<UrlValue | undefined> = [def.url, def.directUrl, def.shadowDatabaseUrl, def.studioUrl, ...(def.replicas ?? [])];
  return vals.filter((v): v is SecretRef => isSecretRef(v));
}

/**
 * Fetches the secrets the named environments use (nothing, and no import, when they use none).
 *
 * @throws config/E_SECRETS_SDK_MISSING, config/E_SECRET_NOT_FOUND, connection/E_SECRET_AUTH,
 *   connection/E_SECRET_THROTTLED, connection/E_SECRET_UNREACHABLE, config/E_SECRET
 */
export async function loadSecrets(config: ResolvedConfig, names: string[], processEnv: NodeJS.ProcessEnv, fetcher?: SecretFetcher): Promise<void> {
  const ids = new Set<string>();
  for (const name of names) {
    const def = Object.hasOwn(config.environments, name) ? config.environments[name] : undefined;
    if (def) for (const r of secretRefs(def)) ids.add(r.$secret);
  }
  if (ids.size === 0) return;
  const fetch = fetcher ?? (await defaultFetcher(processEnv));
  await Promise.all(
    [...ids].map(async (secretId) => {
      let p = fetched.get(secretId);
      if (!p) {
        const region = regionOf(secretId, processEnv);
        p = fetch({ secretId, region }).catch((e: unknown) => {
          fetched.delete(secretId);
          const err = secretError(e, secretId, region);
          failures.set(secretId, err);
          throw err;
        });
        fetched.set(secretId, p);
      }
      const s = await p;
      registerSecretString(s);
      values.set(secretId, s);
      failures.delete(secretId);
    }),
  );
}

/** Whether `loadSecrets` has fetched (or failed to fetch) this secret. */
export function secretLoaded(ref: SecretRef): boolean {
  return values.has(ref.$secret) || failures.has(ref.$secret);
}

/** The URL a `secret()` value stands for, from a secret already fetched by `loadSecrets`. */
export function secretUrl(ref: SecretRef, where: string): string {
  const s = values.get(ref.$secret);
  const failed = failures.get(ref.$secret);
  if (s === undefined && failed) throw failed;
  if (s === undefined) {
    // A library caller that resolved an environment without loading its secrets first.
    throw configError('E_SECRET_NOT_LOADED', `${where}: secret ${ref.$secret} was not fetched before the environment was resolved`, {
      fix: 'await loadSecrets(config, [name], process.env) before resolveEnvironment (the CLI and stagedb/client do)',
    });
  }
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(s);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    /* a plain-text secret: the URL itself */
  }
  if (ref.key !== undefined) {
    const v = json?.[ref.key];
    if (typeof v !== 'string' || v === '') {
      throw configError('E_SECRET_KEY', `${where}: secret ${ref.$secret} has no key "${ref.key}"${json ? ` (its keys: ${Object.keys(json).join(', ')})` : ' (it is not JSON)'}`, {
        fix: `name one of its keys in secret(${JSON.stringify(ref.$secret)}, '<key>'), or leave the key out for an RDS credentials secret (username, password, host, port, dbname)`,
      });
    }
    return v;
  }
  if (!json) return s;
  return rdsSecretUrl(json, ref, where);
}

/**
 * The URL of an RDS credentials secret: `postgresql://<username>:<password>@<host>:<port>/<dbname>`,
 * user and password percent-encoded. RDS-managed master secrets hold only username and password:
 * `secret(id, { url })` names the rest.
 */
function rdsSecretUrl(json: Record<string, unknown>, ref: SecretRef, where: string): string {
  const str = (k: string) => (typeof json[k] === 'string' || typeof json[k] === 'number' ? String(json[k]) : undefined);
  const username = str('username');
  const password = str('password');
  const base = ref.url ? new URL(ref.url) : undefined;
  const host = str('host') ?? base?.hostname;
  if (!username || !host) {
    throw configError('E_SECRET_KEY', `${where}: secret ${ref.$secret} holds no ${!username ? 'username' : 'host'} to build a URL from (its keys: ${Object.keys(json).join(', ')})`, {
      fix: `name the server: secret(${JSON.stringify(ref.$secret)}, { url: 'postgresql://<instance endpoint>:5432/<database>' }) (an RDS-managed master secret holds only username and password), or name the key that holds a whole URL: secret(${JSON.stringify(ref.$secret)}, '<key>')`,
    });
  }
  const u = base ?? new URL('postgresql://placeholder');
  u.hostname = host;
  u.port = str('port') ?? (base?.port || '5432');
  u.username = encodeURIComponent(username);
  u.password = password === undefined ? '' : encodeURIComponent(password);
  const db = str('dbname') ?? (base && base.pathname !== '/' ? undefined : 'postgres');
  if (db !== undefined) u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

function registerSecretString(s: string): void {
  registerSecret(s);
  try {
    const json: unknown = JSON.parse(s);
    if (typeof json === 'object' && json !== null) for (const v of Object.values(json)) if (typeof v === 'string') registerSecret(v);
  } catch {
    /* plain text: registered whole above */
  }
}

/** A secret's region: from its ARN, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. */
export function regionOf(secretId: string, processEnv: NodeJS.ProcessEnv): string {
  const arn = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(secretId);
  return arn?.[1] ?? processEnv.AWS_REGION ?? processEnv.AWS_DEFAULT_REGION ?? 'us-east-1';
}

async function defaultFetcher(processEnv: NodeJS.ProcessEnv): Promise<SecretFetcher> {
  type Sdk = {
    SecretsManagerClient: new (o: Record<string, unknown>) => { send(c: unknown): Promise<{ SecretString?: string }>; destroy(): void };
    GetSecretValueCommand: new (o: { SecretId: string }) => unknown;
  };
  const sdk = await loadAwsSdk<Sdk>({
    name: '@aws-sdk/client-secrets-manager',
    code: 'E_SECRETS_SDK_MISSING',
    needs: 'the config reads a URL from AWS Secrets Manager (secret()), and that needs the AWS SDK for Secrets Manager',
  });
  const credentials = envCredentials(processEnv);
  return async ({ secretId, region }) => {
    const client = new sdk.SecretsManagerClient({
      region,
      credentials,
      endpoint: processEnv.AWS_ENDPOINT_URL_SECRETS_MANAGER || undefined,
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 30_000 },
      maxAttempts: 3,
    });
    try {
      const out = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
      if (out.SecretString === undefined) throw Object.assign(new Error('the secret is binary (SecretBinary), not a string'), { name: 'BinarySecret' });
      return out.SecretString;
    } finally {
      client.destroy();
    }
  };
}

/** One clear error per way GetSecretValue fails; never the secret's value (there is none yet). */
export function secretError(e: unknown, secretId: string, region: string): StagedbError {
  if (e instanceof StagedbError) return e;
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? '';
  const what = `secret ${secretId} (${region})`;
  const message = redact(err.message ?? name);
  const describe = `aws secretsmanager describe-secret --secret-id ${shellQuote(secretId)} --region ${shellQuote(region)}`;
  if (name === 'ResourceNotFoundException') {
    return new StagedbError('config', 'E_SECRET_NOT_FOUND', `there is no ${what}`, {
      fix: `check the name or ARN in secret() and the region (AWS_REGION); the secrets there: aws secretsmanager list-secrets --region ${shellQuote(region)} --query 'SecretList[].Name'`,
      cause: e,
    });
  }
  const failure = awsFailure(e);
  if (failure?.kind === 'no-credentials') {
    return new StagedbError('connection', 'E_SECRET_AUTH', `cannot read ${what}: no AWS credentials found`, {
      fix: 'export AWS_PROFILE=<profile> (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where an instance or task role is attached',
      cause: e,
    });
  }
  if (failure?.kind === 'refused') {
    return new StagedbError('connection', 'E_SECRET_AUTH', `${what} refused the credentials (${failure.shown})`, {
      fix: `check AWS_PROFILE / AWS_ACCESS_KEY_ID and the role's permissions: secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key); see ${describe}`,
      cause: e,
    });
  }
  if (failure?.kind === 'throttled') {
    return new StagedbError('connection', 'E_SECRET_THROTTLED', `AWS throttled the request for ${what} (${message})`, { fix: 'run the same command again in a moment', cause: e });
  }
  if (failure?.kind === 'unreachable') {
    return new StagedbError('connection', 'E_SECRET_UNREACHABLE', `cannot reach AWS Secrets Manager for ${what} (${failure.shown})`, {
      fix: 'check the network (a proxy, a VPC endpoint for secretsmanager, a firewall) and the region',
      cause: e,
    });
  }
  return new StagedbError('config', 'E_SECRET', `cannot read ${what}: ${message}`, { fix: `see ${describe}`, cause: e });
}

/** For tests: forget every fetched secret. */
export function clearSecrets(): void {
  fetched.clear();
  values.clear();
  failures.clear();
}
