import { existsSync, readFileSync } from 'node:fs';
import type { ResolvedEnvironment } from '../config/environments.js';
import { schemaFiles } from '../config/prisma-project.js';
import { datasourceSchemas } from '../engine/schema.js';
import { basename, dirname, join, resolve } from 'node:path';
import { findBackup } from '../backup/list.js';
import { MANIFEST_FILE } from '../backup/manifest.js';
import { formatBytes, formatDuration } from '../format.js';
import type { PreparedRestore } from '../backup/restore.js';
import { probeTools } from '../backup/tools.js';
import { openStorage, type BackupStorage } from '../backup/storage.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { StagedbError, usageError } from '../errors.js';
import { selectEnvironments } from '../config/environments.js';
import { age, backupsOf, progressPrinter, shown } from './backup-common.js';
import { loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';
import { shellQuote } from '../shell-quote.js';

const command: Command = {
  usage: `Usage: stagedb restore <backup> --to <env> [--from <env>] [--confirm <env>]

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
${CONFIRM_HELP}
  -c, --config <file>     config file (default: nearest stagedb.config.*)
      --json              machine-readable output on stdout`,
  options: {
    to: { type: 'string' },
    from: { type: 'string' },
    jobs: { type: 'string' },
    'with-privileges': { type: 'boolean' },
    'allow-foreign': { type: 'boolean' },
    ...CONFIRM_OPTIONS,
  },
  positionals: true,
  async run(ctx, args) {
    if (args.values.env !== undefined) {
      throw usageError('E_USAGE', 'restore names its target with --to, not --env (and where the backup comes from with --from)', 'stagedb restore <backup> --to <env>');
    }
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

    // Where the backup is: a directory given by path, or an environment's storage.
    let storage: BackupStorage;
    let id = ref;
    const asPath = resolve(ctx.cwd, ref);
    if (ref.includes('/') && existsSync(join(asPath, MANIFEST_FILE))) {
      const { LocalStorage } = await import('../backup/storage-local.js');
      storage = new LocalStorage(dirname(asPath));
      id = basename(asPath);
    } else {
      const fromFlag = args.values.from as string | undefined;
      const inferred = Object.keys(config.environments)
        .filter((n) => ref.startsWith(`${n}-`))
        .sort((a, b) => b.length - a.length)[0];
      const from = fromFlag !== undefined ? selectEnvironments(config, fromFlag, ctx.env)[0]! : (inferred ?? target.name);
      const source = from === target.name ? target : backupsOf(ctx, config, from);
      storage = await openStorage(source.backup.storage, source.name);
    }
    const stored = await findBackup(storage, id);
    const m = stored.manifest;
    ctx.log(`${target.name}: restoring ${m.id} (${m.environment}, ${formatBytes(m.size)}, taken ${age(m.startedAt)}) from ${shown(ctx, storage.location)}`);
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
      }).catch((e: unknown) => {
        // The protection matrix's own fix says --env; restore names its target with --to.
        if (e instanceof StagedbError && (e.code === 'E_CONFIRM_REQUIRED' || e.code === 'E_CONFIRM_MISMATCH')) {
          const from = args.values.from === undefined ? '' : ` --from ${shellQuote(args.values.from as string)}`;
          throw new StagedbError(e.kind, e.code, e.message, { fix: `stagedb restore ${shellQuote(ref)}${from} --to ${target.name} --confirm ${target.name}`, cause: e });
        }
        throw e;
      });
      const lines = [
        `${target.name}: restored backup ${r.id} of ${r.from} into ${schemaList(r.schemas)} of ${r.database} in ${formatDuration(r.durationMs)} (one transaction)`,
        `  _prisma_migrations matches the backup: ${r.migrations.applied} applied${r.migrations.last ? `, last ${r.migrations.last}` : ''}`,
      ];
      if (r.pending.length > 0) lines.push(`  ${r.pending.length} migration${r.pending.length === 1 ? '' : 's'} in the folder ${r.pending.length === 1 ? 'is' : 'are'} newer than the backup: stagedb deploy --env ${target.name} applies ${r.pending.length === 1 ? 'it' : 'them'}`);
      if (r.keptAuditTrail) lines.push(`  ${target.name} kept its own audit trail (stagedb history --env ${target.name})`);
      return { exitCode: 0, data: r, text: lines.join('\n') };
    } finally {
      await preparing.then((p) => p.cleanup(), () => {});
    }
  },
};

/**
 * The schemas a restore replaces, as Prisma's reset would: the URL's (`?schema=`, default `public`;
 * it holds `_prisma_migrations`) first, then every other one a multiSchema datasource names. Without
 * a readable schema file, only the URL's.
 */
function restoreSchemas(target: ResolvedEnvironment, schemaPath: string): string[] {
  const own = target.directInfo.schema;
  if (!existsSync(schemaPath)) return [own];
  const files = schemaFiles(schemaPath).map((path) => ({ path, content: readFileSync(path, 'utf8') }));
  return [...new Set([own, ...(datasourceSchemas(files) ?? [])])];
}

export default command;
