import { held, reindexLocks, tableLocks } from '../locks.js';
import { relSql } from '../sql.js';
import type { Rule } from '../types.js';

/** R32, R34: REINDEX without CONCURRENTLY, VACUUM FULL and CLUSTER on a live table. */
const rule: Rule = {
  code: 'SDB025',
  name: 'blocking-maintenance',
  summary: 'REINDEX without CONCURRENTLY, VACUUM FULL or CLUSTER lock the table for the whole rewrite',
  defaultSeverity: 'error',
  kinds: ['ReindexStmt', 'VacuumStmt', 'ClusterStmt'],
  sizeBound: true,
  check(s, ctx) {
    if (s.kind !== 'ReindexStmt' && s.kind !== 'VacuumStmt' && s.kind !== 'ClusterStmt') return;
    const lock = tableLocks(s, ctx).find((l) => ctx.live(l.rel));
    if (!lock) return;
    const reindex = s.kind === 'ReindexStmt';
    return {
      message: `${reindex ? 'REINDEX without CONCURRENTLY' : s.kind === 'ClusterStmt' ? 'CLUSTER' : 'VACUUM FULL'} on live table`,
      ...(reindex ? held(reindexLocks(s, ctx), { how: 'for the whole rebuild', scans: true }) : held([{ on: lock.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for the whole rewrite', rewrites: true, scans: true })),
      why: reindex
        ? `Every read and write of ${relSql(lock.rel)} waits until the rebuild ends: REINDEX holds ACCESS EXCLUSIVE on each index it rebuilds, and a plain SELECT opens every index of the table it reads.`
        : 'The table is rewritten while nothing can read or write it.',
      fix: reindex
        ? `-- in a migration of its own (outside a transaction):\n${s.text.replace(/^REINDEX\s+(\([^)]*\)\s*)?(INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b/i, (_m, opts, what) => `REINDEX ${opts ?? ''}${what} CONCURRENTLY`)};`
        : '-- use pg_repack (or PostgreSQL 19\'s REPACK CONCURRENTLY) outside the migration',
      table: lock.rel,
    };
  },
};

export default rule;
