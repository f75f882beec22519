import { held } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterSql, alterTable } from './util.js';

const WHAT: Record<string, (name?: string) => { clause: string; why: string }> = {
  AT_SetLogged: () => ({ clause: 'SET LOGGED', why: 'PostgreSQL rewrites the whole table, writing all of it to the WAL (replicas fall behind while they replay it)' }),
  AT_SetUnLogged: () => ({ clause: 'SET UNLOGGED', why: 'PostgreSQL rewrites the whole table; afterwards it is emptied after a crash and no longer reaches replicas' }),
  AT_SetAccessMethod: (n) => ({ clause: `SET ACCESS METHOD ${n ? ident(n) : '…'}`, why: 'PostgreSQL rewrites the whole table in the new storage format' }),
  AT_SetTableSpace: (n) => ({ clause: `SET TABLESPACE ${n ? ident(n) : '…'}`, why: 'PostgreSQL copies the whole table and its files to the new tablespace' }),
};

/**
 * R38: `ALTER TABLE … SET LOGGED / SET UNLOGGED / SET ACCESS METHOD / SET TABLESPACE` on a live table:
 * a full rewrite (or copy) under ACCESS EXCLUSIVE. On a partitioned table these only set what new
 * partitions get, so with a database that says so, nothing is reported.
 */
const rule: Rule = {
  code: 'SDB031',
  name: 'table-rewrite',
  summary: 'SET LOGGED / UNLOGGED / ACCESS METHOD / TABLESPACE rewrites the table under ACCESS EXCLUSIVE',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_SetLogged', 'AT_SetUnLogged', 'AT_SetAccessMethod', 'AT_SetTableSpace'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel) || ctx.stats(a.rel)?.kind === 'p') return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      const w = cmd.subtype ? WHAT[cmd.subtype]?.(cmd.name) : undefined;
      if (!w) continue;
      const t = relSql(a.rel);
      const copy = ident(`${a.rel.name}_new`);
      hits.push({
        message: `${w.clause} rewrites live table ${t}`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for the whole rewrite', rewrites: true, scans: true }),
        why: `${w.why}, and nothing can read or write ${t} until it is done.`,
        fix: [
          '-- no form of this runs without the lock: build a copy and swap it in',
          `CREATE ${cmd.subtype === 'AT_SetUnLogged' ? 'UNLOGGED ' : ''}TABLE ${copy} (LIKE ${t} INCLUDING ALL)${cmd.subtype === 'AT_SetAccessMethod' && cmd.name ? ` USING ${ident(cmd.name)}` : ''}${cmd.subtype === 'AT_SetTableSpace' && cmd.name ? ` TABLESPACE ${ident(cmd.name)}` : ''};`,
          `-- copy the rows in batches (a trigger on ${t} keeps the copy current), then in one short transaction:`,
          `${alterSql(a.rel)} RENAME TO ${ident(`${a.rel.name}_old`)};`,
          `ALTER TABLE ${copy} RENAME TO ${ident(a.rel.name)};`,
          ...(cmd.subtype === 'AT_SetTableSpace' ? ['-- or move it online with pg_repack --tablespace'] : []),
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
