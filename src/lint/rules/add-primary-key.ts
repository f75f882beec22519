import { held } from '../locks.js';
import { relSql, ident } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { addedConstraints, alterSql, alterTable, columnsSql, constraintName, ownMigration } from './util.js';

/**
 * R15: `ADD PRIMARY KEY` without `USING INDEX` on a live table — Prisma's `@id` changes, and the
 * Prisma 6 upgrade that turns every implicit many-to-many table's `_AB_unique` index into `_AB_pkey`.
 */
const rule: Rule = {
  code: 'SDB014',
  name: 'add-primary-key',
  summary: 'ADD PRIMARY KEY without USING INDEX builds the index (and checks NOT NULL) under ACCESS EXCLUSIVE',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AddConstraint'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const c of addedConstraints(a, 'CONSTR_PRIMARY')) {
      if (c.indexname) continue;
      const name = ident(constraintName(a.rel, c, 'pkey'));
      const cols = columnsSql(c.keys);
      hits.push({
        at: c.location,
        message: `adds primary key ${name} to live table ${relSql(a.rel)}, building its index under the lock`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for the index build (and a NOT NULL scan of columns that allow NULL)', scans: true }),
        why: `Nothing can read or write ${relSql(a.rel)} while the unique index is built; it fails at the end on duplicates or NULLs.`,
        fix: [
          `${ownMigration(ctx)}`,
          `CREATE UNIQUE INDEX CONCURRENTLY ${name} ON ${relSql(a.rel)} (${cols});`,
          `-- then (quick when the columns are already NOT NULL):`,
          `${alterSql(a.rel)} ADD CONSTRAINT ${name} PRIMARY KEY USING INDEX ${name};`,
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
