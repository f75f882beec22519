import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { readLocalHistory } from '../history/local.js';
import { environmentStatus } from '../history/status.js';
import { connect } from '../pg/connect.js';
import { shellQuote } from '../shell-quote.js';
import { formatBytes, formatDuration, type BackupActor } from './manifest.js';

/**
 * A backup before deploy that scales (issue 16, item 5). A full pg_dump before every production
 * deploy is hours of load on a 100 GB database before the first migration runs, so
 * `backupBeforeDeploy` chooses:
 *  - `'snapshot'`: an RDS snapshot of `backup.rds` (incremental on AWS's side), waited for;
 *  - `'pitr'`: no copy at all: RDS automated backups already hold every second; stagedb checks
 *    they are on and current, then records the exact restore point (the server's time and
 *    `pg_current_wal_lsn()`) and the command that restores it;
 *  - `true` / `'pg_dump'`: the pg_dump of before-deploy.ts, but only below
 *    `backup.beforeDeployDumpLimit` (default 20 GiB, pg_database_size): above it the deploy stops
 *    with the choices explained instead of starting an hours-long dump.
 * Each one names the exact restore command in the deploy's report (the events).
 */

export interface BackupBeforeDeployModeEvent {
  type: 'info' | 'progress';
  message: string;
}

export interface BackupBeforeDeployModeOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  processEnv?: NodeJS.ProcessEnv;
  createdBy?: BackupActor;
  onEvent?: (e: BackupBeforeDeployModeEvent) => void;
  /** How often RDS is asked about a snapshot (default 15 s; STAGEDB_RDS_POLL_MS in processEnv). */
  pollMs?: number;
}

/** `handled: false`: a pg_dump below the limit, for before-deploy.ts to take. */
export type BackupBeforeDeployModeResult =
  | { handled: false }
  | {
      handled: true;
      /** The pg_dump backup id a failed migration names; undefined for snapshot and pitr (their restore command was in the events). */
      restorePoint?: string;
      snapshot?: { identifier: string; region: string; restore: string };
      pointInTime?: { time: string; lsn: string; restore: string };
    };

/** How stale RDS's latest restorable time may be before automated backups are taken not to cover "now". */
const PITR_MAX_LAG_MS = 15 * 60_000;

/**
 * @throws guard/E_BACKUP_TOO_LARGE (pg_dump above the limit), backup/E_PITR_NO_BACKUPS,
 *   backup/E_PITR_BEHIND, and the RDS errors (credentials, no such instance, throttled, timeout),
 *   each prefixed with "no migration was applied".
 */
export async function backupBeforeDeployByMode(o: BackupBeforeDeployModeOptions): Promise<BackupBeforeDeployModeResult> {
  const env = o.env;
  const mode = env.backup.beforeDeployMode;
  if (!env.backup.beforeDeploy || (mode === 'pg_dump' && env.backup.beforeDeployDumpLimit === 0)) return { handled: false };
  const status = await environmentStatus(env, readLocalHistory(o.migrationsDir));
  // Unreachable, not baselined, nothing pending: before-deploy.ts says so, as it always has.
  if (status.state === 'error' || !status.history || status.history.pending === 0) return { handled: false };
  const processEnv = o.processEnv ?? process.env;
  const pollEnv = Number(processEnv.STAGEDB_RDS_POLL_MS);
  const pollMs = o.pollMs ?? (Number.isFinite(pollEnv) && pollEnv > 0 ? pollEnv : undefined);
  try {
    if (mode === 'pg_dump') {
      await refuseLargeDump(env);
      return { handled: false };
    }
    if (mode === 'snapshot') {
      const { createRdsSnapshot } = await import('./rds.js');
      const started = Date.now();
      let last = '';
      const s = await createRdsSnapshot({
        env,
        reason: 'before-deploy',
        createdBy: o.createdBy,
        processEnv,
        pollMs,
        onProgress: (p, elapsedMs) => {
          const line = `${p.status}${p.percent !== undefined ? ` ${p.percent} %` : ''}`;
          if (line === last) return;
          last = line;
          o.onEvent?.({ type: 'progress', message: `${env.name}: RDS snapshot ${p.identifier}: ${line}, ${formatDuration(elapsedMs)} so far` });
        },
      });
      const restore = `aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${shellQuote(s.identifier)} --db-instance-identifier <new-instance> --region ${shellQuote(s.region)}`;
      o.onEvent?.({ type: 'info', message: `${env.name}: backup before deploy: RDS snapshot ${s.identifier} of ${s.instance} is available (${formatDuration(Date.now() - started)}): the restore point if this deploy goes wrong` });
      o.onEvent?.({ type: 'info', message: `  restore it: ${restore}` });
      return { handled: true, snapshot: { identifier: s.identifier, region: s.region, restore } };
    }
    const { rdsRestoreWindow } = await import('./rds-pitr.js');
    const w = await rdsRestoreWindow({ env, processEnv });
    const list = `stagedb backup list --env ${env.name}`;
    if (w.retentionDays === 0 || !w.latest) {
      throw new StagedbError('backup', 'E_PITR_NO_BACKUPS', `backupBeforeDeploy is 'pitr', and RDS instance ${w.instance} (${w.region}) has no automated backups (backup retention 0)`, {
        fix: `turn them on: aws rds modify-db-instance --db-instance-identifier ${shellQuote(w.instance)} --backup-retention-period 7 --apply-immediately --region ${shellQuote(w.region)}   (or backupBeforeDeploy: 'snapshot')`,
      });
    }
    const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'backup before deploy' });
    let at: { time: string; lsn: string };
    try {
      const r = await client.query<{ time: Date; lsn: string }>('SELECT clock_timestamp() AS time, pg_current_wal_lsn()::text AS lsn');
      at = { time: new Date(r.rows[0]!.time).toISOString(), lsn: r.rows[0]!.lsn };
    } finally {
      await client.end().catch(() => {});
    }
    // RDS ships the WAL every 5 minutes; a latest restorable time far behind the server's clock means
    // it is not shipping (or the instance's clock and AWS's disagree): this point may not be reachable.
    const lag = Date.parse(at.time) - Date.parse(w.latest);
    if (lag > PITR_MAX_LAG_MS) {
      throw new StagedbError('backup', 'E_PITR_BEHIND', `backupBeforeDeploy is 'pitr', and RDS instance ${w.instance}'s latest restorable time (${w.latest}) is ${formatDuration(lag)} behind the database's clock: automated backups may not cover this deploy`, {
        fix: `see the instance's events: aws rds describe-events --source-identifier ${shellQuote(w.instance)} --source-type db-instance --region ${shellQuote(w.region)}; or take a snapshot instead: backupBeforeDeploy: 'snapshot'`,
      });
    }
    const restore = `stagedb restore --point-in-time ${at.time} --from ${env.name} --to <env>`;
    o.onEvent?.({
      type: 'info',
      message: `${env.name}: backup before deploy: restore point ${at.time} (WAL ${at.lsn}), covered by RDS automated backups of ${w.instance} (${w.retentionDays} days, restorable from ${w.earliest ?? '?'}; ${list})`,
    });
    o.onEvent?.({ type: 'info', message: `  restore it (once RDS reaches that time, about 5 minutes on): ${restore}` });
    return { handled: true, pointInTime: { ...at, restore } };
  } catch (e) {
    if (!(e instanceof StagedbError) || e.code === 'E_BACKUP_TOO_LARGE') throw e;
    throw new StagedbError(e.kind, e.code, `${env.name}: no migration was applied: the backup before deploy failed: ${e.message}`, {
      details: e.details,
      fix: e.fix ? `${e.fix}; then deploy again` : undefined,
      cause: e,
    });
  }
}

/** A pg_dump above the limit is refused before it starts, with the choices. */
async function refuseLargeDump(env: ResolvedEnvironment): Promise<void> {
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'backup before deploy' });
  let size: number;
  try {
    size = Number((await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size')).rows[0]!.size);
  } finally {
    await client.end().catch(() => {});
  }
  const limit = env.backup.beforeDeployDumpLimit;
  if (size <= limit) return;
  const at = `environments.${env.name}`;
  const rds = env.backup.rds ? '' : ` (with backup.rds: { instance: '<db-instance-id>' })`;
  throw new StagedbError(
    'guard',
    'E_BACKUP_TOO_LARGE',
    `${env.name}: no migration was applied: the database is ${formatBytes(size)}, above backup.beforeDeployDumpLimit (${formatBytes(limit)}): the pg_dump before deploy would load it for a long time before the first migration`,
    {
      details: [
        `backupBeforeDeploy: 'snapshot'${rds}: an RDS snapshot, incremental and waited for (minutes)`,
        `backupBeforeDeploy: 'pitr'${rds}: record the exact restore point; needs RDS automated backups (backup retention > 0)`,
        `backup.beforeDeployDumpLimit: ${size + 1}: take the pg_dump anyway, this size and below`,
        'backupBeforeDeploy: false: no backup before deploy',
      ],
      fix: `choose one in ${at} of the config (above), then deploy again`,
    },
  );
}
