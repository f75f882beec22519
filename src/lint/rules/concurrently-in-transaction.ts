import type { AlterTableCmd, DropStmt, IndexStmt, Node } from 'libpg-query';
import { as } from '../sql.js';
import { held } from '../locks.js';
import type { Rule, Statement } from '../types.js';
import { alterTable } from './util.js';

/** What in this statement must run outside a transaction block, if anything. */
function concurrentPart(s: Statement): string | undefined {
  switch (s.kind) {
    case 'IndexStmt':
      return as<IndexStmt>(s.node, 'IndexStmt')!.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt': {
      const d = as<DropStmt>(s.node, 'DropStmt')!;
      return d.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    }
    case 'ReindexStmt': {
      const params = (s.node as { ReindexStmt: { params?: Node[] } }).ReindexStmt.params ?? [];
      return params.some((p) => as<{ defname?: string }>(p, 'DefElem')?.defname === 'concurrently') ? 'REINDEX CONCURRENTLY' : undefined;
    }
    case 'AlterTableStmt': {
      const a = alterTable(s);
      const detach = a?.cmds.some((c: AlterTableCmd) => c.subtype === 'AT_DetachPartition' && (c.def as { PartitionCmd?: { concurrent?: boolean } })?.PartitionCmd?.concurrent);
      return detach ? 'DETACH PARTITION CONCURRENTLY' : undefined;
    }
    case 'VacuumStmt':
      return (s.node as { VacuumStmt: { is_vacuumcmd?: boolean } }).VacuumStmt.is_vacuumcmd ? 'VACUUM' : undefined;
  }
  return undefined;
}

/** R03: CONCURRENTLY (and VACUUM) where the file's real run mode puts it inside a transaction block: error 25001. */
const rule: Rule = {
  code: 'SDB003',
  name: 'concurrently-in-transaction',
  summary: 'CONCURRENTLY inside a transaction block fails (25001), given how the file will run',
  defaultSeverity: 'error',
  kinds: ['IndexStmt', 'DropStmt', 'ReindexStmt', 'AlterTableStmt', 'VacuumStmt'],
  subtypes: ['AT_DetachPartition'],
  check(s, ctx) {
    const what = concurrentPart(s);
    if (!what || !ctx.inTransaction(s)) return;
    const how =
      ctx.model.mode === 'file-managed'
        ? 'This file has its own BEGIN/COMMIT, so stagedb sends it as written, as one script, and every statement of a multi-statement script runs inside a transaction block.'
        : ctx.model.mode === 'prisma-script'
          ? 'prisma migrate deploy sends the whole file as one query, so every statement runs inside a transaction block.'
          : 'The statement runs inside a transaction block.';
    return {
      message: `${what} cannot run inside a transaction block, and here it does`,
      why: `${how} PostgreSQL refuses it (25001: ${what.split(' ').slice(0, 2).join(' ')} cannot run inside a transaction block) and the migration fails.`,
      fix: ctx.runner === 'prisma'
        ? '-- move it to a migration file of its own, as its only statement:\n' + s.text + ';'
        : "-- move it to a migration file of its own, without BEGIN/COMMIT (stagedb then runs it outside a transaction):\n" + s.text + ';',
      // The claim the oracle checks: PostgreSQL refuses it with 25001 when the file runs as modelled.
      claim: held([], { fails: '25001' }).claim,
      severity: 'error',
    };
  },
};

export default rule;
