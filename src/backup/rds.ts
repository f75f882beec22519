import { setTimeout as sleep } from 'node:timers/promises';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { awsFailure, envCredentials, loadAwsSdk } from '../aws/sdk.js';
import { redact } from '../redact.js';
import { stagedbVersion, type BackupActor } from './manifest.js';
import { shellQuote } from '../shell-quote.js';

/**
 * RDS snapshots, the optional driver of `backup --snapshot`: CreateDBSnapshot of the environment's
 * instance (`backup.rds` in the config) under a stagedb-made identifier, tagged with who and why,
 * then DescribeDBSnapshots until it is `available`. An RDS snapshot is a copy of the whole instance
 * (every database on it) kept by AWS; it never passes through this machine, so there is no sha256
 * here: AWS keeps and checks it, and restoring it means a new instance (aws rds
 * restore-db-instance-from-db-snapshot), outside stagedb.
 *
 * `@aws-sdk/client-rds` is an optional peer dependency, imported only here, only when a snapshot is
 * asked for. Tested against a loopback server speaking the same subset of the RDS Query API
 * (test/helpers/rds-server.ts), never against AWS itself.
 */

type Sdk = typeof import('@aws-sdk/client-rds');

/** A snapshot stagedb made (or found, for `backup list --snapshots`). */
export interface RdsSnapshot {
  identifier: string;
  arn?: string;
  instance: string;
  region: string;
  /** creating, available, failed, … as RDS says. */
  status: string;
  percent?: number;
  createdAt?: string;
  /** GB */
  allocatedStorage?: number;
  engine?: string;
  engineVersion?: string;
  /** The stagedb:* tags it was created with (empty for one found by listing: RDS lists no tags). */
  tags: Record<string, string>;
}

export interface RdsSnapshotOptions {
  env: ResolvedEnvironment;
  /** Why: `manual` (the command) or `before-deploy`. */
  reason?: 'manual' | 'before-deploy';
  createdBy?: BackupActor;
  /** Where AWS_ACCESS_KEY_ID and friends are read (default process.env); unset: the SDK's own chain. */
  processEnv?: NodeJS.ProcessEnv;
  /** Give up waiting after this long (default 60 minutes); the snapshot goes on in AWS. */
  timeoutMs?: number;
  /** How often to ask (default 15 s, what AWS's own waiter uses). */
  pollMs?: number;
  onProgress?: (s: RdsSnapshot, elapsedMs: number) => void;
  /** For tests: the time the identifier is made of. */
  now?: Date;
}

const DEFAULT_TIMEOUT_MS = 60 * 60_000;
const DEFAULT_POLL_MS = 15_000;

/**
 * Creates an RDS snapshot of the environment's instance and waits until it is available.
 *
 * @throws config/E_RDS_NOT_CONFIGURED, config/E_RDS_SDK_MISSING, connection/E_RDS_AUTH,
 *   config/E_RDS_INSTANCE_NOT_FOUND, backup/E_RDS_QUOTA, backup/E_RDS_INSTANCE_STATE,
 *   backup/E_RDS_SNAPSHOT_FAILED, backup/E_RDS_TIMEOUT, connection/E_RDS_UNREACHABLE, backup/E_RDS
 */
export async function createRdsSnapshot(o: RdsSnapshotOptions): Promise<RdsSnapshot> {
  const rds = rdsSettings(o.env);
  const { sdk, client } = await rdsClient(o.env, rds, o.processEnv ?? process.env);
  const identifier = snapshotIdentifier(o.env.name, o.now ?? new Date());
  const tags: Record<string, string> = {
    'stagedb:environment': o.env.name,
    'stagedb:reason': o.reason ?? 'manual',
    'stagedb:version': stagedbVersion(),
    ...(o.createdBy ? { 'stagedb:created-by': actorText(o.createdBy) } : {}),
  };
  const started = Date.now();
  try {
    const created = await call(rds, 'create a snapshot of', () =>
      client.send(
        new sdk.CreateDBSnapshotCommand({
          DBInstanceIdentifier: rds.instance,
          DBSnapshotIdentifier: identifier,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value: Value.slice(0, 256) })),
        }),
      ),
    );
    let snap = fromSdk(created.DBSnapshot, rds, tags, identifier);
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const pollMs = o.pollMs ?? DEFAULT_POLL_MS;
    o.onProgress?.(snap, Date.now() - started);
    while (snap.status !== 'available') {
      if (['failed', 'error', 'deleted', 'deleting', 'incompatible-restore'].includes(snap.status)) {
        throw new StagedbError('backup', 'E_RDS_SNAPSHOT_FAILED', `RDS snapshot ${identifier} of ${rds.instance} ended "${snap.status}"`, {
          fix: `see the instance's events: aws rds describe-events --source-identifier ${shellQuote(identifier)} --source-type db-snapshot --region ${shellQuote(rds.region)}`,
        });
      }
      if (Date.now() - started >= timeoutMs) {
        throw new StagedbError(
          'backup',
          'E_RDS_TIMEOUT',
          `RDS snapshot ${identifier} of ${rds.instance} is still "${snap.status}"${snap.percent === undefined ? '' : ` (${snap.percent} %)`} after ${Math.round(timeoutMs / 1000)} s: stopped waiting (AWS goes on creating it)`,
          { fix: `check it later: aws rds describe-db-snapshots --db-snapshot-identifier ${shellQuote(identifier)} --region ${shellQuote(rds.region)}   (or stagedb backup list --snapshots --env ${o.env.name})` },
        );
      }
      await sleep(Math.min(pollMs, Math.max(0, timeoutMs - (Date.now() - started))));
      const d = await call(rds, 'read the snapshot of', () => client.send(new sdk.DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: identifier })));
      const found = d.DBSnapshots?.find((s) => s.DBSnapshotIdentifier === identifier);
      if (!found) {
        throw new StagedbError('backup', 'E_RDS_SNAPSHOT_FAILED', `RDS snapshot ${identifier} of ${rds.instance} disappeared while it was being created`, {
          fix: `see the instance's events: aws rds describe-events --source-identifier ${shellQuote(rds.instance)} --source-type db-instance --region ${shellQuote(rds.region)}`,
        });
      }
      snap = fromSdk(found, rds, tags, identifier);
      o.onProgress?.(snap, Date.now() - started);
    }
    return snap;
  } finally {
    client.destroy();
  }
}

/** The stagedb-made snapshots of the environment's instance, newest first (DescribeDBSnapshots, manual ones). */
export async function listRdsSnapshots(o: Pick<RdsSnapshotOptions, 'env' | 'processEnv'>): Promise<RdsSnapshot[]> {
  const rds = rdsSettings(o.env);
  const { sdk, client } = await rdsClient(o.env, rds, o.processEnv ?? process.env);
  try {
    const out: RdsSnapshot[] = [];
    let marker: string | undefined;
    do {
      const page = await call(rds, 'list the snapshots of', () =>
        client.send(new sdk.DescribeDBSnapshotsCommand({ DBInstanceIdentifier: rds.instance, SnapshotType: 'manual', Marker: marker, MaxRecords: 100 })),
      );
      for (const s of page.DBSnapshots ?? []) if (s.DBSnapshotIdentifier?.startsWith(`${PREFIX}-`)) out.push(fromSdk(s, rds, {}, s.DBSnapshotIdentifier));
      marker = page.Marker;
    } while (marker);
    return out.sort((a, b) => ((a.createdAt ?? '') < (b.createdAt ?? '') ? 1 : -1));
  } finally {
    client.destroy();
  }
}

/** What `doctor` reads of an instance's posture (DescribeDBInstances). */
export interface RdsInstancePosture {
  instance: string;
  region: string;
  status?: string;
  multiAz: boolean;
  /** Days of automated backups (0: none, and no point-in-time restore). */
  backupRetentionPeriod: number;
  /** The newest point a point-in-time restore can reach, when automated backups are on. */
  latestRestorableTime?: string;
  storageEncrypted: boolean;
  deletionProtection: boolean;
  engineVersion?: string;
  /** Performance Insights (query-level load in the RDS console). */
  performanceInsights: boolean;
  /** RDS applies new minor engine versions (PostgreSQL's security and bug fixes) in the maintenance window. */
  autoMinorVersionUpgrade: boolean;
  /** The weekly maintenance window, e.g. `sun:04:00-sun:04:30` (UTC). */
  maintenanceWindow?: string;
  /** The instance's DB parameter group (where rds.force_ssl is set). */
  parameterGroup?: string;
  /** GB */
  allocatedStorage?: number;
  /** The instance a read replica replicates (undefined: not a replica). */
  replicaOf?: string;
  /** The instance's read replicas. */
  replicas: string[];
}

/**
 * DescribeDBInstances of the environment's instance (`backup.rds`), for doctor's posture checks.
 *
 * @throws the same errors as {@link createRdsSnapshot} (not configured, SDK missing, credentials, no such instance, unreachable)
 */
export async function describeRdsInstance(o: Pick<RdsSnapshotOptions, 'env' | 'processEnv'>): Promise<RdsInstancePosture> {
  const rds = rdsSettings(o.env);
  const { sdk, client } = await rdsClient(o.env, rds, o.processEnv ?? process.env);
  try {
    const out = await call(rds, 'describe', () => client.send(new sdk.DescribeDBInstancesCommand({ DBInstanceIdentifier: rds.instance })));
    const i = out.DBInstances?.find((d) => d.DBInstanceIdentifier === rds.instance) ?? out.DBInstances?.[0];
    if (!i) throw rdsError(Object.assign(new Error('not found'), { name: 'DBInstanceNotFoundFault' }), 'describe', rds);
    return {
      instance: rds.instance,
      region: rds.region,
      status: i.DBInstanceStatus,
      multiAz: i.MultiAZ === true,
      backupRetentionPeriod: i.BackupRetentionPeriod ?? 0,
      latestRestorableTime: i.LatestRestorableTime ? new Date(i.LatestRestorableTime).toISOString() : undefined,
      storageEncrypted: i.StorageEncrypted === true,
      deletionProtection: i.DeletionProtection === true,
      engineVersion: i.EngineVersion,
      performanceInsights: i.PerformanceInsightsEnabled === true,
      autoMinorVersionUpgrade: i.AutoMinorVersionUpgrade === true,
      maintenanceWindow: i.PreferredMaintenanceWindow,
      parameterGroup: i.DBParameterGroups?.[0]?.DBParameterGroupName,
      allocatedStorage: i.AllocatedStorage,
      replicaOf: i.ReadReplicaSourceDBInstanceIdentifier,
      replicas: i.ReadReplicaDBInstanceIdentifiers ?? [],
    };
  } finally {
    client.destroy();
  }
}

/**
 * One parameter of a DB parameter group (DescribeDBParameters, every page), for doctor's
 * rds.force_ssl check. Undefined when the group does not set it.
 *
 * @throws the errors of {@link describeRdsInstance}, and config/E_RDS_PARAMETER_GROUP_NOT_FOUND
 */
export async function readRdsParameter(o: Pick<RdsSnapshotOptions, 'env' | 'processEnv'> & { group: string; name: string }): Promise<string | undefined> {
  const rds = rdsSettings(o.env);
  const { sdk, client } = await rdsClient(o.env, rds, o.processEnv ?? process.env);
  try {
    let marker: string | undefined;
    do {
      const page = await call(
        rds,
        'read the parameter group of',
        () => client.send(new sdk.DescribeDBParametersCommand({ DBParameterGroupName: o.group, Marker: marker })),
        'rds:DescribeDBParameters',
      ).catch((e: unknown) => {
        if (e instanceof StagedbError && (e.cause as { name?: string } | undefined)?.name?.startsWith('DBParameterGroupNotFound')) {
          throw new StagedbError('config', 'E_RDS_PARAMETER_GROUP_NOT_FOUND', `there is no DB parameter group ${o.group} (${rds.region})`, { cause: e });
        }
        throw e;
      });
      const hit = page.Parameters?.find((x) => x.ParameterName === o.name);
      if (hit) return hit.ParameterValue;
      marker = page.Marker;
    } while (marker);
    return undefined;
  } finally {
    client.destroy();
  }
}

const PREFIX = 'stagedb';

/**
 * `stagedb-<env>-<yyyymmdd>-<hhmmss>`: what RDS accepts (letters, digits and single hyphens, a letter
 * first, at most 255; RDS stores it lowercase) and sorts by time. Exported for tests.
 */
export function snapshotIdentifier(envName: string, at: Date): string {
  const env = envName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'env';
  const t = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  return `${PREFIX}-${env.slice(0, 200)}-${t.slice(0, 8)}-${t.slice(9, 15)}`;
}

export function rdsSettings(env: ResolvedEnvironment): NonNullable<ResolvedEnvironment['backup']['rds']> {
  if (env.backup.rds) return env.backup.rds;
  throw new StagedbError('config', 'E_RDS_NOT_CONFIGURED', `environment ${env.name} names no RDS instance to snapshot`, {
    fix: `add it to the config: environments.${env.name}.backup.rds = { instance: 'my-db-instance', region: 'eu-west-1' }   (or take a pg_dump backup: stagedb backup --env ${env.name})`,
  });
}

export async function rdsClient(env: ResolvedEnvironment, rds: NonNullable<ResolvedEnvironment['backup']['rds']>, processEnv: NodeJS.ProcessEnv): Promise<{ sdk: Sdk; client: RDSClient }> {
  const sdk = await loadAwsSdk<Sdk>({ name: '@aws-sdk/client-rds', code: 'E_RDS_SDK_MISSING', needs: 'RDS snapshots need the AWS SDK for RDS', dev: true });
  // Credentials: AWS_* in the shell (or the env files, as S3 storage reads them), else the SDK's chain.
  const fromEnv = envCredentials(processEnv) ?? (env.backup.storage.kind === 's3' ? env.backup.storage.credentials : undefined);
  const client = new sdk.RDSClient({
    region: rds.region,
    endpoint: rds.endpoint,
    credentials: fromEnv,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    maxAttempts: 3,
  });
  return { sdk, client };
}

type SdkSnapshot = import('@aws-sdk/client-rds').DBSnapshot;

function fromSdk(s: SdkSnapshot | undefined, rds: { instance: string; region: string }, tags: Record<string, string>, identifier: string): RdsSnapshot {
  return {
    identifier: s?.DBSnapshotIdentifier ?? identifier,
    arn: s?.DBSnapshotArn,
    instance: s?.DBInstanceIdentifier ?? rds.instance,
    region: rds.region,
    status: s?.Status ?? 'creating',
    percent: s?.PercentProgress,
    createdAt: s?.SnapshotCreateTime ? new Date(s.SnapshotCreateTime).toISOString() : undefined,
    allocatedStorage: s?.AllocatedStorage,
    engine: s?.Engine,
    engineVersion: s?.EngineVersion,
    tags,
  };
}

/** Who made an RDS resource, for its `stagedb:created-by` tag. */
export function actorText(a: BackupActor): string {
  return [a.gitAuthor ?? `${a.osUser}@${a.host}`, a.ci].filter(Boolean).join(' via ');
}

/** Runs one request, turning the SDK's failures into one clear error (`permissions`: what the role needs, for the fix). */
export async function call<T>(rds: { instance: string; region: string; endpoint?: string }, doing: string, fn: () => Promise<T>, permissions?: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw rdsError(e, doing, rds, permissions);
  }
}

export function rdsError(e: unknown, doing: string, rds: { instance: string; region: string; endpoint?: string }, permissions?: string): StagedbError {
  if (e instanceof StagedbError) return e;
  const err = e as { name?: string; code?: string; message?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const name = (err.name ?? err.Code ?? '').replace(/Fault$/, '');
  const where = `RDS instance ${rds.instance} (${rds.region}${rds.endpoint ? `, ${rds.endpoint}` : ''})`;
  const message = redact(err.message ?? name);
  if (name === 'DBInstanceNotFound') {
    return new StagedbError('config', 'E_RDS_INSTANCE_NOT_FOUND', `there is no ${where}`, {
      fix: `check backup.rds.instance and region in the config; the instances there: aws rds describe-db-instances --region ${shellQuote(rds.region)} --query 'DBInstances[].DBInstanceIdentifier'`,
      cause: e,
    });
  }
  if (name === 'SnapshotQuotaExceeded') {
    return new StagedbError('backup', 'E_RDS_QUOTA', `${where}: the account's quota of manual snapshots is used up (${message})`, {
      fix: `delete old ones (aws rds delete-db-snapshot --db-snapshot-identifier <id>; stagedb's are named stagedb-*), or ask AWS for a higher quota`,
      cause: e,
    });
  }
  if (name === 'InvalidDBInstanceState') {
    return new StagedbError('backup', 'E_RDS_INSTANCE_STATE', `${where} cannot be snapshotted now: ${message}`, {
      fix: 'wait until the instance is "available" (a stopped, rebooting or modifying instance cannot be snapshotted), then run the same command again',
      cause: e,
    });
  }
  const failure = awsFailure(e);
  if (failure?.kind === 'no-credentials') {
    return new StagedbError('connection', 'E_RDS_AUTH', `cannot ${doing} ${where}: no AWS credentials found`, {
      fix: 'export AWS_PROFILE=<profile> (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in the shell or the environment\'s env file), or run where an instance or task role is attached',
      cause: e,
    });
  }
  if (failure?.kind === 'refused') {
    return new StagedbError('connection', 'E_RDS_AUTH', `${where} refused the credentials (${failure.shown}): cannot ${doing} it`, {
      fix: `check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (shell or the environment's env file), AWS_PROFILE, or the role's permissions: ${
        permissions ?? (doing === 'describe' ? 'rds:DescribeDBInstances' : 'rds:CreateDBSnapshot, rds:DescribeDBSnapshots, rds:AddTagsToResource')
      } on the instance`,
      cause: e,
    });
  }
  if (failure?.kind === 'throttled') {
    return new StagedbError('connection', 'E_RDS_THROTTLED', `AWS throttled the requests for ${where} (${message}): cannot ${doing} it`, { fix: 'run the same command again in a moment', cause: e });
  }
  if (failure?.kind === 'unreachable') {
    return new StagedbError('connection', 'E_RDS_UNREACHABLE', `cannot reach the RDS API for ${where} (${failure.shown})`, {
      fix: rds.endpoint ? `check that ${rds.endpoint} is reachable from here` : 'check the network (a proxy, a VPC endpoint, a firewall) and the region',
      cause: e,
    });
  }
  return new StagedbError('backup', 'E_RDS', `${where}: cannot ${doing} it: ${message}`, { cause: e });
}

