import { usageError } from '../errors.js';
import { readLocalHistory } from '../history/local.js';
import { resolveMigration } from '../history/resolve.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb migrate resolve (--applied <name> | --rolled-back <name>) [--env <name>]

  --applied <name>      record the migration as applied without running it: baselining an existing
                        database, or after finishing a failed migration by hand
  --rolled-back <name>  mark a failed migration as rolled back, so the next deploy runs it again
                        (undo its partial changes first)
      --url <url>       direct URL to use instead of the environment's
${CONFIRM_HELP}
${ENV_HELP}`,
  options: { applied: { type: 'string' }, 'rolled-back': { type: 'string' }, url: { type: 'string' }, ...CONFIRM_OPTIONS },
  async run(ctx, args) {
    const applied = args.values.applied as string | undefined;
    const rolledBack = args.values['rolled-back'] as string | undefined;
    if ((applied === undefined) === (rolledBack === undefined)) {
      throw usageError('E_USAGE', 'migrate resolve needs exactly one of --applied <name> or --rolled-back <name>', 'stagedb migrate resolve --rolled-back <migration_name> --env <env>');
    }
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!, args.values.url as string | undefined);
    readLocalHistory(config.migrationsDir, ctx.cwd); // folder problems first, before anything connects
    const name = (applied ?? rolledBack)!;
    const as = applied !== undefined ? 'applied' : 'rolled-back';
    const result = await runGuarded(ctx, {
      action: 'resolve',
      command: `migrate resolve --${as} ${name} --env ${env.name}`,
      env,
      config,
      args,
      what: `mark ${name} as ${as}`,
      run: async () => {
        const r = await resolveMigration({ env, migrationsDir: config.migrationsDir, name, as });
        return { value: r, summary: `marked ${name} ${as}` };
      },
    });
    const text =
      result.as === 'applied'
        ? `${env.name}: migration ${result.name} recorded as applied${result.rolledBackAttempts ? ` (${result.rolledBackAttempts} failed attempt${result.rolledBackAttempts === 1 ? '' : 's'} marked rolled back)` : ''}.`
        : `${env.name}: migration ${result.name} marked as rolled back; the next deploy applies it again.`;
    return { exitCode: 0, data: result, text };
  },
};

export default command;
