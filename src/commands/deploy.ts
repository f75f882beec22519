import { StagedbError } from '../errors.js';
import { generateClient } from '../project/generate.js';
import { runDeploy, DEPLOY_HELP, DEPLOY_OPTIONS } from './migrate-deploy.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb deploy --env <name> [--skip-generate]

The guide's db:deploy:<env>: apply pending migrations (as stagedb migrate deploy), then generate the
Prisma client with the project's Prisma CLI (as stagedb generate; skipped with a warning when the
project has no Prisma CLI).

      --skip-generate        apply migrations only
${DEPLOY_HELP}`,
  options: { ...DEPLOY_OPTIONS, 'skip-generate': { type: 'boolean' } },
  async run(ctx, args) {
    const { result, text, config, env, dryRun } = await runDeploy(ctx, args);
    if (dryRun) return { exitCode: 0, data: result, text };
    if (args.values['skip-generate']) return { exitCode: 0, data: { ...result, generate: { done: false, reason: '--skip-generate' } }, text };
    try {
      // The environment's URLs as DATABASE_URL / DIRECT_URL, as `stagedb generate --env` passes them: a
      // Prisma 7 prisma.config.ts that reads env('DATABASE_URL') fails to load without it (stagedb read
      // .env.<name>; the Prisma CLI reads no env file).
      const g = await generateClient({ root: config.root, schemaPath: config.schemaPath, env, processEnv: ctx.env, onLine: (l) => ctx.log(`  ${l}`) });
      return {
        exitCode: 0,
        data: { ...result, generate: { done: true, prismaVersion: g.prismaVersion } },
        text: `${text}\ngenerated the Prisma client (Prisma ${g.prismaVersion}, ${Math.round(g.ms)} ms).`,
      };
    } catch (e) {
      if (e instanceof StagedbError && e.code === 'E_PRISMA_MISSING') {
        ctx.warn(`${result.env}: client generation skipped: ${e.message} (${e.fix})`);
        return { exitCode: 0, data: { ...result, generate: { done: false, reason: e.message } }, text };
      }
      if (e instanceof StagedbError) {
        throw new StagedbError(e.kind, e.code, `${result.env}: migrations applied (${result.applied.length} new), but ${e.message}`, { details: e.details, fix: e.fix });
      }
      throw e;
    }
  },
};

export default command;
