import { ident, relSql, typeSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterSql, alterTable, columnDef } from './util.js';
import { held } from '../locks.js';

/**
 * R13: Prisma's "drop and recreate" for a change it cannot cast (`DROP COLUMN "c", ADD COLUMN "c" …`,
 * with the warning "would be dropped and recreated"): every value of the column is lost.
 */
const rule: Rule = {
  code: 'SDB012',
  name: 'drop-and-recreate-column',
  summary: 'DROP COLUMN and ADD COLUMN of the same name: the data in the column is lost',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_DropColumn'],
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const key = ctx.key(a.rel);
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      if (cmd.subtype !== 'AT_DropColumn' || !cmd.name) continue;
      // The ADD may be in this statement (Prisma's shape) or a later one of the same file.
      const later = ctx.statements.filter((o) => o.index >= s.index);
      const readd = later.flatMap((o) => {
        const b = alterTable(o);
        if (!b || ctx.key(b.rel) !== key) return [];
        return b.cmds.filter((c) => c.subtype === 'AT_AddColumn' && columnDef(c)?.colname === cmd.name).map((c) => columnDef(c)!);
      })[0];
      if (!readd) continue;
      const name = ident(cmd.name);
      const type = typeSql(readd.typeName);
      const t = alterSql(a.rel);
      hits.push({
        message: `drops and recreates ${relSql(a.rel)}.${name} as ${type}: every value in it is lost`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'briefly' }),
        why: `Prisma writes a change it cannot cast as DROP COLUMN + ADD COLUMN: the column comes back empty (or with its default), and app versions still running read the wrong data.`,
        fix: [
          '-- keep the data: add the new column beside the old one and copy with a cast',
          `${t} ADD COLUMN ${ident(`${cmd.name}_new`)} ${type};`,
          `-- UPDATE ${relSql(a.rel)} SET ${ident(`${cmd.name}_new`)} = ${name}::${type} WHERE … (in batches)`,
          `-- switch the app to the new column, then drop ${name} in a later release`,
        ].join('\n'),
        severity: 'error',
      });
    }
    return hits;
  },
};

export default rule;
