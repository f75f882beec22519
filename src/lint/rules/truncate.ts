import type { Node, RangeVar } from 'libpg-query';
import { held } from '../locks.js';
import { as, relOf, relSql } from '../sql.js';
import type { Rel, Rule } from '../types.js';

/**
 * `TRUNCATE` of a live table, without CASCADE (that is SDB029): every row is gone at once, and it
 * takes ACCESS EXCLUSIVE (new, empty storage for the table and its indexes), so it first waits for
 * every running query on the table and every query behind it waits too. Before this rule it went
 * unreported under stagedb's runner (SDB022 caught it only without a lock_timeout). Quick whatever
 * the size, so a warning, like DROP TABLE (SDB016).
 */
const rule: Rule = {
  code: 'SDB038',
  name: 'truncate',
  summary: 'TRUNCATE of a live table: its rows are gone, under ACCESS EXCLUSIVE (reads and writes wait)',
  defaultSeverity: 'warning',
  kinds: ['TruncateStmt'],
  check(s, ctx) {
    const t = (s.node as { TruncateStmt: { relations?: Node[]; behavior?: string } }).TruncateStmt;
    if (t.behavior === 'DROP_CASCADE') return;
    const rels = (t.relations ?? []).map((n) => relOf(as<RangeVar>(n, 'RangeVar'))).filter((r): r is Rel => !!r);
    const live = rels.filter((r) => ctx.live(r));
    if (!live.length) return;
    const list = live.map(relSql).join(', ');
    const timeout = ctx.lockTimeoutMs > 0 ? `-- (the lock_timeout in effect, ${ctx.lockTimeoutMs / 1000} s, makes it give up rather than queue every query behind it)` : "SET lock_timeout = '2s';  -- give up rather than queue every query behind it";
    return {
      message: `TRUNCATE empties live table${live.length > 1 ? 's' : ''} ${list}`,
      ...held(live.map((on) => ({ on, mode: 'ACCESS EXCLUSIVE' as const })), { how: 'until the transaction commits', rewrites: true }),
      why: `Every row of ${list} is gone, for app versions still running too; and TRUNCATE first waits for every running query on ${live.length > 1 ? 'them' : 'it'}, while every new query, reads included, queues behind it.`,
      fix: [
        '-- make sure no running app version still needs the rows (keep a backup: stagedb backup); at the lowest traffic:',
        timeout,
        `${s.text};`,
        '-- or, to keep the table readable meanwhile, delete in batches: DELETE FROM … WHERE ctid IN (SELECT ctid FROM … LIMIT 10000);',
      ].join('\n'),
      table: live[0],
    };
  },
};

export default rule;
