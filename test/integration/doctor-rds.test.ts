import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/load.js';
import { runDoctor, type CheckResult } from '../../src/doctor/index.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { startRdsServer, type RdsServer, type RdsServerOptions } from '../helpers/rds-server.js';

/**
 * doctor's RDS posture checks (DOC018–DOC021) through the real @aws-sdk/client-rds, against the
 * loopback RDS Query API stand-in (test/helpers/rds-server.ts: DescribeDBInstances, SigV4 checked),
 * with the environment's database on the real test cluster. Not against AWS.
 */
let db: FreshDatabase;
const servers: RdsServer[] = [];
const root = join(tmpdir(), 'stagedb-doctor-rds');
const CREDS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key' };
const RDS = ['DOC018', 'DOC019', 'DOC020', 'DOC021'];

beforeAll(async () => {
  db = await freshDatabase('docrds');
});
afterAll(() => db.drop());
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function doctor(o: RdsServerOptions & { protection?: 'production' | 'guarded'; instance?: string; noRds?: boolean; processEnv?: NodeJS.ProcessEnv } = {}) {
  const server = await startRdsServer(o);
  servers.push(server);
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
  const report = await runDoctor({ config, env: name, processEnv: o.processEnv ?? CREDS, timeoutMs: 2000 });
  const by: Record<string, CheckResult> = Object.fromEntries(report.checks.map((c) => [c.code, c]));
  return { server, by, rds: RDS.map((c) => `${c} ${by[c]!.name} ${by[c]!.status}: ${by[c]!.detail}${by[c]!.fix ? `\n  fix: ${by[c]!.fix}` : ''}`).join('\n') };
}

describe('doctor: RDS posture (DescribeDBInstances)', () => {
  it('a well-kept production instance: every check ok, one signed DescribeDBInstances', async () => {
    const { server, by } = await doctor();
    for (const c of RDS) expect(by[c]!.status).toBe('ok');
    expect(by.DOC019!.detail).toMatch(/^automated backups kept 7 days, restorable to any point up to \d{4}-\d\d-\d\dT/);
    expect(server.requests.map((r) => [r.action, r.params.DBInstanceIdentifier])).toEqual([['DescribeDBInstances', 'app-production']]);
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
});
