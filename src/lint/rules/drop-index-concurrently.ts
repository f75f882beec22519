import type { DropStmt, Node } from 'libpg-query';
import { held } from '../locks.js';
import { as, relOfNames, relSql, strings } from '../sql.js';
import type { Rule } from '../types.js';
import { ownMigration } from './util.js';

/** R02: `DROP INDEX` without CONCURRENTLY — Prisma's `-- DropIndex`. */
const rule: Rule = {
  code: 'SDB002',
  name: 'drop-index-concurrently',
  summary: 'DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table',
  defaultSeverity: 'warning',
  kinds: ['DropStmt'],
  check(s, ctx) {
    if (s.kind !== 'DropStmt') return;
    const d = as<DropStmt>(s.node, 'DropStmt')!;
    if (d.removeType !== 'OBJECT_INDEX' || d.concurrent) return;
    const hits = [];
    for (const o of d.objects ?? []) {
      const index = relOfNames(strings(as<{ items?: Node[] }>(o, 'List')?.items));
      if (!index) continue;
      const table = ctx.tableOfIndex(index);
      if (table && !ctx.live(table)) continue;
      // An index created by the linted files on a live table is new too, but dropping it still locks the table.
      const on = table ? relSql(table) : `the table of ${relSql(index)}`;
      hits.push({
        message: `DROP INDEX ${relSql(index)} without CONCURRENTLY`,
        ...held([{ on, mode: 'ACCESS EXCLUSIVE' }, { on: index, mode: 'ACCESS EXCLUSIVE' }], { how: 'until the drop commits' }),
        why: `The drop itself is quick, but it waits for every running query on ${on} to finish, and every new query, reads included, queues behind it.`,
        fix: `${ownMigration(ctx)}\nDROP INDEX CONCURRENTLY${d.missing_ok ? ' IF EXISTS' : ''} ${relSql(index)};`,
        table,
      });
    }
    return hits;
  },
};

export default rule;
