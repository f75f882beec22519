import { pruneBackups } from '../backup/prune.js';
import { openStorage } from '../backup/storage.js';
import { shown } from '../render/path.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb backup prune [--env <name>] [--dry-run]

Applies the environment's retention policy (backup.retention in the config): keeps the newest
keepLast backups (default 10), the newest of each of the last dailyDays days (UTC, default 7), and
always the newest backup that passed stagedb backup verify; deletes the rest, and the leftovers of
interrupted runs.

      --dry-run   say what would be deleted, delete nothing
${ENV_HELP}`,
  options: { 'dry-run': { type: 'boolean' } },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    const storage = await openStorage(env.backup.storage, env.name);
    const r = await pruneBackups({ storage, retention: env.backup.retention, dryRun: Boolean(args.values['dry-run']) });
    const will = r.dryRun ? 'would delete' : 'deleted';
    const lines = [`${env.name}: ${shown(ctx.cwd, storage.location)}: keeping ${r.keep.length} (keepLast ${env.backup.retention.keepLast}, dailyDays ${env.backup.retention.dailyDays}), ${will} ${r.remove.length}`];
    for (const k of r.keep) lines.push(`  keep   ${k.id}  (${k.keptBecause.join(', ')})`);
    for (const d of r.remove) lines.push(`  ${r.dryRun ? 'delete' : 'gone  '} ${d.id}`);
    if (r.leftovers.length > 0) lines.push(`  ${will} ${r.leftovers.length} leftover${r.leftovers.length === 1 ? '' : 's'} of interrupted backups`);
    return { exitCode: 0, data: { env: env.name, location: storage.location, ...r }, text: lines.join('\n') };
  },
};

export default command;
