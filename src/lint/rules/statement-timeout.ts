import type { IndexStmt } from 'libpg-query';
import { alterCmdLock, blocksApplication, held, reindexLocks, tableLocks, type HeldLock } from '../locks.js';
import { as, formatType, relOf, relSql } from '../sql.js';
import type { LockMode, Rel, Rule, Statement } from '../types.js';
import type { FileContext } from '../file-context.js';
import { safeTypeChange } from './column-type-change.js';
import { provenNotNull } from './set-not-null.js';
import { alterTable, columnDef, constraintOf } from './util.js';

/**
 * What a statement does to a live table for as long as the table is big, under a lock that blocks the
 * application: a scan or a rewrite. Undefined for everything that takes its lock only briefly.
 */
function longUnderLock(s: Statement, ctx: FileContext): { rel: Rel; mode: LockMode; what: string; rewrites?: boolean; locks?: HeldLock[] } | undefined {
  if (s.kind === 'IndexStmt') {
    const i = as<IndexStmt>(s.node, 'IndexStmt')!;
    const rel = relOf(i.relation);
    return rel && !i.concurrent && ctx.live(rel) ? { rel, mode: 'SHARE', what: 'builds an index' } : undefined;
  }
  if (s.kind === 'AlterTableStmt') {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return undefined;
    for (const cmd of a.cmds) {
      const mode = alterCmdLock(cmd);
      if (!blocksApplication(mode)) continue;
      const c = constraintOf(cmd);
      let what: string | undefined;
      let rewrites = false;
      if (cmd.subtype === 'AT_AlterColumnType') {
        const from = cmd.name ? ctx.stats(a.rel)?.columns?.[cmd.name] : undefined;
        if (from === undefined || !safeTypeChange(from, formatType(columnDef(cmd)?.typeName))) {
          what = 'changes a column type (a rewrite or a scan)';
          rewrites = from !== undefined;
        }
      } else if (cmd.subtype === 'AT_SetNotNull' && !(cmd.name && provenNotNull(ctx, a.rel, cmd.name))) what = 'sets NOT NULL (a scan)';
      else if (cmd.subtype === 'AT_AddConstraint' && (c?.contype === 'CONSTR_FOREIGN' || c?.contype === 'CONSTR_CHECK') && !c.skip_validation && c.initially_valid !== false) what = 'adds a constraint it checks against every row';
      else if (cmd.subtype === 'AT_AddConstraint' && (c?.contype === 'CONSTR_PRIMARY' || c?.contype === 'CONSTR_UNIQUE' || c?.contype === 'CONSTR_EXCLUSION') && !c.indexname) what = 'builds an index for a constraint';
      else if (cmd.subtype === 'AT_SetLogged' || cmd.subtype === 'AT_SetUnLogged' || cmd.subtype === 'AT_SetAccessMethod' || cmd.subtype === 'AT_SetTableSpace') {
        what = 'rewrites the table';
        rewrites = true;
      }
      if (what) return { rel: a.rel, mode, what, rewrites };
    }
    return undefined;
  }
  if (s.kind === 'ClusterStmt' || s.kind === 'VacuumStmt' || s.kind === 'ReindexStmt') {
    const lock = tableLocks(s, ctx).find((l) => blocksApplication(l.mode) && ctx.live(l.rel));
    const reindex = s.kind === 'ReindexStmt';
    return lock ? { ...lock, what: reindex ? 'rebuilds indexes' : 'rewrites the table', rewrites: !reindex, ...(reindex ? { locks: reindexLocks(s, ctx) } : {}) } : undefined;
  }
  return undefined;
}

/**
 * R28: a statement that scans or rewrites a live table under a lock that blocks the application, with
 * no `statement_timeout` in effect: nothing bounds how long the table stays locked if it is bigger,
 * or the scan slower, than the review assumed. Reported once per file. Off by default: the hazards
 * themselves are reported by their own rules (SDB001, SDB007, SDB011, …), and a blanket
 * statement_timeout also cancels the long operations that are safe (CREATE INDEX CONCURRENTLY);
 * turn it on to require that every such migration carries its own bound.
 */
const rule: Rule = {
  code: 'SDB027',
  name: 'statement-timeout',
  summary: 'a scan or rewrite under a blocking lock with no statement_timeout: nothing bounds how long the table stays locked',
  defaultSeverity: 'off',
  kinds: ['IndexStmt', 'AlterTableStmt', 'ClusterStmt', 'VacuumStmt', 'ReindexStmt'],
  subtypes: ['AT_AlterColumnType', 'AT_SetNotNull', 'AT_AddConstraint', 'AT_SetLogged', 'AT_SetUnLogged', 'AT_SetAccessMethod', 'AT_SetTableSpace'],
  check(s, ctx) {
    if (ctx.statementTimeoutMs > 0 || ctx.once.has('SDB027')) return;
    const long = longUnderLock(s, ctx);
    if (!long) return;
    ctx.once.add('SDB027');
    const runner = ctx.runner === 'prisma' ? 'prisma migrate deploy sets none' : 'the environment sets no statementTimeout for stagedb deploy';
    return {
      message: `${long.what} on live table ${relSql(long.rel)} under ${long.mode} with no statement_timeout (${runner})`,
      ...held(long.locks ?? [{ on: long.rel, mode: long.mode }], { how: 'until the statement ends', scans: true, rewrites: long.rewrites }),
      why: `How long ${relSql(long.rel)} stays locked depends on its size and on the server's load at deploy time; with no statement_timeout a migration that runs far longer than expected keeps the application waiting until someone cancels it by hand.`,
      fix: [
        '-- at the top of the file (a bound you can afford to have the table locked; the migration fails and rolls back beyond it):',
        "SET statement_timeout = '1min';",
        ...(ctx.runner === 'stagedb' ? ['-- or for every deploy: statementTimeout in the environment in stagedb.config.ts'] : []),
      ].join('\n'),
      table: long.rel,
    };
  },
};

export default rule;
