import type { ResolvedConfig } from '../config/load.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { DeployResult } from '../deploy/index.js';
import { renderDeployEvent } from '../render/deploy-events.js';
import { progressPrinter } from './backup-common.js';
import { readLocalHistory } from '../history/local.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command, CommandContext, OptionSpec, ParsedArgs } from './types.js';

export const DEPLOY_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  'allow-modified': { type: 'boolean' },
  'allow-missing': { type: 'boolean' },
  'allow-out-of-order': { type: 'boolean' },
  'lock-timeout': { type: 'string' },
  'allow-hazards': { type: 'string' },
  'allow-drift': { type: 'string' },
  'dry-run': { type: 'boolean' },
  ...CONFIRM_OPTIONS,
};

export const DEPLOY_HELP = `      --url <url>            direct URL to use instead of the environment's (one-off)
      --lock-timeout <sec>   wait this long for another stagedb run's deploy lock (default 30)
      --allow-modified       deploy although an applied migration's file changed
      --allow-missing        deploy although the database has migrations the folder lacks
      --allow-out-of-order   apply pending migrations that sort before the newest applied one
      --allow-hazards <why>  deploy although the lint gate (guarded and production environments)
                             finds error-level hazards; the reason goes into the audit trail
      --dry-run              print what the deploy would do (as stagedb plan) and change nothing
      --allow-drift <why>    deploy although the database changed outside its history (drift), or
                             drift could not be checked; guarded and production environments; the
                             reason goes into the audit trail
${CONFIRM_HELP}
${ENV_HELP}`;

/** Runs history deploy for the command's one environment, printing each step as it happens. */
export async function runDeploy(
  ctx: CommandContext,
  args: ParsedArgs,
): Promise<{ result: DeployResult; text: string; config: ResolvedConfig; env: ResolvedEnvironment; dryRun?: boolean }> {
  // Bad flags are reported before the config is read: a usage error, whatever the config's state.
  // --lock-timeout: how long to wait for another run's deploy lock (not PostgreSQL's lock_timeout).
  const lockWait = args.values['lock-timeout'] === undefined ? undefined : Number(args.values['lock-timeout']);
  if (lockWait !== undefined && !(lockWait >= 0)) {
    const { usageError } = await import('../errors.js');
    throw usageError('E_USAGE', `--lock-timeout needs a non-negative number of seconds, not "${args.values['lock-timeout']}"`, `e.g. stagedb ${ctx.commandName} --lock-timeout 60   (0: do not wait for another run's deploy lock)`);
  }
  const { config, names } = await loadTargets(ctx, args);
  if (args.values['dry-run']) {
    // The same plan as `stagedb plan --env <env>`: read-only, no guard, no lock, no audit record.
    const { runPlan } = await import('./plan.js');
    const { plans, text } = await runPlan(ctx, { ...args, values: { ...args.values, format: ctx.json ? 'json' : 'text' } }, { allowAll: false });
    return { result: { dryRun: true, plan: plans[0] } as unknown as DeployResult, text, config, env: resolveOne(ctx, config, names[0]!, args.values.url as string | undefined), dryRun: true };
  }
  const env = resolveOne(ctx, config, names[0]!, args.values.url as string | undefined);
  // An override needs its reason: it goes into the audit trail.
  for (const [flag, example] of [['allow-hazards', 'index built in the maintenance window'], ['allow-drift', 'hotfix index added by hand, migration follows']] as const) {
    if (typeof args.values[flag] === 'string' && args.values[flag].trim() === '') {
      const { usageError } = await import('../errors.js');
      throw usageError('E_USAGE', `--${flag} needs a reason: it goes into the audit trail`, `stagedb ${ctx.commandName} --env ${env.name} --${flag} "${example}"`);
    }
  }
  // A missing or broken migrations folder is reported before anything connects (and read once for the deploy).
  const local = readLocalHistory(config.migrationsDir, ctx.cwd);
  const i = env.directInfo;
  ctx.log(`${env.name}: ${i.host}:${i.port}/${i.database} (schema ${i.schema}, via ${env.directSource}, protection ${env.protection})`);
  if (env.protection !== 'none') {
    // The drift gate and the lint gate compile WebAssembly (the schema engine, PostgreSQL's parser).
    const { baselineWasmOnly } = await import('./wasm-tier.js');
    await baselineWasmOnly();
  }
  const { deploy } = await import('../deploy/index.js');
  const result = await deploy({
    config,
    env,
    commandName: ctx.commandName,
    cwd: ctx.cwd,
    local,
    processEnv: ctx.env,
    confirm: args.values.confirm as string | undefined,
    interactive: ctx.interactive,
    typeToConfirm: ctx.typeToConfirm,
    allowHazards: args.values['allow-hazards'] as string | undefined,
    allowDrift: args.values['allow-drift'] as string | undefined,
    allowModified: Boolean(args.values['allow-modified']),
    allowMissing: Boolean(args.values['allow-missing']),
    allowOutOfOrder: Boolean(args.values['allow-out-of-order']),
    deployLockWaitMs: lockWait === undefined ? undefined : lockWait * 1000,
    onEvent: (e) => renderDeployEvent(ctx, e),
    onBackupProgress: progressPrinter(ctx, `${env.name} backup`),
  });
  const text =
    result.applied.length === 0
      ? `${env.name}: already up to date (${result.alreadyApplied} applied).`
      : `${env.name}: applied ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} (${result.alreadyApplied} already applied before).`;
  return { result, text, config, env };
}

const command: Command = {
  usage: `Usage: stagedb migrate deploy [--env <name>]

Applies pending migrations from the migrations folder, each in its own transaction where PostgreSQL
allows it, recording them in _prisma_migrations exactly as Prisma does. Never creates migrations,
never resets. Refuses a failed, modified, missing or out-of-order history before changing anything.

${DEPLOY_HELP}`,
  options: DEPLOY_OPTIONS,
  async run(ctx, args) {
    const { result, text } = await runDeploy(ctx, args);
    return { exitCode: 0, data: result, text };
  },
};

export default command;
