import type { Constraint, Node } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, relSql, strings } from '../sql.js';
import type { Hit, Rel, Rule } from '../types.js';
import { addedConstraints, alterSql, alterTable } from './util.js';

/**
 * The `WHERE (…)` predicate of an exclusion constraint as written, without its parentheses. The parser
 * gives where the predicate's top node starts (for `a AND b`, at the AND), not where the clause does,
 * so it is found in the clause text: the grammar always parenthesizes it.
 */
function wherePredicate(clause: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < clause.length; i++) {
    const c = clause[i]!;
    if (c === "'" || c === '"') {
      const e = clause.indexOf(c, i + 1);
      if (e < 0) return undefined;
      i = e;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && /^WHERE\s*\(/i.test(clause.slice(i, i + 32)) && (i === 0 || /\s|\)/.test(clause[i - 1]!))) {
      const open = clause.indexOf('(', i);
      for (let j = open, d = 0; j < clause.length; j++) {
        if (clause[j] === "'" || clause[j] === '"') {
          const e = clause.indexOf(clause[j]!, j + 1);
          if (e < 0) return undefined;
          j = e;
        } else if (clause[j] === '(') d++;
        else if (clause[j] === ')' && --d === 0) return clause.slice(open + 1, j).trim();
      }
      return undefined;
    }
  }
  return undefined;
}

type IndexElem = { name?: string; expr?: Node };

/** The elements of an exclusion constraint: each an index element and its operator (`=`, `&&`). */
function elements(c: Constraint): Array<{ elem?: IndexElem; op: string[] }> {
  return (c.exclusions ?? []).map((e) => {
    const items = as<{ items?: Node[] }>(e, 'List')?.items ?? [];
    return { elem: as<IndexElem>(items[0], 'IndexElem'), op: strings(as<{ items?: Node[] }>(items[1], 'List')?.items) };
  });
}

/** The column an element names, also when parenthesized (`(during)`). */
function elemColumn(elem: IndexElem | undefined): string | undefined {
  if (elem?.name) return elem.name;
  const f = strings(as<{ fields?: Node[] }>(elem?.expr, 'ColumnRef')?.fields);
  return f.length === 1 ? f[0] : undefined;
}

/** The name PostgreSQL gives an unnamed exclusion constraint: `<table>_<column or function or "expr">_…_excl`. */
function exclusionName(rel: Rel, c: Constraint): string {
  if (c.conname) return c.conname;
  const parts = elements(c).map(({ elem }) => elemColumn(elem) ?? strings(as<{ funcname?: Node[] }>(elem?.expr, 'FuncCall')?.funcname).pop() ?? 'expr');
  return `${rel.name}_${parts.join('_')}_excl`;
}

/**
 * A query that finds rows the constraint would reject, when its elements are plain columns: the
 * build fails on the first conflict, after holding the lock all along. (A self-join: on a large
 * table run it on a replica.)
 */
function conflictQuery(rel: Rel, c: Constraint, where: string | undefined): string | undefined {
  const pairs: Array<{ col: string; op: string }> = [];
  for (const { elem, op } of elements(c)) {
    const col = elemColumn(elem);
    // An expression element, or a schema-qualified operator: left to the reader.
    if (!col || op.length !== 1) return undefined;
    pairs.push({ col, op: op[0]! });
  }
  if (!pairs.length) return undefined;
  const cols = [...new Set(pairs.map((p) => ident(p.col)))].join(', ');
  const on = pairs.map((p) => `a.${ident(p.col)} ${p.op} b.${ident(p.col)}`).join(' AND ');
  return `WITH r AS (SELECT ctid AS row_id, ${cols} FROM ${relSql(rel)}${where ? ` WHERE (${where})` : ''}) SELECT a.row_id, b.row_id FROM r a JOIN r b ON a.row_id < b.row_id AND ${on} LIMIT 10;`;
}

/**
 * R16: `ADD CONSTRAINT … EXCLUDE` on a live table. PostgreSQL builds the constraint's index and checks
 * every row against every other under ACCESS EXCLUSIVE, and an exclusion constraint has no way around
 * it: `NOT VALID` is refused for EXCLUDE ("EXCLUDE constraints cannot be marked NOT VALID"), and
 * `USING INDEX` takes only a unique index. So the alternative is to make the outage short and
 * planned — find the conflicts first, a maintenance window, a lock_timeout, a larger
 * maintenance_work_mem — or to build a copy of the table with the constraint and swap it in.
 */
const rule: Rule = {
  code: 'SDB035',
  name: 'exclusion-constraint',
  summary: 'ADD CONSTRAINT … EXCLUDE builds its index and checks every row under ACCESS EXCLUSIVE; there is no NOT VALID',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AddConstraint'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const c of addedConstraints(a, 'CONSTR_EXCLUSION')) {
      const t = relSql(a.rel);
      const name = ident(exclusionName(a.rel, c));
      const clause = ctx.clauseAt(s, c.location);
      const add = a.cmds.length === 1 ? `${s.text};` : `${alterSql(a.rel)} ADD ${clause ?? `CONSTRAINT ${name} EXCLUDE …`};`;
      const conflicts = conflictQuery(a.rel, c, clause ? wherePredicate(clause) : undefined);
      hits.push({
        at: c.location,
        message: `adds exclusion constraint ${name} to live table ${t}, building its index under the lock`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for the whole index build and check', scans: true }),
        why: `Nothing can read or write ${t} while PostgreSQL builds the constraint's index and checks every row against the others, and it fails at the end if two rows conflict. Unlike CHECK and FOREIGN KEY, EXCLUDE cannot be added NOT VALID and validated later, nor attached to an index built CONCURRENTLY.`,
        fix: [
          '-- no form of this runs without the lock; keep the outage short and planned:',
          conflicts
            ? `-- 1. before the window, look for rows that conflict (the build fails on the first one, after holding the lock):\n-- ${conflicts}`
            : '-- 1. before the window, look for rows that conflict (the build fails on the first one, after holding the lock)',
          "-- 2. in a maintenance window (or at the lowest traffic), in a migration of its own:",
          ctx.lockTimeoutMs > 0
            ? `-- (the lock_timeout in effect, ${ctx.lockTimeoutMs / 1000} s, makes it give up rather than queue every query behind it)`
            : "SET lock_timeout = '5s';            -- give up rather than queue every query behind it",
          "SET maintenance_work_mem = '1GB';   -- (what the server can spare) a faster index build: less time under the lock",
          '-- stagedb-lint-disable-next-statement SDB035: planned maintenance window (the outage is accepted and recorded)',
          add,
          `-- or stay online: create a copy of ${t} with the constraint, copy the rows in batches (a trigger keeps it current), and swap the names in one short transaction`,
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
