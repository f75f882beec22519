import { splitStatements, type SqlStatement } from './split.js';

/**
 * How a migration file must be run:
 *  - `transaction`: the whole file and its `_prisma_migrations` row commit together, or nothing does;
 *  - `file-managed`: the file has its own BEGIN/COMMIT (Prisma writes these for enum changes), so it
 *    runs as written, as one script;
 *  - `statements`: the file holds a statement PostgreSQL refuses inside a transaction block
 *    (CREATE INDEX CONCURRENTLY, …), so each statement runs and commits on its own.
 */
export type ApplyMode = 'transaction' | 'file-managed' | 'statements';

export interface ModeChoice {
  mode: ApplyMode;
  /** Why, in words the CLI prints. */
  reason: string;
  statements: SqlStatement[];
}

const NON_TRANSACTIONAL: Array<[RegExp, string]> = [
  [/^CREATE (UNIQUE )?INDEX CONCURRENTLY\b/, 'CREATE INDEX CONCURRENTLY'],
  [/^DROP INDEX CONCURRENTLY\b/, 'DROP INDEX CONCURRENTLY'],
  [/^REINDEX\b.*\bCONCURRENTLY\b/, 'REINDEX CONCURRENTLY'],
  [/^ALTER TABLE\b.*\bDETACH PARTITION\b.*\bCONCURRENTLY\b/, 'DETACH PARTITION CONCURRENTLY'],
  [/^VACUUM\b/, 'VACUUM'],
  [/^(CREATE|DROP) DATABASE\b/, 'CREATE/DROP DATABASE'],
  [/^(CREATE|DROP) TABLESPACE\b/, 'CREATE/DROP TABLESPACE'],
  [/^ALTER SYSTEM\b/, 'ALTER SYSTEM'],
  [/^(CREATE|ALTER|DROP) SUBSCRIPTION\b/, 'SUBSCRIPTION commands'],
];
const TX_CONTROL = /^(BEGIN|START TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b/;
const ADD_ENUM_VALUE = /^ALTER TYPE\b.*\bADD VALUE\b/;

/** `serverVersionNum` is `server_version_num` (e.g. 150018); below 12, ADD VALUE cannot run in a transaction. */
export function chooseMode(script: string, serverVersionNum: number): ModeChoice {
  const statements = splitStatements(script);
  if (statements.some((s) => TX_CONTROL.test(s.head))) {
    return { mode: 'file-managed', reason: 'the file has its own BEGIN/COMMIT', statements };
  }
  for (const s of statements) {
    for (const [re, what] of NON_TRANSACTIONAL) {
      if (re.test(s.head)) {
        return { mode: 'statements', reason: `${what} cannot run inside a transaction: each statement commits on its own`, statements };
      }
    }
    // A DO block that commits (stagedb's batched backfill) may COMMIT only outside a transaction block.
    if (/^DO\b/.test(s.head) && /\b(COMMIT|ROLLBACK)\b/i.test(s.text)) {
      return { mode: 'statements', reason: 'a DO block that commits (a batched backfill) cannot run inside a transaction: each statement commits on its own', statements };
    }
    if (serverVersionNum < 120000 && ADD_ENUM_VALUE.test(s.head)) {
      return { mode: 'statements', reason: 'ALTER TYPE … ADD VALUE cannot run inside a transaction before PostgreSQL 12', statements };
    }
  }
  return { mode: 'transaction', reason: 'one transaction', statements };
}
