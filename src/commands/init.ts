import { relative } from 'node:path';
import { initProject } from '../project/init.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb init [--force]

Writes stagedb.config.ts (development, staging, production) and adds the guide's scripts to
package.json: db:push, db:migrate, db:seed, db:studio, db:status, db:migrate:reset, db:migrate:deploy,
db:push:staging, db:migrate:staging, db:seed:staging, db:studio:staging, db:status:staging,
db:deploy:staging, db:backup:staging, db:studio:production, db:deploy:production, db:backup:production.

      --force   overwrite an existing config file and scripts of the same name`,
  options: { force: { type: 'boolean' } },
  async run(ctx, args) {
    const r = await initProject(ctx.cwd, { force: Boolean(args.values.force) });
    const rel = relative(ctx.cwd, r.configFile);
    const lines = [r.wroteConfig ? `wrote ${rel}` : `kept the existing ${rel} (--force overwrites it)`];
    if (r.replacedConfig) lines.push(`removed ${relative(ctx.cwd, r.replacedConfig)} (replaced by ${rel})`);
    if (r.added.length) lines.push(`added ${r.added.length} scripts to package.json: ${r.added.join(', ')}`);
    if (r.replaced.length) lines.push(`replaced scripts: ${r.replaced.join(', ')}`);
    for (const k of r.kept) lines.push(`kept your script ${k.name} ("${k.existing}"); --force replaces it`);
    lines.push('next: put DATABASE_URL in .env, and DATABASE_URL + DIRECT_URL in .env.staging / .env.production; then: stagedb status --env all');
    return { exitCode: 0, data: r, text: lines.join('\n') };
  },
};

export default command;
