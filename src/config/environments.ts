import { basename, isAbsolute, join, relative } from 'node:path';
import { configError, usageError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';
import type { ConfigValue, Protection, SslMode, UrlValue } from './define.js';
import { isSecretRef, secretLoaded, secretUrl } from '../aws/secrets.js';
import { readEnvFile } from './env-files.js';
import type { EnvironmentDefinition, ResolvedConfig } from './load.js';
import { parseDatabaseUrl, type ParsedUrl } from './url.js';
import { registerIamAuth } from '../aws/iam-token.js';
import { ALIASES } from './aliases.js';

export { ALIASES } from './aliases.js';

const DEFAULT_PROTECTION: Record<string, Protection> = { development: 'none', test: 'none', staging: 'guarded', production: 'production' };

/**
 * Which environments a command runs on: `--env <name>` > `STAGEDB_ENV` > `development`.
 * `all` means every defined environment, in config order. Aliases dev/prod/stage are accepted.
 */
export function selectEnvironments(config: ResolvedConfig, flag: string | undefined, processEnv: NodeJS.ProcessEnv): string[] {
  const requested = flag ?? (processEnv.STAGEDB_ENV || undefined) ?? 'development';
  const defined = Object.keys(config.environments);
  if (requested === 'all') return defined;
  const names = requested.split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) {
    // `--env ,` or STAGEDB_ENV=",": no environment at all (commands would run on none, and exit oddly).
    throw usageError('E_USAGE', `no environment named in ${flag !== undefined ? `--env "${flag}"` : `STAGEDB_ENV="${requested}"`}`, 'name one: --env development (several: --env development,staging)');
  }
  const selected = names.map((n) => {
    const name = Object.hasOwn(ALIASES, n) ? ALIASES[n]! : n;
    // Own keys only: `--env toString` must not find Object.prototype.toString.
    if (!Object.hasOwn(config.environments, name)) {
      const source = flag !== undefined ? `--env ${n}` : processEnv.STAGEDB_ENV ? `STAGEDB_ENV=${n}` : 'the default environment';
      throw configError('E_ENV_UNKNOWN', `unknown environment "${n}" (from ${source}); defined: ${defined.join(', ')}`, {
        fix: config.configFile
          ? `use --env ${defined[0]} (or add "${name}" under environments in ${relative(process.cwd(), config.configFile) || config.configFile})`
          : `use --env ${defined[0]}, or run \`stagedb init\` to define environments`,
      });
    }
    return name;
  });
  // `--env dev,development` names one environment: running a command on it twice would race itself.
  return [...new Set(selected)];
}

/** One environment with every value resolved: the thing commands connect with. */
export interface ResolvedEnvironment {
  name: string;
  protection: Protection;
  /** Config `allowSeed`: seeding a production-level environment asks instead of being refused. */
  allowSeed: boolean;
  /** The application's URL, when one is configured. */
  url?: string;
  urlInfo?: ParsedUrl;
  /** The direct URL used for DDL, status, backups and locks. */
  directUrl: string;
  directInfo: ParsedUrl;
  /** Where directUrl came from, for `status` and `doctor` (e.g. "directUrl (env DIRECT_URL)"). */
  directSource: string;
  ssl: SslMode | undefined;
  shadowDatabaseUrl?: string;
  /** `lock_timeout` for deploy's statements, in ms (config `ddlLockTimeout`, default 5000; 0 = wait forever). */
  lockTimeoutMs: number;
  /** `statement_timeout` for deploy, in ms (config `statementTimeout`); undefined: the server's own setting. */
  statementTimeoutMs?: number;
  /** Retries of a migration that failed only on `lock_timeout` (config `lockRetries`, default 3). */
  lockRetries: number;
  /** Where this environment's backups go and how long they stay (config `backup`, `backupBeforeDeploy`). */
  backup: ResolvedBackup;
  /** How `stagedb studio` opens this environment (config `studio`, `studioUrl`). */
  studio: ResolvedStudio;
  /** Read replicas' URLs for the runtime client (config `replicas`), in config order; unset env vars are left out with a warning. */
  replicas: string[];
  /** Config `iamAuth`: connections log in with RDS IAM tokens, over verify-full TLS (docs/aws.md). */
  iamAuth?: { region: string; role?: string; caBundle?: string };
  /** The runtime client's pool (config `pool`). */
  pool: { max?: number; instances: number };
  /** Config `notify`: the webhook told of deploys, refusals and restores (the URL is registered as a secret). */
  notify?: { url: string; format: 'slack' | 'json' };
  /** Env files that were read, in load order. */
  envFiles: string[];
  warnings: string[];
}

/**
 * Lock-safe DDL defaults, the same for every protection level: a lock timeout only bounds how long a
 * statement waits for its lock (and so how long other sessions queue behind it), never how long it
 * works, so it cannot break a slow migration anywhere; and waiting forever behind a forgotten
 * `BEGIN` in some psql session is no better in development than in production.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;
export const DEFAULT_LOCK_RETRIES = 3;

const SSL_RANK: Record<string, number> = { disable: 0, allow: 1, prefer: 1, require: 2, 'verify-ca': 3, 'verify-full': 4 };

/**
 * Resolves one environment. Precedence for every `env('NAME')` value: the shell's environment >
 * the environment's env file(s) (default `.env.<name>`) > `.env`. For the connection used by DDL:
 * `--url` flag > `directUrl` > `url` when it is a direct PostgreSQL URL > the direct URL inside a
 * local `prisma dev` api_key. Anything else is refused with an explanation of `directUrl`.
 */
export function resolveEnvironment(
  config: ResolvedConfig,
  name: string,
  options: { processEnv: NodeJS.ProcessEnv; urlOverride?: string },
): ResolvedEnvironment {
  const def = Object.hasOwn(config.environments, name) ? config.environments[name] : undefined;
  if (!def) throw configError('E_ENV_UNKNOWN', `unknown environment "${name}"`);
  const warnings: string[] = [];
  const where = (key: string) => `environments.${name}.${key}`;

  const files = readEnvVars(config.root, name, def, options.processEnv, warnings);
  const protection = def.protection ?? DEFAULT_PROTECTION[name] ?? 'guarded';
  const { explicitFiles, vars, envFiles } = files;
  const { read, from, urlVar } = valueReaders({ name, def, configFile: config.configFile, processEnv: options.processEnv, protection, files });

  // With --url, the environment's own variables may all be unset: the flag is the connection.
  const rawUrl = read('url', def.url, def.directUrl === undefined && !options.urlOverride);
  const urlInfo = rawUrl !== undefined ? parseDatabaseUrl(rawUrl, from('url', def.url)) : undefined;
  // directUrl may stay unset only while url (or the api_key inside it) can serve DDL itself; otherwise
  // its missing variable is the problem to report, not the kind of url.
  const urlServesDdl = urlInfo?.kind === 'direct' || urlInfo?.embeddedDirectUrl !== undefined;
  let rawDirect = read('directUrl', def.directUrl, !options.urlOverride && !urlServesDdl);
  let directKey = 'directUrl';
  let directFrom = from('directUrl', def.directUrl);
  if (rawDirect === undefined && def.directUrlCandidates) {
    for (const candidate of def.directUrlCandidates) {
      const v = urlVar(candidate);
      if (v) {
        rawDirect = v;
        directKey = `directUrl (env ${candidate})`;
        directFrom = from('directUrl', { $env: candidate });
        break;
      }
    }
  }
  if (rawDirect !== undefined && typeof def.directUrl === 'object') directKey = isSecretRef(def.directUrl) ? `directUrl (secret ${def.directUrl.$secret})` : `directUrl (env ${def.directUrl.$env})`;

  const { directUrl, directInfo, directSource } = chooseDirectUrl({ name, def, urlOverride: options.urlOverride, rawDirect, directKey, directFrom, rawUrl, urlInfo, explicitFiles });

  const ssl = def.ssl ?? (protection === 'production' ? 'require' : undefined);
  const iamAuth = resolveIamAuth(config.root, def.iamAuth, read, vars);
  // With iamAuth every connection is verify-full whatever the URL says.
  if (ssl && !iamAuth) {
    const have = directInfo.sslmode ?? 'prefer';
    if ((SSL_RANK[have] ?? 0) < (SSL_RANK[ssl] ?? 0)) {
      throw configError(
        'E_SSL_REQUIRED',
        `environment ${name} requires sslmode=${ssl} or stronger, but its ${directSource} has sslmode=${have}: traffic to a ${protection}-level database must be encrypted`,
        { fix: `add ?sslmode=${ssl} to the URL (RDS: also sslrootcert=<path to the RDS CA bundle> with verify-full), or set ${where('ssl')} to "${have}" if this database is only reachable on a private network` },
      );
    }
  }
  const replicas = resolveReplicas(name, def.replicas, read, warnings);
  if (iamAuth) {
    const urls = [directUrl, ...(urlInfo?.kind === 'direct' && rawUrl ? [rawUrl] : []), ...replicas];
    for (const u of urls) {
      const p = parseDatabaseUrl(u, name);
      registerIamAuth({ hostname: p.host, port: p.port, urlUser: p.user, username: iamAuth.role ?? p.user, region: iamAuth.region, caBundle: iamAuth.caBundle, processEnv: options.processEnv });
    }
  }
  return {
    name,
    protection,
    allowSeed: def.allowSeed === true,
    url: rawUrl,
    urlInfo,
    directUrl,
    directInfo,
    directSource,
    ssl,
    shadowDatabaseUrl: parseOptionalUrl(read('shadowDatabaseUrl', def.shadowDatabaseUrl, false), from('shadowDatabaseUrl', def.shadowDatabaseUrl)),
    lockTimeoutMs: def.ddlLockTimeout ?? DEFAULT_LOCK_TIMEOUT_MS,
    statementTimeoutMs: def.statementTimeout,
    lockRetries: def.lockRetries ?? DEFAULT_LOCK_RETRIES,
    backup: resolveBackup(config.root, name, protection, def, read, vars),
    studio: {
      mode: def.studio ?? (protection === 'production' ? 'read-only' : 'read-write'),
      url: parseOptionalUrl(read('studioUrl', def.studioUrl, true), from('studioUrl', def.studioUrl)),
      urlSource: def.studioUrl === undefined ? undefined : isSecretRef(def.studioUrl) ? `studioUrl (secret ${def.studioUrl.$secret})` : typeof def.studioUrl === 'object' ? `studioUrl (env ${def.studioUrl.$env})` : 'studioUrl',
    },
    replicas,
    ...(iamAuth ? { iamAuth } : {}),
    pool: { max: def.pool?.max, instances: def.pool?.instances ?? 1 },
    notify: resolveNotify(def.notify, read),
    envFiles,
    warnings,
  };
}

/**
 * How an environment's settings are read: `read` (a literal, an env() through the variables, a
 * secret()), `from` (where a value came from, for an error about it) and `urlVar` (a connection
 * variable, never from the shared .env for a guarded or production environment).
 */
function valueReaders(o: { name: string; def: EnvironmentDefinition; configFile?: string; processEnv: NodeJS.ProcessEnv; protection: Protection; files: ReturnType<typeof readEnvVars> }) {
  const { name, def, protection, processEnv } = o;
  const { explicitFiles, fileNames, vars, fileVars, origin, fromShell } = o.files;
  const where = (key: string) => `environments.${name}.${key}`;
  // A guarded or production environment never takes a URL from the shared `.env`: that file is every
  // environment's, and in practice development's. Borrowing its DATABASE_URL made a new project's
  // staging "up to date" on the development database, and its deploy marked development as staging.
  // Its URLs come from its own env file(s), the shell, or the config (a literal, or env()'s default);
  // `.env` still counts when the config lists it in envFile itself.
  const sharedIsOwn = protection === 'none' || (explicitFiles?.includes('.env') ?? false);
  const skipped = new Set<string>();
  const urlVar = (k: string): string | undefined => {
    // A shell value identical to .env's is .env's, exported into the shell (direnv, `set -a; . .env`).
    if (!sharedIsOwn && origin[k] === '.env' && (!fromShell.has(k) || vars[k] === fileVars[k]) && vars[k]) {
      skipped.add(k);
      return undefined;
    }
    return vars[k];
  };
  const ownFiles = sharedIsOwn ? fileNames : fileNames.filter((f) => f !== '.env');
  const lookedIn = ['the shell', ...ownFiles].join(', ');
  const target = explicitFiles?.[0] ?? `.env.${name}`;
  // Where a value came from, for an error about it: `environments.staging.url (DATABASE_URL from .env.staging)`.
  // A URL that does not parse is never shown, so this is all that tells the user which line to fix.
  const from = (key: string, value: UrlValue | undefined): string => {
    if (isSecretRef(value)) return `${where(key)} (secret ${value.$secret})`;
    if (value === undefined || typeof value === 'string') {
      const file = def.origins?.[key as keyof NonNullable<typeof def.origins>] ?? (o.configFile ? basename(o.configFile) : 'the Prisma datasource');
      return `${where(key)} (written in ${file})`;
    }
    const v = value.$env;
    const src = processEnv[v] ? 'the shell' : origin[v] !== undefined && vars[v] ? origin[v] : 'its default';
    return `${where(key)} (${v} from ${src})`;
  };

  const read = (key: string, value: UrlValue | undefined, required: boolean): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    // Fetched by loadSecrets before this synchronous resolution.
    // A setting that is not needed (e.g. with --url) is not fetched: undefined, as for an unset env().
    if (isSecretRef(value)) return required || secretLoaded(value) ? secretUrl(value, where(key)) : undefined;
    const v = isConnectionKey(key) ? urlVar(value.$env) : vars[value.$env];
    if (v !== undefined && v !== '') return v;
    if (value.default !== undefined) return value.default;
    if (!required) return undefined;
    if (isConnectionKey(key)) throw notConfigured(key, value.$env);
    throw configError('E_ENV_VAR_MISSING', `${where(key)}: environment variable ${value.$env} is not set (looked in ${['the shell', ...fileNames].join(', ')})`, {
      fix: `add ${value.$env}="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to ${target}, or export it`,
    });
  };
  /** The environment has no connection of its own: say so, and which variable to set where. */
  const notConfigured = (key: string, variable: string) => {
    // When url's variable was passed over (it is only in .env), that is the one to set: a direct url serves DDL too.
    const urlRef = envName(def.url);
    const [k, v] = urlRef && skipped.has(urlRef) ? ['url', urlRef] : [key, variable];
    const why = skipped.has(v)
      ? `${where(k)} reads ${v}, which is set only in .env, the file every environment shares: a ${protection}-level environment never takes its URL from there`
      : `${where(k)}: environment variable ${v} is not set (looked in ${lookedIn})`;
    const addIt = `add ${v}="postgresql://USER:PASSWORD@HOST:5432/DATABASE" to ${target}, or export it`;
    // A new project's first `migrate dev` lands here: the local server that `dev up --write-env` starts
    // writes exactly this variable into .env. Only for an unprotected environment's DATABASE_URL: that
    // is the one variable it writes, and a local server is no answer for staging or production.
    const local = v === 'DATABASE_URL' && protection === 'none';
    return configError('E_ENV_VAR_MISSING', `${name} is not configured: ${why}`, {
      fix: local ? `stagedb dev up --write-env   (starts a local PostgreSQL and writes DATABASE_URL to .env), or ${addIt}` : addIt,
    });
  };
  return { read, from, urlVar };
}

/** The variables an environment reads: `.env`, then its own env file(s), then the shell (which wins). */
function readEnvVars(root: string, name: string, def: EnvironmentDefinition, processEnv: NodeJS.ProcessEnv, warnings: string[]) {
  const where = (key: string) => `environments.${name}.${key}`;
  const explicitFiles = def.envFile === undefined ? undefined : Array.isArray(def.envFile) ? def.envFile : [def.envFile];
  const fileNames = ['.env', ...(explicitFiles ?? [`.env.${name}`])];
  const vars: Record<string, string> = {};
  const envFiles: string[] = [];
  const origin: Record<string, string> = {};
  for (const f of fileNames) {
    const p = isAbsolute(f) ? f : join(root, f);
    const parsed = readEnvFile(p);
    if (!parsed) {
      if (explicitFiles?.includes(f)) {
        throw configError('E_ENV_FILE_MISSING', `${where('envFile')}: ${f} does not exist`, {
          fix: `create ${f} (e.g. DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DB") or remove envFile from the config`,
        });
      }
      continue;
    }
    envFiles.push(p);
    for (const [k, v] of Object.entries(parsed)) {
      vars[k] = v;
      origin[k] = f;
    }
  }
  const fileVars = { ...vars };
  const fromShell = new Set<string>();
  for (const [k, v] of Object.entries(processEnv)) {
    // An empty shell variable (`DATABASE_URL=`) does not hide an env file's value.
    if (v === undefined || v === '') continue;
    if (fileVars[k] !== undefined && fileVars[k] !== v && isUrlVar(k)) {
      warnings.push(`${k} is set in the shell and differs from ${origin[k]}; the shell's value wins (unset it to use the file)`);
    }
    vars[k] = v;
    fromShell.add(k);
  }
  return { explicitFiles, fileNames, vars, fileVars, origin, fromShell, envFiles };
}

/**
 * The connection used by DDL: `--url` > `directUrl` > `url` when it is a direct PostgreSQL URL > the
 * direct URL inside a local `prisma dev` api_key. Anything else is refused with an explanation of `directUrl`.
 */
function chooseDirectUrl(o: {
  name: string;
  def: EnvironmentDefinition;
  urlOverride?: string;
  rawDirect?: string;
  directKey: string;
  directFrom: string;
  rawUrl?: string;
  urlInfo?: ParsedUrl;
  explicitFiles?: string[];
}): { directUrl: string; directInfo: ParsedUrl; directSource: string } {
  const { name, def, urlOverride: override, rawDirect, directKey, directFrom, rawUrl, urlInfo, explicitFiles } = o;
  const where = (key: string) => `environments.${name}.${key}`;
  let directUrl: string;
  let directInfo: ParsedUrl;
  let directSource: string;
  if (override) {
    directUrl = override;
    directInfo = parseDatabaseUrl(directUrl, '--url');
    directSource = '--url flag';
  } else if (rawDirect !== undefined) {
    directUrl = rawDirect;
    directInfo = parseDatabaseUrl(rawDirect, directFrom);
    directSource = directKey;
  } else if (urlInfo && urlInfo.kind === 'direct') {
    directUrl = rawUrl!;
    directInfo = urlInfo;
    directSource = isSecretRef(def.url) ? `url (secret ${def.url.$secret})` : typeof def.url === 'object' ? `url (env ${def.url.$env})` : 'url';
  } else if (urlInfo?.embeddedDirectUrl) {
    directUrl = urlInfo.embeddedDirectUrl;
    directInfo = parseDatabaseUrl(directUrl, `${where('url')} (api_key)`);
    directSource = 'url (the direct URL inside the local prisma dev api_key)';
  } else {
    const kind = urlInfo?.kind === 'accelerate' ? 'a Prisma Accelerate URL' : 'a connection-pooler URL';
    throw configError(
      'E_DIRECT_URL_REQUIRED',
      `${where('url')} is ${kind} (${urlInfo?.reason}); migrations, status and backups need a direct connection to PostgreSQL`,
      {
        fix: `set ${where('directUrl')}: env('DIRECT_URL') in the config and DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DB" in ${explicitFiles?.[0] ?? `.env.${name}`}`,
      },
    );
  }
  if (directInfo.kind !== 'direct') {
    throw configError('E_DIRECT_URL_REQUIRED', `${directSource} of environment ${name} is not a direct PostgreSQL URL (${directInfo.reason})`, {
      fix: `point ${where('directUrl')} at the database server itself (postgresql://USER:PASSWORD@HOST:5432/DB), not at a pooler or Accelerate`,
    });
  }
  return { directUrl, directInfo, directSource };
}

/** Config `iamAuth` with its values read; undefined when off. */
function resolveIamAuth(
  root: string,
  def: EnvironmentDefinition['iamAuth'],
  read: (key: string, value: ConfigValue | undefined, required: boolean) => string | undefined,
  vars: Record<string, string | undefined>,
): ResolvedEnvironment['iamAuth'] {
  if (def === undefined || def === false) return undefined;
  const o = def === true ? {} : def;
  const region = read('iamAuth.region', o.region, false) ?? vars.AWS_REGION ?? vars.AWS_DEFAULT_REGION ?? 'us-east-1';
  const role = read('iamAuth.role', o.role, false);
  const caBundle = o.caBundle === undefined ? undefined : isAbsolute(o.caBundle) ? o.caBundle : join(root, o.caBundle);
  return { region, ...(role ? { role } : {}), ...(caBundle ? { caBundle } : {}) };
}

/** How `stagedb studio` opens an environment. */
export interface ResolvedStudio {
  /** `read-only`: the database makes every Studio transaction read-only. */
  mode: 'read-only' | 'read-write';
  /** Config `studioUrl`; undefined: the direct URL. */
  url?: string;
  /** Where `url` came from, e.g. "studioUrl (env STUDIO_URL)". */
  urlSource?: string;
}

function parseOptionalUrl(url: string | undefined, at: string): string | undefined {
  if (url !== undefined) parseDatabaseUrl(url, at);
  return url;
}

function resolveReplicas(
  name: string,
  defs: UrlValue[] | undefined,
  read: (key: string, value: UrlValue | undefined, required: boolean) => string | undefined,
  warnings: string[],
): string[] {
  const out: string[] = [];
  (defs ?? []).forEach((v, i) => {
    const url = read(`replicas.${i}`, v, false);
    if (url === undefined) {
      if (typeof v === 'object' && !isSecretRef(v)) warnings.push(`replicas.${i}: environment variable ${v.$env} is not set; reads go to the primary`);
      return;
    }
    // Parsing validates it and registers its password for redaction.
    parseDatabaseUrl(url, `environments.${name}.replicas.${i}`);
    out.push(url);
  });
  return out;
}

/** An environment's backup settings, every value resolved. */
export interface ResolvedBackup {
  storage: ResolvedBackupStorage;
  retention: { keepLast: number; dailyDays: number };
  /** Config `checksums`; undefined: decided by the database's size. */
  checksums?: boolean;
  /** Take a backup before `deploy` applies migrations (config `backupBeforeDeploy`). */
  beforeDeploy: boolean;
  /** What that backup is (config `backupBeforeDeploy`: true means pg_dump). */
  beforeDeployMode: 'pg_dump' | 'snapshot' | 'pitr';
  /** Above this database size (bytes) a pg_dump before deploy is refused; 0: no limit (config `backup.beforeDeployDumpLimit`). */
  beforeDeployDumpLimit: number;
  /** Config `backup.rds`: the RDS instance `backup --snapshot` snapshots. */
  rds?: { instance: string; region: string; endpoint?: string };
}

export type ResolvedBackupStorage =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      /** Undefined when its env('…') variable is unset: reported when the storage is used, so `status` never needs it. */
      bucket?: string;
      /** Why `bucket` is missing, e.g. "backup.storage.s3.bucket: environment variable BACKUP_BUCKET is not set". */
      bucketProblem?: string;
      /** No leading or trailing slash. */
      prefix: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
      sse?: 'AES256' | 'aws:kms';
      kmsKeyId?: string;
      /** From AWS_* variables in the shell or the env files; undefined: the SDK's own chain (profiles, roles). */
      credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    };

export const DEFAULT_BACKUP_RETENTION = { keepLast: 10, dailyDays: 7 } as const;
/** 20 GiB: at a typical 50-100 MB/s, a pg_dump of this much already loads production for minutes to hours. */
export const DEFAULT_DUMP_LIMIT = 20 * 1024 ** 3;

function resolveBackup(
  root: string,
  name: string,
  protection: Protection,
  def: EnvironmentDefinition,
  read: (key: string, value: ConfigValue | undefined, required: boolean) => string | undefined,
  vars: Record<string, string>,
): ResolvedBackup {
  const b = def.backup ?? {};
  const retention = { keepLast: b.retention?.keepLast ?? DEFAULT_BACKUP_RETENTION.keepLast, dailyDays: b.retention?.dailyDays ?? DEFAULT_BACKUP_RETENTION.dailyDays };
  const setting = def.backupBeforeDeploy ?? protection === 'production';
  const beforeDeploy = setting !== false;
  const beforeDeployMode = typeof setting === 'string' ? setting : 'pg_dump';
  const beforeDeployDumpLimit = b.beforeDeployDumpLimit ?? DEFAULT_DUMP_LIMIT;
  const rds = b.rds
    ? {
        instance: read('backup.rds.instance', b.rds.instance, true)!,
        region: read('backup.rds.region', b.rds.region, false) ?? vars.AWS_REGION ?? vars.AWS_DEFAULT_REGION ?? 'us-east-1',
        endpoint: read('backup.rds.endpoint', b.rds.endpoint, false),
      }
    : undefined;
  const s3 = b.storage && 's3' in b.storage ? b.storage.s3 : undefined;
  if (!s3) {
    const dir = b.storage && 'dir' in b.storage ? b.storage.dir : join('.stagedb', 'backups', name);
    return { storage: { kind: 'local', dir: isAbsolute(dir) ? dir : join(root, dir) }, retention, checksums: b.checksums, beforeDeploy, beforeDeployMode, beforeDeployDumpLimit, rds };
  }
  const at = (k: string) => `backup.storage.s3.${k}`;
  const bucket = read(at('bucket'), s3.bucket, false);
  const bucketProblem = bucket === undefined && typeof s3.bucket === 'object' ? `environments.${name}.${at('bucket')}: environment variable ${s3.bucket.$env} is not set` : undefined;
  const endpoint = read(at('endpoint'), s3.endpoint, false);
  const accessKeyId = vars.AWS_ACCESS_KEY_ID;
  const secretAccessKey = vars.AWS_SECRET_ACCESS_KEY;
  registerSecret(secretAccessKey);
  registerSecret(vars.AWS_SESSION_TOKEN);
  return {
    storage: {
      kind: 's3',
      bucket,
      bucketProblem,
      prefix: (read(at('prefix'), s3.prefix, false) ?? `stagedb/${name}`).replace(/^\/+|\/+$/g, ''),
      region: read(at('region'), s3.region, false) ?? vars.AWS_REGION ?? vars.AWS_DEFAULT_REGION ?? 'us-east-1',
      endpoint,
      forcePathStyle: s3.forcePathStyle ?? endpoint !== undefined,
      sse: s3.sse,
      kmsKeyId: read(at('kmsKeyId'), s3.kmsKeyId, false),
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: vars.AWS_SESSION_TOKEN || undefined } : undefined,
    },
    retention,
    checksums: b.checksums,
    beforeDeploy,
    beforeDeployMode,
    beforeDeployDumpLimit,
    rds,
  };
}

/** The variable an `env()` value reads; undefined for a literal or a secret. */
function envName(v: UrlValue | undefined): string | undefined {
  return typeof v === 'object' && !isSecretRef(v) ? v.$env : undefined;
}

/** Config keys that name a database connection: never read from the shared `.env` for a protected environment. */
function isConnectionKey(key: string): boolean {
  return key === 'url' || key === 'directUrl' || key === 'shadowDatabaseUrl' || key === 'studioUrl' || key.startsWith('replicas.');
}

function isUrlVar(k: string): boolean {
  return /URL$/.test(k);
}

/** A URL safe to show: passwords and api keys masked. */
export function displayUrl(url: string): string {
  return redact(url);
}

/** A webhook URL carries its credential in the path (Slack's /services/T…/B…/secret): never shown, anywhere. */
function resolveNotify(n: { url: ConfigValue; format?: 'slack' | 'json' } | undefined, read: (key: string, value: ConfigValue | undefined, required: boolean) => string | undefined): { url: string; format: 'slack' | 'json' } | undefined {
  if (!n) return undefined;
  const url = read('notify.url', n.url, false);
  if (!url) return undefined;
  registerSecret(url);
  return { url, format: n.format ?? 'json' };
}
