import { backupActor } from '../backup/manifest.js';
import { backupsOf } from '../backup/locate.js';
import { formatDuration } from '../format.js';
import { usageError } from '../errors.js';
import { selectEnvironments } from '../config/environments.js';
import { shellQuote } from '../shell-quote.js';
import { loadTargets, resolveOne, runGuarded } from './shared.js';
import type { CommandContext, CommandOutput, ParsedArgs } from './types.js';

/**
 * `stagedb restore --point-in-time <time> --from <env> --to <env>`: RDS point-in-time restore of
 * the source's instance (`backup.rds`) into a new instance, guarded and audited as the target's
 * restore; then how to point the target at it. Reached from restore.ts when the flag is given.
 */
export async function restorePointInTime(ctx: CommandContext, args: ParsedArgs): Promise<CommandOutput> {
  const text = String(args.values['point-in-time']);
  const to = args.values.to as string | undefined;
  const fromFlag = args.values.from as string | undefined;
  const example = `stagedb restore --point-in-time ${shellQuote(text)} --from production --to staging`;
  for (const flag of ['with-privileges', 'allow-foreign', 'jobs']) {
    if (args.values[flag] !== undefined) throw usageError('E_USAGE', `--${flag} is for restoring a backup, not --point-in-time (RDS restores the whole instance)`, example);
  }
  if (args.positionals.length > 0) throw usageError('E_USAGE', 'restore --point-in-time restores an RDS instance, not a backup: give no backup id', example);
  if (!to || !fromFlag) throw usageError('E_USAGE', `restore --point-in-time needs ${!fromFlag ? 'the environment whose RDS instance to restore: --from <env>' : 'the environment to point at the new instance: --to <env>'}`, example);
  const { parsePointInTime, planPointInTimeRestore, runPointInTimeRestore, pointAt } = await import('../backup/rds-pitr.js');
  const time = parsePointInTime(text);
  const { config, names } = await loadTargets(ctx, { ...args, values: { ...args.values, env: to } });
  const target = resolveOne(ctx, config, names[0]!);
  const fromName = selectEnvironments(config, fromFlag, ctx.env)[0]!;
  // The source is reached only through the RDS API: its database URL is not needed on this machine.
  const source = fromName === target.name ? target : backupsOf(config, fromName, ctx.env);
  const plan = await planPointInTimeRestore({ env: source, time, targetInstance: args.values.instance as string | undefined, processEnv: ctx.env });
  const w = plan.window;
  ctx.log(`${source.name}: RDS instance ${plan.source.instance} can be restored to any time from ${w.earliest ?? '?'} to ${w.latest} (${w.retentionDays} days of automated backups)`);
  const when = plan.restoreTime === 'latest' ? 'its latest restorable time' : plan.restoreTime;
  const pollMs = ctx.env.STAGEDB_RDS_POLL_MS ? Number(ctx.env.STAGEDB_RDS_POLL_MS) : undefined;
  const r = await runGuarded(ctx, {
    action: 'restore',
    command: `restore --point-in-time ${text} --from ${source.name} --to ${target.name}`,
    env: target,
    config,
    args,
    what: `restore RDS instance ${plan.source.instance} (${source.name}) as of ${when} into a NEW instance ${plan.targetInstance}, for ${target.name} (${plan.source.instance} itself is not touched)`,
    retry: `stagedb restore --point-in-time ${shellQuote(text)} --from ${source.name} --to ${target.name}`,
    run: async () => {
      let last = '';
      const value = await runPointInTimeRestore(plan, {
        env: source,
        processEnv: ctx.env,
        createdBy: backupActor(config.root, ctx.env),
        pollMs: pollMs !== undefined && Number.isFinite(pollMs) ? pollMs : undefined,
        onProgress: (p) => {
          if (p.status === last && !ctx.interactive) return;
          last = p.status;
          ctx.log(`  ${p.instance}: ${p.status} (${formatDuration(p.elapsedMs)} so far)`);
        },
      });
      return { value, summary: `restored RDS instance ${plan.source.instance} as of ${when} into ${value.instance}` };
    },
  });
  const point = pointAt(target, r.endpoint);
  const lines = [
    `${target.name}: RDS instance ${r.instance} restored from ${plan.source.instance} as of ${when} in ${formatDuration(r.durationMs)}: ${r.endpoint.address}:${r.endpoint.port}`,
    `  point ${target.name} at it: set ${point.setting} to ${point.url}`,
    `  it has ${source.name}'s users and passwords as of that time; then: stagedb status --env ${target.name}`,
    `  it runs (and costs) until deleted: aws rds delete-db-instance --db-instance-identifier ${shellQuote(r.instance)} --skip-final-snapshot --region ${shellQuote(r.region)}`,
  ];
  return { exitCode: 0, data: { ...r, pointAt: point, window: plan.window }, text: lines.join('\n') };
}
