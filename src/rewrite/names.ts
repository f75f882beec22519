import { createHash } from 'node:crypto';
import { ident, relSql } from '../lint/sql.js';
import type { Rel } from '../lint/types.js';

/** PostgreSQL cuts identifiers at 63 bytes (NAMEDATALEN − 1). */
const MAX_IDENT_BYTES = 63;

/**
 * A name for an object stagedb adds (a CHECK, a temporary index): `base` when it fits in 63 bytes,
 * else cut with a short hash of the whole, so two long names never end up the same after the cut.
 */
export function objectName(base: string): string {
  if (Buffer.byteLength(base) <= MAX_IDENT_BYTES) return base;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8);
  let cut = base;
  while (Buffer.byteLength(cut) > MAX_IDENT_BYTES - 9) cut = cut.slice(0, -1);
  return `${cut}_${hash}`;
}

/** `ALTER TABLE "T"` as the migration named it. */
export const alterSql = (rel: Rel): string => `ALTER TABLE ${relSql(rel)}`;

/** The CHECK that proves a column has no NULL, so that SET NOT NULL needs no scan. */
export const notNullCheck = (rel: Rel, column: string): string => objectName(`${rel.name}_${column}_not_null_check`);

export { ident, relSql };
