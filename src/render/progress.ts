import type { Progress } from '../backup/progress.js';
import { formatBytes, formatDuration } from '../format.js';

/** One line of a backup's, a verification's or a restore's progress: bytes, speed, share, tables, time. */
export function progressLine(p: Progress): string {
  const parts: string[] = [];
  const verb = { dump: 'dumped', upload: 'uploaded', checksum: 'checked', download: 'downloaded', restore: 'restoring' }[p.phase];
  parts.push(p.bytes !== undefined ? `${formatBytes(p.bytes)} ${verb}` : verb);
  if (p.bytesPerSecond) parts.push(`${formatBytes(Math.round(p.bytesPerSecond))}/s`);
  if (p.fraction !== undefined) parts.push(`${Math.floor(p.fraction * 100)} %`);
  if (p.tables) parts.push(`${p.tables.done}/${p.tables.total} tables`);
  parts.push(p.etaMs !== undefined ? `ETA ${formatDuration(p.etaMs)}` : `${formatDuration(p.elapsedMs)} so far`);
  return parts.join(', ');
}
