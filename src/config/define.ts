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
