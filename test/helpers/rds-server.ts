import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonInternalError, serveAwsStandIn } from './aws-stand-in.js';
import { checkSigV4 } from './sigv4.js';

/**
 * A loopback stand-in for the RDS API: the subset of the Query API (form-encoded POST, XML answers,
 * API version 2014-10-31, as documented in the RDS API reference) that `backup --snapshot` and
 * doctor's RDS checks and point-in-time restore use — CreateDBSnapshot, DescribeDBSnapshots,
 * DescribeDBInstances, DescribeDBInstanceAutomatedBackups, RestoreDBInstanceToPointInTime and
 * DescribeDBParameters. Every request must carry a SigV4 Authorization header
 * for service `rds` in the configured region, signed with the known access key; anything else is
 * refused the way AWS refuses it (InvalidClientTokenId, IncompleteSignature). Snapshots go
 * creating → available after `pollsToAvailable` describes, with PercentProgress on the way; a
 * restored instance goes creating → backing-up → available after `pollsToRestored` describes, and a
 * restore time outside the automated backups' window is refused (InvalidRestore).
 *
 * Not AWS: the signature is re-derived with the one known secret key (test/helpers/sigv4.ts); no IAM,
 * no paging beyond one page.
 */
export interface RdsServerOptions {
  region?: string;
  accessKeyId?: string;
  /** The secret key signatures are re-derived with (default test-secret-key). */
  secretAccessKey?: string;
  instances?: string[];
  /** DescribeDBSnapshots calls before a snapshot is `available` (default 2); Infinity: never. */
  pollsToAvailable?: number;
  /** CreateDBSnapshot fails with SnapshotQuotaExceeded. */
  quotaExceeded?: boolean;
  /** Every call fails with AccessDenied (credentials fine, permissions not). */
  accessDenied?: boolean;
  /** What DescribeDBInstances says of every instance (default: Multi-AZ, 7 days of backups, encrypted, deletion protection). */
  posture?: Partial<InstancePosture>;
  /** DescribeDBInstances calls on a restored instance before it is `available` (default 2); Infinity: never. */
  pollsToRestored?: number;
  /** The status a restored instance ends in instead of `available` (e.g. incompatible-network). */
  restoreEndsIn?: string;
  /** Every call fails with Throttling. */
  throttle?: boolean;
}

export interface InstancePosture {
  multiAz: boolean;
  backupRetentionPeriod: number;
  storageEncrypted: boolean;
  deletionProtection: boolean;
  performanceInsights: boolean;
  autoMinorVersionUpgrade: boolean;
  /** rds.force_ssl in the instance's parameter group (default '1', as PostgreSQL 15+ parameter groups have it). */
  forceSsl: string;
  /** How far back automated backups reach (default: the retention period). */
  earliestRestorableMs?: number;
  /** How far the latest restorable time is behind now (default 5 minutes, as RDS ships the WAL). */
  latestRestorableLagMs?: number;
}

/** A point-in-time restore the stand-in was asked for. */
export interface RestoredInstance {
  source: string;
  restoreTime: string | 'latest';
  params: Record<string, string>;
  polls: number;
  status: string;
}

export interface RdsRequest {
  action: string;
  params: Record<string, string>;
  authorization: string;
}

export interface RdsServer {
  endpoint: string;
  requests: RdsRequest[];
  snapshots: Map<string, { instance: string; polls: number; status: string; created: string; tags: Record<string, string> }>;
  restored: Map<string, RestoredInstance>;
  close(): Promise<void>;
}

const NS = 'http://rds.amazonaws.com/doc/2014-10-31/';

export async function startRdsServer(o: RdsServerOptions = {}): Promise<RdsServer> {
  const region = o.region ?? 'eu-west-1';
  const accessKeyId = o.accessKeyId ?? 'AKIASTAGEDBTEST';
  const secretAccessKey = o.secretAccessKey ?? 'test-secret-key';
  const instances = new Set(o.instances ?? ['app-production']);
  const pollsToAvailable = o.pollsToAvailable ?? 2;
  const requests: RdsRequest[] = [];
  const snapshots: RdsServer['snapshots'] = new Map();
  const restored: RdsServer['restored'] = new Map();
  const pollsToRestored = o.pollsToRestored ?? 2;
  const p: InstancePosture = { multiAz: true, backupRetentionPeriod: 7, storageEncrypted: true, deletionProtection: true, performanceInsights: true, autoMinorVersionUpgrade: true, forceSsl: '1', ...o.posture };
  const latestRestorable = () => new Date(Math.floor((Date.now() - (p.latestRestorableLagMs ?? 5 * 60_000)) / 1000) * 1000);
  const earliestRestorable = () => new Date(Math.floor((Date.now() - (p.earliestRestorableMs ?? p.backupRetentionPeriod * 86_400_000)) / 1000) * 1000);

  const handle = async (req: IncomingMessage, body: string, res: ServerResponse) => {
    const params = Object.fromEntries(new URLSearchParams(body));
    const authorization = String(req.headers.authorization ?? '');
    const action = params.Action ?? '';
    requests.push({ action, params, authorization });
    const fail = (status: number, code: string, message: string, type = 'Sender') =>
      send(res, status, `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);

    if (req.method !== 'POST' || !/application\/x-www-form-urlencoded/.test(String(req.headers['content-type']))) return fail(400, 'InvalidAction', 'expected a form-encoded POST');
    const bad = await checkSigV4(req, body, { service: 'rds', region, accessKeyId, secretAccessKey });
    if (bad) return fail(403, bad.code, bad.message);
    if (params.Version !== '2014-10-31') return fail(400, 'InvalidParameterValue', `unsupported Version ${params.Version}`);
    if (o.throttle) return fail(400, 'Throttling', 'Rate exceeded');
    if (o.accessDenied) return fail(403, 'AccessDenied', `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: rds:${action}`);

    if (action === 'CreateDBSnapshot') {
      const id = params.DBSnapshotIdentifier ?? '';
      const instance = params.DBInstanceIdentifier ?? '';
      if (!/^[a-zA-Z](?:-?[a-zA-Z0-9])*$/.test(id) || id.length > 255) return fail(400, 'InvalidParameterValue', `The parameter DBSnapshotIdentifier is not a valid identifier: ${id}`);
      if (!instances.has(instance)) return fail(404, 'DBInstanceNotFound', `DBInstance ${instance} not found.`);
      if (o.quotaExceeded) return fail(400, 'SnapshotQuotaExceeded', 'Cannot create more than 100 manual snapshots');
      if (snapshots.has(id.toLowerCase())) return fail(400, 'DBSnapshotAlreadyExists', `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`);
      const tags: Record<string, string> = {};
      for (let i = 1; params[`Tags.Tag.${i}.Key`] !== undefined; i++) tags[params[`Tags.Tag.${i}.Key`]!] = params[`Tags.Tag.${i}.Value`] ?? '';
      const s = { instance, polls: 0, status: 'creating', created: new Date().toISOString(), tags };
      snapshots.set(id.toLowerCase(), s);
      return send(res, 200, `<CreateDBSnapshotResponse xmlns="${NS}"><CreateDBSnapshotResult>${snapshotXml(id.toLowerCase(), s, 0)}</CreateDBSnapshotResult>${meta()}</CreateDBSnapshotResponse>`);
    }
    if (action === 'DescribeDBSnapshots') {
      const id = params.DBSnapshotIdentifier?.toLowerCase();
      let list = [...snapshots.entries()];
      if (id !== undefined) {
        list = list.filter(([k]) => k === id);
        if (list.length === 0) return fail(404, 'DBSnapshotNotFound', `DBSnapshot ${id} not found.`);
      }
      if (params.DBInstanceIdentifier !== undefined) {
        if (!instances.has(params.DBInstanceIdentifier)) return fail(404, 'DBInstanceNotFound', `DBInstance ${params.DBInstanceIdentifier} not found.`);
        list = list.filter(([, s]) => s.instance === params.DBInstanceIdentifier);
      }
      const xml = list
        .map(([k, s]) => {
          if (id !== undefined) {
            s.polls += 1;
            if (s.polls >= pollsToAvailable) s.status = 'available';
          }
          const percent = s.status === 'available' ? 100 : Math.min(99, Math.round((100 * s.polls) / Math.max(pollsToAvailable, 1)));
          return snapshotXml(k, s, Number.isFinite(percent) ? percent : 0);
        })
        .join('');
      return send(res, 200, `<DescribeDBSnapshotsResponse xmlns="${NS}"><DescribeDBSnapshotsResult><DBSnapshots>${xml}</DBSnapshots></DescribeDBSnapshotsResult>${meta()}</DescribeDBSnapshotsResponse>`);
    }
    if (action === 'DescribeDBInstances') {
      const id = params.DBInstanceIdentifier;
      if (id !== undefined && !instances.has(id) && !restored.has(id)) return fail(404, 'DBInstanceNotFound', `DBInstance ${id} not found.`);
      const latest = latestRestorable().toISOString();
      const own = [...instances]
        .filter((i) => id === undefined || i === id)
        .map(
          (i) =>
            `<DBInstance><DBInstanceIdentifier>${esc(i)}</DBInstanceIdentifier><DBInstanceClass>db.t4g.medium</DBInstanceClass><Engine>postgres</Engine><EngineVersion>15.8</EngineVersion><DBInstanceStatus>available</DBInstanceStatus><AllocatedStorage>20</AllocatedStorage>${endpointXml(i)}<MultiAZ>${p.multiAz}</MultiAZ><BackupRetentionPeriod>${p.backupRetentionPeriod}</BackupRetentionPeriod><PreferredBackupWindow>03:00-03:30</PreferredBackupWindow>${p.backupRetentionPeriod > 0 ? `<LatestRestorableTime>${latest}</LatestRestorableTime>` : ''}<StorageEncrypted>${p.storageEncrypted}</StorageEncrypted><DeletionProtection>${p.deletionProtection}</DeletionProtection><PerformanceInsightsEnabled>${p.performanceInsights}</PerformanceInsightsEnabled><AutoMinorVersionUpgrade>${p.autoMinorVersionUpgrade}</AutoMinorVersionUpgrade><PreferredMaintenanceWindow>sun:04:00-sun:04:30</PreferredMaintenanceWindow><PubliclyAccessible>false</PubliclyAccessible><DBSubnetGroup><DBSubnetGroupName>app-private</DBSubnetGroupName></DBSubnetGroup><VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-0a1b2c3d</VpcSecurityGroupId><Status>active</Status></VpcSecurityGroupMembership></VpcSecurityGroups><DBParameterGroups><DBParameterGroup><DBParameterGroupName>app-postgres15</DBParameterGroupName><ParameterApplyStatus>in-sync</ParameterApplyStatus></DBParameterGroup></DBParameterGroups><DBInstanceArn>arn:aws:rds:${region}:123456789012:db:${esc(i)}</DBInstanceArn></DBInstance>`,
        );
      const copies = [...restored.entries()]
        .filter(([i]) => id === undefined || i === id)
        .map(([i, r]) => {
          if (id !== undefined) {
            r.polls += 1;
            if (r.polls >= pollsToRestored) r.status = o.restoreEndsIn ?? 'available';
            else if (r.polls > 0) r.status = 'backing-up';
          }
          return `<DBInstance><DBInstanceIdentifier>${esc(i)}</DBInstanceIdentifier><DBInstanceClass>${esc(r.params.DBInstanceClass ?? 'db.t4g.medium')}</DBInstanceClass><Engine>postgres</Engine><EngineVersion>15.8</EngineVersion><DBInstanceStatus>${r.status}</DBInstanceStatus>${r.status === 'available' ? endpointXml(i) : ''}<MultiAZ>false</MultiAZ><BackupRetentionPeriod>${p.backupRetentionPeriod}</BackupRetentionPeriod><DeletionProtection>${r.params.DeletionProtection === 'true'}</DeletionProtection><DBInstanceArn>arn:aws:rds:${region}:123456789012:db:${esc(i)}</DBInstanceArn></DBInstance>`;
        });
      return send(res, 200, `<DescribeDBInstancesResponse xmlns="${NS}"><DescribeDBInstancesResult><DBInstances>${[...own, ...copies].join('')}</DBInstances></DescribeDBInstancesResult>${meta()}</DescribeDBInstancesResponse>`);
    }
    if (action === 'DescribeDBInstanceAutomatedBackups') {
      const id = params.DBInstanceIdentifier;
      if (id !== undefined && !instances.has(id)) return fail(404, 'DBInstanceAutomatedBackupNotFound', `No automated backup found for ${id}.`);
      const xml =
        p.backupRetentionPeriod > 0
          ? [...instances]
              .filter((i) => id === undefined || i === id)
              .map(
                (i) =>
                  `<DBInstanceAutomatedBackup><DBInstanceIdentifier>${esc(i)}</DBInstanceIdentifier><DbiResourceId>db-ABCDEFGHIJKL</DbiResourceId><Region>${region}</Region><Status>active</Status><Engine>postgres</Engine><BackupRetentionPeriod>${p.backupRetentionPeriod}</BackupRetentionPeriod><RestoreWindow><EarliestTime>${earliestRestorable().toISOString()}</EarliestTime><LatestTime>${latestRestorable().toISOString()}</LatestTime></RestoreWindow></DBInstanceAutomatedBackup>`,
              )
              .join('')
          : '';
      return send(res, 200, `<DescribeDBInstanceAutomatedBackupsResponse xmlns="${NS}"><DescribeDBInstanceAutomatedBackupsResult><DBInstanceAutomatedBackups>${xml}</DBInstanceAutomatedBackups></DescribeDBInstanceAutomatedBackupsResult>${meta()}</DescribeDBInstanceAutomatedBackupsResponse>`);
    }
    if (action === 'RestoreDBInstanceToPointInTime') {
      const source = params.SourceDBInstanceIdentifier ?? '';
      const target = params.TargetDBInstanceIdentifier ?? '';
      if (!instances.has(source)) return fail(404, 'DBInstanceNotFound', `DBInstance ${source} not found.`);
      if (!/^[a-zA-Z](?:-?[a-zA-Z0-9])*$/.test(target) || target.length > 63) return fail(400, 'InvalidParameterValue', `The parameter TargetDBInstanceIdentifier is not a valid identifier: ${target}`);
      if (instances.has(target) || restored.has(target)) return fail(400, 'DBInstanceAlreadyExists', `DB instance already exists`);
      if (p.backupRetentionPeriod === 0) return fail(400, 'PointInTimeRestoreNotEnabled', `Point-in-time restore is not enabled for ${source}`);
      const latest = params.UseLatestRestorableTime === 'true';
      if (latest === (params.RestoreTime !== undefined)) return fail(400, 'InvalidParameterCombination', 'Exactly one of RestoreTime and UseLatestRestorableTime must be given');
      if (!latest) {
        const t = Date.parse(params.RestoreTime!);
        if (Number.isNaN(t) || t < earliestRestorable().getTime() || t > latestRestorable().getTime()) return fail(400, 'InvalidRestore', `Restore time ${params.RestoreTime} is outside the restorable window`);
      }
      const r: RestoredInstance = { source, restoreTime: latest ? 'latest' : new Date(params.RestoreTime!).toISOString(), params, polls: 0, status: 'creating' };
      restored.set(target, r);
      return send(res, 200, `<RestoreDBInstanceToPointInTimeResponse xmlns="${NS}"><RestoreDBInstanceToPointInTimeResult><DBInstance><DBInstanceIdentifier>${esc(target)}</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus><Engine>postgres</Engine></DBInstance></RestoreDBInstanceToPointInTimeResult>${meta()}</RestoreDBInstanceToPointInTimeResponse>`);
    }
    if (action === 'DescribeDBParameters') {
      const group = params.DBParameterGroupName ?? '';
      if (group !== 'app-postgres15') return fail(404, 'DBParameterGroupNotFound', `DBParameterGroup not found: ${group}`);
      const rows: Array<[string, string, string]> = [
        ['rds.force_ssl', p.forceSsl, 'Force SSL connections.'],
        ['log_min_duration_statement', '1000', 'Sets the minimum execution time above which statements will be logged.'],
        ['shared_preload_libraries', 'pg_stat_statements', 'Lists shared libraries to preload into server.'],
      ];
      const xml = rows.map(([n, v, d]) => `<Parameter><ParameterName>${n}</ParameterName><ParameterValue>${esc(v)}</ParameterValue><Description>${esc(d)}</Description><Source>user</Source><ApplyType>dynamic</ApplyType><DataType>string</DataType><IsModifiable>true</IsModifiable></Parameter>`).join('');
      return send(res, 200, `<DescribeDBParametersResponse xmlns="${NS}"><DescribeDBParametersResult><Parameters>${xml}</Parameters></DescribeDBParametersResult>${meta()}</DescribeDBParametersResponse>`);
    }
    return fail(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
  };

  const served = await serveAwsStandIn(handle, (res, e) => send(res, 500, `<ErrorResponse xmlns="${NS}"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>${esc(String(e))}</Message></Error></ErrorResponse>`));
  return { ...served, requests, snapshots, restored };

  function endpointXml(i: string): string {
    return `<Endpoint><Address>${esc(i)}.abc123xyz.${region}.rds.amazonaws.com</Address><Port>5432</Port></Endpoint>`;
  }

  function snapshotXml(id: string, s: { instance: string; status: string; created: string }, percent: number): string {
    return `<DBSnapshot><DBSnapshotIdentifier>${esc(id)}</DBSnapshotIdentifier><DBInstanceIdentifier>${esc(s.instance)}</DBInstanceIdentifier><SnapshotCreateTime>${s.created}</SnapshotCreateTime><Engine>postgres</Engine><EngineVersion>15.8</EngineVersion><AllocatedStorage>20</AllocatedStorage><Status>${s.status}</Status><Port>5432</Port><SnapshotType>manual</SnapshotType><PercentProgress>${percent}</PercentProgress><StorageType>gp3</StorageType><Encrypted>true</Encrypted><DBSnapshotArn>arn:aws:rds:${region}:123456789012:snapshot:${esc(id)}</DBSnapshotArn></DBSnapshot>`;
  }
}

function meta(): string {
  return `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
}

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
