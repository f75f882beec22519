import type { AlterTableCmd, AlterTableStmt, Constraint, CreateStmt, DropStmt, IndexStmt, Node, RenameStmt } from 'libpg-query';
import type { FileContext } from './file-context.js';
import { as, relOf, relOfNames, relSql, strings } from './sql.js';
import type { Claim, LockClaim, LockMode, Rel, Statement } from './types.js';

/** What each table lock does to the application's queries. */
const EFFECT: Record<LockMode, string> = {
  'ACCESS SHARE': 'blocks only ACCESS EXCLUSIVE',
  'ROW SHARE': 'blocks only EXCLUSIVE and ACCESS EXCLUSIVE',
  'ROW EXCLUSIVE': 'row locks on the rows it changes',
  'SHARE UPDATE EXCLUSIVE': 'blocks other DDL and VACUUM, not reads or writes',
  SHARE: 'blocks INSERT, UPDATE and DELETE; reads go on',
  'SHARE ROW EXCLUSIVE': 'blocks INSERT, UPDATE and DELETE; reads go on',
  EXCLUSIVE: 'blocks writes and SELECT … FOR UPDATE; plain reads go on',
  'ACCESS EXCLUSIVE': 'blocks every read and write',
};

/** PostgreSQL's table lock modes, weakest first. */
export const RANK: Record<LockMode, number> = {
  'ACCESS SHARE': 1,
  'ROW SHARE': 2,
  'ROW EXCLUSIVE': 3,
  'SHARE UPDATE EXCLUSIVE': 4,
  SHARE: 5,
  'SHARE ROW EXCLUSIVE': 6,
  EXCLUSIVE: 7,
  'ACCESS EXCLUSIVE': 8,
};

/** Locks an application's plain reads and writes (ACCESS SHARE, ROW EXCLUSIVE) have to wait for. */
export function blocksApplication(mode: LockMode): boolean {
  return RANK[mode] >= RANK.SHARE;
}

/** A lock to claim: on a relation (or, with `indexes`, on every index of a table). */
export interface HeldLock {
  on: Rel | string;
  mode: LockMode;
  indexes?: boolean;
}

/**
 * The lock text of a finding and the claim behind it, written from the same facts so they cannot
 * disagree: `SHARE on "Post" and ACCESS EXCLUSIVE on its indexes (blocks every read and write) for the
 * whole rebuild`. Reads are blocked by ACCESS EXCLUSIVE on the table or on any of its indexes (the
 * planner opens every index of a table it reads); writes by SHARE or stronger.
 */
export function held(locks: HeldLock[], opts: { how?: string; rewrites?: boolean; scans?: boolean; fails?: string } = {}): { lock: string; claim: Claim } {
  const claims: LockClaim[] = locks.map((l) => ({ on: typeof l.on === 'string' ? l.on : relSql(l.on), mode: l.mode, ...(l.indexes ? { indexes: true } : {}) }));
  const blocksReads = claims.some((l) => l.mode === 'ACCESS EXCLUSIVE');
  const blocksWrites = claims.some((l) => RANK[l.mode] >= RANK.SHARE);
  const strongest = claims.reduce<LockMode>((m, l) => stronger(m, l.mode), 'ACCESS SHARE');
  const effect = claims.length === 1 ? EFFECT[strongest] : blocksReads ? EFFECT['ACCESS EXCLUSIVE'] : EFFECT[strongest];
  // Same mode on several relations: "MODE on A and on B"; different modes: "M1 on A and M2 on B".
  const parts: string[] = [];
  claims.forEach((l, i) => {
    const where = l.indexes ? (i > 0 && claims[0]!.on === l.on ? 'its indexes' : `the indexes of ${l.on}`) : l.on;
    parts.push(i > 0 && claims[i - 1]!.mode === l.mode ? `on ${where}` : `${l.mode} on ${where}`);
  });
  const lock = `${parts.join(' and ')} (${effect})${opts.how ? ` ${opts.how}` : ''}`;
  return {
    lock,
    claim: { locks: claims, rewrites: !!opts.rewrites, scans: !!opts.scans, blocksReads, blocksWrites, ...(opts.fails ? { fails: opts.fails } : {}) },
  };
}

/**
 * What a REINDEX without CONCURRENTLY holds, per PostgreSQL (checked by the lock oracle): SHARE on the
 * table and ACCESS EXCLUSIVE on each index it rebuilds. Plain SELECTs wait too: the planner opens every
 * index of a table it reads.
 */
export function reindexLocks(s: Statement, ctx: FileContext): HeldLock[] {
  const r = (s.node as { ReindexStmt?: { kind?: string; relation?: never } }).ReindexStmt;
  const rel = relOf(r?.relation);
  if (!r || !rel) return [];
  if (r.kind === 'REINDEX_OBJECT_INDEX') {
    const table = ctx.tableOfIndex(rel);
    return [...(table ? [{ on: table, mode: 'SHARE' as const }] : []), { on: rel, mode: 'ACCESS EXCLUSIVE' }];
  }
  return [
    { on: rel, mode: 'SHARE' },
    { on: rel, mode: 'ACCESS EXCLUSIVE', indexes: true },
  ];
}

export interface TableLock {
  rel: Rel;
  mode: LockMode;
}

const stronger = (a: LockMode, b: LockMode): LockMode => (RANK[a] >= RANK[b] ? a : b);

/** The mode one ALTER TABLE subcommand needs (PostgreSQL's AlterTableGetLockLevel, the common cases). */
export function alterCmdLock(cmd: AlterTableCmd): LockMode {
  switch (cmd.subtype) {
    case 'AT_AddConstraint': {
      const c = as<Constraint>(cmd.def, 'Constraint');
      return c?.contype === 'CONSTR_FOREIGN' ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE';
    }
    case 'AT_ValidateConstraint':
    case 'AT_SetStatistics':
    case 'AT_ClusterOn':
    case 'AT_DropCluster':
    case 'AT_SetRelOptions':
    case 'AT_ResetRelOptions':
    case 'AT_AttachPartition':
    // Finishing an interrupted DETACH … CONCURRENTLY takes what the concurrent detach takes.
    case 'AT_DetachPartitionFinalize':
      return 'SHARE UPDATE EXCLUSIVE';
    case 'AT_DetachPartition':
      return (cmd.def as { PartitionCmd?: { concurrent?: boolean } } | undefined)?.PartitionCmd?.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE';
    case 'AT_EnableTrig':
    case 'AT_DisableTrig':
    case 'AT_EnableAlwaysTrig':
    case 'AT_EnableReplicaTrig':
      return 'SHARE ROW EXCLUSIVE';
    default:
      return 'ACCESS EXCLUSIVE';
  }
}

/** Tables a FOREIGN KEY constraint references (each gets SHARE ROW EXCLUSIVE). */
function referenced(constraints: Node[] | undefined): Rel[] {
  const out: Rel[] = [];
  for (const n of constraints ?? []) {
    const c = as<Constraint>(n, 'Constraint');
    if (c?.contype === 'CONSTR_FOREIGN') {
      const r = relOf(c.pktable);
      if (r) out.push(r);
    }
  }
  return out;
}

/**
 * The table locks a statement takes (the strongest per table), for the statements migrations use.
 * Indexes dropped by name are attributed to their table when it is known (created earlier in the
 * linted files, or found in the target database).
 */
export function tableLocks(s: Statement, ctx: FileContext): TableLock[] {
  const out: TableLock[] = [];
  const add = (rel: Rel | undefined, mode: LockMode) => {
    if (!rel) return;
    const k = ctx.key(rel);
    const prev = out.find((l) => ctx.key(l.rel) === k);
    if (prev) prev.mode = stronger(prev.mode, mode);
    else out.push({ rel, mode });
  };
  switch (s.kind) {
    case 'AlterTableStmt': {
      const a = as<AlterTableStmt>(s.node, 'AlterTableStmt')!;
      if (a.objtype !== 'OBJECT_TABLE' && a.objtype !== 'OBJECT_FOREIGN_TABLE' && a.objtype !== 'OBJECT_MATVIEW') break;
      const rel = relOf(a.relation);
      for (const n of a.cmds ?? []) {
        const cmd = as<AlterTableCmd>(n, 'AlterTableCmd');
        if (!cmd) continue;
        add(rel, alterCmdLock(cmd));
        if (cmd.subtype === 'AT_AddConstraint') for (const r of referenced([cmd.def!])) add(r, 'SHARE ROW EXCLUSIVE');
        // Dropping a foreign key drops its triggers on the referenced table too: ACCESS EXCLUSIVE there as well.
        if (cmd.subtype === 'AT_DropConstraint' && rel && cmd.name) {
          const fk = ctx.foreignKeysOf(rel).find((f) => f.name === cmd.name);
          if (fk) add(fk.references, 'ACCESS EXCLUSIVE');
        }
        if (cmd.subtype === 'AT_AddColumn') {
          const col = as<{ constraints?: Node[] }>(cmd.def, 'ColumnDef');
          for (const r of referenced(col?.constraints)) add(r, 'SHARE ROW EXCLUSIVE');
        }
      }
      break;
    }
    case 'IndexStmt': {
      const i = as<IndexStmt>(s.node, 'IndexStmt')!;
      add(relOf(i.relation), i.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE');
      break;
    }
    case 'CreateStmt': {
      const c = as<CreateStmt>(s.node, 'CreateStmt')!;
      for (const r of referenced(c.constraints)) add(r, 'SHARE ROW EXCLUSIVE');
      for (const e of c.tableElts ?? []) for (const r of referenced(as<{ constraints?: Node[] }>(e, 'ColumnDef')?.constraints)) add(r, 'SHARE ROW EXCLUSIVE');
      break;
    }
    case 'DropStmt': {
      const d = as<DropStmt>(s.node, 'DropStmt')!;
      for (const o of d.objects ?? []) {
        const rel = relOfNames(strings(as<{ items?: Node[] }>(o, 'List')?.items));
        if (!rel) continue;
        if (d.removeType === 'OBJECT_TABLE' || d.removeType === 'OBJECT_MATVIEW' || d.removeType === 'OBJECT_VIEW') add(rel, 'ACCESS EXCLUSIVE');
        // A dropped table's foreign keys go with it, and with them their triggers on the referenced tables.
        if (d.removeType === 'OBJECT_TABLE') for (const fk of ctx.foreignKeysOf(rel)) add(fk.references, 'ACCESS EXCLUSIVE');
        if (d.removeType === 'OBJECT_INDEX') add(ctx.tableOfIndex(rel) ?? rel, d.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
      }
      break;
    }
    case 'RenameStmt': {
      const r = as<RenameStmt>(s.node, 'RenameStmt')!;
      const rel = relOf(r.relation);
      if (r.renameType === 'OBJECT_INDEX') add(rel ? (ctx.tableOfIndex(rel) ?? rel) : undefined, 'SHARE UPDATE EXCLUSIVE');
      else if (rel) add(rel, 'ACCESS EXCLUSIVE');
      break;
    }
    case 'CreateTrigStmt':
      add(relOf((s.node as { CreateTrigStmt: { relation?: never } }).CreateTrigStmt.relation), 'SHARE ROW EXCLUSIVE');
      break;
    case 'TruncateStmt':
      for (const n of (s.node as { TruncateStmt: { relations?: Node[] } }).TruncateStmt.relations ?? []) add(relOf(as(n, 'RangeVar')), 'ACCESS EXCLUSIVE');
      break;
    case 'ClusterStmt':
      add(relOf((s.node as { ClusterStmt: { relation?: never } }).ClusterStmt.relation), 'ACCESS EXCLUSIVE');
      break;
    case 'VacuumStmt': {
      const v = (s.node as { VacuumStmt: { options?: Node[]; rels?: Node[]; is_vacuumcmd?: boolean } }).VacuumStmt;
      const full = (v.options ?? []).some((o) => as<{ defname?: string }>(o, 'DefElem')?.defname === 'full');
      if (full) for (const r of v.rels ?? []) add(relOf(as<{ relation?: never }>(r, 'VacuumRelation')?.relation), 'ACCESS EXCLUSIVE');
      break;
    }
    case 'ReindexStmt': {
      const r = (s.node as { ReindexStmt: { kind?: string; relation?: never; params?: Node[] } }).ReindexStmt;
      const concurrent = (r.params ?? []).some((o) => as<{ defname?: string }>(o, 'DefElem')?.defname === 'concurrently');
      const rel = relOf(r.relation);
      // SHARE on the table (ACCESS EXCLUSIVE on each index it rebuilds: see blocking-maintenance).
      if (!concurrent && rel) add(r.kind === 'REINDEX_OBJECT_INDEX' ? (ctx.tableOfIndex(rel) ?? rel) : rel, 'SHARE');
      break;
    }
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      add(relOf((s.node as Record<string, { table?: never }>)[s.kind]!.table), 'ACCESS EXCLUSIVE');
      break;
    case 'RuleStmt':
      add(relOf((s.node as { RuleStmt: { relation?: never } }).RuleStmt.relation), 'ACCESS EXCLUSIVE');
      break;
    case 'LockStmt': {
      const l = (s.node as { LockStmt: { relations?: Node[]; mode?: number } }).LockStmt;
      const modes: LockMode[] = ['ACCESS SHARE', 'ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'];
      for (const n of l.relations ?? []) add(relOf(as(n, 'RangeVar')), modes[l.mode ?? 8] ?? 'ACCESS EXCLUSIVE');
      break;
    }
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'InsertStmt':
    case 'MergeStmt':
      add(relOf((s.node as Record<string, { relation?: never }>)[s.kind]!.relation), 'ROW EXCLUSIVE');
      break;
  }
  return out;
}
