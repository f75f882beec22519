import { runDeploy, DEPLOY_HELP, DEPLOY_OPTIONS } from './migrate-deploy.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb deploy --env <name>

The guide's db:deploy:<env>: apply pending migrations (as stagedb migrate deploy), then generate the
Prisma client. Client generation without Prisma's native engine arrives with issue 3; until then this
step says so and you run \`npx prisma generate\` yourself.

${DEPLOY_HELP}`,
  options: DEPLOY_OPTIONS,
  async run(ctx, args) {
    const { result, text } = await runDeploy(ctx, args);
    const note = 'client generation: not built into stagedb yet (issue 3) — run `npx prisma generate` after deploy';
    return { exitCode: 0, data: { ...result, generate: { done: false, note } }, text: `${text}\n${note}` };
  },
};

export default command;
