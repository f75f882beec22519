import { StagedbError } from '../errors.js';

/** PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated by the server. */
const MAX_IDENT_BYTES = 63;

/**
 * Quote an SQL identifier (database, schema, table, role name) for PostgreSQL: wrap it in double
 * quotes and double any embedded quote. Refuses names the server would silently change (longer than
 * 63 bytes, which it truncates, so two long names could collide) or cannot store (empty, NUL).
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) {
    throw new StagedbError('usage', 'E_PG_IDENTIFIER_INVALID', `Invalid PostgreSQL identifier ${JSON.stringify(name)}: it must be non-empty and contain no NUL character.`);
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENT_BYTES) {
    throw new StagedbError(
      'usage',
      'E_PG_IDENTIFIER_INVALID',
      `PostgreSQL identifier ${JSON.stringify(name)} is longer than ${MAX_IDENT_BYTES} bytes; the server would truncate it.`,
      { fix: `use a name of at most ${MAX_IDENT_BYTES} bytes` },
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}
