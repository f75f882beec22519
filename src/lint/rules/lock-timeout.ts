import { blocksApplication, held, tableLocks } from '../locks.js';
import { relSql } from '../sql.js';
import type { Rule } from '../types.js';

/**
 * R27: a statement that needs a lock the application's reads or writes conflict with, on a live
 * table, with no `lock_timeout` in effect. Reported once per file, at the first such statement.
 * stagedb's deploy sets the environment's DDL lock timeout (default 5 s) for every migration, so under
 * the stagedb runner this fires only when that is configured to 0; `prisma migrate deploy` sets none.
 */
const rule: Rule = {
  code: 'SDB022',
  name: 'lock-timeout',
  summary: 'a strong lock on a live table with no lock_timeout: every query on the table can queue behind it',
  defaultSeverity: 'warning',
  check(s, ctx) {
    if (ctx.lockTimeoutMs > 0 || ctx.once.has('SDB022')) return;
    const lock = tableLocks(s, ctx).find((l) => blocksApplication(l.mode) && ctx.live(l.rel));
    if (!lock) return;
    ctx.once.add('SDB022');
    const runner =
      ctx.runner === 'prisma'
        ? 'prisma migrate deploy sets no lock_timeout'
        : "the environment's DDL lock timeout is 0, so stagedb deploy sets none";
    return {
      message: `waits for ${lock.mode} on ${relSql(lock.rel)} with no lock_timeout (${runner})`,
      ...held([{ on: lock.rel, mode: lock.mode }]),
      why: `If any transaction holds a lock on ${relSql(lock.rel)} — a long report, an idle-in-transaction session — this statement waits for it, and every later query on ${relSql(lock.rel)} queues behind this statement: a 30-second report becomes a 30-second outage.`,
      fix:
        ctx.runner === 'prisma'
          ? "-- at the top of the file, so a blocked statement gives up instead of stalling the app:\nSET lock_timeout = '5s';"
          : "-- give the environment a DDL lock timeout in stagedb.config.ts (stagedb deploy's default is 5 s, and it retries a migration that hits it),\n-- or at the top of the file:\nSET lock_timeout = '5s';",
      table: lock.rel,
    };
  },
};

export default rule;
