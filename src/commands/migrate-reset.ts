import { notYet } from './shared.js';
import type { Command } from './types.js';

const command: Command = notYet('stagedb migrate reset', "issue 3: Prisma's schema engine in WebAssembly", 'npx prisma migrate reset (development only)');

export default command;
