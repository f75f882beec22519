import { join } from 'node:path';
import { findBackup } from '../backup/list.js';
import { openStorage } from '../backup/storage.js';
import { verifyBackup } from '../backup/verify.js';
import { StagedbError, usageError } from '../errors.js';
import { progressPrinter } from './backup-common.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb backup verify [<backup> | latest] [--env <name>] [--deep [--scratch-url <url>]]

Proves a backup can be trusted: re-reads every file and compares its size and sha256 with the
manifest, and has pg_restore read the archive's table of contents. Exit 2 when anything is off.

      --deep               also restore it into a scratch database and compare every table's row
                           count and content checksum with the ones recorded at backup time
      --scratch-url <url>  for --deep: a server where a scratch database may be created and dropped
                           (default: a throwaway local PostgreSQL, from the server binaries on this machine)
${ENV_HELP}`,
  options: { deep: { type: 'boolean' }, 'scratch-url': { type: 'string' } },
  positionals: true,
  async run(ctx, args) {
    if (args.positionals.length > 1) throw usageError('E_USAGE', 'backup verify takes one backup', 'stagedb backup verify latest');
    const scratchUrl = args.values['scratch-url'] as string | undefined;
    if (scratchUrl && !args.values.deep) throw usageError('E_USAGE', '--scratch-url is for --deep', 'stagedb backup verify --deep --scratch-url <url>');
    // Parsed like every other URL: a malformed one is reported without being shown, and its password is masked from here on.
    if (scratchUrl) (await import('../config/url.js')).parseDatabaseUrl(scratchUrl, '--scratch-url');
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    const storage = await openStorage(env.backup.storage, env.name);
    const stored = await findBackup(storage, args.positionals[0] ?? 'latest');
    ctx.log(`${env.name}: verifying ${stored.id}${args.values.deep ? ' (deep)' : ''}`);
    const r = await verifyBackup({
      storage,
      manifest: stored.manifest,
      environment: env.name,
      deep: Boolean(args.values.deep),
      scratchUrl,
      workDir: join(config.root, '.stagedb', 'tmp'),
      processEnv: ctx.env,
      onProgress: progressPrinter(ctx, env.name),
      onStep: (l) => ctx.log(`  ${l}`),
    });
    for (const n of r.notes) ctx.warn(`${env.name}: ${n}`);
    if (!r.ok) {
      throw new StagedbError('backup', 'E_VERIFY_FAILED', `${env.name}: backup ${r.id} failed verification`, {
        details: r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
        fix: `do not restore it; take a new backup (stagedb backup --env ${env.name}) and restore an older one only after verifying it`,
      });
    }
    return { exitCode: 0, data: r, text: `${env.name}: backup ${r.id} verified${r.deep ? ' (deep: restored and compared)' : ''}.` };
  },
};

export default command;
