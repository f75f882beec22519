import { dirname } from 'node:path';
import { findConfigFile } from '../config/load.js';
import { devDown } from '../dev/local-server.js';
import type { Command } from './types.js';

const command: Command = {
  usage: 'Usage: stagedb dev down\n\nStops the project-local PostgreSQL. Its data stays under .stagedb/pg/.',
  options: {},
  async run(ctx, args) {
    const configFile = findConfigFile(ctx.cwd, args.values.config as string | undefined);
    const r = await devDown(configFile ? dirname(configFile) : ctx.cwd);
    return { exitCode: 0, data: r, text: r.wasRunning ? 'stopped the project-local PostgreSQL' : 'the project-local PostgreSQL was not running' };
  },
};

export default command;
