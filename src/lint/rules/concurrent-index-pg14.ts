import type { IndexStmt, Node } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, relOf, relSql } from '../sql.js';
import type { Rule } from '../types.js';

/** The PostgreSQL 14 minors whose CONCURRENTLY builds can miss rows (fixed in 14.4). */
const affected = (v: number) => v >= 140000 && v < 140004;

/**
 * R42: `CREATE INDEX CONCURRENTLY` or `REINDEX … CONCURRENTLY` on PostgreSQL 14.0–14.3, whose
 * concurrent builds can silently miss rows (fixed in 14.4): queries that use the index then return
 * wrong results. Known only from the server's version: the target database's with `--env` and in the
 * deploy gate; without one lint assumes a current server and reports nothing.
 */
const rule: Rule = {
  code: 'SDB034',
  name: 'concurrent-index-pg14',
  summary: 'CREATE INDEX / REINDEX CONCURRENTLY on PostgreSQL 14.0–14.3 can build a corrupt index',
  defaultSeverity: 'error',
  kinds: ['IndexStmt', 'ReindexStmt'],
  check(s, ctx) {
    if (!affected(ctx.serverVersionNum)) return;
    let again: string;
    let on: string;
    if (s.kind === 'IndexStmt') {
      const i = as<IndexStmt>(s.node, 'IndexStmt')!;
      if (!i.concurrent) return;
      const rel = relOf(i.relation);
      on = rel ? relSql(rel) : 'the table';
      again = i.idxname ? `REINDEX INDEX CONCURRENTLY ${rel?.schema ? `${ident(rel.schema)}.` : ''}${ident(i.idxname)}` : `REINDEX TABLE CONCURRENTLY ${rel ? relSql(rel) : '…'}`;
    } else {
      const r = (s.node as { ReindexStmt: { params?: Node[]; relation?: never } }).ReindexStmt;
      if (!(r.params ?? []).some((o) => as<{ defname?: string }>(o, 'DefElem')?.defname === 'concurrently')) return;
      const target = relOf(r.relation);
      on = target ? relSql(target) : 'the table';
      again = s.text;
    }
    const minor = ctx.serverVersionNum % 100;
    return {
      message: `builds an index CONCURRENTLY on PostgreSQL 14.${minor}, which can build it with rows missing`,
      ...held([{ on, mode: 'SHARE UPDATE EXCLUSIVE' }], { how: 'while it reads the table: the hazard is the result, not the lock', scans: true }),
      why: 'PostgreSQL 14.0 to 14.3 have a bug (fixed in 14.4) by which a concurrent build can miss rows updated during the build; queries that use the index then silently return wrong results, and unique indexes stop preventing duplicates.',
      fix: `-- upgrade the server to 14.4 or later first (a minor upgrade: same data directory, a restart);\n-- then rebuild what was built concurrently on 14.0–14.3, e.g. ${again};\n-- amcheck finds such indexes: SELECT bt_index_check('<index>'::regclass, heapallindexed => true);`,
    };
  },
};

export default rule;
