import { notYet } from './shared.js';
import type { Command } from './types.js';

const command: Command = notYet('stagedb push', "issue 3: Prisma's schema engine in WebAssembly", 'npx prisma db push');

export default command;
