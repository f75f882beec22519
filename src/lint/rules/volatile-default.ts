import { held } from '../locks.js';
import { ident, relSql, typeSql, volatileCall } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterSql, alterTable, columnDef, constraints } from './util.js';

/**
 * R09, R11: `ADD COLUMN` with a volatile default (`gen_random_uuid()`, `clock_timestamp()`, …), a
 * STORED generated column, or any default before PostgreSQL 11: PostgreSQL rewrites the table.
 * Prisma: `@default(dbgenerated("gen_random_uuid()"))`. `now()`/CURRENT_TIMESTAMP is stable: fine.
 */
const rule: Rule = {
  code: 'SDB009',
  name: 'volatile-default',
  summary: 'ADD COLUMN with a volatile default or STORED generated column rewrites the table',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AddColumn'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      const col = cmd.subtype === 'AT_AddColumn' ? columnDef(cmd) : undefined;
      if (!col?.colname) continue;
      const cs = constraints(col.constraints);
      const def = cs.find((c) => c.contype === 'CONSTR_DEFAULT');
      const generated = cs.find((c) => c.contype === 'CONSTR_GENERATED');
      const fn = def ? volatileCall(def.raw_expr) : undefined;
      const old = def && ctx.serverVersionNum < 110000;
      if (!fn && !generated && !old) continue;
      const name = ident(col.colname);
      const type = typeSql(col.typeName);
      const t = alterSql(a.rel);
      const expr = def ? (ctx.exprAt(s, (def as { location?: number }).location)?.replace(/^DEFAULT\s+/i, '') ?? (fn ? `${fn}()` : '…')) : undefined;
      if (generated) {
        hits.push({
        at: col.location,
          message: `adds STORED generated column ${name} to live table ${relSql(a.rel)}`,
          ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for a rewrite of the whole table', rewrites: true, scans: true }),
          why: `PostgreSQL computes the value for every existing row by rewriting ${relSql(a.rel)} and its indexes; nothing can read or write it meanwhile.`,
          fix: `${t} ADD COLUMN ${name} ${type};\n-- keep it filled with a BEFORE INSERT OR UPDATE trigger, and backfill existing rows in batches`,
          table: a.rel,
        });
        continue;
      }
      hits.push({
        at: col.location,
        message: fn ? `adds ${name} to live table ${relSql(a.rel)} with volatile default ${fn}()` : `adds ${name} with a default to live table ${relSql(a.rel)} on PostgreSQL < 11`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for a rewrite of the whole table', rewrites: true, scans: true }),
        why: fn
          ? `A volatile default has a different value per row, so PostgreSQL writes it into every existing row: ${relSql(a.rel)} and its indexes are rewritten while nothing can read or write them.`
          : 'Before PostgreSQL 11 any default makes ADD COLUMN rewrite the table.',
        fix: [
          `${t} ADD COLUMN ${name} ${type};`,
          `${t} ALTER COLUMN ${name} SET DEFAULT ${expr};  -- for new rows only: no rewrite`,
          `-- backfill existing rows in batches, e.g. repeated until it updates nothing:`,
          `-- UPDATE ${relSql(a.rel)} SET ${name} = ${expr} WHERE ctid IN (SELECT ctid FROM ${relSql(a.rel)} WHERE ${name} IS NULL LIMIT 10000);`,
          ...(cs.some((c) => c.contype === 'CONSTR_NOTNULL') ? ['-- then make it NOT NULL the safe way (see SDB007)'] : []),
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
