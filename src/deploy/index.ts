import type { ResolvedConfig } from '../config/load.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Progress } from '../backup/progress.js';
import type { DeployEvent as ApplyEvent, DeployOptions as ApplyOptions, DeployResult as ApplyResult, RestorePoint } from '../history/deploy.js';
import type { GateResult } from '../lint/gate.js';
import type { GuardedOperation } from '../guard/run.js';
import { readLocalHistory, type LocalHistory } from '../history/local.js';

/** What `deploy` tells as it goes: history's steps, and the gates and the backup before them. */
export type DeployEvent =
  | ApplyEvent
  /** Something the user should know that does not stop the deploy (a marker not stored, drift let through, a hazard overridden …). */
  | { type: 'warning'; env: string; message: string }
  /** The lint gate's verdict (guarded and production environments), when it lets the deploy go on. */
  | { type: 'lint-gate'; env: string; gate: GateResult; allowHazards?: string }
  /** The backup before deploy is about to start. */
  | { type: 'backup-plan'; env: string; pgDumpVersion: string; databaseBytes: number; location: string }
  /** The backup before deploy is stored: the restore point if the deploy goes wrong. */
  | { type: 'backup-taken'; env: string; id: string; size: number; durationMs: number }
  /** A line of the RDS snapshot or point-in-time restore point taken instead of a pg_dump (`backupBeforeDeploy: 'snapshot' | 'pitr'`), its restore command included. */
  | { type: 'backup-note'; env: string; message: string };

export interface DeployOptions
  extends Omit<ApplyOptions, 'env' | 'migrationsDir' | 'restorePoint' | 'onEvent' | 'local'>,
    Pick<GuardedOperation<unknown>, 'confirm' | 'interactive' | 'typeToConfirm' | 'processEnv'> {
  config: ResolvedConfig;
  env: ResolvedEnvironment;
  /** The command the user ran, for fix lines and the audit record (default "deploy"). */
  commandName?: string;
  /** The working directory paths in findings are shown relative to (default: the project root). */
  cwd?: string;
  /** Deploy although the lint gate finds error-level hazards; the reason goes into the audit record. */
  allowHazards?: string;
  /** Deploy although the database drifted (or drift could not be checked); the reason goes into the audit record. */
  allowDrift?: string;
  /** The migrations folder, when the caller has read it already: a deploy reads it once, before it connects. */
  local?: LocalHistory;
  onEvent?: (event: DeployEvent) => void;
  /** The backup before deploy's progress, about once a second while pg_dump runs. */
  onBackupProgress?: (progress: Progress) => void;
}

export interface DeployResult extends ApplyResult {
  /** The backup taken before the deploy (its id), when one was. */
  backup?: string;
}

/**
 * A deploy as the CLI runs it, for library callers too: through the guard (the protection matrix —
 * production asks for confirmation: `confirm: '<env>'`, or a terminal with `typeToConfirm` —, the
 * marker, the audit record, the webhook), then on guarded and production environments the drift gate
 * and the lint gate, the backup before deploy where the config asks for one, and history's apply.
 */
export async function deploy(o: DeployOptions): Promise<DeployResult> {
  const { config, env } = o;
  const commandName = o.commandName ?? 'deploy';
  const emit = (e: DeployEvent) => o.onEvent?.(e);
  const warn = (message: string) => emit({ type: 'warning', env: env.name, message });
  // A missing or broken migrations folder is reported before anything connects; read once, for every step.
  const local = o.local ?? readLocalHistory(config.migrationsDir, o.cwd);
  const { runGuarded } = await import('../guard/run.js');
  return runGuarded({
    action: 'deploy',
    command: `${commandName} --env ${env.name}`,
    env,
    root: config.root,
    processEnv: o.processEnv,
    confirm: o.confirm,
    interactive: o.interactive,
    typeToConfirm: o.typeToConfirm,
    what: 'apply pending migrations',
    onWarning: warn,
    run: async () => {
      // The drift gate (issue 15): guarded and production only, before the lint gate and the backup, so a
      // database changed outside its history is neither backed up as "before deploy" nor migrated further.
      // Answered from the drift cache when nothing changed since the last check (plan, status --drift).
      let drift: string | undefined;
      if (env.protection !== 'none') {
        const { driftGate } = await import('./drift-gate.js');
        const d = await driftGate({ env, schemaPath: config.schemaPath, migrationsDir: config.migrationsDir, root: config.root, command: commandName, allowDrift: o.allowDrift, local: local.migrations });
        if (d.warning) warn(d.warning);
        drift = d.summary;
      }
      // The zero-downtime lint gate (issue 6): guarded and production only, so deploys to unprotected
      // environments never load the SQL parser. Refuses (E_LINT_BLOCKED) before anything is applied.
      let gate: string | undefined;
      if (env.protection !== 'none') {
        const { lintGate } = await import('../lint/gate.js');
        const g = await lintGate({
          env,
          migrationsDir: config.migrationsDir,
          cwd: o.cwd ?? config.root,
          command: commandName,
          allowHazards: o.allowHazards,
          local,
          lint: { severities: config.lint?.rules, smallTableBytes: config.lint?.smallTableBytes, largeTableBytes: config.lint?.largeTableBytes, runnerLockTimeoutMs: env.lockTimeoutMs, runnerStatementTimeoutMs: env.statementTimeoutMs },
        });
        emit({ type: 'lint-gate', env: env.name, gate: g, ...(o.allowHazards !== undefined ? { allowHazards: o.allowHazards } : {}) });
        gate = g.summary;
      }
      // Backup before deploy (issue 5; production-level by default): refuses to migrate when it fails,
      // and a failed migration names it as the restore point.
      const restorePoint = env.backup.beforeDeploy ? await backupFirst(o, local, emit) : undefined;
      const { deploy: apply } = await import('../history/deploy.js');
      const r = await apply({
        env,
        migrationsDir: config.migrationsDir,
        allowModified: o.allowModified,
        allowMissing: o.allowMissing,
        allowOutOfOrder: o.allowOutOfOrder,
        deployLockWaitMs: o.deployLockWaitMs,
        ddlLockTimeoutMs: o.ddlLockTimeoutMs,
        statementTimeoutMs: o.statementTimeoutMs,
        lockRetries: o.lockRetries,
        lockRetryDelayMs: o.lockRetryDelayMs,
        progressIntervalMs: o.progressIntervalMs,
        restorePoint,
        local,
        onEvent: emit,
      });
      return {
        value: typeof restorePoint === 'string' ? { ...r, backup: restorePoint } : restorePoint ? { ...r, restorePoint } : r,
        summary: `${restorePoint ? `${typeof restorePoint === 'string' ? `backup ${restorePoint}` : restorePoint.what}; ` : ''}${r.applied.length ? `applied ${r.applied.map((a) => a.name).join(', ')}` : 'nothing to apply'}${drift ? `; ${drift}` : ''}${gate ? `; ${gate}` : ''}`,
      };
    },
  });
}

/**
 * deploy's backup before migrating (config `backupBeforeDeploy`): taken inside the guarded run, after
 * the confirmation and before the first migration. Returns the backup's id, the restore point a
 * failed migration names; undefined when none was needed (nothing pending). A failed backup throws:
 * no migration runs.
 */
async function backupFirst(o: DeployOptions, local: LocalHistory, emit: (e: DeployEvent) => void): Promise<RestorePoint | undefined> {
  const { env, config } = o;
  const { backupActor } = await import('../backup/manifest.js');
  const { backupBeforeDeploy } = await import('../backup/before-deploy.js');
  const r = await backupBeforeDeploy({
    env,
    migrationsDir: config.migrationsDir,
    local,
    createdBy: backupActor(config.root, o.processEnv ?? process.env),
    processEnv: o.processEnv,
    onEvent: (e) => {
      if (e.type === 'warning') emit({ type: 'warning', env: env.name, message: e.message });
      if (e.type === 'plan') emit({ type: 'backup-plan', env: env.name, pgDumpVersion: e.pgDump.version, databaseBytes: e.databaseBytes, location: e.location });
    },
    onNote: (message) => emit({ type: 'backup-note', env: env.name, message }),
    onProgress: o.onBackupProgress,
  });
  if (r.rds && 'snapshot' in r.rds) return { what: `RDS snapshot ${r.rds.snapshot.identifier}`, command: r.rds.snapshot.restore };
  if (r.rds) return { what: `the point in time ${r.rds.pointInTime.time} (WAL ${r.rds.pointInTime.lsn}) in RDS automated backups`, command: r.rds.pointInTime.restore };
  if (!r.backup) return undefined;
  const m = r.backup.manifest;
  emit({ type: 'backup-taken', env: env.name, id: r.backup.id, size: m.size, durationMs: m.durationMs });
  return r.backup.id;
}
