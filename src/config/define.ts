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

/** Protection level of an environment; see the README's protection matrix. */
export type Protection = 'none' | 'guarded' | 'production';

/** libpq `sslmode` values, with libpq's meaning (not node-postgres's). */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface EnvironmentConfig {
  /** What the application uses: a direct `postgresql://` URL, a pooler, or a `prisma+postgres://` Accelerate URL. */
  url?: ConfigValue;
  /** What DDL, backups and status use. Required whenever `url` is not a direct PostgreSQL URL. */
  directUrl?: ConfigValue;
  /** Env file(s) loaded on top of `.env`; default `.env.<name>`. Paths are relative to the config file. */
  envFile?: string | string[];
  /** Default by name: development and test → none, staging → guarded, production → production, others → guarded. */
  protection?: Protection;
  /** Minimum TLS mode this environment accepts. Default `require` for production-level environments. */
  ssl?: SslMode;
  /** Shadow database for `migrate dev` (issue 3); optional. */
  shadowDatabaseUrl?: ConfigValue;
  /**
   * How long, in milliseconds, one statement of `deploy` may wait for a lock (PostgreSQL's
   * `lock_timeout`) before it is cancelled and retried. It bounds the wait, never the work: a slow
   * `ALTER TABLE` that has its lock runs as long as it needs. While an `ALTER` waits, every other
   * query on that table queues behind it, so this is also the longest the application can stall
   * behind a blocked migration. Default 5000 in every environment; `0` waits forever (PostgreSQL's
   * own default).
   */
  lockTimeout?: number;
  /**
   * PostgreSQL's `statement_timeout` for `deploy`, in milliseconds: a statement running longer is
   * cancelled, and the migration fails (not retried). `0` means no limit. Default: not set, so the
   * server's or role's own setting applies (PostgreSQL's default is no limit).
   */
  statementTimeout?: number;
  /**
   * How many times `deploy` retries a migration that failed only because a lock wait hit
   * `lockTimeout` (for a migration outside a transaction: the statement that failed), after
   * 1 s, 2 s, 4 s, … (±25 % jitter). Default 3; at most 10. `0` fails at the first lock timeout.
   */
  lockRetries?: number;
}

export interface StagedbConfig {
  /** Path to schema.prisma (or a folder of .prisma files). Default: from prisma.config.ts, else prisma/schema.prisma. */
  schema?: string;
  /** Path to the migrations folder. Default: `migrations` beside the schema. */
  migrations?: string;
  /** Seed command, run through the shell from the project root (e.g. `node prisma/seed.mjs`). */
  seed?: string;
  environments: Record<string, EnvironmentConfig>;
}

/** Identity function that gives a config file type checking and editor completion. */
export function defineConfig(config: StagedbConfig): StagedbConfig {
  return config;
}

/** Read a value from an environment variable when the environment is used. */
export function env(name: string, defaultValue?: string): EnvRef {
  return defaultValue === undefined ? { $env: name } : { $env: name, default: defaultValue };
}
