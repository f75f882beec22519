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

/** Why a statement cannot run inside a transaction block, or undefined when it can. */
export function outsideTransaction(head: string, serverVersionNum: number, text = head): string | undefined {
  for (const [re, what] of NON_TRANSACTIONAL) if (re.test(head)) return what;
  // A DO block that commits (stagedb's batched backfill) may COMMIT only outside a transaction block.
  if (/^DO\b/.test(head) && /\b(COMMIT|ROLLBACK)\b/i.test(text)) return 'a DO block that commits (a batched backfill)';
  if (serverVersionNum < 120000 && ADD_ENUM_VALUE.test(head)) return 'ALTER TYPE … ADD VALUE before PostgreSQL 12';
  return undefined;
}

/** `serverVersionNum` is `server_version_num` (e.g. 150018); below 12, ADD VALUE cannot run in a transaction. */
export function chooseMode(script: string, serverVersionNum: number): ModeChoice {
  const statements = splitStatements(script);
  if (statements.some((s) => TX_CONTROL.test(s.head))) {
    return { mode: 'file-managed', reason: 'the file has its own BEGIN/COMMIT', statements };
  }
  for (const s of statements) {
    const what = outsideTransaction(s.head, serverVersionNum, s.text);
    if (what === undefined) continue;
    if (what.startsWith('ALTER TYPE')) return { mode: 'statements', reason: 'ALTER TYPE … ADD VALUE cannot run inside a transaction before PostgreSQL 12', statements };
    return { mode: 'statements', reason: `${what} cannot run inside a transaction: each statement commits on its own`, statements };
  }
  return { mode: 'transaction', reason: 'one transaction', statements };
}

/**
 * One step of a file that does not run as one transaction: statements `from` … `to`-1, run either
 * as one transaction (`tx`; with the file's own BEGIN … COMMIT when `ownBegin`) that also records
 * the progress, or alone outside any transaction (`bare`).
 */
export interface Unit {
  from: number;
  to: number;
  kind: 'tx' | 'bare';
  /** The unit is the file's own BEGIN … COMMIT block (statements before the BEGIN join it, as in one message). */
  ownBegin: boolean;
}

const BLOCK_START = /^(BEGIN|START TRANSACTION)\b/;
const BLOCK_END = /^(COMMIT|END)\b/;
const OTHER_TX_CONTROL = /^(ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE TRANSACTION|COMMIT PREPARED|ROLLBACK PREPARED)\b/;

/**
 * The steps a `statements` or `file-managed` file runs in, each committed together with a record of
 * how far the file got (see progress.ts). `statements`: one unit per statement, as before. A file with
 * its own BEGIN … COMMIT: each block is one unit (with the statements before it, which one message
 * would have put in the same transaction), statements after the last COMMIT one more. Undefined
 * when the file's transaction control is not plain BEGIN … COMMIT pairs (ROLLBACK, SAVEPOINT, nesting,
 * a BEGIN left open) or it holds a statement that cannot run in a transaction: that file runs whole,
 * as written, and its progress cannot be told.
 */
export function planUnits(choice: ModeChoice, serverVersionNum: number): Unit[] | undefined {
  const st = choice.statements;
  if (choice.mode === 'statements') {
    return st.map((s, i) => ({ from: i, to: i + 1, kind: outsideTransaction(s.head, serverVersionNum, s.text) ? 'bare' : 'tx', ownBegin: false }));
  }
  if (choice.mode !== 'file-managed') return undefined;
  const units: Unit[] = [];
  let from = 0;
  let inBlock = false;
  for (let i = 0; i < st.length; i++) {
    const h = st[i]!.head;
    if (OTHER_TX_CONTROL.test(h)) return undefined;
    if (BLOCK_START.test(h)) {
      if (inBlock) return undefined;
      inBlock = true;
    } else if (BLOCK_END.test(h)) {
      if (!inBlock) return undefined;
      units.push({ from, to: i + 1, kind: 'tx', ownBegin: true });
      from = i + 1;
      inBlock = false;
    } else if (outsideTransaction(h, serverVersionNum, st[i]!.text)) {
      // Sent as one script (as before, and as lint's SDB003 models it), such a statement fails with
      // 25001: the file runs whole so that it still fails the same way.
      return undefined;
    }
  }
  if (inBlock) return undefined;
  if (from < st.length) units.push({ from, to: st.length, kind: 'tx', ownBegin: false });
  return units;
}
