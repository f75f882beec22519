/**
 * The user-facing config types and the two helpers a `stagedb.config.ts` uses: `defineConfig` and `env`.
 * These types describe what the user wrote (untrusted); `ResolvedConfig` in `resolve.ts` is what the
 * rest of stagedb works with.
 */

/** A value read from an environment variable when the environment is used (after its env files load). */
export interface EnvRef {
  $env: string;
  /** Used when the variable is unset or empty. */
  default?: string;
}

/** A config value: a literal string or `env('NAME')`. */
export type ConfigValue = string | EnvRef;

/**
 * A URL read from AWS Secrets Manager when the environment is used (docs/aws.md): `key` names the
 * JSON key holding a whole URL; without it, an RDS credentials secret (username, password, host,
 * port, dbname) is made into a URL, `url` naming what the secret lacks (host, port, database).
 */
export interface SecretRef {
  $secret: string;
  key?: string;
  url?: string;
}

/** A URL setting: a literal, `env('NAME')` or `secret('<arn or name>', …)`. */
export type UrlValue = ConfigValue | SecretRef;

/** Protection level of an environment; see the README's protection matrix. */
export type Protection = 'none' | 'guarded' | 'production';

/** libpq `sslmode` values, with libpq's meaning (not node-postgres's). */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface EnvironmentConfig {
  /** What the application uses: a direct `postgresql://` URL, a pooler, or a `prisma+postgres://` Accelerate URL. */
  url?: UrlValue;
  /** What DDL, backups and status use. Required whenever `url` is not a direct PostgreSQL URL. */
  directUrl?: UrlValue;
  /** Env file(s) loaded on top of `.env`; default `.env.<name>`. Paths are relative to the config file. */
  envFile?: string | string[];
  /** Default by name: development and test → none, staging → guarded, production → production, others → guarded. */
  protection?: Protection;
  /** Minimum TLS mode this environment accepts. Default `require` for production-level environments. */
  ssl?: SslMode;
  /** Shadow database for `migrate dev` (issue 3); optional. */
  shadowDatabaseUrl?: UrlValue;
  /**
   * How long, in milliseconds, one statement of `deploy` may wait for a lock (PostgreSQL's
   * `lock_timeout`) before it is cancelled and retried. It bounds the wait, never the work: a slow
   * `ALTER TABLE` that has its lock runs as long as it needs. While an `ALTER` waits, every other
   * query on that table queues behind it, so this is also the longest the application can stall
   * behind a blocked migration. Default 5000 in every environment; `0` waits forever (PostgreSQL's
   * own default).
   */
  ddlLockTimeout?: number;
  /**
   * PostgreSQL's `statement_timeout` for `deploy`, in milliseconds: a statement running longer is
   * cancelled, and the migration fails (not retried). `0` means no limit. Default: not set, so the
   * server's or role's own setting applies (PostgreSQL's default is no limit).
   */
  statementTimeout?: number;
  /**
   * How many times `deploy` retries a migration that failed only because a lock wait hit
   * `ddlLockTimeout` (for a migration outside a transaction: the statement that failed), after
   * 1 s, 2 s, 4 s, … (±25 % jitter). Default 3; at most 10. `0` fails at the first lock timeout.
   */
  lockRetries?: number;
  /**
   * IAM database authentication (RDS): connections log in with a 15-minute token made from the AWS
   * credentials (through the optional `@aws-sdk/rds-signer`) instead of the URL's password, renewed
   * after 10 minutes, always over `verify-full` TLS. `true`: the region from AWS_REGION, the URL's
   * user. See docs/aws.md.
   */
  iamAuth?: boolean | IamAuthConfig;
  /** Backups of this environment: where they are kept, how long, and what they record. See {@link BackupConfig}. */
  backup?: BackupConfig;
  /**
   * `deploy` and `migrate deploy` take a backup before applying pending migrations, refuse to migrate
   * when it fails, and name it as the restore point when a migration fails. Skipped when nothing is
   * pending. `true` / `'pg_dump'`: a pg_dump with `backup`'s settings, refused above
   * `backup.beforeDeployDumpLimit` (an hours-long dump loading production); `'snapshot'`: an RDS
   * snapshot of `backup.rds`, waited for; `'pitr'`: the exact restore point (time and WAL LSN),
   * after checking RDS automated backups cover it. Default `true` for production-level
   * environments, `false` otherwise.
   */
  backupBeforeDeploy?: boolean | 'pg_dump' | 'snapshot' | 'pitr';
  /**
   * Let `stagedb seed` run on this production-level environment (with typed confirmation, or
   * `--confirm <env>` in CI) instead of refusing it. Default false. No effect on other levels.
   */
  allowSeed?: boolean;
  /**
   * How `stagedb studio` opens this environment. `read-only` (default for production-level
   * environments): every Studio session runs with `default_transaction_read_only = on`, set by the
   * database for that connection, so an edit fails inside PostgreSQL itself. `read-write`: the default
   * elsewhere.
   */
  studio?: 'read-only' | 'read-write';
  /**
   * The URL Studio connects with instead of the direct URL, e.g. a role that has only SELECT
   * (`studio` read-only mode still applies on top of it). Default: the direct URL.
   */
  studioUrl?: UrlValue;
  /**
   * A webhook told of this environment's deploys (started, succeeded, failed with the failure report),
   * refusals (drift, lint, protection), and restores: `format: 'slack'` posts `{ text }` (Slack and
   * compatible incoming webhooks), `'json'` (default) the event as data. Secrets never reach the payload;
   * a webhook that fails or hangs (5 s) never fails the command. See docs/release.md.
   */
  notify?: { url: ConfigValue; format?: 'slack' | 'json' };
  /**
   * Read replicas for the runtime client (`stagedb/client`): direct PostgreSQL URLs of hot standbys.
   * Reads (`findMany`, `count`, …) go to a replica; writes, transactions, raw queries and `$primary()`
   * go to `url`. An unreachable replica falls back to the primary.
   */
  replicas?: UrlValue[];
  /** The runtime client's connection pool; see {@link PoolConfig}. */
  pool?: PoolConfig;
}

/**
 * The runtime client's pool per process. With no `max` (and no `connection_limit` in the URL),
 * stagedb/client computes one per server from its `max_connections` minus
 * `superuser_reserved_connections` and `reserved_connections`, keeps max(5, 10 %) of that free for
 * deploys, backups, Studio and psql, and divides the rest by `instances` and by how many of this
 * process's pools reach that same server; the result is clamped to 2–10 (README, "Runtime client").
 */
export interface PoolConfig {
  /** Connections per pool per process. Default: computed, between 2 and 10 (node-postgres's default). */
  max?: number;
  /** How many application processes share the server (pods, tasks, serverless concurrency). Default 1. */
  instances?: number;
}

/**
 * Where an environment's backups are kept: a local directory, or S3-compatible object storage. A
 * backup becomes visible (listed, restorable) only once all of it is stored: its manifest is written last.
 */
export type BackupStorageConfig =
  /** A local directory, relative to the config file. Default `.stagedb/backups/<environment>`. */
  | { dir: string }
  | { s3: S3StorageConfig };

/**
 * S3 or an S3-compatible store (MinIO, Cloudflare R2, …). Credentials come from the AWS SDK's usual
 * chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE, an instance or
 * task role); AWS_* variables in the environment's env files count as if exported.
 */
export interface S3StorageConfig {
  bucket: ConfigValue;
  /** Key prefix under which this environment's backups go. Default `stagedb/<environment>`. */
  prefix?: ConfigValue;
  /** Default: AWS_REGION / AWS_DEFAULT_REGION, else `us-east-1`. */
  region?: ConfigValue;
  /** An S3-compatible endpoint, e.g. `http://127.0.0.1:9000`. Default: AWS S3 itself. */
  endpoint?: ConfigValue;
  /** Path-style URLs (`endpoint/bucket/key`), as most S3-compatible servers need. Default: true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** Server-side encryption of every object: `AES256` (S3-managed keys) or `aws:kms` (with `kmsKeyId`, or the bucket's default key). */
  sse?: 'AES256' | 'aws:kms';
  /** The KMS key for `sse: 'aws:kms'`. */
  kmsKeyId?: ConfigValue;
}

/** Backup settings of one environment. */
export interface BackupConfig {
  /** Default: `{ dir: '.stagedb/backups/<environment>' }`. */
  storage?: BackupStorageConfig;
  /**
   * What `stagedb backup prune` keeps: the newest `keepLast` backups (default 10, at least 1), the
   * newest backup of each of the last `dailyDays` days, UTC (default 7), and always the newest
   * backup that passed `backup verify`.
   */
  retention?: { keepLast?: number; dailyDays?: number };
  /**
   * Besides each table's exact row count (always recorded, in the dump's own snapshot), record a
   * content checksum of every table, so `backup verify --deep` proves a restore brings back the same
   * data, not just as many rows. It reads every row's text once more, beside the dump: default off.
   */
  checksums?: boolean;
  /**
   * An RDS instance to snapshot with `stagedb backup --snapshot` (through the optional
   * `@aws-sdk/client-rds`). Credentials come from the AWS SDK's usual chain, as for S3.
   */
  rds?: RdsSnapshotConfig;
  /**
   * With `backupBeforeDeploy: true` (a pg_dump), a database larger than this (bytes,
   * pg_database_size) stops the deploy with the choices instead of starting an hours-long dump.
   * Default 21474836480 (20 GiB); 0: no limit.
   */
  beforeDeployDumpLimit?: number;
}

/** The RDS instance behind an environment, for `backup --snapshot`. */
export interface RdsSnapshotConfig {
  /** The DB instance identifier, e.g. `app-production`. */
  instance: ConfigValue;
  /** Default: AWS_REGION / AWS_DEFAULT_REGION, else `us-east-1`. */
  region?: ConfigValue;
  /** An RDS-compatible endpoint. Default: AWS's own. */
  endpoint?: ConfigValue;
}

/** `iamAuth` in full. */
export interface IamAuthConfig {
  /** The instance's region. Default: AWS_REGION / AWS_DEFAULT_REGION, else `us-east-1`. */
  region?: ConfigValue;
  /** The database role to log in as (granted `rds_iam`). Default: the URL's user. */
  role?: ConfigValue;
  /**
   * The CA bundle that signed the server's certificate, e.g. Amazon's `global-bundle.pem`
   * (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), relative to the config file.
   * Default: the URL's `sslrootcert`, else Node's public CA list.
   */
  caBundle?: string;
}

export interface StagedbConfig {
  /** Path to schema.prisma (or a folder of .prisma files). Default: from prisma.config.ts, else prisma/schema.prisma. */
  schema?: string;
  /** Path to the migrations folder. Default: `migrations` beside the schema. */
  migrations?: string;
  /** Seed command, run through the shell from the project root (e.g. `node prisma/seed.mjs`). */
  seed?: string;
  environments: Record<string, EnvironmentConfig>;
  /** `stagedb lint` and the deploy gate (README, "Lint"). */
  lint?: LintConfig;
  /**
   * `migrate dev` writes the engine's migration as zero-downtime steps (docs/zero-downtime.md).
   * Default true; `false` writes Prisma's SQL as it is (`--prisma-sql` does it for one run).
   */
  zeroDowntime?: boolean;
}

/** A lint rule's severity: `error` fails `lint` (exit 2) and blocks the deploy gate, `warning` exits 1, `info` never fails. */
export type LintSeverity = 'error' | 'warning' | 'info' | 'off';

export interface LintConfig {
  /** Severity per rule, by code or name: `{ SDB015: 'error', 'type-hygiene': 'info' }`. */
  rules?: Record<string, LintSeverity>;
  /**
   * Who deploys the migrations, which decides how each file runs: `stagedb` (default: stagedb's
   * per-file transaction choice and its lock_timeout) or `prisma` (`prisma migrate deploy`: a whole
   * file as one implicit transaction, no lock_timeout).
   */
  runner?: 'stagedb' | 'prisma';
  /** With `--env`: tables smaller than this many bytes make size-bound hazards `info`. Default 10485760 (10 MiB). */
  smallTableBytes?: number;
  /** With `--env`: tables at least this many bytes make size-bound hazards `error`. Default 1073741824 (1 GiB). */
  largeTableBytes?: number;
}

/** Identity function that gives a config file type checking and editor completion. */
export function defineConfig(config: StagedbConfig): StagedbConfig {
  return config;
}

/** Read a value from an environment variable when the environment is used. */
export function env(name: string, defaultValue?: string): EnvRef {
  return defaultValue === undefined ? { $env: name } : { $env: name, default: defaultValue };
}

/**
 * Read a URL from AWS Secrets Manager (GetSecretValue, once per run, never written or printed):
 * `secret(id, 'key')` the JSON key holding a URL; `secret(id)` an RDS credentials secret made into a
 * URL; `secret(id, { url: 'postgresql://host:5432/db' })` an RDS-managed master secret (username and
 * password only) put into that URL. Needs `@aws-sdk/client-secrets-manager`.
 */
export function secret(secretId: string, keyOrOptions?: string | { url?: string }): SecretRef {
  if (typeof keyOrOptions === 'string') return { $secret: secretId, key: keyOrOptions };
  return keyOrOptions?.url ? { $secret: secretId, url: keyOrOptions.url } : { $secret: secretId };
}
