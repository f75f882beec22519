import type { RestoreResult } from '../backup/restore.js';
import { formatDuration } from '../format.js';

/** What a finished restore says: what went where, the history it brought, what deploy would apply next. */
export function restoredText(target: string, r: RestoreResult, schemas: string): string {
  const lines = [
    `${target}: restored backup ${r.id} of ${r.from} into ${schemas} of ${r.database} in ${formatDuration(r.durationMs)} (one transaction)`,
    `  _prisma_migrations matches the backup: ${r.migrations.applied} applied${r.migrations.last ? `, last ${r.migrations.last}` : ''}`,
  ];
  if (r.pending.length > 0) lines.push(`  ${r.pending.length} migration${r.pending.length === 1 ? '' : 's'} in the folder ${r.pending.length === 1 ? 'is' : 'are'} newer than the backup: stagedb deploy --env ${target} applies ${r.pending.length === 1 ? 'it' : 'them'}`);
  if (r.keptAuditTrail) lines.push(`  ${target} kept its own audit trail (stagedb history --env ${target})`);
  return lines.join('\n');
}
