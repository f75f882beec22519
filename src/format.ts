/**
 * Quantities for people, the one way every message, table and progress line writes them. A byte
 * count is in PostgreSQL's units (pg_size_pretty: 1 kB = 1024 bytes), so a table's size in a lint note
 * and a backup's size read the same as what psql shows for them.
 */

/** A byte count: 12 B, 340 kB, 1.2 MB, 50.0 GB. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** A duration: 850 ms, 4.2 s, 3 min 10 s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}
