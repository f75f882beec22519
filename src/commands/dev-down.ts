import { devDown } from '../local-db/server.js';
import { projectRoot } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: 'Usage: stagedb dev down\n\nStops the project-local PostgreSQL. Its data stays under .stagedb/pg/.',
  options: {},
  async run(ctx, args) {
    const r = await devDown(projectRoot(ctx, args));
    return { exitCode: 0, data: r, text: r.wasRunning ? 'stopped the project-local PostgreSQL' : 'the project-local PostgreSQL was not running' };
  },
};

export default command;
