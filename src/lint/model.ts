import { chooseMode } from '../history/mode.js';
import type { Runner } from './input-model.js';

/**
 * How a file will actually run, statement by statement: which statements share a transaction. This
 * is what decides whether CONCURRENTLY fails, whether a backfill holds a DDL lock, and whether a
 * VALIDATE runs in the same transaction as its ADD — not a single "in a transaction" flag.
 */
export interface RunModel {
  /** stagedb's ApplyMode, or `prisma-script` / `prisma-single` for `prisma migrate deploy`. */
  mode: 'transaction' | 'file-managed' | 'statements' | 'prisma-script' | 'prisma-single';
  /** In words, for the output. */
  reason: string;
  /** Per statement: the transaction it runs in (equal numbers share one), or null when it commits on its own. */
  tx: Array<number | null>;
}

const ENDS_TX = new Set(['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE', 'TRANS_STMT_COMMIT_PREPARED', 'TRANS_STMT_ROLLBACK_PREPARED']);

/**
 * A file sent as one multi-statement query (stagedb's file-managed mode, and Prisma ≤ 6 always):
 * PostgreSQL wraps the statements in an implicit transaction block; the file's own BEGIN turns it into
 * an explicit one and COMMIT ends it, so the transactions are the stretches between COMMITs. Every
 * statement is inside a transaction block, which is why CONCURRENTLY fails anywhere in such a file.
 */
function scriptTransactions(kinds: Array<{ kind: string; txKind?: string }>): number[] {
  let tx = 0;
  return kinds.map((s) => {
    const here = tx;
    if (s.kind === 'TransactionStmt' && s.txKind && ENDS_TX.has(s.txKind)) tx++;
    return here;
  });
}

/**
 * Every pattern chooseMode tests needs one of these words (transaction control, CONCURRENTLY, VACUUM,
 * CREATE/DROP DATABASE or TABLESPACE, ALTER SYSTEM, SUBSCRIPTION; ADD VALUE before 12). A file without any of
 * them runs as one transaction whatever else it holds, so its second split is skipped: most of
 * Prisma's files. `test/unit/lint-parse.test.ts` holds the shortcut to chooseMode's own answer.
 */
const MODE_WORDS = /\b(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|CONCURRENTLY|VACUUM|DATABASE|TABLESPACE|SYSTEM|SUBSCRIPTION)\b/i;
/** ADD VALUE changes the choice only before PostgreSQL 12. */
const MODE_WORDS_BEFORE_12 = /\b(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|CONCURRENTLY|VACUUM|DATABASE|TABLESPACE|SYSTEM|SUBSCRIPTION|VALUE)\b/i;

export function runModel(sql: string, statements: Array<{ kind: string; txKind?: string }>, runner: Runner, serverVersionNum: number): RunModel {
  if (runner === 'prisma') {
    if (statements.length <= 1) return { mode: 'prisma-single', reason: 'prisma migrate deploy: a single statement, outside a transaction', tx: statements.map(() => null) };
    return { mode: 'prisma-script', reason: 'prisma migrate deploy: the whole file as one multi-statement query (an implicit transaction)', tx: scriptTransactions(statements) };
  }
  if (!(serverVersionNum < 120000 ? MODE_WORDS_BEFORE_12 : MODE_WORDS).test(sql)) return { mode: 'transaction', reason: 'stagedb deploy: one transaction', tx: statements.map(() => 0) };
  const choice = chooseMode(sql, serverVersionNum);
  switch (choice.mode) {
    case 'transaction':
      return { mode: 'transaction', reason: 'stagedb deploy: one transaction', tx: statements.map(() => 0) };
    case 'statements':
      return { mode: 'statements', reason: `stagedb deploy: statement by statement (${choice.reason})`, tx: statements.map(() => null) };
    case 'file-managed':
      return { mode: 'file-managed', reason: "stagedb deploy: the file's own BEGIN/COMMIT, sent as one script", tx: scriptTransactions(statements) };
  }
}
