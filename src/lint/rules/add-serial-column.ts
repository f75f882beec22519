import { held } from '../locks.js';
import { baseType, ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterSql, alterTable, columnDef, constraints, isSerial } from './util.js';

const INT_OF: Record<string, string> = { serial: 'INTEGER', serial4: 'INTEGER', bigserial: 'BIGINT', serial8: 'BIGINT', smallserial: 'SMALLINT', serial2: 'SMALLINT' };

/** R10: `ADD COLUMN … SERIAL` or an identity column on a live table — Prisma's new `autoincrement()` field. */
const rule: Rule = {
  code: 'SDB010',
  name: 'add-serial-column',
  summary: 'ADD COLUMN SERIAL / identity fills every row from a sequence: a table rewrite',
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
      const identity = constraints(col.constraints).some((c) => c.contype === 'CONSTR_IDENTITY');
      if (!isSerial(col.typeName) && !identity) continue;
      const name = ident(col.colname);
      const int = INT_OF[baseType(col.typeName).toLowerCase()] ?? 'BIGINT';
      const seq = ident(`${a.rel.name}_${col.colname}_seq`);
      const t = alterSql(a.rel);
      hits.push({
        at: col.location,
        message: `adds ${identity ? 'identity' : baseType(col.typeName).toUpperCase()} column ${name} to live table ${relSql(a.rel)}`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for a rewrite of the whole table', rewrites: true, scans: true }),
        why: `Every existing row gets its own value from the sequence (nextval is volatile), so ${relSql(a.rel)} and its indexes are rewritten while nothing can read or write them.`,
        fix: [
          `CREATE SEQUENCE ${seq};`,
          `${t} ADD COLUMN ${name} ${int};`,
          `${t} ALTER COLUMN ${name} SET DEFAULT nextval('${seq.replaceAll("'", "''")}');  -- new rows only: no rewrite`,
          `ALTER SEQUENCE ${seq} OWNED BY ${relSql(a.rel)}.${name};`,
          `-- backfill existing rows in batches: UPDATE ${relSql(a.rel)} SET ${name} = nextval('${seq.replaceAll("'", "''")}') WHERE ctid IN (SELECT ctid FROM ${relSql(a.rel)} WHERE ${name} IS NULL LIMIT 10000);`,
          '-- then make it NOT NULL the safe way (see SDB007)',
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
