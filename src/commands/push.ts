import { StagedbError } from '../errors.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS, MATRIX } from '../guard/protection.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';

const command: Command = {
  usage: `Usage: stagedb push [--env <name>] [--accept-data-loss]

The guide's db:push / db:push:staging: brings the database to schema.prisma directly, without a
migration (Prisma's db push, run by Prisma's own schema engine as WebAssembly: no native download).
Shows the SQL it will run and the data-loss warnings first; data loss needs --accept-data-loss, or a yes
in a terminal. Guarded environments ask to type their name; production refuses (make a migration).

      --accept-data-loss     go on although rows or columns with data would be dropped
${CONFIRM_HELP}
${ENV_HELP}`,
  options: { 'accept-data-loss': { type: 'boolean' }, ...CONFIRM_OPTIONS },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    let acceptDataLoss = Boolean(args.values['accept-data-loss']);
    await baselineWasmOnly();
    const { planPush, push } = await import('../develop/push.js');
    // A refused push is refused (and audited) before the engine even looks at the database.
    const refused = MATRIX.push[env.protection] === 'refuse';
    const plan = refused ? undefined : await planPush({ env, schemaPath: config.schemaPath });
    if (plan?.inSync) {
      return { exitCode: 0, data: { env: env.name, inSync: true, executedSteps: 0, warnings: [] }, text: `${env.name}: the database already matches ${config.schemaPath}` };
    }
    if (plan) {
      ctx.log(`${env.name}: the push will run:`);
      for (const line of plan.script.trim().split('\n')) ctx.log(`  ${line}`);
      for (const w of plan.warnings) ctx.warn(`${env.name}: data loss: ${w}`);
      for (const u of plan.unexecutable) ctx.warn(`${env.name}: cannot run as the data is: ${u}`);
      if (plan.warnings.length > 0 && !acceptDataLoss && plan.unexecutable.length === 0) {
        if (!ctx.interactive) {
          throw new StagedbError('guard', 'E_DATA_LOSS', `${env.name}: the push would lose data (warnings above); nothing was changed`, {
            fix: `stagedb push --env ${env.name} --accept-data-loss`,
          });
        }
        if (!(await ctx.confirm(`${env.name}: accept the data loss above?`))) {
          throw new StagedbError('aborted', 'E_ABORTED', `${env.name}: push not confirmed, nothing was changed`);
        }
        acceptDataLoss = true;
      }
    }
    const result = await runGuarded(ctx, {
      action: 'push',
      command: `push --env ${env.name}${acceptDataLoss ? ' --accept-data-loss' : ''}`,
      env,
      config,
      args,
      what: 'push schema.prisma (no migration)',
      run: async () => {
        const r = await push({ env, schemaPath: config.schemaPath, acceptDataLoss });
        return { value: r, summary: `pushed ${r.executedSteps} step${r.executedSteps === 1 ? '' : 's'}${r.warnings.length ? ` accepting data loss: ${r.warnings.join('; ')}` : ''}` };
      },
    });
    return {
      exitCode: 0,
      data: { env: env.name, ...result, script: plan?.script },
      text: result.inSync ? `${env.name}: the database already matches the schema` : `${env.name}: pushed the schema (${result.executedSteps} step${result.executedSteps === 1 ? '' : 's'}).`,
    };
  },
};

export default command;
