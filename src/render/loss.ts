import type { LossReport } from '../develop/reset.js';

/** What a reset would drop, schema by schema, as the lines shown before asking (migrate reset, migrate dev). */
export function lossLines(env: string, losses: readonly LossReport[]): string[] {
  const lines: string[] = [];
  for (const loss of losses) {
    const empty = loss.tables.length + loss.otherObjects + loss.extensions.length === 0;
    lines.push(`${env}: a reset drops schema "${loss.schema}" with:${empty ? ' nothing in it' : ''}`);
    for (const t of loss.tables) lines.push(`  ${t.name}: ${t.estimated ? '~' : ''}${t.rows} row${t.rows === 1 ? '' : 's'}`);
    if (loss.otherObjects) lines.push(`  and ${loss.otherObjects} other object${loss.otherObjects === 1 ? '' : 's'} (views, sequences, types, functions)`);
    if (loss.extensions.length) lines.push(`  and extension${loss.extensions.length === 1 ? '' : 's'} ${loss.extensions.join(', ')} (created again only if a migration does)`);
  }
  return lines;
}
