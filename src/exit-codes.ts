import type { ErrorKind } from './errors.js';

/**
 * Documented exit codes (README, "Exit codes"). `status` also uses 1 for "pending migrations" and
 * 2 for "failed, modified or missing migrations", so a CI step can branch on them.
 */
export const EXIT = {
  ok: 0,
  pending: 1,
  history: 2,
  config: 3,
  usage: 4,
  refused: 5,
  aborted: 6,
  internal: 70,
} as const;

export function exitCodeFor(kind: ErrorKind): number {
  switch (kind) {
    case 'history':
    case 'migration':
    case 'backup':
      return EXIT.history;
    case 'config':
    case 'connection':
      return EXIT.config;
    case 'usage':
      return EXIT.usage;
    case 'guard':
      return EXIT.refused;
    case 'aborted':
      return EXIT.aborted;
    default:
      return EXIT.internal;
  }
}
