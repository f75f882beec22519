import { relative } from 'node:path';

/** A path relative to where the user stands (`cwd`), when that is shorter. */
export function shown(cwd: string, location: string): string {
  if (!location.startsWith('/')) return location;
  const rel = relative(cwd, location);
  return rel && !rel.startsWith('../..') && rel.length < location.length ? rel : location;
}
