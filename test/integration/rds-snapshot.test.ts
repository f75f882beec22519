import { afterEach, describe, expect, it } from 'vitest';
import { createRdsSnapshot, listRdsSnapshots, snapshotIdentifier, type RdsSnapshot } from '../../src/backup/rds.js';
import { StagedbError } from '../../src/errors.js';
import { backupEnv } from '../helpers/backup.js';
import { startRdsServer, type RdsServer, type RdsServerOptions } from '../helpers/rds-server.js';

/**
 * backup --snapshot's RDS driver through the real @aws-sdk/client-rds, against a loopback server
 * speaking the RDS Query API subset it uses (test/helpers/rds-server.ts). Not against AWS.
 */
const servers: RdsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const CREDS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key' };

async function setup(o: RdsServerOptions = {}, rds: { instance?: string; region?: string } = {}) {
  const server = await startRdsServer(o);
  servers.push(server);
  const env = backupEnv('postgresql://app@127.0.0.1:1/app', 'production', {
    backup: { rds: { instance: rds.instance ?? 'app-production', region: rds.region ?? 'eu-west-1', endpoint: server.endpoint } },
  });
  return { server, env };
}

async function failure(p: Promise<unknown>): Promise<StagedbError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StagedbError);
  return e as StagedbError;
}

describe('RDS snapshots (backup --snapshot)', () => {
  it('creates a tagged snapshot with a stagedb name, waits for it with progress, and lists it', async () => {
    const { server, env } = await setup({ pollsToAvailable: 3 });
    const seen: RdsSnapshot[] = [];
    const s = await createRdsSnapshot({
      env,
      processEnv: CREDS,
      pollMs: 10,
      now: new Date('2026-11-27T14:30:05.123Z'),
      createdBy: { osUser: 'ci', host: 'runner-1', gitAuthor: 'Ada <ada@example.com>' },
      onProgress: (p) => seen.push(p),
    });
    expect(s).toMatchObject({
      identifier: 'stagedb-production-20261127-143005',
      arn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:stagedb-production-20261127-143005',
      instance: 'app-production',
      region: 'eu-west-1',
      status: 'available',
      percent: 100,
      allocatedStorage: 20,
      engine: 'postgres',
    });
    expect(seen.map((p) => `${p.status} ${p.percent}`)).toEqual(['creating 0', 'creating 33', 'creating 67', 'available 100']);

    // What went over the wire: the Query API's actions and parameters, each request signed (SigV4, rds, the region).
    expect(server.requests.map((r) => r.action)).toEqual(['CreateDBSnapshot', 'DescribeDBSnapshots', 'DescribeDBSnapshots', 'DescribeDBSnapshots']);
    const create = server.requests[0]!;
    expect(create.params).toMatchObject({
      Action: 'CreateDBSnapshot',
      Version: '2014-10-31',
      DBInstanceIdentifier: 'app-production',
      DBSnapshotIdentifier: 'stagedb-production-20261127-143005',
    });
    expect(server.snapshots.get('stagedb-production-20261127-143005')!.tags).toMatchObject({
      'stagedb:environment': 'production',
      'stagedb:reason': 'manual',
      'stagedb:created-by': 'Ada <ada@example.com>',
    });
    expect(server.requests[1]!.params).toMatchObject({ Action: 'DescribeDBSnapshots', DBSnapshotIdentifier: 'stagedb-production-20261127-143005' });
    for (const r of server.requests) expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIASTAGEDBTEST\/\d{8}\/eu-west-1\/rds\/aws4_request, ?SignedHeaders=\S*host\S*, ?Signature=[0-9a-f]{64}$/);

    const listed = await listRdsSnapshots({ env, processEnv: CREDS });
    expect(listed.map((x) => [x.identifier, x.status])).toEqual([['stagedb-production-20261127-143005', 'available']]);
    expect(server.requests.at(-1)!.params).toMatchObject({ Action: 'DescribeDBSnapshots', DBInstanceIdentifier: 'app-production', SnapshotType: 'manual' });
  });

  it('identifiers RDS accepts, whatever the environment is called', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    expect(snapshotIdentifier('production', at)).toBe('stagedb-production-20260102-030405');
    expect(snapshotIdentifier('EU_West--Prod.1', at)).toBe('stagedb-eu-west-prod-1-20260102-030405');
    expect(snapshotIdentifier('___', at)).toBe('stagedb-env-20260102-030405');
  });

  it('no backup.rds in the config: says how to add it, and asks AWS nothing', async () => {
    const env = backupEnv('postgresql://app@127.0.0.1:1/app', 'production');
    const e = await failure(createRdsSnapshot({ env, processEnv: CREDS }));
    expect([e.code, e.kind, e.message, e.fix]).toMatchInlineSnapshot(`
      [
        "E_RDS_NOT_CONFIGURED",
        "config",
        "environment production names no RDS instance to snapshot",
        "add it to the config: environments.production.backup.rds = { instance: 'my-db-instance', region: 'eu-west-1' }   (or take a pg_dump backup: stagedb backup --env production)",
      ]
    `);
  });

  it('wrong credentials, and credentials without the permission: one error each, naming what to check', async () => {
    const { env } = await setup();
    const wrong = await failure(createRdsSnapshot({ env, processEnv: { AWS_ACCESS_KEY_ID: 'AKIAWRONG', AWS_SECRET_ACCESS_KEY: 'x' } }));
    expect([wrong.code, wrong.kind, wrong.message]).toEqual(['E_RDS_AUTH', 'connection', 'RDS instance app-production (eu-west-1, ' + env.backup.rds!.endpoint + ') refused the credentials (InvalidClientTokenId): cannot create a snapshot of it']);
    expect(wrong.fix).toContain('rds:CreateDBSnapshot');

    const { env: env2 } = await setup({ accessDenied: true });
    const denied = await failure(createRdsSnapshot({ env: env2, processEnv: CREDS }));
    expect([denied.code, denied.message]).toEqual(['E_RDS_AUTH', `RDS instance app-production (eu-west-1, ${env2.backup.rds!.endpoint}) refused the credentials (AccessDenied): cannot create a snapshot of it`]);
  });

  it('an instance that does not exist, and a full snapshot quota', async () => {
    const { env } = await setup({}, { instance: 'app-prod-typo' });
    const missing = await failure(createRdsSnapshot({ env, processEnv: CREDS }));
    expect([missing.code, missing.kind, missing.message]).toEqual(['E_RDS_INSTANCE_NOT_FOUND', 'config', `there is no RDS instance app-prod-typo (eu-west-1, ${env.backup.rds!.endpoint})`]);
    expect(missing.fix).toContain('aws rds describe-db-instances --region eu-west-1');

    const { env: env2 } = await setup({ quotaExceeded: true });
    const quota = await failure(createRdsSnapshot({ env: env2, processEnv: CREDS }));
    expect([quota.code, quota.kind]).toEqual(['E_RDS_QUOTA', 'backup']);
    expect(quota.message).toContain("the account's quota of manual snapshots is used up (Cannot create more than 100 manual snapshots)");
  });

  it('stops waiting after the timeout, and says where to look: the snapshot goes on in AWS', async () => {
    const { server, env } = await setup({ pollsToAvailable: Infinity });
    const e = await failure(createRdsSnapshot({ env, processEnv: CREDS, timeoutMs: 400, pollMs: 20, now: new Date('2026-11-27T14:30:05Z') }));
    expect(e.code).toBe('E_RDS_TIMEOUT');
    // The seconds are whole seconds waited: 0 on a quiet machine, 1 when the SDK's first call is slow under load.
    expect(e.message).toMatch(/^RDS snapshot stagedb-production-20261127-143005 of app-production is still "creating" \(0 %\) after [01] s: stopped waiting \(AWS goes on creating it\)$/);
    expect(e.fix).toBe('check it later: aws rds describe-db-snapshots --db-snapshot-identifier stagedb-production-20261127-143005 --region eu-west-1   (or stagedb backup list --snapshots --env production)');
    expect(server.requests.filter((r) => r.action === 'DescribeDBSnapshots').length).toBeGreaterThanOrEqual(2);
  });

  it('an API that cannot be reached', async () => {
    const env = backupEnv('postgresql://app@127.0.0.1:1/app', 'production', { backup: { rds: { instance: 'app-production', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9' } } });
    const e = await failure(createRdsSnapshot({ env, processEnv: CREDS }));
    expect([e.code, e.kind]).toEqual(['E_RDS_UNREACHABLE', 'connection']);
  });
});
