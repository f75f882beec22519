import type { RangeVar } from 'libpg-query';
import { held } from '../locks.js';
import { ident, relOf, relSql } from '../sql.js';
import type { Rule } from '../types.js';

/** CreateTrigStmt.timing: TRIGGER_TYPE_INSTEAD (PostgreSQL's trigger.h). */
const INSTEAD = 64;

/**
 * R37: `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER` on a live table. It is a catalog change, but it needs
 * SHARE ROW EXCLUSIVE on the table (and, on a partitioned table, on every partition): it waits for
 * every open transaction that wrote to the table, and every write queues behind it — then, in a
 * transaction, for as long as the transaction lasts. The table's size does not matter, its traffic
 * does, so this is a warning whatever the size (as SDB002).
 *
 * INSTEAD OF triggers are not reported: they go on views, which hold no rows, and a view created by
 * the linted files is not tracked as new, so reporting them would flag the usual "create the view,
 * then its trigger".
 */
const rule: Rule = {
  code: 'SDB037',
  name: 'create-trigger',
  summary: 'CREATE TRIGGER on a live table takes SHARE ROW EXCLUSIVE: writes queue behind it',
  defaultSeverity: 'warning',
  kinds: ['CreateTrigStmt'],
  check(s, ctx) {
    if (s.kind !== 'CreateTrigStmt') return;
    const t = (s.node as { CreateTrigStmt: { replace?: boolean; isconstraint?: boolean; trigname?: string; relation?: RangeVar; timing?: number } }).CreateTrigStmt;
    const rel = relOf(t.relation);
    if (!rel || !ctx.live(rel) || t.timing === INSTEAD) return;
    const table = relSql(rel);
    const what = `CREATE ${t.replace ? 'OR REPLACE ' : ''}${t.isconstraint ? 'CONSTRAINT ' : ''}TRIGGER${t.trigname ? ` ${ident(t.trigname)}` : ''}`;
    const partitioned = ctx.stats(rel)?.kind === 'p';
    // Statements after it in the same transaction keep the lock until the transaction commits (its
    // own COMMIT and a RESET of a setting take no time).
    const after = ctx.sameTransaction(s).filter((o) => o.index > s.index && o.kind !== 'TransactionStmt' && o.kind !== 'VariableSetStmt').length;
    const heldOn = after
      ? `; here it then holds the lock until the transaction commits, through the ${after === 1 ? 'statement' : `${after} statements`} after it in this file`
      : '';
    const timeout =
      ctx.lockTimeoutMs > 0
        ? `-- (the lock_timeout in effect, ${ctx.lockTimeoutMs / 1000} s, makes it give up rather than stall writes${ctx.runner === 'stagedb' ? '; stagedb deploy retries a migration that hits it' : ''})`
        : "SET lock_timeout = '2s';  -- give up rather than stall writes, and run the migration again";
    return {
      message: `${what} on live table ${table}`,
      ...held([rel, ...ctx.partitionsOf(rel)].map((on) => ({ on, mode: 'SHARE ROW EXCLUSIVE' as const })), { how: `${partitioned && !ctx.partitionsOf(rel).length ? 'and on every partition, ' : ''}until the transaction commits` }),
      why: `Creating a trigger is a quick catalog change, but it first waits for every open transaction that has written to ${table} to end, and every INSERT, UPDATE and DELETE on ${table} queues behind it${heldOn}.`,
      fix: [
        `-- at the lowest traffic${after ? ', in a migration of its own (or as the last statement of its transaction)' : ''}:`,
        timeout,
        `${s.text};`,
      ].join('\n'),
      table: rel,
    };
  },
};

export default rule;
