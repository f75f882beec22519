import { probeTools } from '../backup/tools.js';
import { backupActor } from '../backup/manifest.js';
import { formatBytes, formatDuration } from '../format.js';
import { usageError } from '../errors.js';
import { jobsFlag, progressPrinter } from './backup-common.js';
import { shown } from '../render/path.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';
import { shellQuote } from '../shell-quote.js';

const command: Command = {
  usage: `Usage: stagedb backup [--env <name>] [--format auto|custom|directory] [--jobs <n>] [--checksums | --no-checksums]
       stagedb backup --snapshot [--env <name>] [--timeout <minutes>]

  stagedb backup list [--env <name>]              the backups, newest first (age, size, migrations, verified)
  stagedb backup verify [<backup>] [--deep]       check sha256 and pg_restore --list; --deep restores and compares
  stagedb backup prune [--env <name>] [--dry-run] delete what the retention policy no longer keeps
  stagedb restore <backup> --to <env>             restore one (stagedb restore --help)

The guide's db:backup:<env>: a logical backup with PostgreSQL's own pg_dump (one that can dump the
server's version), stored in the environment's backup storage (default .stagedb/backups/<env>/, or S3
as configured) with a manifest: server and pg_dump versions, size, sha256, the applied migrations,
who made it. It becomes visible only when complete: an interrupted backup is never listed.

      --format <f>     auto (default): directory format with parallel jobs for a large database on
                       local storage, otherwise custom format (one file); both restore with a stock pg_restore
      --jobs <n>       parallel pg_dump jobs for the directory format (default: CPUs, at most 4)
      --checksums      also record every table's content checksum, for backup verify --deep
                       (exact row counts are always recorded; default: the config's backup.checksums)
      --no-checksums   do not, whatever the config says
      --snapshot       instead, an RDS snapshot of the instance named in the config (backup.rds:
                       { instance, region }), through the optional @aws-sdk/client-rds; waits until
                       it is available (stagedb backup list --snapshots lists them)
      --timeout <min>  with --snapshot: stop waiting after this many minutes (default 60)
${ENV_HELP}`,
  options: {
    format: { type: 'string' },
    jobs: { type: 'string' },
    checksums: { type: 'boolean' },
    'no-checksums': { type: 'boolean' },
    snapshot: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run(ctx, args) {
    if (args.values.snapshot) return (await import('./backup-snapshot.js')).snapshot(ctx, args);
    if (args.values.timeout !== undefined) throw usageError('E_USAGE', '--timeout goes with --snapshot', 'stagedb backup --snapshot --timeout 90');
    const format = (args.values.format as string | undefined) ?? 'auto';
    if (format !== 'auto' && format !== 'custom' && format !== 'directory') {
      throw usageError('E_USAGE', `--format must be auto, custom or directory, not "${format}"`, 'stagedb backup --format custom');
    }
    if (args.values.checksums && args.values['no-checksums']) throw usageError('E_USAGE', '--checksums and --no-checksums contradict each other', 'pick one');
    const checksums = args.values.checksums ? true : args.values['no-checksums'] ? false : undefined;
    const jobs = jobsFlag(args);
    // pg_dump is asked its version now, in another process, while the library and the config load.
    probeTools('pg_dump', { env: ctx.env });
    const { createBackup } = await import('../backup/create.js');
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    const r = await runGuarded(ctx, {
      action: 'backup',
      command: `backup --env ${env.name}`,
      env,
      config,
      args,
      run: async (client) => {
        const value = await createBackup({
          env,
          client,
          format,
          jobs,
          checksums,
          createdBy: backupActor(config.root, ctx.env),
          processEnv: ctx.env,
          onEvent: (e) => {
            if (e.type === 'warning') ctx.warn(e.message);
            if (e.type === 'plan') {
              ctx.log(
                `${e.env}: pg_dump ${e.pgDump.version} of PostgreSQL ${e.serverVersion} (${formatBytes(e.databaseBytes)}): ${e.format} format${e.jobs > 1 ? `, ${e.jobs} jobs` : ''}${e.checksums ? ', with content checksums' : ''} → ${shown(ctx.cwd, e.location)}`,
              );
            }
          },
          onProgress: progressPrinter(ctx, env.name),
        });
        return { value, summary: `backup ${value.id}: ${value.manifest.dump.format} format, ${formatBytes(value.manifest.size)}, sha256 ${value.manifest.sha256.slice(0, 12)}…` };
      },
    });
    const m = r.manifest;
    const last = m.migrations.applied[m.migrations.applied.length - 1];
    const text = [
      `${env.name}: backup ${r.id} stored in ${shown(ctx.cwd, r.location)}`,
      `  ${m.dump.format} format, ${formatBytes(m.size)} in ${formatDuration(m.durationMs)}, sha256 ${m.sha256.slice(0, 16)}…`,
      `  ${m.migrations.applied.length} applied migration${m.migrations.applied.length === 1 ? '' : 's'}${last ? ` (last ${last.name})` : ''}; ${m.tables.length} table${m.tables.length === 1 ? '' : 's'}${m.tables.every((t) => t.rows !== undefined) ? `, ${m.tables.reduce((n, t) => n + (t.rows ?? 0), 0)} rows` : ''}${m.checksums ? ', with content checksums' : ''}`,
      `  restore with: stagedb restore ${shellQuote(r.id)} --to <environment>`,
    ].join('\n');
    return { exitCode: 0, data: { env: env.name, id: r.id, location: r.location, storage: r.storage, manifest: m }, text };
  },
};

export default command;
