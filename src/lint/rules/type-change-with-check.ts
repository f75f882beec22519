import { held } from '../locks.js';
import { baseType, formatType, ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { likelyWidening, safeTypeChange } from './column-type-change.js';
import { alterSql, alterTable, columnDef } from './util.js';

/**
 * R41: a type change PostgreSQL makes without a rewrite (a longer varchar, varchar → text, …) on a
 * column that a CHECK constraint reads: the constraint is re-added and every row is checked against
 * it, under ACCESS EXCLUSIVE. (A change that rewrites is SDB011, and checks during the rewrite.) The
 * constraints come from the target database (`--env`, the deploy gate) or from the linted files; with
 * neither there is nothing to know them from, so nothing is reported.
 */
const rule: Rule = {
  code: 'SDB033',
  name: 'type-change-with-check',
  summary: 'ALTER COLUMN TYPE on a column with a CHECK constraint checks every row under ACCESS EXCLUSIVE, even without a rewrite',
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
      const key = `${ctx.key(a.rel)}.${cmd.name}`;
      if (ctx.batch.types.has(ctx.key({ name: baseType(col.typeName) })) || ctx.newColumns.has(key)) continue;
      const to = formatType(col.typeName);
      const from = ctx.stats(a.rel)?.columns?.[cmd.name];
      // A change that rewrites is SDB011's: the rewrite checks the constraints as it goes.
      if (!(from !== undefined ? safeTypeChange(from, to) : likelyWidening(to))) continue;
      // Those a DROP CONSTRAINT before it removed (the first step of this rule's own fix) are not re-checked.
      const checks = ctx.checksOn(a.rel, cmd.name);
      if (checks.length === 0) continue;
      const t = alterSql(a.rel);
      const names = checks.map((c) => ident(c.name)).join(', ');
      const clause = a.cmds.length === 1 ? s.text : `${t} ALTER COLUMN ${ident(cmd.name)} TYPE ${ctx.exprAt(s, col.typeName?.location) ?? to}`;
      hits.push({
        at: col.location,
        message: `changes the type of ${ident(cmd.name)} on live table ${relSql(a.rel)}, which CHECK constraint${checks.length > 1 ? 's' : ''} ${names} read${checks.length > 1 ? '' : 's'}`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'while it checks every row', scans: true }),
        why: `The type change itself needs no rewrite, but PostgreSQL re-adds ${names} and checks every row of ${relSql(a.rel)} against ${checks.length > 1 ? 'them' : 'it'}, while nothing can read or write the table.`,
        fix: [
          ...checks.map((c) => `${t} DROP CONSTRAINT ${ident(c.name)};`),
          `${clause};`,
          ...checks.map((c) => `${t} ADD CONSTRAINT ${ident(c.name)} ${c.def.replace(/\s+NOT VALID$/i, '')} NOT VALID;`),
          '-- then, in the next migration (VALIDATE takes only SHARE UPDATE EXCLUSIVE):',
          ...checks.map((c) => `${t} VALIDATE CONSTRAINT ${ident(c.name)};`),
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
