import { backupActor } from '../backup/manifest.js';
import { usageError } from '../errors.js';
import { formatDuration } from '../format.js';
import { shellQuote } from '../shell-quote.js';
import { loadTargets, resolveOne } from './shared.js';
import type { CommandContext, CommandOutput, ParsedArgs } from './types.js';

/**
 * `backup --snapshot`: an RDS snapshot. It goes through the protection matrix (backup: free
 * everywhere) and into the audit trail like every guarded command, but not through the database
 * marker: AWS, not the database URL, says which instance is snapshotted, and a machine that may call
 * the RDS API need not reach the database. The audit record is still written to the database when it
 * can be (else a warning), and to .stagedb/audit.jsonl for development-level environments.
 */
export async function snapshot(ctx: CommandContext, args: ParsedArgs): Promise<CommandOutput> {
  for (const flag of ['format', 'jobs', 'checksums', 'no-checksums'] as const) {
    if (args.values[flag] !== undefined) throw usageError('E_USAGE', `--${flag} is for pg_dump backups, not --snapshot`, 'stagedb backup --snapshot --env production');
  }
  const minutes = args.values.timeout === undefined ? 60 : Number(args.values.timeout);
  if (!(minutes > 0 && minutes <= 24 * 60)) throw usageError('E_USAGE', `--timeout must be a number of minutes from 1 to 1440, not "${args.values.timeout}"`, 'stagedb backup --snapshot --timeout 90');
  const { config, names } = await loadTargets(ctx, args);
  const env = resolveOne(ctx, config, names[0]!);
  const { createRdsSnapshot } = await import('../backup/rds.js');
  const { enforce } = await import('../guard/protection.js');
  const audit = await import('../guard/audit.js');
  const started = Date.now();
  const record = async (outcome: import('../guard/audit.js').Outcome, summary: string) => {
    const warning = await audit.recordRun({ env, root: config.root, processEnv: ctx.env, command: `backup --snapshot --env ${env.name}`, started, outcome, summary });
    if (warning) ctx.warn(warning);
  };
  try {
    await enforce({ action: 'backup', env, confirmFlag: args.values.confirm as string | undefined, interactive: ctx.interactive, typeToConfirm: ctx.typeToConfirm });
    let last = '';
    const pollMs = ctx.env.STAGEDB_RDS_POLL_MS ? Number(ctx.env.STAGEDB_RDS_POLL_MS) : undefined;
    const s = await createRdsSnapshot({
      env,
      createdBy: backupActor(config.root, ctx.env),
      processEnv: ctx.env,
      timeoutMs: minutes * 60_000,
      pollMs,
      onProgress: (p, elapsedMs) => {
        const line = `${p.status}${p.percent === undefined ? '' : ` ${p.percent} %`}`;
        if (line === last) return;
        if (last === '') ctx.log(`${env.name}: RDS snapshot ${p.identifier} of ${p.instance} (${p.region}) started`);
        last = line;
        ctx.log(`${env.name}: ${p.identifier}: ${line}, ${formatDuration(elapsedMs)} so far`);
      },
    });
    await record('ok', `RDS snapshot ${s.identifier} of ${s.instance}${s.arn ? ` (${s.arn})` : ''}`);
    const text = [
      `${env.name}: RDS snapshot ${s.identifier} of ${s.instance} is available${s.allocatedStorage ? ` (${s.allocatedStorage} GB allocated)` : ''}`,
      ...(s.arn ? [`  ${s.arn}`] : []),
      `  restore it as a new instance: aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${shellQuote(s.identifier)} --db-instance-identifier <new-instance> --region ${shellQuote(s.region)}`,
    ].join('\n');
    return { exitCode: 0, data: { env: env.name, snapshot: s }, text };
  } catch (e) {
    await record(audit.outcomeOf(e), e instanceof Error ? e.message : String(e)).catch(() => {});
    throw e;
  }
}
