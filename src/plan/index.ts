/**
 * `stagedb plan` (issue 15): what a deploy would do to each environment, read-only. The pending
 * migrations in order, how each runs (the deploy's own `chooseMode`), the locks the lint finds each
 * statement taking and the size of each locked table there, the lint findings, whether a backup is
 * taken first, drift as the deploy's drift gate would see it, and a rough duration of the statements
 * whose time grows with a table's size (estimate.ts). Nothing is changed.
 */
import type { ResolvedEnvironment } from '../config/environments.js';
import type { LintConfig } from '../config/define.js';
import type { DriftReport } from '../develop/diff.js';
import { StagedbError } from '../errors.js';
import { readLocalHistory, type LocalHistory } from '../history/local.js';
import { chooseMode, type ApplyMode } from '../history/mode.js';
import { lintPending } from '../lint/pending.js';
import type { Finding, LockMode, Severity } from '../lint/types.js';
import { connect } from '../pg/connect.js';
import { redact } from '../redact.js';
import { estimate, estimateCandidates, type EstimateCandidate, type MigrationEstimate, type TableSize } from './estimate.js';

export interface PlannedLock {
  /** Where the statement is: `<migration>:<line>`. */
  at: string;
  mode: LockMode;
  /** The relation as the SQL names it. */
  on: string;
  /** On every index of `on`, not the table itself. */
  indexes: boolean;
  /** pg_total_relation_size there; undefined when the table does not exist yet. */
  bytes?: number;
  /** pg_class.reltuples there (an estimate; -1 never analyzed). */
  rows?: number;
  blocksReads: boolean;
  blocksWrites: boolean;
}

export interface PlannedMigration {
  name: string;
  mode: ApplyMode;
  /** How it runs, in words (as deploy prints it). */
  how: string;
  statements: number;
  locks: PlannedLock[];
  findings: Array<Pick<Finding, 'code' | 'severity' | 'line' | 'message' | 'note'>>;
  /**
   * A rough duration of the statements whose time grows with a table's size there (index builds,
   * rewrites, validating scans), each with its basis; absent when none can be estimated (estimate.ts).
   */
  estimate?: MigrationEstimate;
}

export type PlannedDrift =
  | { checked: true; drifted: boolean; sql: string; cached: boolean }
  | { checked: false; reason: string; code?: string }
  | { checked: false; skipped: true; reason: string };

export interface EnvironmentPlan {
  env: string;
  protection: string;
  target: string;
  pending: PlannedMigration[];
  /** deploy takes a backup first (env.backup.beforeDeploy; only when something is pending). */
  backupFirst: boolean;
  drift: PlannedDrift;
  /** What deploy would do given the above: `apply`, `nothing` or `refuse` (drift, lint error). */
  verdict: 'apply' | 'nothing' | 'refuse';
  counts: Record<Severity, number>;
}

/** An environment that could not be planned (`--env a,b` or `all`): unreachable, not configured, … */
export interface PlanError {
  env: string;
  error: { code: string; message: string; fix?: string };
  notConfigured: boolean;
}

export type PlanEntry = EnvironmentPlan | PlanError;

export interface PlanOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  schemaPath: string;
  root: string;
  cwd?: string;
  lint?: LintConfig;
  /** The migrations folder as the caller has just read it (`plan --env all` reads it once for every environment). */
  local?: LocalHistory;
}

const fmtLoc = (m: string, line: number) => `${m}:${line}`;

/** One environment's plan. Reads only: catalog queries, the lint, the drift check (cache or shadow database). */
export async function planEnvironment(o: PlanOptions): Promise<EnvironmentPlan> {
  const { env } = o;
  const folder = o.local ?? readLocalHistory(o.migrationsDir, o.cwd);
  // The drift check (its own connection) runs while the pending migrations are linted.
  const drifting = env.protection === 'none' ? undefined : checkDrift(o, folder);
  drifting?.catch(() => {});
  const lint = await lintPending({
    env,
    migrationsDir: o.migrationsDir,
    cwd: o.cwd,
    local: folder,
    lint: { runner: 'stagedb', severities: o.lint?.rules, smallTableBytes: o.lint?.smallTableBytes, largeTableBytes: o.lint?.largeTableBytes, runnerLockTimeoutMs: env.lockTimeoutMs, runnerStatementTimeoutMs: env.statementTimeoutMs },
  });
  const local = new Map(folder.migrations.map((m) => [m.name, m]));
  const server = lint.serverVersionNum;
  const candidates = new Map<string, EstimateCandidate[]>();
  const pending: PlannedMigration[] = lint.pending.map((name) => {
    const script = local.get(name)!.script;
    const choice = chooseMode(script, server);
    const mine = lint.result.findings.filter((f) => f.migration === name);
    const locks: PlannedLock[] = [];
    for (const f of mine) {
      for (const l of f.claim?.locks ?? []) {
        const at = fmtLoc(name, f.line);
        if (locks.some((x) => x.at === at && x.on === l.on && x.mode === l.mode)) continue;
        locks.push({ at, mode: l.mode, on: l.on, indexes: Boolean(l.indexes), blocksReads: f.claim!.blocksReads, blocksWrites: f.claim!.blocksWrites });
      }
    }
    candidates.set(name, estimateCandidates(name, script, choice.statements, mine));
    return {
      name,
      mode: choice.mode,
      how: choice.mode === 'transaction' ? 'one transaction' : choice.mode === 'file-managed' ? 'its own transaction (the file has BEGIN/COMMIT)' : `statement by statement (${choice.reason})`,
      statements: choice.statements.length,
      locks,
      findings: mine.map((f) => ({ code: f.code, severity: f.severity, line: f.line, message: f.message, ...(f.note ? { note: f.note } : {}) })),
    };
  });
  const toEstimate = [...candidates.values()].flat();
  if (pending.some((p) => p.locks.length) || toEstimate.length) {
    const sizes = await sizeTables(env, [...pending.flatMap((p) => p.locks.map((l) => l.on)), ...toEstimate.map((c) => c.table)]);
    for (const l of pending.flatMap((p) => p.locks)) {
      const size = sizes.get(l.on);
      if (size) Object.assign(l, { bytes: size.bytes, rows: size.rows });
    }
    for (const p of pending) {
      const e = estimate(candidates.get(p.name) ?? [], sizes);
      if (e) p.estimate = e;
    }
  }
  const drift = drifting ? await drifting : ({ checked: false, skipped: true, reason: 'not checked: deploy checks drift on guarded and production environments only' } as const);
  const refuse = (drift.checked && drift.drifted) || (!drift.checked && !('skipped' in drift) && env.protection === 'production') || (env.protection !== 'none' && lint.result.counts.error > 0);
  const i = env.directInfo;
  return {
    env: env.name,
    protection: env.protection,
    target: `${i.host}:${i.port}/${i.database} (schema ${i.schema})`,
    pending,
    backupFirst: env.backup.beforeDeploy && pending.length > 0,
    drift,
    verdict: refuse ? 'refuse' : pending.length === 0 ? 'nothing' : 'apply',
    counts: lint.result.counts,
  };
}

async function checkDrift(o: PlanOptions, folder: LocalHistory): Promise<PlannedDrift> {
  const { detectDriftCached } = await import('../develop/drift-cache.js');
  let r: DriftReport;
  try {
    r = await detectDriftCached({ env: o.env, schemaPath: o.schemaPath, migrationsDir: o.migrationsDir, root: o.root, local: folder.migrations });
  } catch (e) {
    if (!(e instanceof StagedbError) || e.kind !== 'config') throw e;
    return { checked: false, code: e.code, reason: redact(e.message).replace(`${o.env.name}: `, '') };
  }
  return { checked: true, drifted: r.drifted, sql: r.migrationsToDatabase, cached: r.cache === 'hit' };
}

/** The size of each table there, in one query (names resolved as the migration would: the URL's schema first); absent: no such table (yet). */
async function sizeTables(env: ResolvedEnvironment, tables: string[]): Promise<Map<string, TableSize & { rows: number }>> {
  const c = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'plan' });
  try {
    await c.query(`SELECT set_config('search_path', quote_ident($1) || ', public', false)`, [env.directInfo.schema]);
    const { rows } = await c.query<{ n: string; bytes: string | null; heap: string | null; rows: number | null }>(
      `SELECT n, pg_total_relation_size(r) AS bytes, pg_relation_size(r) AS heap, (SELECT reltuples FROM pg_class WHERE oid = r) AS rows
         FROM unnest($1::text[]) AS n, LATERAL (SELECT to_regclass(n) AS r) x`,
      [[...new Set(tables)]],
    );
    const out = new Map<string, TableSize & { rows: number }>();
    for (const r of rows) if (r.bytes != null) out.set(r.n, { bytes: Number(r.bytes), heapBytes: Number(r.heap ?? 0), rows: r.rows ?? -1 });
    return out;
  } finally {
    await c.end().catch(() => {});
  }
}
