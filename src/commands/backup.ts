import { notYet } from './shared.js';
import type { Command } from './types.js';

const command: Command = notYet('stagedb backup', 'issue 5: backups and restores that can be trusted', 'pg_dump --format=custom --file=backup.dump "$DIRECT_URL"');

export default command;
