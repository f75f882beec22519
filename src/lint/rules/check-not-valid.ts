import { held } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { addedConstraints, alterSql, alterTable } from './util.js';

/** R05: `ADD CONSTRAINT … CHECK` without NOT VALID on a live table (hand-written: Prisma has no CHECK). */
const rule: Rule = {
  code: 'SDB005',
  name: 'check-not-valid',
  summary: 'ADD CHECK without NOT VALID scans the table under ACCESS EXCLUSIVE',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AddConstraint'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const c of addedConstraints(a, 'CONSTR_CHECK')) {
      if (c.skip_validation || c.initially_valid === false) continue;
      const name = c.conname ?? `${a.rel.name}_check`;
      const clause = ctx.clauseAt(s, c.location);
      const add = a.cmds.length === 1 ? s.text : `${alterSql(a.rel)} ADD ${clause ?? 'CHECK (…)'}`;
      hits.push({
        at: c.location,
        message: `adds CHECK constraint ${ident(name)} to live table ${relSql(a.rel)} without NOT VALID`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'while it checks every row', scans: true }),
        why: `PostgreSQL reads every row of ${relSql(a.rel)} to check the constraint, and nothing can read or write the table meanwhile.`,
        fix: `${add} NOT VALID;\n-- then in the next migration (VALIDATE takes only SHARE UPDATE EXCLUSIVE):\n${alterSql(a.rel)} VALIDATE CONSTRAINT ${ident(name)};`,
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
