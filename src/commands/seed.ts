import { StagedbError } from '../errors.js';
import { runSeed } from '../project/seed.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb seed [--env <name>]

Runs the config's seed command (or package.json "prisma.seed", or prisma.config.ts migrations.seed)
from the project root with DATABASE_URL, DIRECT_URL and STAGEDB_ENV set for the environment.
Refused on production-level environments; guarded ones (staging) ask to type the environment's name.

${CONFIRM_HELP}
${ENV_HELP}`,
  options: { ...CONFIRM_OPTIONS },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    if (!config.seed) {
      throw new StagedbError('config', 'E_SEED_MISSING', 'no seed command is configured', {
        fix: `add seed: 'node prisma/seed.mjs' to ${config.configFile ?? 'stagedb.config.ts (stagedb init writes one)'}`,
      });
    }
    const r = await runGuarded(ctx, {
      action: 'seed',
      command: `seed --env ${env.name}`,
      env,
      config,
      args,
      what: `run the seed \`${config.seed}\``,
      run: async () => {
        ctx.log(`${env.name}: running seed \`${config.seed}\``);
        const value = await runSeed({ env, command: config.seed!, root: config.root, processEnv: ctx.env, onLine: (l) => ctx.log(`  ${l}`) });
        return { value, summary: `ran seed \`${config.seed}\`` };
      },
    });
    return { exitCode: 0, data: r, text: `${env.name}: seed finished in ${Math.round(r.ms)} ms` };
  },
};

export default command;
