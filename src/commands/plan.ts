import { EXIT } from '../exit-codes.js';
import { StagedbError, usageError } from '../errors.js';
import type { PlanEntry } from '../plan/index.js';
import { redact } from '../redact.js';
import { readLocalHistoryOnce } from '../history/local.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command, CommandContext, ParsedArgs } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';

const FORMATS = ['text', 'markdown', 'json'] as const;
const NOT_CONFIGURED = new Set(['E_ENV_VAR_MISSING', 'E_ENV_FILE_MISSING']);

/** The plans for the command's environments, rendered; shared with `deploy --dry-run`. */
export async function runPlan(ctx: CommandContext, args: ParsedArgs, opts: { allowAll: boolean }) {
  const format = (args.values.format as string | undefined) ?? (ctx.json ? 'json' : 'text');
  if (!FORMATS.includes(format as (typeof FORMATS)[number])) throw usageError('E_USAGE', `--format must be text, markdown or json, not "${format}"`, 'stagedb plan --env all --format markdown');
  await baselineWasmOnly();
  const { config, names } = await loadTargets(ctx, args, { allowAll: opts.allowAll });
  const { planEnvironment } = await import('../plan/index.js');
  const { renderPlan } = await import('../plan/render.js');
  // The folder is read (and every file hashed) once for all the environments; a problem with it is each one's error.
  const readFolder = readLocalHistoryOnce(config.migrationsDir, ctx.cwd);
  // One environment that cannot be planned (unreachable, not configured) does not hide the others' plans
  // under --env a,b or all: it shows as such, and the command exits 3 (not configured under --env all: 0, as status).
  const plans = await Promise.all(
    names.map(async (name): Promise<PlanEntry> => {
      try {
        const env = resolveOne(ctx, config, name, args.values.url as string | undefined);
        return await planEnvironment({ env, migrationsDir: config.migrationsDir, schemaPath: config.schemaPath, root: config.root, cwd: ctx.cwd, lint: config.lint, local: readFolder() });
      } catch (e) {
        if (!(e instanceof StagedbError) || names.length === 1) throw e;
        return { env: name, error: { code: e.code, message: redact(e.message), fix: e.fix }, notConfigured: NOT_CONFIGURED.has(e.code) };
      }
    }),
  );
  const text = format === 'json' ? JSON.stringify({ environments: plans }, null, 2) : renderPlan(plans, format as 'text' | 'markdown');
  const exitCode = plans.some((p) => 'error' in p && !p.notConfigured) ? EXIT.config : EXIT.ok;
  return { plans, text: redact(text), format, exitCode };
}

const command: Command = {
  usage: `Usage: stagedb plan [--env <name>|all] [--format text|markdown|json]

What \`deploy\` would do to each environment, changing nothing: the pending migrations in order, how
each runs (one transaction, its own, or statement by statement), the lock each flagged statement takes
and on which table with that table's size there, the lint findings, whether a backup is taken first,
and drift as the deploy's drift gate sees it. Exits 0; a plan deploy would refuse says so.

      --format <f>   text (default), markdown (a pull-request comment) or json (as --json)
      --url <url>    direct URL to use instead of the environment's (one-off)
${ENV_HELP}`,
  options: { format: { type: 'string' }, url: { type: 'string' } },
  async run(ctx, args) {
    const { plans, text, exitCode } = await runPlan(ctx, args, { allowAll: true });
    return { exitCode, data: { environments: plans }, text };
  },
};

export default command;
