import { notYet } from './shared.js';
import type { Command } from './types.js';

const command: Command = notYet('stagedb studio', 'issue 7: Studio per environment, read-only in production', 'npx prisma studio');

export default command;
