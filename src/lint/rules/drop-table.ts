import type { DropStmt, Node } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, relOfNames, relSql, strings } from '../sql.js';
import type { Hit, Rule } from '../types.js';

/** R18, R19: `DROP TABLE` of a live table — Prisma's removed or renamed model; `DROP SCHEMA`; `DROP DATABASE`. */
const rule: Rule = {
  code: 'SDB016',
  name: 'drop-table',
  summary: 'DROP TABLE / SCHEMA / DATABASE: app versions still running break, the data is gone',
  defaultSeverity: 'warning',
  kinds: ['DropStmt', 'DropdbStmt'],
  check(s, ctx) {
    if (s.kind === 'DropdbStmt') {
      const name = (s.node as { DropdbStmt: { dbname?: string } }).DropdbStmt.dbname ?? '?';
      return { message: `drops database ${ident(name)}`, why: 'Everything in it is lost.', severity: 'error' };
    }
    if (s.kind !== 'DropStmt') return;
    const d = as<DropStmt>(s.node, 'DropStmt')!;
    if (d.removeType === 'OBJECT_SCHEMA') {
      const names = (d.objects ?? []).map((o) => strings([o as Node])[0] ?? '?');
      return {
        message: `drops schema ${names.map(ident).join(', ')}${d.behavior === 'DROP_CASCADE' ? ' with CASCADE' : ''}`,
        why: 'Every table, type and function in it is lost, with its data.',
        severity: 'error',
      };
    }
    if (d.removeType !== 'OBJECT_TABLE') return;
    const hits: Hit[] = [];
    for (const o of d.objects ?? []) {
      const rel = relOfNames(strings(as<{ items?: Node[] }>(o, 'List')?.items));
      if (!rel || !ctx.live(rel)) continue;
      // Its foreign keys go with it, and their triggers on the tables they reference: those are locked too.
      const refs = ctx.foreignKeysOf(rel).map((f) => f.references).filter((r, i, all) => ctx.key(r) !== ctx.key(rel) && all.findIndex((o) => ctx.key(o) === ctx.key(r)) === i);
      hits.push({
        message: `drops live table ${relSql(rel)}${d.behavior === 'DROP_CASCADE' ? ' with CASCADE' : ''}`,
        ...held([rel, ...refs].map((on) => ({ on, mode: 'ACCESS EXCLUSIVE' as const })), { how: 'until it commits' }),
        why: `App versions still running fail on their next query of ${relSql(rel)}, and its data is lost. A renamed model is a drop and a create in Prisma: the data does not move.${refs.length ? ` Dropping its foreign key${refs.length > 1 ? 's' : ''} also locks ${refs.map(relSql).join(', ')}: every query there waits too.` : ''}`,
        fix: `-- two phases: deploy an app version that no longer uses ${relSql(rel)} first, drop it in a later release.\n-- a rename instead? keep the table and map the new model name to it: @@map("${rel.name.replaceAll('"', '\\"')}")`,
      });
    }
    return hits;
  },
};

export default rule;
