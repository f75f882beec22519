import type { AlterTableCmd, RangeVar } from 'libpg-query';
import type { FileContext } from '../file-context.js';
import { held } from '../locks.js';
import { relOf, relSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterSql, alterTable, ownMigration } from './util.js';

type PartitionCmd = { name?: RangeVar; concurrent?: boolean };

/**
 * Where `DETACH PARTITION … CONCURRENTLY` can go, given how this file runs: it cannot run in a
 * transaction block (25001). A file with its own BEGIN/COMMIT is sent as one script, so nothing in it
 * can be CONCURRENTLY; otherwise it is the usual "a migration of its own".
 */
function where(ctx: FileContext): string {
  if (ctx.statements.length === 1) {
    return ctx.runner === 'prisma'
      ? '-- the only statement of its file, so prisma migrate deploy runs it outside a transaction, as CONCURRENTLY needs:'
      : '-- stagedb runs a file with CONCURRENTLY outside a transaction, as it needs:';
  }
  if (ctx.model.mode === 'file-managed' || ctx.model.mode === 'prisma-script') {
    const why = ctx.model.mode === 'file-managed' ? "this file has its own BEGIN/COMMIT, so stagedb sends it as one script" : 'prisma migrate deploy sends this file as one query';
    return `-- not in this file (${why}, and CONCURRENTLY fails inside it: 25001); as the only statement of a migration of its own:`;
  }
  return ownMigration(ctx);
}

/**
 * R33: `ALTER TABLE … DETACH PARTITION` without CONCURRENTLY on a live partitioned table. The detach
 * itself is a catalog change (plus, when foreign keys reference the table, a check that no row of the
 * partition is still referenced), but it needs ACCESS EXCLUSIVE on the parent and the partition:
 * it waits for every running query on any partition, and every query behind it waits too. Like
 * `DROP INDEX` without CONCURRENTLY (SDB002) the harm is the wait, not the table's size, so it is a
 * warning whatever the size. `DETACH … FINALIZE` completes an interrupted concurrent detach: not
 * reported.
 */
const rule: Rule = {
  code: 'SDB036',
  name: 'detach-partition-concurrently',
  summary: 'DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table',
  defaultSeverity: 'warning',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_DetachPartition'],
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds as AlterTableCmd[]) {
      if (cmd.subtype !== 'AT_DetachPartition') continue;
      const p = (cmd.def as { PartitionCmd?: PartitionCmd } | undefined)?.PartitionCmd;
      if (!p || p.concurrent) continue;
      const part = relOf(p.name);
      const t = relSql(a.rel);
      const pt = part ? relSql(part) : 'the partition';
      const alter = `${a.stmt.missing_ok ? 'ALTER TABLE IF EXISTS ' + t : alterSql(a.rel)} DETACH PARTITION ${pt}`;
      const lockWait = ctx.lockTimeoutMs > 0 ? `-- (the lock_timeout in effect, ${ctx.lockTimeoutMs / 1000} s, makes it give up rather than queue every query behind it)` : "SET lock_timeout = '5s';  -- give up rather than queue every query behind it";
      const v = ctx.serverVersionNum;
      hits.push({
        at: p.name?.location,
        message: `DETACH PARTITION ${pt} from live table ${t} without CONCURRENTLY`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }, ...(part ? [{ on: part, mode: 'ACCESS EXCLUSIVE' as const }] : [])], { how: 'until the detach commits' }),
        why: `The detach itself is quick, but it waits for every running query on ${t} (on any of its partitions) to finish, and every new query on ${t}, reads included, queues behind it.`,
        fix:
          v < 140000
            ? [
                `-- DETACH PARTITION … CONCURRENTLY needs PostgreSQL 14 (this server is ${Math.floor(v / 10000)}): keep the wait short, at the lowest traffic:`,
                lockWait,
                `${alter};`,
              ].join('\n')
            : [
                where(ctx),
                `${alter} CONCURRENTLY;`,
                `-- (it takes SHARE UPDATE EXCLUSIVE on ${t} and ${pt}: reads and writes go on; but its second transaction waits for every query that may use ${pt} and then takes ACCESS EXCLUSIVE on ${pt} for a moment, so queries of ${pt} itself queue briefly; it is refused while ${t} has a DEFAULT partition)`,
                `-- if it is interrupted, the partition is left "detach pending"; finish it with:`,
                `-- ${alter} FINALIZE;`,
              ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
