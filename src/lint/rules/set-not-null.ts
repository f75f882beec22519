import { lockText } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterSql, alterTable } from './util.js';

/** R07: `ALTER COLUMN … SET NOT NULL` on a live table — Prisma's optional → required. */
const rule: Rule = {
  code: 'SDB007',
  name: 'set-not-null',
  summary: 'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (and fails on NULLs)',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_SetNotNull'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      if (cmd.subtype !== 'AT_SetNotNull' || !cmd.name) continue;
      // A column added by an earlier statement of the linted files is new: its rows were all just written.
      if (ctx.newColumns.has(`${ctx.key(a.rel)}.${cmd.name}`)) continue;
      // A validated CHECK (col IS NOT NULL) of an earlier statement proves it: PostgreSQL 12+ reads no row.
      if (ctx.serverVersionNum >= 120000 && ctx.batch.provenNotNull.has(`${ctx.key(a.rel)}.${cmd.name}`)) continue;
      const col = ident(cmd.name);
      const check = ident(`${a.rel.name}_${cmd.name}_not_null`);
      const t = alterSql(a.rel);
      hits.push({
        message: `makes ${relSql(a.rel)}.${col} NOT NULL on a live table`,
        lock: lockText('ACCESS EXCLUSIVE', a.rel, 'while it reads every row'),
        why: `PostgreSQL reads the whole of ${relSql(a.rel)} to prove there is no NULL, and nothing can read or write it meanwhile; it fails at the end if a NULL exists.`,
        fix: [
          `-- 1. backfill first, in batches: UPDATE ${relSql(a.rel)} SET ${col} = … WHERE ${col} IS NULL …;`,
          `${t} ADD CONSTRAINT ${check} CHECK (${col} IS NOT NULL) NOT VALID;`,
          '-- 2. in the next migration: VALIDATE scans without blocking writes, and PostgreSQL 12+ then sets NOT NULL without a scan',
          `${t} VALIDATE CONSTRAINT ${check};`,
          `${t} ALTER COLUMN ${col} SET NOT NULL;`,
          `${t} DROP CONSTRAINT ${check};`,
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
