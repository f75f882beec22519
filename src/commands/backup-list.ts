import { listBackups } from '../backup/list.js';
import { formatBytes } from '../format.js';
import { columns } from '../render/table.js';
import { StagedbError } from '../errors.js';
import { age } from './backup-common.js';
import { shown } from '../render/path.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb backup list [--env <name>] [--snapshots]

The complete backups in the environment's backup storage, newest first: age, size, format, the
migrations they hold, the last verification. Leftovers of interrupted runs are counted, never listed
as restorable (stagedb backup prune removes them). With backup.rds in the config, also the window of
RDS automated backups (stagedb restore --point-in-time restores to any time in it).

      --snapshots      instead, the RDS snapshots stagedb made of the instance in backup.rds
                       (stagedb backup --snapshot), as RDS lists them
${ENV_HELP}`,
  options: { snapshots: { type: 'boolean' } },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    if (args.values.snapshots) {
      const { listRdsSnapshots } = await import('../backup/rds.js');
      const snaps = await listRdsSnapshots({ env, processEnv: ctx.env });
      const rds = env.backup.rds!;
      const text =
        snaps.length === 0
          ? `${env.name}: no stagedb snapshots of RDS instance ${rds.instance} (${rds.region}) (take one: stagedb backup --snapshot --env ${env.name})`
          : [
              `${env.name}: ${snaps.length} stagedb snapshot${snaps.length === 1 ? '' : 's'} of RDS instance ${rds.instance} (${rds.region})`,
              columns(
                ['ID', 'AGE', 'STATUS', 'SIZE'],
                snaps.map((x) => [x.identifier, x.createdAt ? age(x.createdAt) : '-', `${x.status}${x.status !== 'available' && x.percent !== undefined ? ` ${x.percent} %` : ''}`, x.allocatedStorage ? `${x.allocatedStorage} GB` : '-']),
              ),
            ].join('\n');
      return { exitCode: 0, data: { env: env.name, instance: rds.instance, region: rds.region, snapshots: snaps }, text };
    }
    // The RDS automated backups' window is read beside the storage; not reachable, it is a warning.
    const windowRead = env.backup.rds ? import('../backup/rds-pitr.js').then((m) => m.rdsRestoreWindow({ env, processEnv: ctx.env })) : undefined;
    windowRead?.catch(() => {});
    const r = await listBackups(env);
    const rdsWindow = await windowRead?.catch((e: unknown) => {
      ctx.warn(`${env.name}: cannot read the RDS automated backups: ${e instanceof Error ? e.message : String(e)}${e instanceof StagedbError && e.fix ? ` (fix: ${e.fix})` : ''}`);
      return undefined;
    });
    const lines: string[] = [];
    if (r.backups.length === 0) lines.push(`${env.name}: no backups in ${shown(ctx.cwd, r.location)} (take one: stagedb backup --env ${env.name})`);
    else {
      lines.push(`${env.name}: ${r.backups.length} backup${r.backups.length === 1 ? '' : 's'} in ${shown(ctx.cwd, r.location)}`);
      lines.push(
        columns(
          ['ID', 'AGE', 'SIZE', 'FORMAT', 'MIGRATIONS', 'VERIFIED', 'REASON'],
          r.backups.map((b) => {
            const m = b.manifest;
            const last = m.migrations.applied[m.migrations.applied.length - 1];
            const v = b.verification;
            return [
              b.id,
              age(m.startedAt),
              formatBytes(m.size),
              m.dump.format,
              `${m.migrations.applied.length}${last ? ` (${last.name})` : ''}`,
              v ? `${v.ok ? (v.deep ? 'deep ok' : 'ok') : 'FAILED'} ${age(v.at)}` : '-',
              m.reason === 'before-deploy' ? 'before deploy' : `by ${m.createdBy.gitAuthor ?? m.createdBy.osUser}`,
            ];
          }),
        ),
      );
    }
    if (r.incomplete.length > 0) {
      lines.push(`${r.incomplete.length} incomplete backup${r.incomplete.length === 1 ? '' : 's'} (interrupted or failed, not restorable${r.incomplete.some((i) => i.active) ? '; some still being written' : ''}): stagedb backup prune --env ${env.name} removes ${r.incomplete.length === 1 ? 'it' : 'them'}`);
    }
    for (const d of r.damaged) lines.push(`damaged: ${d.id}: ${d.problem}`);
    if (rdsWindow) {
      lines.push(
        rdsWindow.latest
          ? `RDS automated backups of ${rdsWindow.instance} (${rdsWindow.region}, ${rdsWindow.retentionDays} days): restorable from ${rdsWindow.earliest ?? '?'} to ${rdsWindow.latest} (stagedb restore --point-in-time <time> --from ${env.name} --to <env>)`
          : `RDS automated backups of ${rdsWindow.instance} (${rdsWindow.region}): off (backup retention 0): no point-in-time restore`,
      );
    }
    const data = {
      env: env.name,
      location: r.location,
      storage: r.storage,
      backups: r.backups.map((b) => ({
        id: b.id,
        startedAt: b.manifest.startedAt,
        size: b.manifest.size,
        format: b.manifest.dump.format,
        sha256: b.manifest.sha256,
        migrations: b.manifest.migrations.applied.map((m) => m.name),
        reason: b.manifest.reason,
        createdBy: b.manifest.createdBy,
        verification: b.verification,
      })),
      incomplete: r.incomplete,
      damaged: r.damaged,
      ...(rdsWindow ? { rdsAutomatedBackups: rdsWindow } : {}),
    };
    return { exitCode: 0, data, text: lines.join('\n') };
  },
};

export default command;
