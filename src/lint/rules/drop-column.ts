import { held } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterTable, columnDef } from './util.js';

/** R17: `DROP COLUMN` on a live table — Prisma's removed field, and a renamed field without `@map`. */
const rule: Rule = {
  code: 'SDB015',
  name: 'drop-column',
  summary: 'DROP COLUMN breaks app versions still running and loses the data',
  defaultSeverity: 'warning',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_DropColumn'],
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const key = ctx.key(a.rel);
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      if (cmd.subtype !== 'AT_DropColumn' || !cmd.name) continue;
      // Dropped and added again under the same name: SDB012 reports the data loss.
      const readded = ctx.statements.some((o) => o.index >= s.index && ((b) => b && ctx.key(b.rel) === key && b.cmds.some((c) => c.subtype === 'AT_AddColumn' && columnDef(c)?.colname === cmd.name))(alterTable(o)));
      if (readded) continue;
      const name = ident(cmd.name);
      hits.push({
        message: `drops column ${relSql(a.rel)}.${name}`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'briefly' }),
        why: `Prisma Client names every column it selects, so app versions still running fail on their next query of ${relSql(a.rel)} once ${name} is gone; its data is lost.`,
        fix: `-- expand and contract: first deploy an app version whose schema.prisma no longer has the field,\n-- with this statement removed from the migration (prisma migrate dev --create-only, then edit);\n-- drop the column in a later release, once no running version reads it.\n-- a rename instead? keep the column and map the new field name to it: @map("${cmd.name.replaceAll('"', '\\"')}")`,
      });
    }
    return hits;
  },
};

export default rule;
