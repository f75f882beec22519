import { held } from '../locks.js';
import { ident, relOf, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { addedConstraints, alterSql, alterTable, constraintName } from './util.js';

/** R04: `ADD CONSTRAINT … FOREIGN KEY` without NOT VALID on a live table — Prisma's every new relation and every onDelete/onUpdate change. */
const rule: Rule = {
  code: 'SDB004',
  name: 'foreign-key-not-valid',
  summary: 'ADD FOREIGN KEY without NOT VALID scans the table while blocking writes on both tables',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AddConstraint'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const c of addedConstraints(a, 'CONSTR_FOREIGN')) {
      if (c.skip_validation || c.initially_valid === false) continue;
      const ref = relOf(c.pktable);
      const name = constraintName(a.rel, c, 'fkey');
      const clause = ctx.clauseAt(s, c.location);
      const add = a.cmds.length === 1 ? s.text : `${alterSql(a.rel)} ADD ${clause ?? `CONSTRAINT ${ident(name)} FOREIGN KEY (…) REFERENCES …`}`;
      hits.push({
        at: c.location,
        message: `adds foreign key ${ident(name)} to live table ${relSql(a.rel)} without NOT VALID`,
        ...held([{ on: a.rel, mode: 'SHARE ROW EXCLUSIVE' }, ...(ref ? [{ on: ref, mode: 'SHARE ROW EXCLUSIVE' as const }] : [])], { how: 'while it checks every row', scans: true }),
        why: `PostgreSQL checks every existing row of ${relSql(a.rel)} against ${ref ? relSql(ref) : 'the referenced table'} before it commits; writes to both tables wait for the whole check.`,
        fix: `${add} NOT VALID;\n-- then in the next migration (its own transaction; VALIDATE takes only SHARE UPDATE EXCLUSIVE, so writes go on while it checks):\n${alterSql(a.rel)} VALIDATE CONSTRAINT ${ident(name)};`,
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
