import type { TransactionStmt } from 'libpg-query';
import { as } from '../sql.js';
import type { Rule, Statement } from '../types.js';

const txKind = (s: Statement) => (s.kind === 'TransactionStmt' ? as<TransactionStmt>(s.node, 'TransactionStmt')!.kind : undefined);
const OPENS = new Set(['TRANS_STMT_BEGIN', 'TRANS_STMT_START']);
const CLOSES = new Set(['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE']);

/**
 * R31: BEGIN/COMMIT inside a migration file. Prisma writes them around its enum recreate; how they
 * behave depends on who runs the file. Reported on the file's first BEGIN (or stray COMMIT).
 */
const rule: Rule = {
  code: 'SDB024',
  name: 'transaction-control',
  summary: "BEGIN/COMMIT in a migration file that leave part of it outside the file's own transaction, or a BEGIN never committed",
  defaultSeverity: 'warning',
  kinds: ['TransactionStmt'],
  check(s, ctx) {
    const k = txKind(s);
    if (!k || ctx.once.has('SDB024')) return;
    if (!OPENS.has(k) && !CLOSES.has(k)) return;
    ctx.once.add('SDB024');
    const kinds = ctx.statements.map(txKind);
    let open = false;
    for (const x of kinds) {
      if (x && OPENS.has(x)) open = true;
      else if (x && CLOSES.has(x)) open = false;
    }
    if (open) {
      return {
        message: 'BEGIN without a COMMIT: the file leaves its transaction open',
        why: 'Nothing the file did commits: the runner ends the session and PostgreSQL rolls it all back, or the history row is written inside the open transaction.',
        fix: '-- end the file with:\nCOMMIT;',
        severity: 'error',
      };
    }
    const first = kinds.findIndex((x) => x !== undefined);
    const last = kinds.length - 1 - [...kinds].reverse().findIndex((x) => x !== undefined);
    const whole = kinds.length >= 2 && OPENS.has(kinds[0] ?? '') && CLOSES.has(kinds[kinds.length - 1] ?? '') && first === 0 && last === kinds.length - 1 && kinds.filter((x) => x !== undefined).length === 2;
    // Prisma's enum block on its own: one transaction either way (stagedb also retries it whole on a lock timeout).
    if (whole) return;
    if (ctx.runner === 'prisma') {
      return {
        message: 'explicit BEGIN/COMMIT inside a file prisma migrate deploy runs as one query',
        why: 'The explicit COMMIT commits everything before it; if a later statement fails, the migration is half-applied and prisma migrate deploy marks it failed.',
        fix: "-- split the file: one migration per transaction, without BEGIN/COMMIT (or deploy with stagedb, which runs Prisma's enum block as written)",
      };
    }
    return {
      message: "statements outside the file's own BEGIN … COMMIT",
      why: "stagedb sends a file with its own BEGIN/COMMIT as written: statements outside that block commit separately, so a failure after a COMMIT leaves the migration half-applied, and the file is not retried after a lock timeout.",
      fix: '-- put the other statements in a migration of their own, or inside the BEGIN … COMMIT',
    };
  },
};

export default rule;
