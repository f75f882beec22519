import type { Constraint, Node } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, relOfNames, relSql, strings } from '../sql.js';
import type { Rule } from '../types.js';

/** Where a domain's values can be checked without blocking writes: on each table, not on the domain. */
const tableChecks = (name: string) =>
  [
    `-- there is no online way to check ${name}'s values: ALTER DOMAIN … VALIDATE CONSTRAINT also holds SHARE on every table`,
    '-- using it while it reads them (unlike a table\'s VALIDATE CONSTRAINT, which takes SHARE UPDATE EXCLUSIVE). To keep writes going,',
    '-- check the columns instead: on each table with such a column, ADD CONSTRAINT … CHECK (<column> …) NOT VALID, then VALIDATE it',
    '-- in the next migration; or run it at the lowest traffic if those tables are small.',
  ].join('\n');

/**
 * R36: `ALTER DOMAIN … ADD CHECK` without NOT VALID, `ALTER DOMAIN … SET NOT NULL` (or `ADD NOT NULL`),
 * and `ALTER DOMAIN … VALIDATE CONSTRAINT`: PostgreSQL checks every column of every table that uses the
 * domain, holding SHARE on each of them (writes wait) — VALIDATE too, unlike a table's VALIDATE (the
 * lock oracle caught the old advice, "NOT VALID, then VALIDATE", still blocking writes). Which tables
 * use the domain is not in the migration, so this is a warning, whatever their size. A domain created
 * by the same files is used by no live table yet.
 */
const rule: Rule = {
  code: 'SDB030',
  name: 'domain-constraint',
  summary: 'ALTER DOMAIN ADD CHECK without NOT VALID, SET NOT NULL or VALIDATE CONSTRAINT checks every table using the domain under a lock that blocks writes',
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
        fix: `${s.text} NOT VALID;\n-- new and updated rows are checked from now on (a quick catalog change); the old ones are not checked yet.\n${tableChecks(name)}\n-- (or, at the lowest traffic, in a later migration: ALTER DOMAIN ${name} VALIDATE CONSTRAINT ${ident(con)};)`,
      };
    }
    if (subtype === 'V') {
      const con = (d as { name?: string }).name ?? '?';
      return {
        message: `validates constraint ${ident(con)} of domain ${name}`,
        ...lock,
        why: `PostgreSQL checks every value of ${name} in every table that uses it, and writes to those tables wait until it is done: a domain's VALIDATE holds SHARE, not the SHARE UPDATE EXCLUSIVE of a table's.`,
        fix: tableChecks(name),
      };
    }
    if (subtype === 'O') {
      const con = `${dom.name}_not_null`;
      return {
        message: `sets NOT NULL on domain ${name}`,
        ...lock,
        why: `PostgreSQL checks every column of type ${name} in every table that uses it for NULLs, and writes to those tables wait until it is done.`,
        fix: `ALTER DOMAIN ${name} ADD CONSTRAINT ${ident(con)} CHECK (VALUE IS NOT NULL) NOT VALID;\n-- new and updated rows are checked from now on; the old ones are not checked yet.\n${tableChecks(name)}\n-- (or, at the lowest traffic, in a later migration: ALTER DOMAIN ${name} VALIDATE CONSTRAINT ${ident(con)};)`,
      };
    }
    return;
  },
};

export default rule;
