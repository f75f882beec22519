/**
 * What the dashboard shows, read from every environment at once. Each part of each environment is
 * read on its own and settles on its own: an environment that is down (or a part this role may not
 * see) becomes that part's error, redacted, and never stops the others. Reads only.
 */
import { loadSecrets } from '../aws/secrets.js';
import type { AdviceReport } from '../advise/index.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { resolveEnvironment } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import type { DriftReport } from '../develop/diff.js';
import { StagedbError } from '../errors.js';
import type { AuditRow } from '../guard/audit.js';
import { readLocalHistory, type LocalHistory } from '../history/local.js';
import type { EnvStatus } from '../history/status.js';
import type { PendingLint } from '../lint/pending.js';
import type { StoredBackup } from '../backup/storage.js';
import { redact } from '../redact.js';
import { readMetrics, type Metrics } from './metrics.js';

/** A part that could not be read: what happened (redacted) and, when known, the fix. */
export interface PartError {
  error: { code?: string; message: string; fix?: string };
}
export type Part<T> = { value: T } | PartError;

export interface BackupSummary {
  location: string;
  count: number;
  newest?: StoredBackup;
  /** The newest backup that has a verification record, when it is not the newest. */
  lastVerified?: StoredBackup;
  incomplete: number;
  damaged: number;
}

/** Drift as the dashboard knows it: from the cache, or checked now on request. */
export type DriftPart = { report: DriftReport } | { notInCache: true };

export interface EnvironmentView {
  name: string;
  protection: string;
  /** host:port/database, never credentials. */
  target: string;
  /** The environment could not even be resolved (a missing variable…): every part then says so. */
  status: Part<EnvStatus>;
  drift: Part<DriftPart>;
  backups: Part<BackupSummary>;
  audit: Part<AuditRow[]>;
  lint: Part<PendingLint>;
  advice: Part<AdviceReport>;
  metrics: Part<Metrics>;
}

export interface DashboardData {
  at: Date;
  ms: number;
  localMigrations: number;
  migrationsError?: PartError['error'];
  environments: EnvironmentView[];
  /** Drift was checked now (replaying where the cache had no answer), not only looked up. */
  driftChecked: boolean;
}

export interface CollectOptions {
  config: ResolvedConfig;
  names: string[];
  processEnv: NodeJS.ProcessEnv;
  cwd: string;
  /** Replay where the cache has no answer (slow: the whole applied history on a shadow database). */
  checkDrift?: boolean;
  /** Audit records per environment (default 10). */
  auditLimit?: number;
}

const asError = (e: unknown): PartError => {
  if (e instanceof StagedbError) return { error: { code: e.code, message: redact(e.message), ...(e.fix ? { fix: redact(e.fix) } : {}) } };
  const err = e as { code?: string; message?: string };
  return { error: { ...(typeof err?.code === 'string' ? { code: err.code } : {}), message: redact(err?.message ?? String(e)) } };
};

async function part<T>(fn: () => Promise<T>): Promise<Part<T>> {
  try {
    return { value: await fn() };
  } catch (e) {
    return asError(e);
  }
}

/** Reads every environment's parts concurrently. Never throws for a database or config problem. */
export async function collectDashboard(o: CollectOptions): Promise<DashboardData> {
  const started = performance.now();
  let local: LocalHistory | undefined;
  let migrationsError: PartError['error'] | undefined;
  try {
    local = readLocalHistory(o.config.migrationsDir, o.cwd);
  } catch (e) {
    migrationsError = asError(e).error;
  }
  const environments = await Promise.all(o.names.map((name) => collectOne(o, name, local)));
  return { at: new Date(), ms: performance.now() - started, localMigrations: local?.migrations.length ?? 0, ...(migrationsError ? { migrationsError } : {}), environments, driftChecked: !!o.checkDrift };
}

async function collectOne(o: CollectOptions, name: string, local: LocalHistory | undefined): Promise<EnvironmentView> {
  let env: ResolvedEnvironment;
  try {
    await loadSecrets(o.config, [name], o.processEnv);
    env = resolveEnvironment(o.config, name, { processEnv: o.processEnv });
  } catch (e) {
    const err = asError(e);
    return { name, protection: o.config.environments[name]?.protection ?? '', target: '', status: err, drift: err, backups: err, audit: err, lint: err, advice: err, metrics: err };
  }
  const info = env.directInfo;
  const target = `${info.host}:${info.port}/${info.database}`;
  const noHistory = (): never => {
    throw new StagedbError('history', 'E_MIGRATIONS_MISSING', 'the migrations folder could not be read', { fix: 'stagedb status' });
  };
  const driftOptions = { env, schemaPath: o.config.schemaPath, migrationsDir: o.config.migrationsDir, root: o.config.root, ...(local ? { local: local.migrations } : {}) };
  const [status, drift, backups, audit, lint, advice, metrics] = await Promise.all([
    part(async () => {
      const { environmentStatus } = await import('../history/status.js');
      const s = await environmentStatus(env, local ?? noHistory());
      if (s.error) throw new StagedbError('connection', s.error.code, s.error.message, s.error.fix ? { fix: s.error.fix } : {});
      return s;
    }),
    part(async (): Promise<DriftPart> => {
      const { cachedDrift, detectDriftCached } = await import('../develop/drift-cache.js');
      const report = o.checkDrift ? await detectDriftCached(driftOptions) : await cachedDrift(driftOptions);
      return report ? { report } : { notInCache: true };
    }),
    part(async (): Promise<BackupSummary> => {
      const { listBackups } = await import('../backup/list.js');
      const l = await listBackups(env);
      const newest = l.backups[0];
      const lastVerified = newest?.verification ? undefined : l.backups.find((b) => b.verification);
      return { location: redact(l.location), count: l.backups.length, ...(newest ? { newest } : {}), ...(lastVerified ? { lastVerified } : {}), incomplete: l.incomplete.length, damaged: l.damaged.length };
    }),
    part(async () => {
      const { readAudit } = await import('../guard/audit.js');
      return (await readAudit({ env, root: o.config.root, limit: o.auditLimit ?? 10 })).rows.map((r) => ({ ...r, summary: redact(r.summary), command: redact(r.command) }));
    }),
    part(async () => {
      if (!local) noHistory();
      const { lintPending } = await import('../lint/pending.js');
      return lintPending({ env, migrationsDir: o.config.migrationsDir, cwd: o.cwd, lint: { runner: o.config.lint?.runner ?? 'stagedb' } });
    }),
    part(async () => {
      const { runAdvise } = await import('../advise/index.js');
      return runAdvise({ config: o.config, env: name, processEnv: o.processEnv, timeoutMs: 5000 });
    }),
    part(() => readMetrics(env)),
  ]);
  return { name, protection: env.protection, target, status, drift, backups, audit, lint, advice, metrics };
}
