import type { Node, RangeVar } from 'libpg-query';
import { held } from '../locks.js';
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
    // The referencing tables the database knows of (one level; CASCADE follows further levels too).
    const reached = rels.flatMap((r) => ctx.referencingTables(r)).filter((r, i, all) => !rels.some((o) => ctx.key(o) === ctx.key(r)) && all.findIndex((o) => ctx.key(o) === ctx.key(r)) === i);
    return {
      message: `TRUNCATE ${list} CASCADE empties every table that references ${rels.length > 1 ? 'them' : relSql(live)} too`,
      ...held([...rels, ...reached].map((on) => ({ on, mode: 'ACCESS EXCLUSIVE' as const })), { how: reached.length ? '(and on every table further down the foreign keys)' : 'and on every table it reaches through foreign keys', rewrites: true }),
      why: `CASCADE follows foreign keys, recursively: tables the migration never names${reached.length ? ` (here ${reached.map(relSql).join(', ')})` : ''} lose all their rows, with no list of them in the review, and every one of them is locked against reads and writes until the transaction ends.`,
      fix: `-- name every table to empty; without CASCADE PostgreSQL refuses if another table references one of them, and says which:\nTRUNCATE ${[...rels, ...reached].map(relSql).join(', ')}${t.restart_seqs ? ' RESTART IDENTITY' : ''};`,
      table: live,
    };
  },
};

export default rule;
