import { held } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterTable } from './util.js';

/** R25: `ALTER COLUMN … DROP NOT NULL` — Prisma's required → optional. */
const rule: Rule = {
  code: 'SDB020',
  name: 'drop-not-null',
  summary: 'DROP NOT NULL: app versions still running may not expect NULL',
  defaultSeverity: 'info',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_DropNotNull'],
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      if (cmd.subtype !== 'AT_DropNotNull' || !cmd.name) continue;
      hits.push({
        message: `makes ${relSql(a.rel)}.${ident(cmd.name)} nullable`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'briefly' }),
        why: `App versions still running were typed for a value that is always there; once the new code writes NULL, their reads get null where they expect a value.`,
        fix: '-- deploy the app that handles NULL before any code writes NULL into the column',
      });
    }
    return hits;
  },
};

export default rule;
