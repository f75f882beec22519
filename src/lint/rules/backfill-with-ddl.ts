import type { InsertStmt, SelectStmt } from 'libpg-query';
import { blocksApplication, held, tableLocks } from '../locks.js';
import { as, relOf, relSql } from '../sql.js';
import type { Rule, Statement } from '../types.js';

/** A data change that can touch many rows: UPDATE, DELETE, MERGE, INSERT … SELECT (not INSERT … VALUES). */
function isBackfill(s: Statement): boolean {
  if (s.kind === 'UpdateStmt' || s.kind === 'DeleteStmt' || s.kind === 'MergeStmt') return true;
  if (s.kind !== 'InsertStmt') return false;
  const sel = as<SelectStmt>(as<InsertStmt>(s.node, 'InsertStmt')!.selectStmt, 'SelectStmt');
  return !!sel && !sel.valuesLists?.length;
}

/**
 * R29: backfill DML in the same transaction as DDL that locks a live table. The DDL's lock is held
 * until the transaction commits, so for as long as the backfill runs. Which statements share a
 * transaction comes from the file's real run mode: statement by statement, nothing is held.
 */
const rule: Rule = {
  code: 'SDB023',
  name: 'backfill-with-ddl',
  summary: 'a backfill (UPDATE, DELETE, INSERT … SELECT) in the same transaction as DDL that locks a live table',
  defaultSeverity: 'warning',
  kinds: ['UpdateStmt', 'DeleteStmt', 'InsertStmt', 'MergeStmt'],
  sizeBound: true,
  check(s, ctx) {
    if (!isBackfill(s) || !ctx.inTransaction(s)) return;
    let ddl: { line: number; lock: ReturnType<typeof tableLocks>[number] } | undefined;
    for (const o of ctx.sameTransaction(s)) {
      if (o.kind === 'UpdateStmt' || o.kind === 'DeleteStmt' || o.kind === 'InsertStmt' || o.kind === 'MergeStmt') continue;
      const lock = tableLocks(o, ctx).find((l) => blocksApplication(l.mode) && ctx.live(l.rel));
      if (lock) {
        ddl = { line: o.line, lock };
        break;
      }
    }
    if (!ddl) return;
    const target = relOf((s.node as Record<string, { relation?: never }>)[s.kind]!.relation);
    const verb = s.kind === 'InsertStmt' ? 'INSERT … SELECT' : s.kind.replace('Stmt', '').toUpperCase();
    return {
      message: `${verb}${target ? ` on ${relSql(target)}` : ''} runs in the same transaction as the DDL at line ${ddl.line}, which locks ${relSql(ddl.lock.rel)}`,
      // An UPDATE or DELETE of the locked table itself reads all of it (what is "not yet done" is found by reading).
      ...held([{ on: ddl.lock.rel, mode: ddl.lock.mode }], { how: `(from line ${ddl.line}) held until the backfill finishes and the transaction commits`, scans: !!target && s.kind !== 'InsertStmt' && ctx.key(target) === ctx.key(ddl.lock.rel) }),
      why: `${ctx.model.reason}: the lock taken at line ${ddl.line} is held for as long as this statement runs; a backfill of a big table holds it for minutes, and its row locks block the app's writes to those rows too.`,
      fix: [
        '-- move the backfill to a migration of its own (each stagedb migration is its own transaction), or to a job,',
        '-- and run it in batches until it changes no row, e.g.:',
        target && s.kind === 'UpdateStmt'
          ? `-- UPDATE ${relSql(target)} SET … WHERE ctid IN (SELECT ctid FROM ${relSql(target)} WHERE <not yet done> LIMIT 10000);`
          : '-- … WHERE ctid IN (SELECT ctid FROM … WHERE <not yet done> LIMIT 10000);',
      ].join('\n'),
      table: target && ctx.live(target) ? target : undefined,
    };
  },
};

export default rule;
