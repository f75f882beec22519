import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { shellQuote } from '../shell-quote.js';
import { formatBytes, formatDuration, type BackupActor } from './manifest.js';

/**
 * The RDS restore points of a backup before deploy that scales (issue 16, item 5): a full pg_dump
 * before every production deploy is hours of load on a 100 GB database before the first migration
 * runs, so `backupBeforeDeploy` may instead be
 *  - `'snapshot'`: an RDS snapshot of `backup.rds` (incremental on AWS's side), waited for;
 *  - `'pitr'`: no copy at all: RDS automated backups already hold every second; stagedb checks they
 *    are on and current, then records the exact restore point (the server's time and
 *    `pg_current_wal_lsn()`) and the command that restores it.
 * Each one names the exact restore command in its notes. The pg_dump's own limit
 * (`backup.beforeDeployDumpLimit`) is checked by createBackup on the size it reads anyway
 * ({@link dumpTooLarge}). before-deploy.ts decides which runs.
 */

export interface RdsRestorePointOptions {
  env: ResolvedEnvironment;
  mode: 'snapshot' | 'pitr';
  processEnv?: NodeJS.ProcessEnv;
  createdBy?: BackupActor;
  /** A line for the deploy's report (progress, the restore point, its restore command). */
  onNote?: (message: string) => void;
  /** How often RDS is asked about a snapshot (default 15 s; STAGEDB_RDS_POLL_MS in processEnv). */
  pollMs?: number;
}

export type RdsRestorePoint =
  | { snapshot: { identifier: string; region: string; restore: string } }
  | { pointInTime: { time: string; lsn: string; restore: string } };

/** How stale RDS's latest restorable time may be before automated backups are taken not to cover "now". */
const PITR_MAX_LAG_MS = 15 * 60_000;

/**
 * @throws backup/E_PITR_NO_BACKUPS, backup/E_PITR_BEHIND, and the RDS errors (credentials, no such
 *   instance, throttled, timeout)
 */
export async function rdsRestorePointBeforeDeploy(o: RdsRestorePointOptions): Promise<RdsRestorePoint> {
  const { env } = o;
  const processEnv = o.processEnv ?? process.env;
  const pollEnv = Number(processEnv.STAGEDB_RDS_POLL_MS);
  const pollMs = o.pollMs ?? (Number.isFinite(pollEnv) && pollEnv > 0 ? pollEnv : undefined);
  if (o.mode === 'snapshot') {
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
        o.onNote?.(`${env.name}: RDS snapshot ${p.identifier}: ${line}, ${formatDuration(elapsedMs)} so far`);
      },
    });
    const restore = `aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${shellQuote(s.identifier)} --db-instance-identifier <new-instance> --region ${shellQuote(s.region)}`;
    o.onNote?.(`${env.name}: backup before deploy: RDS snapshot ${s.identifier} of ${s.instance} is available (${formatDuration(Date.now() - started)}): the restore point if this deploy goes wrong`);
    o.onNote?.(`  restore it: ${restore}`);
    return { snapshot: { identifier: s.identifier, region: s.region, restore } };
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
  o.onNote?.(`${env.name}: backup before deploy: restore point ${at.time} (WAL ${at.lsn}), covered by RDS automated backups of ${w.instance} (${w.retentionDays} days, restorable from ${w.earliest ?? '?'}; ${list})`);
  o.onNote?.(`  restore it (once RDS reaches that time, about 5 minutes on): ${restore}`);
  return { pointInTime: { ...at, restore } };
}

/** A pg_dump above `backup.beforeDeployDumpLimit`, refused before it starts: the error, with the choices. */
export function dumpTooLarge(env: ResolvedEnvironment, size: number): StagedbError {
  const limit = env.backup.beforeDeployDumpLimit;
  const at = `environments.${env.name}`;
  const rds = env.backup.rds ? '' : ` (with backup.rds: { instance: '<db-instance-id>' })`;
  return new StagedbError(
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
