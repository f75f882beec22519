import { z } from 'zod';
import type { StagedbConfig } from './define.js';
// An environment named like one of the aliases --env accepts could never be selected.
import { ALIASES } from './environments.js';

/**
 * Validates what the user wrote, all at once. Every problem comes back as `path: message`, so a user
 * fixes a broken config in one pass instead of one error per run.
 */
const envRef = z.strictObject({ $env: z.string().min(1, 'must name an environment variable'), default: z.string().optional() });
const value = z.union([z.string().min(1, 'must not be empty'), envRef], {
  error: "must be a string or env('NAME')",
});
const environment = z.strictObject({
  url: value.optional(),
  directUrl: value.optional(),
  envFile: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  protection: z.enum(['none', 'guarded', 'production']).optional(),
  ssl: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
  shadowDatabaseUrl: value.optional(),
});
const NAME = /^[a-z][a-z0-9_-]*$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const configSchema = z.strictObject({
  schema: z.string().min(1).optional(),
  migrations: z.string().min(1).optional(),
  seed: z.string().min(1).optional(),
  environments: z
    .record(z.string(), environment)
    // `when`: names are checked even when some environment's body is invalid, so one run reports
    // every problem. The value may then be the raw input, hence the object guards.
    .superRefine((envs, ctx) => {
      const names = Object.keys(envs);
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'define at least one environment' });
      for (const name of names) {
        if (!NAME.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'environment names are lower-case letters, digits, - and _' });
        }
        if (name === 'all') ctx.addIssue({ code: 'custom', path: [name], message: '"all" is reserved for --env all' });
        const target = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
        if (target) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is an alias; name it ${target}` });
        const e: unknown = envs[name];
        if (isObject(e) && e.url === undefined && e.directUrl === undefined) {
          ctx.addIssue({ code: 'custom', path: [name], message: "needs url or directUrl (e.g. url: env('DATABASE_URL'))" });
        }
      }
    }, { when: (payload) => isObject(payload.value) }),
});

export interface ValidationResult {
  config?: StagedbConfig;
  errors: string[];
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '(config)' : path.map(String).join('.');
}

export function validateConfig(input: unknown): ValidationResult {
  // reportInput: without it zod leaves `issue.input` unset and every wrong type would read as missing.
  const parsed = configSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return { config: parsed.data as StagedbConfig, errors: [] };
  const errors = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${pathOf([...issue.path, k])}: unknown key`).join('\n');
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return `${pathOf(issue.path)}: is required`;
    }
    return `${pathOf(issue.path)}: ${issue.message}`;
  });
  return { errors: errors.flatMap((e) => e.split('\n')) };
}
