import { notYet } from './shared.js';
import type { Command } from './types.js';

const command: Command = notYet('stagedb migrate dev', "issue 3: Prisma's schema engine in WebAssembly", 'npx prisma migrate dev (needs Prisma\'s native engine)');

export default command;
