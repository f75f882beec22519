import type { ResolvedConfig } from '../config/load.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { deploy, type DeployEvent, type DeployResult } from '../history/deploy.js';
import { readLocalHistory } from '../history/local.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
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
  const lockTimeout = args.values['lock-timeout'] === undefined ? undefined : Number(args.values['lock-timeout']);
  if (lockTimeout !== undefined && !(lockTimeout >= 0)) {
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
  if (typeof args.values['allow-hazards'] === 'string' && args.values['allow-hazards'].trim() === '') {
    const { usageError } = await import('../errors.js');
    throw usageError('E_USAGE', '--allow-hazards needs a reason: it goes into the audit trail', `stagedb ${ctx.commandName} --env ${env.name} --allow-hazards "index built in the maintenance window"`);
  }
  if (typeof args.values['allow-drift'] === 'string' && args.values['allow-drift'].trim() === '') {
    const { usageError } = await import('../errors.js');
    throw usageError('E_USAGE', '--allow-drift needs a reason: it goes into the audit trail', `stagedb ${ctx.commandName} --env ${env.name} --allow-drift "hotfix index added by hand, migration follows"`);
  }
  // A missing or broken migrations folder is reported before anything connects.
  readLocalHistory(config.migrationsDir, ctx.cwd);
  const i = env.directInfo;
  ctx.log(`${env.name}: ${i.host}:${i.port}/${i.database} (schema ${i.schema}, via ${env.directSource}, protection ${env.protection})`);
  const result = await runGuarded(ctx, {
    action: 'deploy',
    command: `${ctx.commandName} --env ${env.name}`,
    env,
    config,
    args,
    what: 'apply pending migrations',
    run: async () => {
      // The drift gate (issue 15): guarded and production only, before the lint gate and the backup, so a
      // database changed outside its history is neither backed up as "before deploy" nor migrated further.
      // Answered from the drift cache when nothing changed since the last check (plan, status --drift).
      let drift: string | undefined;
      if (env.protection !== 'none') {
        const { baselineWasmOnly } = await import('./wasm-tier.js');
        await baselineWasmOnly();
        const { driftGate } = await import('../guard/drift-gate.js');
        const d = await driftGate({ env, schemaPath: config.schemaPath, migrationsDir: config.migrationsDir, root: config.root, command: ctx.commandName, allowDrift: args.values['allow-drift'] as string | undefined });
        if (d.warning) ctx.warn(d.warning);
        drift = d.summary;
      }
      // The zero-downtime lint gate (issue 6): guarded and production only, so deploys to unprotected
      // environments never load the SQL parser. Refuses (E_LINT_BLOCKED) before anything is applied.
      const gate = env.protection === 'none' ? undefined : await (await import('./lint.js')).deployGate(ctx, env, config, args);
      // Backup before deploy (issue 5; production-level by default): refuses to migrate when it fails,
      // and a failed migration names it as the restore point.
      const restorePoint = env.backup.beforeDeploy ? await (await import('./backup-common.js')).preDeployBackup(ctx, env, config) : undefined;
      const r = await deploy({
        env,
        migrationsDir: config.migrationsDir,
        allowModified: Boolean(args.values['allow-modified']),
        allowMissing: Boolean(args.values['allow-missing']),
        allowOutOfOrder: Boolean(args.values['allow-out-of-order']),
        lockTimeoutMs: lockTimeout === undefined ? undefined : lockTimeout * 1000,
        restorePoint,
        onEvent: (e) => {
          const line = eventLine(e);
          if (line) ctx.log(line);
        },
      });
      return {
        value: restorePoint ? { ...r, backup: restorePoint } : r,
        summary: `${restorePoint ? `backup ${restorePoint}; ` : ''}${r.applied.length ? `applied ${r.applied.map((a) => a.name).join(', ')}` : 'nothing to apply'}${drift ? `; ${drift}` : ''}${gate ? `; ${gate}` : ''}`,
      };
    },
  });
  const text =
    result.applied.length === 0
      ? `${env.name}: already up to date (${result.alreadyApplied} applied).`
      : `${env.name}: applied ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} (${result.alreadyApplied} already applied before).`;
  return { result, text, config, env };
}

function eventLine(e: DeployEvent): string | undefined {
  switch (e.type) {
    case 'lock-wait':
      return `${e.env}: waiting for the deploy lock held by ${e.holder ? `pid ${e.holder.pid} (${e.holder.applicationName || 'unnamed'})` : 'another session'}…`;
    case 'created-table':
      return `${e.env}: created _prisma_migrations`;
    case 'connected':
      return `${e.env}: PostgreSQL ${e.serverVersion.split(' ')[0]}, ${e.pending} pending migration${e.pending === 1 ? '' : 's'}`;
    // One line per migration; a file that does not run as one transaction also says how it runs, before it starts.
    case 'apply-start':
      return e.mode === 'transaction' ? undefined : `  applying ${e.name} [${e.reason}]`;
    case 'retry':
      return `  retrying ${e.name}: its attempt started ${e.startedAt.toISOString()} failed with nothing committed`;
    case 'apply-done':
      return `  applied  ${e.name} (${Math.round(e.ms)} ms)`;
    case 'invalid-index-dropped':
      return `  dropped  ${e.index}: an invalid index left by an interrupted build, before ${e.name} builds it again`;
    case 'index-progress': {
      const pct = e.blocksTotal > 0 ? ` ${Math.floor((100 * e.blocksDone) / e.blocksTotal)}% of ${e.blocksTotal} blocks` : e.tuplesTotal > 0 ? ` ${Math.floor((100 * e.tuplesDone) / e.tuplesTotal)}% of ${e.tuplesTotal} rows` : '';
      return `  building ${e.index ?? 'index'} (${e.name}): ${e.phase}${pct}, ${(e.elapsedMs / 1000).toFixed(0)} s`;
    }
    case 'lock-retry': {
      const b = e.blocker;
      const who = b ? `, held by pid ${b.pid} (${b.applicationName || 'unnamed'}, ${b.state ?? 'unknown state'}) on ${b.relation}` : '';
      const what = e.cause === 'deadlock' ? 'a deadlock with another session rolled it back' : `a lock wait hit lock_timeout (${e.lockTimeoutMs} ms)`;
      return `  waiting  ${e.name}: ${what}${who}; retry ${e.attempt} of ${e.of} in ${(e.waitMs / 1000).toFixed(1)} s`;
    }
  }
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
