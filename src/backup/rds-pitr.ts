import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError, usageError } from '../errors.js';
import { redact } from '../redact.js';
import { shellQuote } from '../shell-quote.js';
import type { BackupActor } from './manifest.js';
import { actorText, call, rdsClient, rdsSettings } from './rds.js';

/**
 * RDS automated backups and point-in-time restore (issue 16, item 4). With automated backups on
 * (backup retention > 0), RDS can make a NEW instance from any second between the window's earliest
 * and latest restorable time (RestoreDBInstanceToPointInTime); the source instance is never touched.
 * stagedb reads the window (DescribeDBInstances, DescribeDBInstanceAutomatedBackups), restores into
 * an instance named after the source and the time, copying the source's network, class and
 * parameter group (without them RDS would use the default VPC and security group), waits until it
 * is `available`, and returns its endpoint: pointing an environment at it is the caller's to say.
 *
 * Tested against the loopback stand-in of the RDS Query API (test/helpers/rds-server.ts), never AWS.
 */

/** What automated backups can restore to, for one instance. */
export interface RdsRestoreWindow {
  instance: string;
  region: string;
  /** Days of automated backups; 0: none, and no point-in-time restore. */
  retentionDays: number;
  /** The oldest second a restore can reach (ISO), when automated backups are on. */
  earliest?: string;
  /** The newest second a restore can reach (ISO; typically 5 minutes ago). */
  latest?: string;
  /** The daily backup window (hh:mm-hh:mm UTC), as RDS says. */
  preferredBackupWindow?: string;
}

interface SourceSettings {
  dbInstanceClass?: string;
  dbSubnetGroupName?: string;
  vpcSecurityGroupIds: string[];
  dbParameterGroupName?: string;
  publiclyAccessible?: boolean;
  port?: number;
}

type RdsOptions = { env: ResolvedEnvironment; processEnv?: NodeJS.ProcessEnv };

const DESCRIBE_PERMISSIONS = 'rds:DescribeDBInstances, rds:DescribeDBInstanceAutomatedBackups';
const RESTORE_PERMISSIONS = 'rds:RestoreDBInstanceToPointInTime, rds:DescribeDBInstances, rds:AddTagsToResource (and iam:PassRole if the instance has a monitoring role)';

/**
 * The automated backup window of the environment's instance (`backup.rds`).
 *
 * @throws the errors of {@link call} (not configured, SDK missing, credentials, no such instance, throttled, unreachable)
 */
export async function rdsRestoreWindow(o: RdsOptions): Promise<RdsRestoreWindow> {
  return (await readSource(o)).window;
}

async function readSource(o: RdsOptions): Promise<{ window: RdsRestoreWindow; settings: SourceSettings }> {
  const rds = rdsSettings(o.env);
  const { sdk, client } = await rdsClient(o.env, rds, o.processEnv ?? process.env);
  try {
    // One after the other: a missing instance or refused credentials are reported once, by the first.
    const d = await call(rds, 'describe', () => client.send(new sdk.DescribeDBInstancesCommand({ DBInstanceIdentifier: rds.instance })), DESCRIBE_PERMISSIONS);
    const a = await call(rds, 'read the automated backups of', () => client.send(new sdk.DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: rds.instance })), DESCRIBE_PERMISSIONS).catch(
      // The instance's own LatestRestorableTime still says how far forward a restore reaches.
      (e: unknown) => (e instanceof StagedbError && e.code === 'E_RDS' ? undefined : Promise.reject(e)),
    );
    const i = d.DBInstances?.find((x) => x.DBInstanceIdentifier === rds.instance) ?? d.DBInstances?.[0];
    const auto = a?.DBInstanceAutomatedBackups?.find((x) => x.DBInstanceIdentifier === rds.instance && (x.Status === undefined || x.Status === 'active')) ?? a?.DBInstanceAutomatedBackups?.[0];
    const retentionDays = i?.BackupRetentionPeriod ?? 0;
    const iso = (t: Date | string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    const latest = iso(i?.LatestRestorableTime ?? auto?.RestoreWindow?.LatestTime);
    return {
      window: {
        instance: rds.instance,
        region: rds.region,
        retentionDays,
        ...(retentionDays > 0 && auto?.RestoreWindow?.EarliestTime ? { earliest: iso(auto.RestoreWindow.EarliestTime) } : {}),
        ...(retentionDays > 0 && latest ? { latest } : {}),
        ...(i?.PreferredBackupWindow ? { preferredBackupWindow: i.PreferredBackupWindow } : {}),
      },
      settings: {
        dbInstanceClass: i?.DBInstanceClass,
        dbSubnetGroupName: i?.DBSubnetGroup?.DBSubnetGroupName,
        vpcSecurityGroupIds: (i?.VpcSecurityGroups ?? []).filter((g) => g.Status !== 'inactive').map((g) => g.VpcSecurityGroupId!).filter(Boolean),
        dbParameterGroupName: i?.DBParameterGroups?.[0]?.DBParameterGroupName,
        publiclyAccessible: i?.PubliclyAccessible,
        port: i?.Endpoint?.Port,
      },
    };
  } finally {
    client.destroy();
  }
}

/**
 * `--point-in-time <time>`: an ISO 8601 time with a zone (`2026-12-05T09:30:00Z`, `…+01:00`) or
 * `latest`. A time without a zone is refused rather than guessed: restoring the wrong hour is the
 * mistake this command exists to undo.
 */
export function parsePointInTime(text: string): Date | 'latest' {
  if (text === 'latest') return 'latest';
  const ok = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim());
  const t = ok ? new Date(text.trim().replace(' ', 'T')) : undefined;
  if (!t || Number.isNaN(t.getTime())) {
    throw usageError('E_USAGE', `--point-in-time must be a time with its zone (e.g. 2026-12-05T09:30:00Z) or "latest", not "${text}"`, 'stagedb backup list --env <source> shows the window it can restore to');
  }
  return t;
}

/** A planned point-in-time restore: checked against the window, not yet started. */
export interface PointInTimePlan {
  source: { env: string; instance: string; region: string };
  /** The time restored to (ISO), or 'latest' (RDS's latest restorable time when it starts). */
  restoreTime: string | 'latest';
  /** The new instance's identifier. */
  targetInstance: string;
  window: RdsRestoreWindow;
  settings: SourceSettings;
  /** The same restore with the AWS CLI (for the docs and the confirmation). */
  awsCli: string;
}

/**
 * Reads the source's window and checks the time against it; names the new instance.
 *
 * @throws backup/E_PITR_NO_BACKUPS (retention 0), usage/E_PITR_OUT_OF_WINDOW, and the describe errors
 */
export async function planPointInTimeRestore(o: RdsOptions & { time: Date | 'latest'; targetInstance?: string; now?: Date }): Promise<PointInTimePlan> {
  const { window, settings } = await readSource(o);
  const rds = rdsSettings(o.env);
  const list = `stagedb backup list --env ${o.env.name}`;
  if (window.retentionDays === 0 || !window.latest) {
    throw new StagedbError('backup', 'E_PITR_NO_BACKUPS', `RDS instance ${rds.instance} (${rds.region}) has no automated backups (backup retention 0): there is no point in time to restore to`, {
      fix: `turn them on (they cover from then on): aws rds modify-db-instance --db-instance-identifier ${shellQuote(rds.instance)} --backup-retention-period 7 --apply-immediately --region ${shellQuote(rds.region)}`,
    });
  }
  if (o.time !== 'latest') {
    const t = o.time.getTime();
    const early = window.earliest ? Date.parse(window.earliest) : undefined;
    const late = Date.parse(window.latest);
    if ((early !== undefined && t < early) || t > late) {
      throw usageError(
        'E_PITR_OUT_OF_WINDOW',
        `${o.time.toISOString()} is outside what RDS instance ${rds.instance} can restore to: ${window.earliest ?? '(earliest unknown)'} … ${window.latest}`,
        `pick a time in that window, or --point-in-time latest (${list} shows it)`,
      );
    }
  }
  const at = o.time === 'latest' ? (o.now ?? new Date()) : o.time;
  const targetInstance = o.targetInstance ?? pitrIdentifier(rds.instance, at);
  if (!/^[a-zA-Z](?:-?[a-zA-Z0-9])*$/.test(targetInstance) || targetInstance.length > 63) {
    throw usageError('E_USAGE', `"${targetInstance}" is not an RDS instance identifier (letters, digits and single hyphens, a letter first, at most 63)`, 'e.g. --instance app-production-restored');
  }
  const restoreTime = o.time === 'latest' ? 'latest' : o.time.toISOString();
  const awsCli = [
    'aws rds restore-db-instance-to-point-in-time',
    `--source-db-instance-identifier ${shellQuote(rds.instance)}`,
    `--target-db-instance-identifier ${shellQuote(targetInstance)}`,
    restoreTime === 'latest' ? '--use-latest-restorable-time' : `--restore-time ${restoreTime}`,
    ...(settings.dbSubnetGroupName ? [`--db-subnet-group-name ${shellQuote(settings.dbSubnetGroupName)}`] : []),
    ...(settings.vpcSecurityGroupIds.length ? [`--vpc-security-group-ids ${settings.vpcSecurityGroupIds.map(shellQuote).join(' ')}`] : []),
    `--region ${shellQuote(rds.region)}`,
  ].join(' ');
  return { source: { env: o.env.name, instance: rds.instance, region: rds.region }, restoreTime, targetInstance, window, settings, awsCli };
}

/** `<source>-pitr-<yyyymmdd>-<hhmm>` (at most 63 characters, as RDS requires). Exported for tests. */
export function pitrIdentifier(source: string, at: Date): string {
  const t = at.toISOString().replace(/[-:]/g, '');
  const tail = `-pitr-${t.slice(0, 8)}-${t.slice(9, 13)}`;
  return `${source.slice(0, 63 - tail.length).replace(/-+$/, '')}${tail}`;
}

export interface PointInTimeProgress {
  instance: string;
  /** creating, backing-up, available, … as RDS says. */
  status: string;
  elapsedMs: number;
}

export interface PointInTimeResult {
  source: PointInTimePlan['source'];
  instance: string;
  region: string;
  restoreTime: string | 'latest';
  status: string;
  /** Where the new instance listens. */
  endpoint: { address: string; port: number };
  durationMs: number;
}

/**
 * Starts the restore and waits until the new instance is `available` (RDS takes minutes to hours,
 * depending on the size and how much log it replays).
 *
 * @throws backup/E_PITR_EXISTS, backup/E_PITR_FAILED, backup/E_RDS_TIMEOUT, and the RDS request errors
 */
export async function runPointInTimeRestore(
  plan: PointInTimePlan,
  o: RdsOptions & { createdBy?: BackupActor; timeoutMs?: number; pollMs?: number; onProgress?: (p: PointInTimeProgress) => void },
): Promise<PointInTimeResult> {
  const rds = rdsSettings(o.env);
  const { sdk, client } = await rdsClient(o.env, rds, o.processEnv ?? process.env);
  const started = Date.now();
  const target = plan.targetInstance;
  const describe = `aws rds describe-db-instances --db-instance-identifier ${shellQuote(target)} --region ${shellQuote(rds.region)}`;
  try {
    const s = plan.settings;
    await call(
      rds,
      'restore a point in time of',
      () =>
        client.send(
          new sdk.RestoreDBInstanceToPointInTimeCommand({
            SourceDBInstanceIdentifier: rds.instance,
            TargetDBInstanceIdentifier: target,
            ...(plan.restoreTime === 'latest' ? { UseLatestRestorableTime: true } : { RestoreTime: new Date(plan.restoreTime) }),
            DBInstanceClass: s.dbInstanceClass,
            DBSubnetGroupName: s.dbSubnetGroupName,
            VpcSecurityGroupIds: s.vpcSecurityGroupIds.length ? s.vpcSecurityGroupIds : undefined,
            DBParameterGroupName: s.dbParameterGroupName,
            PubliclyAccessible: s.publiclyAccessible,
            // A copy made to look at or to move to: it must be deletable when it has served.
            DeletionProtection: false,
            Tags: [
              { Key: 'stagedb:restored-from', Value: rds.instance },
              { Key: 'stagedb:restore-time', Value: plan.restoreTime },
              { Key: 'stagedb:environment', Value: o.env.name },
              ...(o.createdBy ? [{ Key: 'stagedb:created-by', Value: actorText(o.createdBy).slice(0, 256) }] : []),
            ],
          }),
        ),
      RESTORE_PERMISSIONS,
    ).catch((e: unknown) => {
      const cause = e instanceof StagedbError ? (e.cause as { name?: string } | undefined) : undefined;
      if (cause?.name === 'DBInstanceAlreadyExistsFault' || cause?.name === 'DBInstanceAlreadyExists') {
        throw new StagedbError('backup', 'E_PITR_EXISTS', `an RDS instance named ${target} already exists (${rds.region})`, {
          fix: `name another one with --instance <name>, or look at that one: ${describe}`,
          cause: e,
        });
      }
      throw e;
    });
    const timeoutMs = o.timeoutMs ?? 4 * 60 * 60_000;
    const pollMs = o.pollMs ?? 30_000;
    for (;;) {
      await sleep(Math.min(pollMs, Math.max(0, timeoutMs - (Date.now() - started))));
      const d = await call({ ...rds, instance: target }, 'describe', () => client.send(new sdk.DescribeDBInstancesCommand({ DBInstanceIdentifier: target })), DESCRIBE_PERMISSIONS);
      const i = d.DBInstances?.find((x) => x.DBInstanceIdentifier === target);
      const status = i?.DBInstanceStatus ?? 'creating';
      o.onProgress?.({ instance: target, status, elapsedMs: Date.now() - started });
      if (status === 'available' && i?.Endpoint?.Address) {
        return {
          source: plan.source,
          instance: target,
          region: rds.region,
          restoreTime: plan.restoreTime,
          status,
          endpoint: { address: i.Endpoint.Address, port: i.Endpoint.Port ?? 5432 },
          durationMs: Date.now() - started,
        };
      }
      if (['failed', 'incompatible-restore', 'incompatible-parameters', 'incompatible-network', 'storage-full', 'deleting', 'inaccessible-encryption-credentials'].includes(status)) {
        throw new StagedbError('backup', 'E_PITR_FAILED', `the point-in-time restore of ${rds.instance} into ${target} ended "${status}"`, {
          fix: `see its events: aws rds describe-events --source-identifier ${shellQuote(target)} --source-type db-instance --region ${shellQuote(rds.region)}`,
        });
      }
      if (Date.now() - started >= timeoutMs) {
        throw new StagedbError('backup', 'E_RDS_TIMEOUT', `RDS instance ${target} is still "${status}" after ${Math.round(timeoutMs / 60_000)} min: stopped waiting (AWS goes on restoring it)`, {
          fix: `check it later: ${describe}`,
        });
      }
    }
  } finally {
    client.destroy();
  }
}


/**
 * How to point an environment at the restored instance: its URL with the new host and port (user,
 * database and parameters kept; the password masked — the restored instance has the source's users
 * and passwords as of the restore time), and the setting to change (the variable an `env()` URL
 * reads, else the config key). stagedb does not rewrite a config file or a secret store.
 */
export function pointAt(target: ResolvedEnvironment, endpoint: { address: string; port: number }): { setting: string; url: string } {
  const u = new URL(target.directUrl);
  u.hostname = endpoint.address;
  u.port = String(endpoint.port);
  const variable = /\(env ([A-Za-z_][A-Za-z0-9_]*)\)/.exec(target.directSource)?.[1];
  const key = target.directSource.split(' ')[0] ?? 'url';
  return { setting: variable ?? `environments.${target.name}.${key}`, url: redact(u.toString()) };
}
