import { resolveSeed } from '../config/load.js';
import { runSeed, seedMissing } from '../project/seed.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb seed [--env <name>]

Runs the seed command from the project root with DATABASE_URL, DIRECT_URL and STAGEDB_ENV set for the
environment: the stagedb config's seed, else prisma.config.ts migrations.seed, else (Prisma 6 projects
only) package.json "prisma.seed". Always runs it, whatever the Prisma version.
Refused on production-level environments; guarded ones (staging) ask to type the environment's name.

${CONFIRM_HELP}
${ENV_HELP}`,
  options: { ...CONFIRM_OPTIONS },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    const seed = await resolveSeed(config);
    if (!seed) throw seedMissing(config);
    const r = await runGuarded(ctx, {
      action: 'seed',
      command: `seed --env ${env.name}`,
      env,
      config,
      args,
      what: `run the seed \`${seed}\``,
      run: async () => {
        ctx.log(`${env.name}: running seed \`${seed}\``);
        const value = await runSeed({ env, command: seed, root: config.root, processEnv: ctx.env, onLine: (l) => ctx.log(`  ${l}`) });
        return { value, summary: `ran seed \`${seed}\`` };
      },
    });
    return { exitCode: 0, data: r, text: `${env.name}: seed finished in ${Math.round(r.ms)} ms` };
  },
};

export default command;
