import { generateClient } from '../project/generate.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb generate [--env <name>]

Generates the Prisma client with the project's own Prisma CLI (prisma generate), on machines where
Prisma's native engine cannot be downloaded too: stagedb tells the CLI not to fetch it. The environment's
URLs are passed as DATABASE_URL / DIRECT_URL, for configs that read them.

${ENV_HELP}`,
  options: {},
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    let env;
    try {
      env = resolveOne(ctx, config, names[0]!);
    } catch {
      env = undefined; // generation needs no database: an environment without URLs is fine here
    }
    const r = await generateClient({ root: config.root, schemaPath: config.schemaPath, env, processEnv: ctx.env, onLine: (l) => ctx.log(`  ${l}`) });
    return { exitCode: 0, data: r, text: `generated the Prisma client with Prisma ${r.prismaVersion} (${Math.round(r.ms)} ms)` };
  },
};

export default command;
