import type { AlterTableCmd, AlterTableStmt, Constraint, CreateStmt, IndexStmt, Node, RenameStmt, VariableSetStmt } from 'libpg-query';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { RULE_NAMES, ruleCode } from '../rule-codes.js';
import { findDirectives, suppressing, type Directive, type DirectiveProblem } from './directives.js';
import { BatchState, FileContext } from './file-context.js';
import { runModel } from './model.js';
import { lineStartsOf, loadParser, parseFile, position, type ParsedFile, type Parser } from './parse.js';
import { RULES } from './rules/index.js';
import { as, relOf, relOfNames, strings, walk } from './sql.js';
import {
  type DatabaseContext,
  type Finding,
  type Hit,
  type LintInput,
  type LintOptions,
  type LintResult,
  type Rel,
  type Rule,
  type Severity,
  type SeveritySetting,
  type Statement,
  type SuppressedFinding,
} from './types.js';

export const DEFAULT_SMALL_TABLE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LARGE_TABLE_BYTES = 1024 * 1024 * 1024;
/** The PostgreSQL version assumed without a database. */
export const DEFAULT_SERVER_VERSION_NUM = 160000;

/** What the linted files touch: the target database is asked about exactly these. */
export interface References {
  tables: Rel[];
  indexes: Rel[];
  /** Tables whose column types a rule compares (ALTER COLUMN … TYPE). */
  columnsOf: Rel[];
}

export interface LintRunOptions extends LintOptions {
  /** Asked once, after parsing, for the target database's view of the referenced tables. */
  context?: (refs: References) => Promise<DatabaseContext>;
  /**
   * Judge each file on its own, as if every earlier migration were deployed and live (a review of a
   * whole history), instead of as files that deploy together.
   */
  separately?: boolean;
  /**
   * Where to keep and find each file's findings between runs (src/lint/cache.ts): only with
   * `separately` and no database, where a file's findings depend on nothing but the file. `identity`
   * names the code that computes them (the CLI bundle's build id).
   */
  cache?: { path: string; identity: string };
}

/**
 * Lints migration files that deploy together, in order: a table created by an earlier file (or an
 * earlier statement of the same file) is not live for the later ones. Never prints, never exits.
 */
export async function lintFiles(inputs: LintInput[], options: LintRunOptions = {}): Promise<LintResult> {
  const severities = normalizeSeverities(options.severities ?? {});
  performance.mark('stagedb:lint:start');
  const cache =
    options.cache && options.separately && !options.database && !options.context
      ? (await import('./cache.js')).openLintCache(options.cache.path, options.cache.identity, cacheOptionsKey(options, severities))
      : undefined;
  // Loaded on the first file that is not in the cache: a warm review of an unchanged history never loads it.
  let parser: Parser | undefined;
  const parserNow = async () => (parser ??= await loadParser());
  if (!cache) await parserNow();
  performance.mark('stagedb:lint:parser');
  // The catalog query needs every table the files name, so with one every file is parsed up front.
  // Without it each file is parsed just before its rules run and its tree is dropped after: holding
  // all 1000 trees of a long history made the garbage collector copy each one twice (~20 ms of a
  // 200 ms lint) for nothing.
  const parsedFirst = !options.database && options.context ? inputs.map((input) => parseFile(parser!, input.sql)) : undefined;
  const db = options.database ?? (options.context && parsedFirst ? await options.context(references(parsedFirst)) : undefined);
  const runner = options.runner ?? 'stagedb';
  const defaultSchema = db?.defaultSchema ?? 'public';
  const serverVersionNum = db?.serverVersionNum ?? options.serverVersionNum ?? DEFAULT_SERVER_VERSION_NUM;
  const small = options.smallTableBytes ?? DEFAULT_SMALL_TABLE_BYTES;
  const large = options.largeTableBytes ?? DEFAULT_LARGE_TABLE_BYTES;
  // stagedb's deploy sets a lock_timeout (an environment's ddlLockTimeout, default 5 s); Prisma's sets none.
  const runnerLock = options.runnerLockTimeoutMs ?? (runner === 'stagedb' ? DEFAULT_LOCK_TIMEOUT_MS : 0);
  // Neither runner sets a statement_timeout unless the environment configures one (stagedb's `statementTimeout`).
  const runnerStatement = options.runnerStatementTimeoutMs ?? 0;
  const active = RULES.map((rule) => ({ rule, setting: severities.get(rule.code) })).filter(({ rule, setting }) => (setting ?? rule.defaultSeverity) !== 'off');
  // Rules by the statement kind they look at, so a statement meets only the rules that can fire on it.
  const anyKind = active.filter(({ rule }) => !rule.kinds);
  const byKind = new Map<string, typeof active>();
  for (const a of active) for (const k of a.rule.kinds ?? []) byKind.set(k, [...(byKind.get(k) ?? []), a]);
  for (const [k, list] of byKind) byKind.set(k, [...list, ...anyKind].sort((x, y) => (x.rule.code < y.rule.code ? -1 : 1)));
  // An ALTER TABLE meets only the rules for its subcommands: a Prisma history is mostly ALTER TABLE,
  // and calling twenty rules on each of them (still interpreted, in a process this short) cost ~10 ms.
  const bySubtypes = new Map<string, typeof active>();
  const rulesFor = (s: Statement): typeof active => {
    const list = byKind.get(s.kind) ?? anyKind;
    if (s.kind !== 'AlterTableStmt') return list;
    const present: string[] = [];
    for (const n of as<AlterTableStmt>(s.node, 'AlterTableStmt')!.cmds ?? []) {
      const t = as<AlterTableCmd>(n, 'AlterTableCmd')?.subtype;
      if (t && !present.includes(t)) present.push(t);
    }
    const key = present.sort().join(' ');
    let out = bySubtypes.get(key);
    if (!out) bySubtypes.set(key, (out = list.filter(({ rule }) => !rule.subtypes || rule.subtypes.some((t) => present.includes(t)))));
    return out;
  };
  let batch = new BatchState();
  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  const files: LintResult['files'] = [];

  const keys = cache?.keys(inputs);
  // A file's findings depend on the files before it (their CHECKs carry over, and each key chains the
  // ones before it): the cached findings are used only when every file is in the cache, else all are linted.
  const found = keys?.map((k) => cache!.get(k));
  const hits = found?.every(Boolean) ? found : undefined;
  for (const [fileIndex, input] of inputs.entries()) {
    const key = keys?.[fileIndex];
    const hit = hits?.[fileIndex];
    if (hit) {
      files.push(hit.file);
      findings.push(...hit.findings);
      suppressed.push(...hit.suppressed);
      continue;
    }
    const firstFinding = findings.length;
    const firstSuppressed = suppressed.length;
    const file = parsedFirst?.[fileIndex] ?? parseFile(parser ?? (await parserNow()), input.sql);
    if (options.separately) {
      // Earlier files count as deployed: their CHECKs (and which were validated or dropped) exist, so a
      // validated CHECK (col IS NOT NULL) still proves the column; the tables they created are not new.
      const carried = batch;
      batch = new BatchState();
      for (const [k, v] of carried.checks) batch.checks.set(k, [...v]);
      for (const k of carried.validated) batch.validated.add(k);
      for (const k of carried.droppedConstraints) batch.droppedConstraints.add(k);
    }
    const sql = input.sql;
    const lines = lineStartsOf(sql);
    const model = runModel(
      sql,
      file.statements.map((s) => ({ kind: s.kind, txKind: s.kind === 'TransactionStmt' ? (s.node as { TransactionStmt: { kind?: string } }).TransactionStmt.kind : undefined })),
      runner,
      serverVersionNum,
    );
    const statements: Statement[] = file.statements.map((p, index) => {
      const a = position(sql, lines, p.start);
      const b = position(sql, lines, p.end);
      return { index, node: p.node, kind: p.kind, text: p.text, start: p.start, end: p.end, line: a.line, column: a.column, endLine: b.line, byteBase: p.byteBase, tx: model.tx[index] ?? null };
    });
    files.push({ path: input.path, migration: input.migration, statements: statements.length, mode: model.mode, modeReason: model.reason });

    // Directives live in the comments between statements.
    const fileDirectives: Directive[] = [];
    const nextDirectives = new Map<number, Directive[]>();
    const problems: DirectiveProblem[] = [];
    const known = (r: string) => ruleCode(r) !== undefined;
    let prev = 0;
    // One scan of the file first: most files have no directive at all.
    const hasDirectives = sql.includes('stagedb-lint-');
    for (let i = 0; hasDirectives && i <= statements.length; i++) {
      const end = i < statements.length ? statements[i]!.start : sql.length;
      const found: Directive[] = [];
      findDirectives(sql.slice(prev, end), prev, known, found, problems);
      for (const d of found) {
        if (d.scope === 'file') fileDirectives.push(d);
        else if (i < statements.length) nextDirectives.set(i, [...(nextDirectives.get(i) ?? []), d]);
        else problems.push({ offset: d.offset, message: 'stagedb-lint-disable-next-statement at the end of the file: there is no next statement' });
      }
      if (i < statements.length) prev = statements[i]!.end;
    }

    const emit = (rule: Rule, setting: SeveritySetting | undefined, hit: Hit, s: Statement | undefined, ctx: FileContext | undefined, offset?: number) => {
      const resolved = resolveSeverity(rule, setting, hit, ctx, small, large);
      if (!resolved) return;
      const at = offset ?? (hit.at !== undefined && hit.at >= 0 && s && ctx ? ctx.offsetOf(s, hit.at) : undefined);
      const pos = at !== undefined ? position(sql, lines, at) : undefined;
      const finding: Finding = {
        code: rule.code,
        rule: rule.name,
        severity: resolved.severity,
        file: input.path,
        ...(input.migration ? { migration: input.migration } : {}),
        line: pos?.line ?? s?.line ?? 1,
        column: pos?.column ?? s?.column ?? 1,
        endLine: s?.endLine ?? pos?.line ?? 1,
        statement: s?.text ?? '',
        message: hit.message,
        ...(hit.lock ? { lock: hit.lock } : {}),
        why: hit.why,
        ...(hit.fix ? { fix: hit.fix } : {}),
        ...(hit.claim ? { claim: hit.claim } : {}),
        ...(hit.table ? { table: hit.table.schema ? `"${hit.table.schema}"."${hit.table.name}"` : `"${hit.table.name}"` } : {}),
        ...(resolved.note ? { note: resolved.note } : {}),
      };
      const d = suppressing(fileDirectives, rule.code, rule.name) ?? (s ? suppressing(nextDirectives.get(s.index) ?? [], rule.code, rule.name) : undefined);
      if (d && rule.code !== 'SDB090') suppressed.push({ ...finding, reason: d.reason });
      else findings.push(finding);
    };

    const parseRule = RULES[0]!;
    for (const p of file.problems) {
      emit(parseRule, severities.get(parseRule.code), { message: `PostgreSQL cannot parse this statement: ${p.message}`, why: 'The migration fails here when it runs, and nothing in this statement can be checked.', fix: undefined }, { text: p.text } as Statement, undefined, p.offset);
    }
    const directiveRule = RULES.find((r) => r.code === 'SDB090')!;
    for (const p of problems) emit(directiveRule, severities.get(directiveRule.code), { message: p.message, why: 'A suppression must say which rule it silences and why, so the reason reaches the review and the audit trail.' }, undefined, undefined, p.offset);

    const ctx = new FileContext(input, statements, model, runner, batch, defaultSchema, serverVersionNum, db, runnerLock, file.charAt);
    ctx.statementTimeoutMs = runnerStatement;
    for (const s of statements) {
      for (const { rule, setting } of rulesFor(s)) {
        const out = rule.check(s, ctx);
        if (!out) continue;
        for (const hit of Array.isArray(out) ? out : [out]) emit(rule, setting, hit, s, ctx);
      }
      applyEffects(s, ctx, runnerLock, runnerStatement);
    }
    if (key !== undefined) cache!.set(key, { file: files[files.length - 1]!, findings: findings.slice(firstFinding), suppressed: suppressed.slice(firstSuppressed) });
  }
  cache?.save();

  performance.mark('stagedb:lint:done');
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  const highest = counts.error ? 'error' : counts.warning ? 'warning' : counts.info ? 'info' : undefined;
  return {
    files,
    findings,
    suppressed,
    counts,
    ...(highest ? { highest } : {}),
    ...(db ? { context: { env: db.env, serverVersionNum: db.serverVersionNum, tables: db.tables.size } } : {}),
  };
}

/** Every option a file's findings depend on in a cached (separate, database-less) review. */
function cacheOptionsKey(options: LintRunOptions, severities: Map<string, SeveritySetting>): string {
  return JSON.stringify([
    options.runner ?? 'stagedb',
    [...severities].sort(([a], [b]) => (a < b ? -1 : 1)),
    options.smallTableBytes ?? null,
    options.largeTableBytes ?? null,
    options.runnerLockTimeoutMs ?? null,
    options.runnerStatementTimeoutMs ?? null,
    options.serverVersionNum ?? null,
  ]);
}

/** Config severities keyed by code; names are accepted too. Unknown rules are refused. */
function normalizeSeverities(input: Record<string, SeveritySetting>): Map<string, SeveritySetting> {
  const out = new Map<string, SeveritySetting>();
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(input)) {
    const code = ruleCode(k);
    if (!code) unknown.push(k);
    else out.set(code, v);
  }
  if (unknown.length) {
    throw new StagedbError('config', 'E_LINT_RULE_UNKNOWN', `lint.rules names unknown rule${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      fix: `use a code or name from stagedb lint --rules (e.g. SDB001 or ${RULE_NAMES.SDB001})`,
    });
  }
  return out;
}

/**
 * The finding's severity: the configured one, else the hit's own (a hazard that certainly fails),
 * else the rule's default. With a database, size-bound hazards on an empty or small table become
 * `info` and on a large table `error`, whatever the configured severity (`off` stays off). Without
 * one, no size is known: a size-bound hazard at its default `error` is a `warning` (an index on the
 * table the previous, still tiny, migration created is no outage), and an error only where a size says
 * so — `lint --env` and the deploy gate — or where the config sets the rule to `error` (issue 13).
 */
function resolveSeverity(rule: Rule, setting: SeveritySetting | undefined, hit: Hit, ctx: FileContext | undefined, small: number, large: number): { severity: Severity; note?: string } | undefined {
  const base = setting ?? hit.severity ?? rule.defaultSeverity;
  if (base === 'off') return undefined;
  let severity: Severity = base;
  let note = hit.note;
  if (rule.sizeBound && hit.table && !ctx?.db && setting === undefined && hit.severity === undefined && base === 'error') {
    severity = 'warning';
    note = note ?? 'table size unknown without --env: an error on a large table (stagedb lint --env <name>, and the deploy gate, judge it by size)';
  }
  if (rule.sizeBound && hit.table && ctx?.db) {
    const st = ctx.stats(hit.table);
    const size = ctx.sizeText(hit.table);
    if (st) {
      if (st.heapBytes === 0 && st.rows <= 0 && st.kind !== 'p') {
        severity = 'info';
        note = `empty on ${ctx.db.env}: the lock lasts milliseconds`;
      } else if (st.bytes < small) {
        severity = 'info';
        note = `small table (${size}): the lock lasts about as long as reading it`;
      } else if (st.bytes >= large) {
        severity = 'error';
        note = `large table (${size})`;
      } else note = size;
    }
  }
  return { severity, note };
}

/** Milliseconds in a `lock_timeout` value: 5000, '5s', '1min', '500ms'. */
export function durationMs(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/i.exec(v);
  if (!m) return undefined;
  const unit = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms').toLowerCase() as 'ms'];
  return Number(m[1]) * unit;
}

/** What a statement leaves behind for the ones after it: new tables, indexes, types, columns, lock_timeout. */
function applyEffects(s: Statement, ctx: FileContext, runnerLock: number, runnerStatement: number): void {
  const { batch } = ctx;
  switch (s.kind) {
    case 'CreateStmt': {
      const c = as<CreateStmt>(s.node, 'CreateStmt')!;
      const rel = relOf(c.relation);
      if (!rel) break;
      batch.tables.add(ctx.key(rel));
      // Its foreign keys: dropping the table (or one of them) later locks the referenced table too.
      for (const e of c.tableElts ?? []) {
        const col = as<{ colname?: string; constraints?: Node[] }>(e, 'ColumnDef');
        for (const n of col?.constraints ?? []) addForeignKey(ctx, rel, as<Constraint>(n, 'Constraint'), col?.colname);
        addForeignKey(ctx, rel, as<Constraint>(e, 'Constraint'));
      }
      for (const n of c.constraints ?? []) addForeignKey(ctx, rel, as<Constraint>(n, 'Constraint'));
      break;
    }
    case 'CreateTableAsStmt': {
      const rel = relOf((s.node as { CreateTableAsStmt: { into?: { rel?: never } } }).CreateTableAsStmt.into?.rel);
      if (rel) batch.tables.add(ctx.key(rel));
      break;
    }
    case 'IndexStmt': {
      const i = as<IndexStmt>(s.node, 'IndexStmt')!;
      const rel = relOf(i.relation);
      if (rel && i.idxname) batch.indexes.set(ctx.key({ schema: rel.schema, name: i.idxname }), rel);
      break;
    }
    case 'CreateEnumStmt':
    case 'CompositeTypeStmt':
    case 'CreateDomainStmt': {
      const n = s.node as Record<string, { typeName?: Node[]; typevar?: never; domainname?: Node[] }>;
      const body = n[s.kind]!;
      // CreateDomainStmt's typeName is its base type (a TypeName, not a name list): its own name is domainname.
      const rel = s.kind === 'CompositeTypeStmt' ? relOf(body.typevar) : relOfNames(strings(s.kind === 'CreateDomainStmt' ? body.domainname : body.typeName));
      if (rel) batch.types.add(ctx.key(rel));
      break;
    }
    case 'AlterTableStmt': {
      const a = as<AlterTableStmt>(s.node, 'AlterTableStmt')!;
      const rel = relOf(a.relation);
      if (!rel) break;
      for (const n of a.cmds ?? []) {
        const cmd = as<AlterTableCmd>(n, 'AlterTableCmd');
        const col = cmd?.subtype === 'AT_AddColumn' ? as<{ colname?: string; constraints?: Node[] }>(cmd.def, 'ColumnDef') : undefined;
        if (col?.colname) batch.columns.add(`${ctx.key(rel)}.${col.colname}`);
        for (const n of col?.constraints ?? []) addForeignKey(ctx, rel, as<Constraint>(n, 'Constraint'), col?.colname);
        if (cmd?.subtype === 'AT_AddConstraint') addForeignKey(ctx, rel, as<Constraint>(cmd.def, 'Constraint'));
        if (cmd?.subtype === 'AT_DropConstraint' && cmd.name) batch.droppedConstraints.add(`${ctx.key(rel)}.${cmd.name}`);
        if (cmd?.subtype === 'AT_ValidateConstraint' && cmd.name) batch.validated.add(`${ctx.key(rel)}.${cmd.name}`);
        // A CHECK added to a table: a later type change of a column it reads re-checks every row (SDB033).
        const check = cmd?.subtype === 'AT_AddConstraint' ? as<Constraint>(cmd.def, 'Constraint') : undefined;
        if (check?.contype === 'CONSTR_CHECK') {
          batch.droppedConstraints.delete(`${ctx.key(rel)}.${check.conname ?? `${rel.name}_check`}`);
          const def = { name: check.conname ?? `${rel.name}_check`, def: ctx.clauseAt(s, check.location)?.replace(/^CONSTRAINT\s+("(?:[^"]|"")*"|\S+)\s+/i, '') ?? 'CHECK (…)' };
          walk(check.raw_expr, (n) => {
            const f = strings(as<{ fields?: Node[] }>(n, 'ColumnRef')?.fields);
            const k = f.length ? `${ctx.key(rel)}.${f[f.length - 1]}` : undefined;
            if (k && !batch.checks.get(k)?.some((c) => c.name === def.name)) batch.checks.set(k, [...(batch.checks.get(k) ?? []), def]);
          });
        }
      }
      break;
    }
    case 'RenameStmt': {
      const r = as<RenameStmt>(s.node, 'RenameStmt')!;
      const rel = relOf(r.relation);
      if (r.renameType === 'OBJECT_TABLE' && rel && r.newname && batch.tables.has(ctx.key(rel))) batch.tables.add(ctx.key({ schema: rel.schema, name: r.newname }));
      if (r.renameType === 'OBJECT_TYPE' && r.newname) {
        const old = relOfNames(strings((r.object as { List?: { items?: Node[] } } | undefined)?.List?.items));
        if (old && batch.types.has(ctx.key(old))) batch.types.add(ctx.key({ schema: old.schema, name: r.newname }));
      }
      break;
    }
    case 'VariableSetStmt': {
      const v = as<VariableSetStmt>(s.node, 'VariableSetStmt')!;
      if (v.name !== 'lock_timeout' && v.name !== 'statement_timeout') break;
      const lock = v.name === 'lock_timeout';
      if (v.kind === 'VAR_SET_VALUE') {
        const c = as<{ ival?: { ival?: number }; sval?: { sval?: string } }>(v.args?.[0], 'A_Const');
        const ms = c?.sval ? durationMs(c.sval.sval ?? '') : (c?.ival?.ival ?? 0);
        if (ms !== undefined) {
          if (lock) ctx.lockTimeoutMs = ms;
          else ctx.statementTimeoutMs = ms;
        }
      } else if (lock) ctx.lockTimeoutMs = runnerLock;
      else ctx.statementTimeoutMs = runnerStatement;
      break;
    }
  }
}

/** Records a FOREIGN KEY constraint the linted files add to `rel` (a no-op for other constraints). */
function addForeignKey(ctx: FileContext, rel: Rel, c: Constraint | undefined, column?: string): void {
  if (c?.contype !== 'CONSTR_FOREIGN') return;
  const references = relOf(c.pktable);
  if (!references) return;
  const cols = strings(c.fk_attrs);
  const name = c.conname ?? `${rel.name}_${(cols.length ? cols : [column ?? '']).join('_')}_fkey`;
  const k = ctx.key(rel);
  ctx.batch.droppedConstraints.delete(`${k}.${name}`);
  ctx.batch.foreignKeys.set(k, [...(ctx.batch.foreignKeys.get(k) ?? []).filter((f) => f.name !== name), { name, references }]);
}

/** Every relation the files name, for the one catalog query. */
function references(files: ParsedFile[]): References {
  const tables = new Map<string, Rel>();
  const indexes = new Map<string, Rel>();
  const columnsOf = new Map<string, Rel>();
  const keyOf = (r: Rel) => `${r.schema ?? ''}.${r.name}`;
  for (const f of files) {
    for (const s of f.statements) {
      // A RangeVar is wrapped ({ RangeVar: … }) in lists (FROM), bare in fields (relation, pktable).
      walk(s.node, (n) => {
        const rv = typeof (n as { relname?: unknown }).relname === 'string' ? n : as(n, 'RangeVar');
        const rel = relOf(rv as never);
        if (rel) tables.set(keyOf(rel), rel);
      });
      if (s.kind === 'DropStmt' || s.kind === 'ReindexStmt' || s.kind === 'RenameStmt') {
        const d = s.node as { DropStmt?: { removeType?: string; objects?: Node[] }; ReindexStmt?: { kind?: string; relation?: never }; RenameStmt?: { renameType?: string; relation?: never } };
        // A dropped table is named by a list of strings, not a RangeVar: it is looked up all the same.
        if (d.DropStmt?.removeType === 'OBJECT_TABLE') {
          for (const o of d.DropStmt.objects ?? []) {
            const rel = relOfNames(strings(as<{ items?: Node[] }>(o, 'List')?.items));
            if (rel) tables.set(keyOf(rel), rel);
          }
        }
        if (d.DropStmt?.removeType === 'OBJECT_INDEX') {
          for (const o of d.DropStmt.objects ?? []) {
            const rel = relOfNames(strings(as<{ items?: Node[] }>(o, 'List')?.items));
            if (rel) indexes.set(keyOf(rel), rel);
          }
        }
        const idx = d.ReindexStmt?.kind === 'REINDEX_OBJECT_INDEX' ? relOf(d.ReindexStmt.relation) : d.RenameStmt?.renameType === 'OBJECT_INDEX' ? relOf(d.RenameStmt.relation) : undefined;
        if (idx) indexes.set(keyOf(idx), idx);
      }
      if (s.kind === 'AlterTableStmt') {
        const a = as<AlterTableStmt>(s.node, 'AlterTableStmt')!;
        const rel = relOf(a.relation);
        // Column types and CHECKs for a type change (SDB011, SDB033) and SET NOT NULL (a validated IS NOT NULL check means no scan), constraint names for the fixes.
        const wanted = new Set(['AT_AlterColumnType', 'AT_SetNotNull', 'AT_AddConstraint']);
        if (rel && (a.cmds ?? []).some((c) => wanted.has(as<AlterTableCmd>(c, 'AlterTableCmd')?.subtype ?? ''))) columnsOf.set(keyOf(rel), rel);
      }
    }
  }
  return { tables: [...tables.values()], indexes: [...indexes.values()], columnsOf: [...columnsOf.values()] };
}
