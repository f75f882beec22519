// zod's v3 API (a permanent subpath of the zod package): the v4 API costs ~50 ms of start-up on every
// command that reads a config file, v3 about 15 ms, and this schema needs nothing v4 adds.
import { z } from 'zod/v3';
import type { StagedbConfig } from './define.js';
// An environment named like one of the aliases --env accepts could never be selected.
import { ALIASES } from './aliases.js';
// Rule codes and names only (no rule, no parser): lint.rules keys are checked like every other key.
import { ruleCode } from '../rule-codes.js';

/**
 * Validates what the user wrote, all at once. Every problem comes back as `path: message`, so a user
 * fixes a broken config in one pass instead of one error per run.
 */
const nonEmpty = (message: string) => z.string().min(1, message);
const envRef = z.object({ $env: nonEmpty('must name an environment variable'), default: z.string().optional() }).strict();
const value = z.union([nonEmpty('must not be empty'), envRef]);
const secretRef = z.object({ $secret: nonEmpty('must name a secret (its name or ARN)'), key: nonEmpty('must not be empty').optional(), url: nonEmpty('must not be empty').optional() }).strict();
// URL settings may also come from AWS Secrets Manager.
const urlValue = z.union([nonEmpty('must not be empty'), envRef, secretRef]);
// PostgreSQL's timeouts are int4 milliseconds.
const millis = z.number().int('must be a whole number of milliseconds').min(0, 'must be 0 or more').max(2_147_483_647, 'must be at most 2147483647 (about 24 days)');
// Backups: a local directory or S3, never both (checked below, so a problem inside either is reported as is).
const s3 = z
  .object({
    bucket: value,
    prefix: value.optional(),
    region: value.optional(),
    endpoint: value.optional(),
    forcePathStyle: z.boolean().optional(),
    sse: z.enum(['AES256', 'aws:kms']).optional(),
    kmsKeyId: value.optional(),
  })
  .strict();
const backup = z
  .object({
    storage: z
      .object({ dir: nonEmpty('must not be empty').optional(), s3: s3.optional() })
      .strict()
      .superRefine((v, ctx) => {
        if ((v.dir === undefined) === (v.s3 === undefined)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: "give either dir: '<directory>' or s3: { bucket: … }" });
      })
      .optional(),
    retention: z
      .object({
        keepLast: z.number().int('must be a whole number').min(1, 'must be at least 1 (the newest backup is always kept)').optional(),
        dailyDays: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
      })
      .strict()
      .optional(),
    checksums: z.boolean().optional(),
    rds: z.object({ instance: value, region: value.optional(), endpoint: value.optional() }).strict().optional(),
    beforeDeployDumpLimit: z.number().int('must be a whole number of bytes').min(0, 'must be 0 or more').optional(),
  })
  .strict();
const environment = z
  .object({
    url: urlValue.optional(),
    directUrl: urlValue.optional(),
    envFile: z.union([nonEmpty('must not be empty'), z.array(nonEmpty('must not be empty'))]).optional(),
    protection: z.enum(['none', 'guarded', 'production']).optional(),
    ssl: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
    shadowDatabaseUrl: urlValue.optional(),
    ddlLockTimeout: millis.optional(),
    statementTimeout: millis.optional(),
    lockRetries: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(10, 'must be at most 10').optional(),
    iamAuth: z.union([z.boolean(), z.object({ region: value.optional(), role: value.optional(), caBundle: nonEmpty('must not be empty').optional() }).strict()]).optional(),
    backup: backup.optional(),
    backupBeforeDeploy: z.union([z.boolean(), z.enum(['pg_dump', 'snapshot', 'pitr'])]).optional(),
    allowSeed: z.boolean().optional(),
    studio: z.enum(['read-only', 'read-write']).optional(),
    studioUrl: urlValue.optional(),
    notify: z.object({ url: value, format: z.enum(['slack', 'json']).optional() }).strict().optional(),
    replicas: z.array(urlValue).optional(),
    pool: z
      .object({
        max: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
        instances: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if ((e.backupBeforeDeploy === 'snapshot' || e.backupBeforeDeploy === 'pitr') && !e.backup?.rds) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backupBeforeDeploy'], message: `'${e.backupBeforeDeploy}' needs the RDS instance: backup: { rds: { instance: '<db-instance-id>', region: '<region>' } }` });
    }
  });
const bytes = z.number().int('must be a whole number of bytes').min(0, 'must be 0 or more');
const lint = z
  .object({
    rules: z
      .record(
        z.string().refine((key) => ruleCode(key) !== undefined, 'unknown rule (stagedb lint --rules lists the codes and names)'),
        z.enum(['error', 'warning', 'info', 'off']),
      )
      .optional(),
    runner: z.enum(['stagedb', 'prisma']).optional(),
    smallTableBytes: bytes.optional(),
    largeTableBytes: bytes.optional(),
  })
  .strict();
const configSchema = z
  .object({
    schema: nonEmpty('must not be empty').optional(),
    migrations: nonEmpty('must not be empty').optional(),
    seed: nonEmpty('must not be empty').optional(),
    environments: z.record(z.string(), environment),
    lint: lint.optional(),
    zeroDowntime: z.boolean().optional(),
  })
  .strict();

const NAME = /^[a-z][a-z0-9_-]*$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks zod cannot express per key; run on the raw input so they are reported even when bodies are invalid. */
function nameProblems(input: unknown): string[] {
  if (!isObject(input) || !isObject(input.environments)) return [];
  const envs = input.environments;
  const names = Object.keys(envs);
  if (names.length === 0) return ['environments: define at least one environment'];
  const out: string[] = [];
  for (const name of names) {
    const at = `environments.${name}`;
    if (!NAME.test(name)) out.push(`${at}: environment names are lower-case letters, digits, - and _`);
    if (name === 'all') out.push(`${at}: "all" is reserved for --env all`);
    const target = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
    if (target) out.push(`${at}: "${name}" is an alias; name it ${target}`);
    const e = envs[name];
    if (isObject(e) && e.url === undefined && e.directUrl === undefined) out.push(`${at}: needs url or directUrl (e.g. url: env('DATABASE_URL'))`);
  }
  return out;
}

export interface ValidationResult {
  config?: StagedbConfig;
  errors: string[];
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '(config)' : path.map(String).join('.');
}

const VALUE_KEYS = new Set(['url', 'directUrl', 'shadowDatabaseUrl', 'studioUrl', 'bucket', 'prefix', 'region', 'endpoint', 'kmsKeyId', 'instance']);

function describe(issue: z.ZodIssue): string[] {
  const at = pathOf(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${pathOf([...issue.path, k])}: unknown key`);
    case 'invalid_type':
      if (issue.received === 'undefined') return [`${at}: is required`];
      // A fraction where a whole number belongs (ddlLockTimeout: 1.5): the schema's own message says which.
      if (issue.expected === 'integer') return [`${at}: ${issue.message}`];
      if (issue.path.length === 0) return [`${at}: must be an object (export default defineConfig({ environments: { … } }))`];
      return [`${at}: expected ${issue.expected}, got ${issue.received}`];
    case 'invalid_enum_value':
      return [`${at}: must be one of ${issue.options.map((o) => `"${String(o)}"`).join(', ')}`];
    case 'invalid_union': {
      // A required value that is simply absent (e.g. backup.storage.s3.bucket).
      if (issue.unionErrors.every((e) => e.issues.some((i) => i.code === 'invalid_type' && i.received === 'undefined'))) return [`${at}: is required`];
      if (issue.path[issue.path.length - 1] === 'backupBeforeDeploy') return [`${at}: must be true, false, 'pg_dump', 'snapshot' or 'pitr'`];
      // A union member that got the right shape but a bad detail says more than "no member matched".
      const inner = issue.unionErrors.flatMap((e) => e.issues).filter((i) => i.code === 'too_small' || i.code === 'invalid_enum_value');
      if (inner.length > 0) return inner.flatMap(describe);
      const key = issue.path[issue.path.length - 1];
      if (key === 'envFile') return [`${at}: must be a file name or a list of file names`];
      if (typeof key === 'string' && VALUE_KEYS.has(key)) return [`${at}: must be a string or env('NAME')`];
      return [`${at}: ${issue.message}`];
    }
    default:
      return [`${at}: ${issue.message}`];
  }
}

export function validateConfig(input: unknown): ValidationResult {
  const parsed = configSchema.safeParse(input);
  const names = nameProblems(input);
  if (parsed.success && names.length === 0) return { config: parsed.data as StagedbConfig, errors: [] };
  const errors = [...(parsed.success ? [] : parsed.error.issues.flatMap(describe)), ...names];
  return { errors: [...new Set(errors)] };
}
