import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/load.js';
import { runDoctor, type CheckResult } from '../../src/doctor/index.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { startRdsServer, type RdsServer, type RdsServerOptions } from '../helpers/rds-server.js';
import { startCloudWatchServer, type CloudWatchServer, type CloudWatchServerOptions } from '../helpers/cloudwatch-server.js';

/**
 * doctor's RDS posture checks (DOC018–DOC025) through the real @aws-sdk/client-rds and
 * @aws-sdk/client-cloudwatch, against loopback stand-ins of the RDS Query API
 * (test/helpers/rds-server.ts: DescribeDBInstances, DescribeDBParameters) and the CloudWatch JSON API
 * (test/helpers/cloudwatch-server.ts: GetMetricData), SigV4 signatures re-derived, with the
 * environment's database on the real test cluster. Not against AWS.
 */
let db: FreshDatabase;
const servers: Array<RdsServer | CloudWatchServer> = [];
const root = join(tmpdir(), 'stagedb-doctor-rds');
const CREDS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key' };
const RDS = ['DOC018', 'DOC019', 'DOC020', 'DOC021'];
const MORE = ['DOC022', 'DOC023', 'DOC024', 'DOC025'];
/** An hour of a quiet instance: newest first, one value per 5 minutes. */
const HEALTHY = { CPUUtilization: [12, 18, 9, 11, 40, 10], FreeStorageSpace: [18.5e9, 18.6e9, 18.6e9], DatabaseConnections: [21, 35, 19] };

beforeAll(async () => {
  db = await freshDatabase('docrds');
});
afterAll(() => db.drop());
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function doctor(o: RdsServerOptions & { protection?: 'production' | 'guarded'; instance?: string; noRds?: boolean; processEnv?: NodeJS.ProcessEnv; cloudwatch?: CloudWatchServerOptions } = {}) {
  const server = await startRdsServer(o);
  const cw = await startCloudWatchServer({ series: HEALTHY, ...o.cloudwatch });
  servers.push(server, cw);
  const name = o.protection === 'guarded' ? 'staging' : 'production';
  const config: ResolvedConfig = {
    root,
    schemaPath: join(root, 'prisma', 'schema.prisma'),
    migrationsDir: join(root, 'prisma', 'migrations'),
    environments: {
      [name]: {
        directUrl: db.url,
        ssl: 'prefer',
        ...(o.noRds ? {} : { backup: { rds: { instance: o.instance ?? 'app-production', region: 'eu-west-1', endpoint: server.endpoint } } }),
      },
    },
    warnings: [],
  };
  const report = await runDoctor({ config, env: name, processEnv: { ...(o.processEnv ?? CREDS), AWS_ENDPOINT_URL_CLOUDWATCH: cw.endpoint }, timeoutMs: 2000 });
  const by: Record<string, CheckResult> = Object.fromEntries(report.checks.map((c) => [c.code, c]));
  const line = (c: string) => `${c} ${by[c]!.name} ${by[c]!.status}: ${by[c]!.detail}${by[c]!.fix ? `\n  fix: ${by[c]!.fix}` : ''}`;
  return { server, cw, by, more: MORE.map(line).join('\n').replaceAll(cw.endpoint, '<cloudwatch>').replaceAll(server.endpoint, '<rds>'), rds: RDS.map((c) => `${c} ${by[c]!.name} ${by[c]!.status}: ${by[c]!.detail}${by[c]!.fix ? `\n  fix: ${by[c]!.fix}` : ''}`).join('\n') };
}

describe('doctor: RDS posture (DescribeDBInstances)', () => {
  it('a well-kept production instance: every check ok, one signed DescribeDBInstances, the parameter group, one GetMetricData', async () => {
    const { server, cw, by, more } = await doctor();
    for (const c of [...RDS, ...MORE]) expect(by[c]!.status).toBe('ok');
    expect(by.DOC019!.detail).toMatch(/^automated backups kept 7 days, restorable to any point up to \d{4}-\d\d-\d\dT/);
    expect(server.requests.map((r) => [r.action, r.params.DBInstanceIdentifier ?? r.params.DBParameterGroupName])).toEqual([
      ['DescribeDBInstances', 'app-production'],
      ['DescribeDBParameters', 'app-postgres15'],
    ]);
    expect(more).toMatchInlineSnapshot(`
      "DOC022 rds-force-ssl ok: rds.force_ssl = 1 in parameter group app-postgres15: the server refuses connections without TLS
      DOC023 rds-perf-insights ok: Performance Insights is on for app-production
      DOC024 rds-metrics ok: last hour of app-production: CPU 17 % average, 40 % max; free storage 17.2 GB at least (86 % of 20 GB); 35 connections max
      DOC025 rds-minor-upgrade ok: app-production (PostgreSQL 15.8) takes minor upgrades automatically (maintenance window sun:04:00-sun:04:30 UTC)"
    `);
    expect(cw.requests).toHaveLength(1);
    const q = cw.requests[0]!.body as { StartTime: number; EndTime: number; MetricDataQueries: Array<{ Id: string; MetricStat: { Metric: { MetricName: string; Dimensions: unknown[] }; Stat: string; Period: number } }> };
    expect(q.EndTime - q.StartTime).toBe(3600);
    expect(q.MetricDataQueries.map((x) => `${x.MetricStat.Metric.MetricName}/${x.MetricStat.Stat}/${x.MetricStat.Period}`)).toEqual([
      'CPUUtilization/Average/300',
      'CPUUtilization/Maximum/300',
      'FreeStorageSpace/Minimum/300',
      'DatabaseConnections/Maximum/300',
      'ReplicaLag/Maximum/300',
    ]);
    expect(q.MetricDataQueries[0]!.MetricStat.Metric.Dimensions).toEqual([{ Name: 'DBInstanceIdentifier', Value: 'app-production' }]);
    expect(server.requests[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIASTAGEDBTEST\/\d{8}\/eu-west-1\/rds\/aws4_request/);
  });

  it('production single-AZ, no backups, unencrypted, unprotected: each said, with its fix', async () => {
    const { rds } = await doctor({ posture: { multiAz: false, backupRetentionPeriod: 0, storageEncrypted: false, deletionProtection: false } });
    expect(rds).toMatchInlineSnapshot(`
      "DOC018 rds-multi-az warn: app-production (eu-west-1) is single-AZ: if its zone or host fails, production is down until AWS replaces it
        fix: aws rds modify-db-instance --db-instance-identifier app-production --multi-az --apply-immediately --region eu-west-1   (no downtime; doubles the instance cost)
      DOC019 rds-backups fail: app-production keeps no automated backups (retention 0): no point-in-time restore, and AWS keeps nothing of it if it is lost
        fix: aws rds modify-db-instance --db-instance-identifier app-production --backup-retention-period 7 --apply-immediately --region eu-west-1   (1 to 35 days)
      DOC020 rds-encryption warn: app-production's storage is not encrypted at rest (nor its backups and snapshots)
        fix: it cannot be turned on in place: snapshot it (stagedb backup --snapshot --env production), then aws rds copy-db-snapshot --source-db-snapshot-identifier <snapshot> --target-db-snapshot-identifier <snapshot>-encrypted --kms-key-id alias/aws/rds --region eu-west-1 and aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier <snapshot>-encrypted --db-instance-identifier <new instance> --region eu-west-1, and point the environment at the new instance
      DOC021 rds-delete-protect warn: app-production has no deletion protection: one delete-db-instance call (or console click) removes production
        fix: aws rds modify-db-instance --db-instance-identifier app-production --deletion-protection --apply-immediately --region eu-west-1"
    `);
  });

  it('the same instance behind a guarded environment: only missing backups are worth a warning', async () => {
    const { by } = await doctor({ protection: 'guarded', posture: { multiAz: false, backupRetentionPeriod: 0, storageEncrypted: false, deletionProtection: false } });
    expect(RDS.map((c) => by[c]!.status)).toEqual(['ok', 'warn', 'ok', 'ok']);
  });

  it('no RDS instance in the config: nothing to check, and AWS is asked nothing', async () => {
    const { server, by } = await doctor({ noRds: true });
    expect(RDS.map((c) => by[c]!.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(by.DOC018!.detail).toBe('no RDS instance in the config (backup.rds): not checked');
    expect(server.requests).toEqual([]);
  });

  it('an instance that does not exist, and credentials without the permission: DOC018 fails saying what to check, the rest skip', async () => {
    const missing = await doctor({ instance: 'app-prod-typo' });
    expect([missing.by.DOC018!.status, missing.by.DOC019!.status]).toEqual(['fail', 'skip']);
    expect(missing.by.DOC018!.detail).toMatch(/^cannot read the RDS instance: there is no RDS instance app-prod-typo \(eu-west-1, http:\/\/127\.0\.0\.1:\d+\)$/);
    expect(missing.by.DOC018!.fix).toContain('aws rds describe-db-instances --region eu-west-1');
    const denied = await doctor({ accessDenied: true });
    expect(denied.by.DOC018!.status).toBe('fail');
    expect(denied.by.DOC018!.detail).toMatch(/refused the credentials \(AccessDenied\): cannot describe it$/);
    expect(denied.by.DOC018!.fix).toContain('rds:DescribeDBInstances');
  });

  it('production without rds.force_ssl, Performance Insights or minor upgrades, a busy and nearly full instance: each said, with its fix', async () => {
    const { more } = await doctor({
      posture: { forceSsl: '0', performanceInsights: false, autoMinorVersionUpgrade: false },
      cloudwatch: { series: { CPUUtilization: [95, 91, 88, 90], FreeStorageSpace: [1.2e9, 1.5e9], DatabaseConnections: [180] } },
    });
    expect(more).toMatchInlineSnapshot(`
      "DOC022 rds-force-ssl warn: rds.force_ssl is 0 in parameter group app-postgres15: the server accepts unencrypted connections
        fix: aws rds modify-db-parameter-group --db-parameter-group-name app-postgres15 --parameters ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=immediate --region eu-west-1   (clients without TLS are then refused: check them first)
      DOC023 rds-perf-insights warn: Performance Insights is off for app-production: when production slows down, nothing says which queries loaded it
        fix: aws rds modify-db-instance --db-instance-identifier app-production --enable-performance-insights --apply-immediately --region eu-west-1   (7 days of history are free; no restart)
      DOC024 rds-metrics warn: last hour of app-production: CPU 91 % average, 95 % max; free storage 1.1 GB at least (6 % of 20 GB); 180 connections max: CPU averaged 91 %, only 1.1 GB of storage free
        fix: a larger instance class (aws rds modify-db-instance --db-instance-identifier app-production --db-instance-class <class> --region eu-west-1) or the queries Performance Insights names; more storage, or storage autoscaling: aws rds modify-db-instance --db-instance-identifier app-production --max-allocated-storage <GB> --apply-immediately --region eu-west-1
      DOC025 rds-minor-upgrade warn: app-production stays on PostgreSQL 15.8: minor upgrades (PostgreSQL's security and bug fixes) are not applied automatically
        fix: aws rds modify-db-instance --db-instance-identifier app-production --auto-minor-version-upgrade --region eu-west-1   (upgrades then happen in the maintenance window, sun:04:00-sun:04:30 UTC: a restart of a minute or less; Multi-AZ fails over first)"
    `);
  });

  it('CloudWatch refusing or throttling, no datapoints: a warning with its fix, never a failure; a wrong secret key is refused as AWS refuses it', async () => {
    const denied = await doctor({ cloudwatch: { accessDenied: true } });
    expect([denied.by.DOC024!.status, denied.by.DOC024!.detail.replace(/http:\/\/127\.0\.0\.1:\d+/, '<cloudwatch>'), denied.by.DOC024!.fix]).toEqual([
      'warn',
      'cannot read the last hour from CloudWatch: the CloudWatch metrics of RDS instance app-production (eu-west-1, <cloudwatch>): the credentials were refused (AccessDenied)',
      "check AWS_PROFILE / AWS_ACCESS_KEY_ID and the role's permissions: cloudwatch:GetMetricData",
    ]);
    const throttled = await doctor({ cloudwatch: { throttle: true } });
    expect([throttled.by.DOC024!.status, throttled.by.DOC024!.fix]).toEqual(['warn', 'run the same command again in a moment']);
    expect(throttled.by.DOC024!.detail).toMatch(/^cannot read the last hour from CloudWatch: AWS throttled the request for the CloudWatch metrics of RDS instance app-production/);
    const wrongKey = await doctor({ processEnv: { ...CREDS, AWS_SECRET_ACCESS_KEY: 'not-the-key' } });
    expect([wrongKey.by.DOC018!.status, wrongKey.by.DOC018!.detail]).toEqual(['fail', expect.stringMatching(/refused the credentials \(SignatureDoesNotMatch\): cannot describe it$/)]);
    const empty = await doctor({ cloudwatch: { series: {} } });
    expect([empty.by.DOC024!.status, empty.by.DOC024!.detail]).toEqual(['warn', 'CloudWatch has no datapoints for app-production in the last hour']);
  });
});
