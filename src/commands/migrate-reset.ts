import { MATRIX, CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { resolveSeed } from '../config/load.js';
import { runSeed, seedsAfterReset } from '../project/seed.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';
import { lossLines } from '../render/loss.js';

const command: Command = {
  usage: `Usage: stagedb migrate reset [--env <name>] [--force] [--skip-seed]

The guide's db:migrate:reset, development only: drops the environment's schema with everything in it,
re-applies every migration, then runs the seed when the project's Prisma does (Prisma 6: yes; Prisma 7:
no, run stagedb seed). In a terminal it lists what will be lost (tables and row
counts) and asks you to type the environment's name; without a terminal it needs --force. Refused on
guarded and production environments, whatever the flags.

Schemas reset: the URL's (?schema=, default public) and every one a multiSchema datasource names in
schemas = [...], no other; each is recreated with its owner, grants and comment.

      --force       reset without asking (unprotected environments only)
      --skip-seed   do not run the seed afterwards
${CONFIRM_HELP}
${ENV_HELP}`,
  options: { force: { type: 'boolean' }, 'skip-seed': { type: 'boolean' }, ...CONFIRM_OPTIONS },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    await baselineWasmOnly();
    const { describeLoss, resetDatabase } = await import('../develop/reset.js');
    const { resetSchemas, schemaList } = await import('../develop/shared.js');
    const schemas = resetSchemas(env, config.schemaPath);
    let what = `drop ${schemaList(schemas)} and re-apply every migration`;
    if (MATRIX.reset[env.protection] !== 'refuse') {
      const losses = await describeLoss(env, { schemaPath: config.schemaPath });
      const tables = losses.reduce((n, l) => n + l.tables.length, 0);
      const rows = losses.reduce((n, l) => n + l.tables.reduce((m, t) => m + t.rows, 0), 0);
      if (ctx.interactive) for (const line of lossLines(env.name, losses)) ctx.log(line);
      what = `drop ${schemaList(schemas)}: ${tables} table${tables === 1 ? '' : 's'} (${rows} row${rows === 1 ? '' : 's'}), and re-apply every migration`;
    }
    const result = await runGuarded(ctx, {
      action: 'reset',
      command: `migrate reset --env ${env.name}`,
      env,
      config,
      args,
      what,
      run: async () => {
        const r = await resetDatabase({
          env,
          migrationsDir: config.migrationsDir,
          schemaPath: config.schemaPath,
          onEvent: (e) => {
            if (e.type === 'reset') ctx.log(`${env.name}: ${schemaList(e.schemas as string[])} dropped and recreated`);
            if (e.type === 'apply-done') ctx.log(`  applied  ${String(e.name)}`);
          },
        });
        return { value: r, summary: `${what}: applied ${r.applied.length}` };
      },
    });
    let seeded = false;
    if (!args.values['skip-seed']) {
      const seed = await resolveSeed(config);
      if (seed && seedsAfterReset(config)) {
        ctx.log(`${env.name}: running seed \`${seed}\``);
        await runSeed({ env, command: seed, root: config.root, processEnv: ctx.env, onLine: (l) => ctx.log(`  ${l}`) });
        seeded = true;
      } else if (seed) {
        ctx.log(`${env.name}: not seeded: Prisma ${config.prisma?.major} does not seed after a reset (${config.prisma?.why}); to seed: stagedb seed --env ${env.name}`);
      }
    }
    return {
      exitCode: 0,
      data: { env: env.name, schemas: result.schemas, applied: result.applied, seeded },
      text: `${env.name}: reset done, ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} applied${seeded ? ', seeded' : ''}.`,
    };
  },
};

export default command;
