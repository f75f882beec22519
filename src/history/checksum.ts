import { createHash } from 'node:crypto';

/** Prisma's checksum: the sha256 of migration.sql, as 64 lower-case hex digits. */
export function checksum(script: string): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Whether a file still matches the checksum recorded when it was applied, with Prisma's tolerances:
 * CRLF/LF differences (git may rewrite line endings on checkout) and the non-zero-padded hex that
 * old Prisma versions stored (prisma/prisma-engines#1887).
 */
export function checksumMatches(script: string, recorded: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\r?\n/g, '\r\n')];
  for (const v of variants) {
    const digest = createHash('sha256').update(v).digest();
    if (recorded.length === 64 ? digest.toString('hex') === recorded : unpadded(digest) === recorded) return true;
  }
  return false;
}

function unpadded(digest: Buffer): string {
  return [...digest].map((b) => b.toString(16)).join('');
}
