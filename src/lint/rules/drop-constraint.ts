import { held } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterTable } from './util.js';

/** R26: `DROP CONSTRAINT` — Prisma's `-- DropForeignKey`, before re-adding a foreign key with new actions. */
const rule: Rule = {
  code: 'SDB021',
  name: 'drop-constraint',
  summary: 'DROP CONSTRAINT removes integrity guarantees and briefly locks the table (and, for a foreign key, the referenced one)',
  defaultSeverity: 'info',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_DropConstraint'],
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      if (cmd.subtype !== 'AT_DropConstraint' || !cmd.name) continue;
      // A foreign key's triggers live on both tables: dropping it takes ACCESS EXCLUSIVE on the referenced one too.
      const ref = ctx.foreignKeysOf(a.rel).find((f) => f.name === cmd.name)?.references;
      const fk = !!ref || /_fkey$/.test(cmd.name);
      hits.push({
        message: `drops constraint ${ident(cmd.name)} on ${relSql(a.rel)}`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }, ...(ref ? [{ on: ref, mode: 'ACCESS EXCLUSIVE' as const }] : [])], { how: ref || !fk ? 'briefly' : 'briefly, and ACCESS EXCLUSIVE on the referenced table' }),
        why: `Until a replacement is in place, nothing enforces ${ident(cmd.name)}; the brief lock still queues behind long transactions (see SDB022)${ref ? `, and on ${relSql(ref)} too: reads and writes of both tables wait` : ''}.`,
        fix: fk ? '-- when re-adding it with new actions, add the new one NOT VALID and VALIDATE it in the next migration (SDB004)' : undefined,
      });
    }
    return hits;
  },
};

export default rule;
