import { held } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { addedConstraints, alterSql, alterTable, columnsSql, constraintName, ownMigration } from './util.js';

/** R14: `ADD CONSTRAINT … UNIQUE` without `USING INDEX` on a live table. */
const rule: Rule = {
  code: 'SDB013',
  name: 'unique-constraint',
  summary: 'ADD UNIQUE without USING INDEX builds the index under ACCESS EXCLUSIVE',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AddConstraint'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const c of addedConstraints(a, 'CONSTR_UNIQUE')) {
      if (c.indexname) continue;
      const name = ident(constraintName(a.rel, c, 'key'));
      const cols = columnsSql(c.keys);
      hits.push({
        at: c.location,
        message: `adds UNIQUE constraint ${name} to live table ${relSql(a.rel)}, building its index under the lock`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for the whole index build', scans: true }),
        why: `Nothing can read or write ${relSql(a.rel)} while the unique index is built, and it fails at the end if existing rows have duplicates.`,
        fix: [
          `${ownMigration(ctx)}`,
          `CREATE UNIQUE INDEX CONCURRENTLY ${name} ON ${relSql(a.rel)} (${cols});`,
          '-- then (a quick catalog change):',
          `${alterSql(a.rel)} ADD CONSTRAINT ${name} UNIQUE USING INDEX ${name};`,
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
