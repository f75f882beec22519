import type { Constraint, Node } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, relOfNames, relSql, strings } from '../sql.js';
import type { Rule } from '../types.js';

/**
 * R36: `ALTER DOMAIN … ADD CHECK` without NOT VALID, and `ALTER DOMAIN … SET NOT NULL` (or `ADD NOT NULL`): PostgreSQL
 * checks every column of every table that uses the domain, holding a lock that blocks writes to each
 * of them. Which tables use the domain is not in the migration, so this is a warning, whatever their
 * size. A domain created by the same files is used by no live table yet.
 */
const rule: Rule = {
  code: 'SDB030',
  name: 'domain-constraint',
  summary: 'ALTER DOMAIN ADD CHECK without NOT VALID, or SET NOT NULL, checks every table using the domain under a lock',
  defaultSeverity: 'warning',
  kinds: ['AlterDomainStmt'],
  check(s, ctx) {
    const d = (s.node as { AlterDomainStmt: { subtype?: string; typeName?: Node[]; def?: Node } }).AlterDomainStmt;
    const dom = relOfNames(strings(d.typeName));
    if (!dom || ctx.batch.types.has(ctx.key(dom))) return;
    const name = relSql(dom);
    const lock = held([{ on: `every table with a column of domain ${name}`, mode: 'SHARE' }], { how: 'while it checks every row', scans: true });
    // ADD CONSTRAINT … NOT NULL (PostgreSQL 18) checks like SET NOT NULL.
    const added = d.subtype === 'C' ? as<Constraint>(d.def, 'Constraint') : undefined;
    const subtype = added?.contype === 'CONSTR_NOTNULL' && !added.skip_validation ? 'O' : d.subtype;
    if (subtype === 'C') {
      const c = added;
      if (c?.contype !== 'CONSTR_CHECK' || c.skip_validation || c.initially_valid === false) return;
      const con = c.conname ?? `${dom.name}_check`;
      return {
        at: c.location,
        message: `adds CHECK constraint ${ident(con)} to domain ${name} without NOT VALID`,
        ...lock,
        why: `PostgreSQL checks the new constraint against every value of ${name} in every table that uses it, and writes to those tables wait until it is done.`,
        fix: `${s.text} NOT VALID;\n-- new and updated rows are checked from now on; then, in a later migration, check the old ones:\nALTER DOMAIN ${name} VALIDATE CONSTRAINT ${ident(con)};`,
      };
    }
    if (subtype === 'O') {
      const con = `${dom.name}_not_null`;
      return {
        message: `sets NOT NULL on domain ${name}`,
        ...lock,
        why: `PostgreSQL checks every column of type ${name} in every table that uses it for NULLs, and writes to those tables wait until it is done.`,
        fix: `ALTER DOMAIN ${name} ADD CONSTRAINT ${ident(con)} CHECK (VALUE IS NOT NULL) NOT VALID;\n-- then, in a later migration:\nALTER DOMAIN ${name} VALIDATE CONSTRAINT ${ident(con)};`,
      };
    }
    return;
  },
};

export default rule;
