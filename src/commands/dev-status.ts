import { devStatus } from '../local-db/server.js';
import { projectRoot } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: 'Usage: stagedb dev status [--json]\n\nExit code 0 when the project-local PostgreSQL runs, 1 when it does not.',
  options: {},
  async run(ctx, args) {
    const s = await devStatus(projectRoot(ctx, args));
    const text = !s.initialized
      ? `no project-local PostgreSQL yet (start one: stagedb dev up)`
      : s.running
        ? `running: PostgreSQL ${s.version} on 127.0.0.1:${s.port} (pid ${s.pid}, data: ${s.dataDir})`
        : `stopped (data: ${s.dataDir}); start it: stagedb dev up`;
    return { exitCode: s.running ? 0 : 1, data: s, text };
  },
};

export default command;
