/**
 * `stagedb plan` (issue 15): what a deploy would do to each environment, read-only. The pending
 * migrations in order, how each runs (the deploy's own `chooseMode`), the locks the lint finds each
 * statement taking and the size of each locked table there, the lint findings, whether a backup is
 * taken first, and drift as the deploy's drift gate would see it. Nothing is changed.
 */
import type { ResolvedEnvironment } from '../config/environments.js';
import type { LintConfig } from '../config/define.js';
import type { DriftReport } from '../develop/diff.js';
import { StagedbError } from '../errors.js';
import { readLocalHistory } from '../history/local.js';
import { chooseMode, type ApplyMode } from '../history/mode.js';
import { lintPending } from '../lint/pending.js';
import type { Finding, LockMode, Severity } from '../lint/types.js';
import { connect } from '../pg/connect.js';
import { redact } from '../redact.js';

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
}

const fmtLoc = (m: string, line: number) => `${m}:${line}`;

/** One environment's plan. Reads only: catalog queries, the lint, the drift check (cache or shadow database). */
export async function planEnvironment(o: PlanOptions): Promise<EnvironmentPlan> {
  const { env } = o;
  const lint = await lintPending({
    env,
    migrationsDir: o.migrationsDir,
    cwd: o.cwd,
    lint: { runner: 'stagedb', severities: o.lint?.rules, smallTableBytes: o.lint?.smallTableBytes, largeTableBytes: o.lint?.largeTableBytes, runnerLockTimeoutMs: env.lockTimeoutMs, runnerStatementTimeoutMs: env.statementTimeoutMs },
  });
  const local = new Map(readLocalHistory(o.migrationsDir, o.cwd).migrations.map((m) => [m.name, m]));
  const server = lint.result.context?.serverVersionNum ?? (await serverVersion(env));
  const pending: PlannedMigration[] = lint.pending.map((name) => {
    const choice = chooseMode(local.get(name)!.script, server);
    const mine = lint.result.findings.filter((f) => f.migration === name);
    const locks: PlannedLock[] = [];
    for (const f of mine) {
      for (const l of f.claim?.locks ?? []) {
        const at = fmtLoc(name, f.line);
        if (locks.some((x) => x.at === at && x.on === l.on && x.mode === l.mode)) continue;
        locks.push({ at, mode: l.mode, on: l.on, indexes: Boolean(l.indexes), blocksReads: f.claim!.blocksReads, blocksWrites: f.claim!.blocksWrites });
      }
    }
    return {
      name,
      mode: choice.mode,
      how: choice.mode === 'transaction' ? 'one transaction' : choice.mode === 'file-managed' ? 'its own transaction (the file has BEGIN/COMMIT)' : `statement by statement (${choice.reason})`,
      statements: choice.statements.length,
      locks,
      findings: mine.map((f) => ({ code: f.code, severity: f.severity, line: f.line, message: f.message, ...(f.note ? { note: f.note } : {}) })),
    };
  });
  if (pending.some((p) => p.locks.length)) await sizeLocks(env, pending.flatMap((p) => p.locks));
  const drift = env.protection === 'none' ? ({ checked: false, skipped: true, reason: 'not checked: deploy checks drift on guarded and production environments only' } as const) : await checkDrift(o);
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

async function checkDrift(o: PlanOptions): Promise<PlannedDrift> {
  const { detectDriftCached } = await import('../develop/drift-cache.js');
  let r: DriftReport;
  try {
    r = await detectDriftCached({ env: o.env, schemaPath: o.schemaPath, migrationsDir: o.migrationsDir, root: o.root });
  } catch (e) {
    if (!(e instanceof StagedbError) || e.kind !== 'config') throw e;
    return { checked: false, code: e.code, reason: redact(e.message).replace(`${o.env.name}: `, '') };
  }
  return { checked: true, drifted: r.drifted, sql: r.migrationsToDatabase, cached: r.cache === 'hit' };
}

async function serverVersion(env: ResolvedEnvironment): Promise<number> {
  const c = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'plan' });
  try {
    return Number((await c.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
  } finally {
    await c.end().catch(() => {});
  }
}

/** The size of each locked table there, in one query (names resolved as the migration would: the URL's schema first). */
async function sizeLocks(env: ResolvedEnvironment, locks: PlannedLock[]): Promise<void> {
  const c = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'plan' });
  try {
    await c.query(`SELECT set_config('search_path', quote_ident($1) || ', public', false)`, [env.directInfo.schema]);
    const names = [...new Set(locks.map((l) => l.on))];
    const { rows } = await c.query<{ n: string; bytes: string | null; rows: number | null }>(
      `SELECT n, pg_total_relation_size(to_regclass(n)) AS bytes, (SELECT reltuples FROM pg_class WHERE oid = to_regclass(n)) AS rows FROM unnest($1::text[]) AS n`,
      [names],
    );
    const by = new Map(rows.map((r) => [r.n, r]));
    for (const l of locks) {
      const r = by.get(l.on);
      if (r?.bytes != null) {
        l.bytes = Number(r.bytes);
        l.rows = r.rows ?? -1;
      }
    }
  } finally {
    await c.end().catch(() => {});
  }
}
