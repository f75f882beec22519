/**
 * Zero-downtime by construction: the migration Prisma's engine generated, turned into migration
 * folders that deploy to a loaded production with no long lock (see docs/zero-downtime.md). One file
 * per rewrite under rules/, each with a stable code. Nothing here prints or exits; it loads the SQL
 * parser (libpg-query), so import it lazily.
 *
 * How the steps are cut: statements run in Prisma's order. Those that stay transactional collect in
 * the current folder; a statement that must run alone (CONCURRENTLY) closes it and gets a folder of
 * its own; what must happen in a later transaction (VALIDATE, a backfill, the NOT NULL switch) goes
 * into folders after all the others, by phase. Every folder works both under stagedb's deploy and
 * when a runner sends the whole file as one simple query (one implicit transaction), as
 * `prisma migrate deploy` does: a statement that cannot run in a transaction block is always alone.
 */
import type { AlterTableCmd, AlterTableStmt, CreateStmt, DropStmt, IndexStmt, Node } from 'libpg-query';
import { loadParser, parseFile } from '../lint/parse.js';
import { as, exprText, relKey, relOf, strings } from '../lint/sql.js';
import type { Rel } from '../lint/types.js';
import { migrationNameSlug } from '../develop/name.js';
import { alterSql, relSql } from './names.js';
import { switchSql } from './move-column.js';
import { ENUM_RECREATE, PIECE_REWRITES, STATEMENT_REWRITES, enumRecreatePlan } from './rules/index.js';
import type { AlterPiece, ColumnFacts, ColumnTarget, Phase, PieceOutcome, RewriteChange, RewriteContext, RewriteOptions, RewriteResult, RewrittenStep, SourceStatement, UnsafeChange } from './types.js';

export type * from './types.js';
export { readColumnFacts } from './facts.js';
export { STATEMENT_REWRITES, PIECE_REWRITES } from './rules/index.js';

const PHASES: readonly Phase[] = ['backfill', 'vacuum', 'index', 'check', 'validate', 'finish', 'switch', 'cleanup'];
/** Phases whose items each run alone, in a folder of their own (a DO block that commits, CONCURRENTLY). */
const ALONE: ReadonlySet<Phase> = new Set(['backfill', 'vacuum', 'index', 'cleanup']);

/** Rewrites one generated migration script into zero-downtime steps. The script is unchanged when nothing needs it. */
export async function rewriteMigration(script: string, options: RewriteOptions = {}): Promise<RewriteResult> {
  const parser = await loadParser();
  const parsed = parseFile(parser, script);
  const unchanged: RewriteResult = { changed: false, steps: [{ label: '', script, codes: [] }], changes: [], unsafe: [] };
  // What does not parse is not rewritten: the engine never writes such SQL, a hand-edited file may.
  if (parsed.problems.length > 0 || parsed.statements.length === 0) return unchanged;
  const defaultSchema = options.defaultSchema ?? 'public';
  const key = (rel: Rel) => relKey(rel, defaultSchema);
  const statements: SourceStatement[] = [];
  let prev = 0;
  for (const p of parsed.statements) {
    const comment = script.slice(prev, p.start).replace(/^\s*;/, '').trim();
    statements.push({ node: p.node, kind: p.kind, text: p.text, comment, start: p.start, byteBase: p.byteBase });
    prev = p.end;
  }
  const created = new Set((options.newTables ?? []).map((t) => (t.includes('.') ? t : `${defaultSchema}.${t}`)));
  for (const s of statements) {
    const rel = s.kind === 'CreateStmt' ? relOf(as<CreateStmt>(s.node, 'CreateStmt')!.relation) : undefined;
    if (rel) created.add(key(rel));
  }
  const droppedConstraints = new Set<string>();
  const createdNames = new Set<string>();
  const indexedColumns = new Set<string>();
  const added = new Map<string, Array<{ name: string; required: boolean }>>();
  const targets: ColumnTarget[] = [];
  const target = (rel: Rel, column: string) => targets.push({ schema: rel.schema ?? defaultSchema, table: rel.name, column });
  for (const s of statements) {
    if (s.kind === 'IndexStmt') {
      const i = as<IndexStmt>(s.node, 'IndexStmt')!;
      const rel = relOf(i.relation);
      if (rel && i.idxname) createdNames.add(key({ schema: rel.schema, name: i.idxname }));
      // Any column the index names, as a key or in an expression: a plan moving it would leave the index on the dropped column.
      if (rel) for (const m of s.text.matchAll(/"((?:[^"]|"")+)"|\b([a-z_][a-z0-9_$]*)\b/g)) indexedColumns.add(`${key(rel)}.${(m[1] ?? m[2]!).replaceAll('""', '"')}`);
    }
    const a = s.kind === 'AlterTableStmt' ? as<AlterTableStmt>(s.node, 'AlterTableStmt')! : undefined;
    const rel = a ? relOf(a.relation) : undefined;
    for (const n of (rel && a?.cmds) || []) {
      const c = as<AlterTableCmd>(n, 'AlterTableCmd');
      if (c?.subtype === 'AT_DropConstraint' && c.name) droppedConstraints.add(`${key(rel!)}.${c.name}`);
      const conname = c?.subtype === 'AT_AddConstraint' ? (c.def as { Constraint?: { conname?: string } } | undefined)?.Constraint?.conname : undefined;
      if (conname) createdNames.add(key({ schema: rel!.schema, name: conname }));
      const con = c?.subtype === 'AT_AddConstraint' ? (c.def as { Constraint?: { keys?: Node[]; fk_attrs?: Node[] } } | undefined)?.Constraint : undefined;
      for (const k of con ? [...strings(con.keys), ...strings(con.fk_attrs)] : []) indexedColumns.add(`${key(rel!)}.${k}`);
      const coldef = c?.subtype === 'AT_AddColumn' ? (c.def as { ColumnDef?: { colname?: string; constraints?: Node[] } } | undefined)?.ColumnDef : undefined;
      if (coldef?.colname) {
        const types = (coldef.constraints ?? []).map((k) => (k as { Constraint?: { contype?: string } }).Constraint?.contype);
        added.set(key(rel!), [...(added.get(key(rel!)) ?? []), { name: coldef.colname, required: types.includes('CONSTR_NOTNULL') && !types.includes('CONSTR_DEFAULT') }]);
      }
      if (c?.subtype === 'AT_AlterColumnType' && c.name && !created.has(key(rel!))) target(rel!, c.name);
    }
  }
  // What a plan that moves a column needs to know about it (type changes, enum recreates), asked once.
  const facts = new Map<string, ColumnFacts>();
  if (options.describeColumns && targets.length > 0) {
    for (const f of await options.describeColumns(targets)) facts.set(`${f.schema}.${f.table}.${f.column}`, f);
  }
  const ctx: RewriteContext = {
    sql: script,
    defaultSchema,
    isNew: (rel) => created.has(key(rel)),
    newColumns: new Set(),
    key,
    exprAt: (s, location) => (location === undefined || location < 0 ? undefined : exprText(script, parsed.charAt(s.byteBase + location))),
    statementCount: statements.length,
    dropped: new Set(),
    droppedLater: (rel, constraint) => droppedConstraints.has(`${key(rel)}.${constraint}`),
    createdNames,
    indexedColumns,
    columnFacts: (rel, column) => facts.get(`${key(rel)}.${column}`),
    addedColumns: (rel) => added.get(key(rel)) ?? [],
  };

  const b = new Builder();
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i]!;
    // A file's own BEGIN … COMMIT (Prisma's enum changes) stays whole, in a folder of its own.
    if (s.kind === 'TransactionStmt') {
      let j = i;
      while (j < statements.length - 1 && !isCommit(statements[j]!, j === i)) j++;
      const block = statements.slice(i, j + 1);
      const plan = block.some((x) => x.kind === 'CreateEnumStmt') ? enumRecreatePlan(block, ctx) : undefined;
      const whole: SourceStatement = { ...block[0]!, text: block.map((x) => x.text).join(';\n') };
      if (plan?.change) {
        b.apply(plan, whole, ENUM_RECREATE, undefined);
      } else {
        if (plan) b.apply(plan, whole, ENUM_RECREATE, undefined);
        b.alone(block.map((x) => withComment(x)).join('\n'), '', [], 'enum');
      }
      for (const x of block) track(x, ctx);
      i = j;
      continue;
    }
    const rule = STATEMENT_REWRITES.find((r) => r.kinds.includes(s.kind));
    const out = rule?.rewrite(s, ctx);
    if (rule && out) {
      b.apply(out, s, { code: rule.code, name: rule.name }, undefined);
    } else if (s.kind === 'AlterTableStmt') {
      rewriteAlter(s, ctx, b);
    } else {
      b.group.push(withComment(s));
    }
    track(s, ctx);
  }
  b.flush();
  if (b.changes.length === 0) return { ...unchanged, unsafe: b.unsafe };
  b.finishLater();
  return { changed: true, steps: b.steps, changes: b.changes, unsafe: b.unsafe };
}

/**
 * Folder names for the steps, sorting right after each other and before anything later: the first
 * keeps its name (`<timestamp>_<name>`), step i becomes `<timestamp>_<name>_<ii>_<label>`. Same
 * timestamp, so a later migration of the folder (when `lint --fix` rewrites an older one) still sorts
 * after all of them; two digits, so ten steps still sort in order.
 */
export function stepDirectoryNames(directoryName: string, steps: readonly RewrittenStep[]): string[] {
  return steps.map((s, i) => (i === 0 ? directoryName : `${directoryName}_${String(i + 1).padStart(2, '0')}_${migrationNameSlug(s.label).slice(0, 60) || 'step'}`));
}

function isCommit(s: SourceStatement, first: boolean): boolean {
  if (first) return false;
  const kind = (s.node as { TransactionStmt?: { kind?: string } }).TransactionStmt?.kind;
  return kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK';
}

const withComment = (s: SourceStatement, text = `${s.text};`): string => (s.comment ? `${s.comment}\n${text}` : text);

/** Names and columns the statements before the next one leave behind. */
function track(s: SourceStatement, ctx: RewriteContext): void {
  if (s.kind === 'DropStmt') {
    const d = as<DropStmt>(s.node, 'DropStmt')!;
    if (d.removeType === 'OBJECT_INDEX') {
      for (const o of d.objects ?? []) {
        const names = strings(as<{ items?: Node[] }>(o, 'List')?.items);
        if (names.length) ctx.dropped.add(ctx.key(names.length > 1 ? { schema: names[names.length - 2], name: names[names.length - 1]! } : { name: names[0]! }));
      }
    }
  }
  if (s.kind === 'IndexStmt') {
    const i = as<IndexStmt>(s.node, 'IndexStmt')!;
    const rel = relOf(i.relation);
    if (rel && i.idxname) ctx.dropped.delete(ctx.key({ schema: rel.schema, name: i.idxname }));
  }
}

class Builder {
  readonly steps: RewrittenStep[] = [];
  readonly changes: RewriteChange[] = [];
  readonly unsafe: UnsafeChange[] = [];
  group: string[] = [];
  private groupCodes = new Set<string>();
  /** Tables to lock at the start of the current folder's transaction, in order. */
  private groupLocks: Rel[] = [];
  private groupLockMode: 'SHARE ROW EXCLUSIVE' | 'ACCESS EXCLUSIVE' = 'SHARE ROW EXCLUSIVE';
  private readonly later = new Map<Phase, Array<{ label: string; sql: string; code: string; locks?: Rel[] }>>();

  flush(): void {
    if (this.group.length === 0) return;
    if (this.groupLocks.length > 0) {
      const seen = new Set<string>();
      const tables = this.groupLocks.filter((r) => !seen.has(relSql(r)) && seen.add(relSql(r)));
      // LOCK TABLE needs a transaction block, and a runner that sends statement by statement (Prisma 7's
      // engine) opens none: the file's own BEGIN … COMMIT, as Prisma writes for enum changes, works under every runner.
      this.group = [
        `-- stagedb zero-downtime (ZDT003): the referenced table is locked first, as the application writes them; ALTER TABLE alone locks them the other way round, and deadlocks under load\nBEGIN;\nLOCK TABLE ${tables.map(relSql).join(', ')} IN ${this.groupLockMode} MODE;`,
        ...this.group,
        'COMMIT;',
      ];
    }
    this.steps.push({ label: this.steps.length === 0 ? '' : 'changes', script: `${this.group.join('\n\n')}\n`, codes: [...this.groupCodes] });
    this.group = [];
    this.groupCodes = new Set();
    this.groupLocks = [];
    this.groupLockMode = 'SHARE ROW EXCLUSIVE';
  }

  alone(sql: string, label: string, codes: string[], fallback = 'step'): void {
    this.flush();
    this.steps.push({ label: label || fallback, script: `${sql}\n`, codes });
  }

  /** Applies what a rewrite returned for statement `s` (or one ALTER TABLE subcommand, then `pieceText` is its text). */
  apply(out: PieceOutcome, s: SourceStatement, rule: { code: string; name: string }, pieceText: string | undefined): void {
    for (const a of out.aloneBefore ?? []) this.alone(`-- stagedb zero-downtime (${rule.code} ${rule.name}); Prisma wrote: ${oneLine(s.text)}\n${a.sql}`, a.label, [rule.code]);
    for (const l of out.later ?? []) {
      const list = this.later.get(l.phase) ?? [];
      list.push({ label: l.label, sql: l.sql, code: rule.code, ...(l.locks ? { locks: l.locks } : {}) });
      this.later.set(l.phase, list);
    }
    if (pieceText === undefined && out.keep?.length) this.group.push(withComment(s, out.keep.join('\n')));
    if (pieceText === undefined && out.after?.length) this.group.push(...out.after);
    if (out.keep?.length) this.groupCodes.add(rule.code);
    if (out.lockFirst) this.groupLocks.push(...out.lockFirst);
    if (out.lockMode === 'ACCESS EXCLUSIVE') this.groupLockMode = out.lockMode;
    if (out.change) this.changes.push({ code: rule.code, name: rule.name, statement: pieceText === undefined ? s.text : `${alterPrefix(s)} ${pieceText}`, ...out.change });
    if (out.unsafe) this.unsafe.push({ code: rule.code, name: rule.name, statement: pieceText === undefined ? s.text : `${alterPrefix(s)} ${pieceText}`, ...out.unsafe });
  }

  /** The later phases, after everything else: each backfill alone, then one folder per phase. */
  finishLater(): void {
    for (const phase of PHASES) {
      // Two backfills of one table need one VACUUM.
      const items = (this.later.get(phase) ?? []).filter((x, i, all) => phase !== 'vacuum' || all.findIndex((y) => y.sql === x.sql) === i);
      if (items.length === 0) continue;
      const codes = [...new Set(items.map((x) => x.code))];
      const header = `-- stagedb zero-downtime (${codes.join(', ')}): ${PHASE_WHY[phase]}`;
      if (ALONE.has(phase)) {
        for (const x of items) this.alone(`${header}\n${x.sql}`, x.label, [x.code]);
      } else if (phase === 'switch') {
        this.alone(`${header}\n${switchSql(items.flatMap((x) => x.locks ?? []), items.map((x) => x.sql))}`, 'switch', codes);
      } else {
        this.alone(`${header}\n${items.map((x) => x.sql).join('\n')}`, items[0]!.label, codes);
      }
    }
  }
}

const PHASE_WHY: Record<Phase, string> = {
  backfill: 'the rows that existed before the new column get its value before it becomes required.',
  vacuum: 'the backfill left a dead version of every row it wrote. Left to autovacuum, its run would be in the way of the next migration\'s ACCESS EXCLUSIVE lock: the lock waits up to deadlock_timeout (1 s) before PostgreSQL cancels it, and every query on the table queues behind that wait. VACUUM reads and writes nothing the app waits for.',
  index: 'the new column gets the old one\'s index, built CONCURRENTLY (writes go on) under a temporary name.',
  switch: 'one short transaction: the trigger and the old column go, the new column takes its name. The lock is taken first, at its strongest, so that it cannot deadlock with the app; it is held for milliseconds (no row is read).',
  cleanup: 'what the migration drops goes last: until what replaces it is in place, a unique index keeps guarding the rows and a column keeps its data.',
  check: 'a CHECK added NOT VALID takes a brief lock and reads no row; it is enforced on new writes from now on.',
  validate: 'VALIDATE reads the existing rows under SHARE UPDATE EXCLUSIVE: reads and writes go on.',
  finish: 'the validated CHECK proves the column has no NULL, so SET NOT NULL reads no row (PostgreSQL 12+); the CHECK is then dropped.',
};

const oneLine = (sql: string): string => {
  const l = sql.replace(/\s+/g, ' ').trim();
  return l.length > 200 ? `${l.slice(0, 197)}…` : l;
};

const ALTER_PREFIX = /^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?\s+/i;

function alterPrefix(s: SourceStatement): string {
  return (ALTER_PREFIX.exec(s.text)?.[0] ?? 'ALTER TABLE ').trim();
}

/**
 * The subcommands of an ALTER TABLE as written: the text after `ALTER TABLE "T"` cut at top-level
 * commas (outside quotes and parentheses). Undefined when that does not give one piece per subcommand.
 */
export function alterPieces(text: string, cmds: AlterTableCmd[]): AlterPiece[] | undefined {
  const head = ALTER_PREFIX.exec(text);
  if (!head) return undefined;
  const body = text.slice(head[0].length);
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "'" || c === '"') {
      let e = body.indexOf(c, i + 1);
      while (e >= 0 && body[e + 1] === c) e = body.indexOf(c, e + 2);
      if (e < 0) return undefined;
      i = e;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(from, i).trim());
      from = i + 1;
    } else if (c === '$' || (c === '-' && body[i + 1] === '-') || (c === '/' && body[i + 1] === '*')) return undefined;
  }
  parts.push(body.slice(from).trim());
  if (parts.length !== cmds.length) return undefined;
  return parts.map((p, i) => ({ cmd: cmds[i]!, text: p }));
}

function rewriteAlter(s: SourceStatement, ctx: RewriteContext, b: Builder): void {
  const a = as<AlterTableStmt>(s.node, 'AlterTableStmt')!;
  const rel = a.objtype === 'OBJECT_TABLE' ? relOf(a.relation) : undefined;
  const cmds = (a.cmds ?? []).map((n) => as<AlterTableCmd>(n, 'AlterTableCmd')).filter((c): c is AlterTableCmd => !!c);
  const pieces = rel && !ctx.isNew(rel) ? alterPieces(s.text, cmds) : undefined;
  const registerPiece = (p: { cmd: AlterTableCmd }) => {
    if (!rel) return;
    if (p.cmd.subtype === 'AT_AddColumn') {
      const name = (p.cmd.def as { ColumnDef?: { colname?: string } } | undefined)?.ColumnDef?.colname;
      if (name) ctx.newColumns.add(`${ctx.key(rel)}.${name}`);
    }
    if (p.cmd.subtype === 'AT_DropConstraint' && p.cmd.name) ctx.dropped.add(ctx.key({ schema: rel.schema, name: p.cmd.name }));
  };
  if (!rel || !pieces) {
    b.group.push(withComment(s));
    for (const c of cmds) registerPiece({ cmd: c });
    return;
  }
  // Work on a copy of what is known, so an unchanged statement is kept byte for byte.
  let pending: Array<{ text: string; drop: boolean }> = [];
  const after: string[] = [];
  let changed = false;
  let commentUsed = false;
  const emit = (list: Array<{ text: string }>) => {
    if (list.length === 0) return;
    const sql = `${alterSql(rel)} ${list.map((p) => p.text).join(',\n')};`;
    b.group.push(commentUsed ? sql : withComment(s, sql));
    commentUsed = true;
  };
  for (const piece of pieces) {
    let out: PieceOutcome | undefined;
    let rule: (typeof PIECE_REWRITES)[number] | undefined;
    for (const r of PIECE_REWRITES) {
      out = r.rewrite(piece, rel, s, ctx);
      if (out) {
        rule = r;
        break;
      }
    }
    registerPiece(piece);
    if (!out || !rule) {
      pending.push({ text: piece.text, drop: piece.cmd.subtype === 'AT_DropConstraint' });
      continue;
    }
    if (out.change) changed = true;
    if (out.aloneBefore?.length) {
      // What came before runs first, except dropping a constraint, which waits for its replacement.
      emit(pending.filter((p) => !p.drop));
      pending = pending.filter((p) => p.drop);
      b.apply({ aloneBefore: out.aloneBefore }, s, rule, piece.text);
    }
    for (const k of out.keep ?? []) pending.push({ text: k, drop: false });
    after.push(...(out.after ?? []));
    b.apply({ ...out, aloneBefore: undefined, keep: undefined, after: undefined }, s, rule, piece.text);
  }
  if (!changed) {
    b.group.push(withComment(s));
    return;
  }
  emit(pending);
  b.group.push(...after);
}
