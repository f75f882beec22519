import { relative } from 'node:path';
import { initProject } from '../project/init.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb init [--force]

Writes stagedb.config.ts (development, staging, production) and adds the guide's scripts to
package.json: db:push, db:migrate, db:seed, db:studio, db:status, db:migrate:reset, db:migrate:deploy,
db:push:staging, db:migrate:staging, db:seed:staging, db:studio:staging, db:status:staging,
db:deploy:staging, db:backup:staging, db:studio:production, db:deploy:production, db:backup:production.
Adds .env*, !.env.example and .stagedb/ to .gitignore when they are not there (env files hold passwords).

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
    if (r.gitignoreAdded.length) lines.push(`added to .gitignore: ${r.gitignoreAdded.join(' ')}`);
    lines.push(
      'next:',
      '  stagedb dev up --write-env   a local PostgreSQL for development; writes DATABASE_URL to .env',
      '  stagedb migrate dev          creates and applies a migration from schema.prisma',
      '  .env.staging, .env.production: DATABASE_URL, and DIRECT_URL when DATABASE_URL is not a direct postgresql:// URL',
      '  stagedb status --env all     every environment at a glance',
    );
    return { exitCode: 0, data: r, text: lines.join('\n') };
  },
};

export default command;
