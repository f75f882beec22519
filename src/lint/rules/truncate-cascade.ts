import type { Node, RangeVar } from 'libpg-query';
import { lockText } from '../locks.js';
import { as, relOf, relSql } from '../sql.js';
import type { Rel, Rule } from '../types.js';

/** R35: `TRUNCATE … CASCADE` — it also empties every table whose foreign keys reference the named ones, recursively. */
const rule: Rule = {
  code: 'SDB029',
  name: 'truncate-cascade',
  summary: 'TRUNCATE … CASCADE also empties every table that references the named ones, without naming them',
  defaultSeverity: 'error',
  kinds: ['TruncateStmt'],
  check(s, ctx) {
    const t = (s.node as { TruncateStmt: { relations?: Node[]; behavior?: string; restart_seqs?: boolean } }).TruncateStmt;
    if (t.behavior !== 'DROP_CASCADE') return;
    const rels = (t.relations ?? []).map((n) => relOf(as<RangeVar>(n, 'RangeVar'))).filter((r): r is Rel => !!r);
    const live = rels.find((r) => ctx.live(r));
    if (!live) return;
    const list = rels.map(relSql).join(', ');
    return {
      message: `TRUNCATE ${list} CASCADE empties every table that references ${rels.length > 1 ? 'them' : relSql(live)} too`,
      lock: lockText('ACCESS EXCLUSIVE', list, 'and on every table it reaches through foreign keys'),
      why: 'CASCADE follows foreign keys, recursively: tables the migration never names lose all their rows, with no list of them in the review, and every one of them is locked against reads and writes until the transaction ends.',
      fix: `-- name every table to empty; without CASCADE PostgreSQL refuses if another table references one of them, and says which:\nTRUNCATE ${list}${t.restart_seqs ? ' RESTART IDENTITY' : ''};`,
      table: live,
    };
  },
};

export default rule;
