import { join } from 'node:path';
import { findBackup } from '../backup/list.js';
import { formatBytes } from '../format.js';
import type { PreparedRestore } from '../backup/restore.js';
import { probeTools } from '../backup/tools.js';
import { openBackupSource, restoreSchemas } from '../backup/locate.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { usageError } from '../errors.js';
import { age, progressPrinter } from './backup-common.js';
import { shown } from '../render/path.js';
import { restoredText } from '../render/restore.js';
import { loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';
import { shellQuote } from '../shell-quote.js';

const command: Command = {
  usage: `Usage: stagedb restore <backup> --to <env> [--from <env>] [--confirm <env>]
       stagedb restore --point-in-time <time> --from <env> --to <env> [--instance <name>]

Replaces the schemas the datasource names (the URL's ?schema=, default public, or every one in
schemas = [...]) in <env>'s database with a backup (an id from stagedb backup list, "latest", or the
path of a backup's directory); other schemas are left as they are. The backup is checked first (every
file's sha256, its table of contents, that it belongs to this project); then, in ONE transaction, the
schemas are dropped, the backup is replayed, and the restored _prisma_migrations must match the
backup's manifest: if anything fails, the target is left exactly as it was. What the migrations folder
has beyond the backup is listed (stagedb deploy applies it). The target keeps its own audit trail and
protection marker. Guarded and production-level targets need typed confirmation (or --confirm <env>).
Restoring production into staging:

  stagedb restore latest --from production --to staging --confirm staging

      --to <env>          the environment to restore into (required)
      --from <env>        whose backups to look in (default: the one the backup id names; for
                          "latest", the target's own)
      --with-privileges   restore GRANTs too (default: not, since roles differ between environments;
                          everything restored belongs to the target's user either way)
      --allow-foreign     restore a backup whose history has migrations this project does not know
      --point-in-time <t> instead of a backup: RDS restores --from's instance (backup.rds) as of <t>
                          (2026-12-05T09:30:00Z, or latest; stagedb backup list shows the window)
                          into a NEW instance, waits for it, and says how to point --to at it
      --instance <name>   the new instance's name (default <source>-pitr-<yyyymmdd>-<hhmm>)
${CONFIRM_HELP}
  -c, --config <file>     config file (default: nearest stagedb.config.*)
      --json              machine-readable output on stdout`,
  options: {
    to: { type: 'string' },
    from: { type: 'string' },
    jobs: { type: 'string' },
    'with-privileges': { type: 'boolean' },
    'allow-foreign': { type: 'boolean' },
    'point-in-time': { type: 'string' },
    instance: { type: 'string' },
    ...CONFIRM_OPTIONS,
  },
  positionals: true,
  async run(ctx, args) {
    if (args.values.env !== undefined) {
      throw usageError('E_USAGE', 'restore names its target with --to, not --env (and where the backup comes from with --from)', 'stagedb restore <backup> --to <env>');
    }
    if (args.values['point-in-time'] !== undefined) return (await import('./restore-pitr.js')).restorePointInTime(ctx, args);
    const ref = args.positionals[0];
    if (!ref || args.positionals.length > 1) throw usageError('E_USAGE', 'restore takes one backup: an id from stagedb backup list, "latest", or a backup directory', 'stagedb restore latest --from production --to staging');
    const to = args.values.to as string | undefined;
    if (!to) throw usageError('E_USAGE', 'restore needs the target environment: --to <env>', `stagedb restore ${shellQuote(ref)} --to staging`);
    if (args.values.jobs !== undefined) {
      throw usageError('E_USAGE', 'restore has no --jobs: it runs in one transaction (one session), so that a failed restore leaves the target as it was', `stagedb restore ${shellQuote(ref)} --to ${to}`);
    }
    // pg_restore is asked its version now, in another process, while the library and the config load.
    probeTools('pg_restore', { env: ctx.env });
    const { applyRestore, prepareRestore, schemaList } = await import('../backup/restore.js');
    const { config, names } = await loadTargets(ctx, { ...args, values: { ...args.values, env: to } });
    const target = resolveOne(ctx, config, names[0]!);
    const schemas = restoreSchemas(target, config.schemaPath);

    const { storage, id } = await openBackupSource({ ref, cwd: ctx.cwd, config, target, from: args.values.from as string | undefined, processEnv: ctx.env });
    const stored = await findBackup(storage, id);
    const m = stored.manifest;
    ctx.log(`${target.name}: restoring ${m.id} (${m.environment}, ${formatBytes(m.size)}, taken ${age(m.startedAt)}) from ${shown(ctx.cwd, storage.location)}`);
    // The backup is checked (sha256 of every file, its table of contents) while the guard reads the
    // target's marker and the restore logs in: those only read. The first change to the target,
    // clearing it, waits for the check, so a corrupt or truncated backup is still refused before
    // anything in the target is touched (and the refusal is now in the target's audit trail). In a
    // terminal the check comes first, so nobody is asked to confirm a restore of a corrupt backup.
    const preparing = prepareRestore({
      storage,
      manifest: m,
      migrationsDir: config.migrationsDir,
      allowForeign: Boolean(args.values['allow-foreign']),
      workDir: join(config.root, '.stagedb', 'tmp'),
      processEnv: ctx.env,
      onProgress: progressPrinter(ctx, target.name),
    });
    preparing.catch(() => {});
    const checked = (p: PreparedRestore) => {
      ctx.log(`  checked: ${m.dump.files.length} file${m.dump.files.length === 1 ? '' : 's'}, sha256 as recorded; pg_restore ${p.pgRestore.version} reads it`);
      return p;
    };
    const early = ctx.interactive ? checked(await preparing) : undefined;
    try {
      const i = target.directInfo;
      const r = await runGuarded(ctx, {
        action: 'restore',
        command: `restore ${m.id} --to ${target.name}`,
        env: target,
        config,
        args,
        // The protection matrix's own fix says --env; restore names its target with --to.
        retry: `stagedb restore ${shellQuote(ref)}${args.values.from === undefined ? '' : ` --from ${shellQuote(args.values.from as string)}`} --to ${target.name}`,
        what: `replace ${schemaList(schemas)} in ${i.database} on ${i.host} with backup ${m.id} of ${m.environment} (taken ${age(m.startedAt)})`,
        run: async (client) => {
          const prepared = early ?? checked(await preparing);
          const value = await applyRestore(prepared, target, {
            client,
            schemas,
            withPrivileges: Boolean(args.values['with-privileges']),
            migrationsDir: config.migrationsDir,
            processEnv: ctx.env,
            onEvent: (e) => (e.type === 'warning' ? ctx.warn(e.message) : ctx.log(`  ${e.message}`)),
            onProgress: progressPrinter(ctx, target.name),
          });
          return { value, summary: `restored ${m.id} of ${m.environment}` };
        },
      });
      return { exitCode: 0, data: r, text: restoredText(target.name, r, schemaList(r.schemas)) };
    } finally {
      await preparing.then((p) => p.cleanup(), () => {});
    }
  },
};

export default command;
