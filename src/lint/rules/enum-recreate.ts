import { held } from '../locks.js';
import { baseType, ident, relSql, typeSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterTable, columnDef } from './util.js';

/**
 * R22, R24: Prisma's enum recreate, for a removed or renamed enum value:
 * `CREATE TYPE "E_new"; ALTER TABLE … ALTER COLUMN … TYPE "E_new" USING (…::text::"E_new"); ALTER TYPE … RENAME …; DROP TYPE "E_old"`.
 */
const rule: Rule = {
  code: 'SDB019',
  name: 'enum-recreate',
  summary: "Prisma's enum recreate rewrites every table that uses the enum, and fails on rows with a removed value",
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AlterColumnType'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      const col = cmd.subtype === 'AT_AlterColumnType' ? columnDef(cmd) : undefined;
      if (!col || !cmd.name) continue;
      const type = baseType(col.typeName);
      if (!ctx.batch.types.has(ctx.key({ name: type }))) continue;
      const name = ident(cmd.name);
      const old = type.replace(/_new$/, '');
      hits.push({
        message: `rewrites ${relSql(a.rel)} to move ${name} to the recreated enum ${typeSql(col.typeName)}`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for a rewrite of the table and all its indexes', rewrites: true, scans: true }),
        why: `Changing a column's enum type rewrites every row of ${relSql(a.rel)} while nothing can read or write it, and fails if a row still holds a removed value; app versions still running may write the removed value.`,
        fix: [
          `-- keep the old value in ${ident(old)} for now (PostgreSQL cannot drop an enum value without this rewrite):`,
          `-- 1. stop writing it (deploy the app first), 2. move rows off it in batches, e.g.`,
          `-- UPDATE ${relSql(a.rel)} SET ${name} = '<replacement>' WHERE ${name} = '<removed value>' AND ctid IN (SELECT ctid FROM ${relSql(a.rel)} WHERE ${name} = '<removed value>' LIMIT 10000);`,
          '-- 3. remove the value in a maintenance window, or leave it unused',
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
