import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject } from '../helpers/project.js';
import { startRdsServer, type RdsServerOptions } from '../helpers/rds-server.js';

/**
 * RDS automated backups in `backup list` and `restore --point-in-time` through the built binary,
 * the real @aws-sdk/client-rds against the loopback RDS API (signatures re-derived). The target
 * environment's database is a real one, reached as an ordinary role (its owner, not a superuser)
 * whose password is a canary: it must never appear in any output, nor must the AWS secret key.
 */
const CANARY = `CanaryPitr${randomBytes(4).toString('hex')}`;
const CREDS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key', STAGEDB_RDS_POLL_MS: '10' };
forbidInOutput(CANARY, CREDS.AWS_SECRET_ACCESS_KEY);

const role = `pitr_app_${randomBytes(3).toString('hex')}`;
let staging: FreshDatabase;
let stagingUrl: string;
let admin: pg.Client;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  staging = await freshDatabase('cli_pitr');
  admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${CANARY}'`);
  await admin.query(`ALTER DATABASE ${staging.name} OWNER TO ${role}`);
  const u = new URL(staging.url);
  u.username = role;
  u.password = CANARY;
  stagingUrl = u.toString();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await staging.drop();
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

async function setup(o: RdsServerOptions = {}) {
  const server = await startRdsServer({ pollsToRestored: 3, ...o });
  const p = createProject({
    configJson: {
      environments: {
        production: { url: { $env: 'PROD_URL' }, ssl: 'disable', backup: { rds: { instance: 'app-production', region: 'eu-west-1', endpoint: server.endpoint } } },
        staging: { url: { $env: 'STAGING_DATABASE_URL' }, ssl: 'disable', protection: 'guarded' },
      },
    },
  });
  cleanups.push(() => server.close(), () => p.remove());
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { cwd: p.dir, env: { PROD_URL: `postgresql://app:${CANARY}@app-production.abc123xyz.eu-west-1.rds.amazonaws.com/app`, STAGING_DATABASE_URL: stagingUrl, ...CREDS, ...env }, timeoutMs: 60_000 });
  return { server, cli };
}

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;
const minutesAgo = (m: number) => new Date(Math.floor(Date.now() / 1000) * 1000 - m * 60_000).toISOString();

describe('backup list: the RDS automated backups window', () => {
  it('shows the earliest and latest restorable time beside the stored backups', async () => {
    const { cli, server } = await setup();
    const r = await cli(['backup', 'list', '--env', 'production']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout.replace(ISO, '<time>')).toContain(
      'RDS automated backups of app-production (eu-west-1, 7 days): restorable from <time> to <time> (stagedb restore --point-in-time <time> --from production --to <env>)',
    );
    expect(server.requests.map((x) => x.action).sort()).toEqual(['DescribeDBInstanceAutomatedBackups', 'DescribeDBInstances']);
    const json = JSON.parse((await cli(['backup', 'list', '--env', 'production', '--json'])).stdout) as { rdsAutomatedBackups: { retentionDays: number; earliest: string; latest: string } };
    expect(json.rdsAutomatedBackups.retentionDays).toBe(7);
    expect(Date.parse(json.rdsAutomatedBackups.latest) - Date.parse(json.rdsAutomatedBackups.earliest)).toBeGreaterThan(6.9 * 86_400_000);
  });

  it('off (retention 0) says so; AWS unreachable is a warning, the stored backups are still listed', async () => {
    const { cli } = await setup({ posture: { backupRetentionPeriod: 0 } });
    const r = await cli(['backup', 'list', '--env', 'production']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toContain('RDS automated backups of app-production (eu-west-1): off (backup retention 0): no point-in-time restore');
    const denied = await (await setup({ accessDenied: true })).cli(['backup', 'list', '--env', 'production']);
    expect(denied.code, denied.all).toBe(0);
    expect(denied.stdout).toMatch(/^production: no backups in /);
    expect(denied.stderr).toMatch(/cannot read the RDS automated backups: RDS instance app-production \(eu-west-1, http:\/\/127\.0\.0\.1:\d+\) refused the credentials \(AccessDenied\): cannot describe it \(fix: .*rds:DescribeDBInstances, rds:DescribeDBInstanceAutomatedBackups on the instance\)/);
  });
});

describe('restore --point-in-time', () => {
  it('restores into a new instance with the source network, waits with progress, says how to point the target at it, and audits it', async () => {
    const { cli, server } = await setup();
    const at = minutesAgo(30);
    const r = await cli(['restore', '--point-in-time', at, '--from', 'production', '--to', 'staging', '--confirm', 'staging']);
    expect(r.code, r.all).toBe(0);
    const id = `app-production-pitr-${at.slice(0, 10).replaceAll('-', '')}-${at.slice(11, 13)}${at.slice(14, 16)}`;
    expect(server.restored.get(id)).toMatchObject({ source: 'app-production', restoreTime: at, status: 'available' });
    const params = server.restored.get(id)!.params;
    expect([params.RestoreTime?.replace(/Z$/, '.000Z'), params.DBSubnetGroupName, params['VpcSecurityGroupIds.VpcSecurityGroupId.1'], params.DBParameterGroupName, params.DeletionProtection, params.DBInstanceClass]).toEqual([
      at,
      'app-private',
      'sg-0a1b2c3d',
      'app-postgres15',
      'false',
      'db.t4g.medium',
    ]);
    expect(r.all.trimEnd().replaceAll(at, '<at>').replaceAll(id, '<id>').replace(ISO, '<time>').replace(/\d+ ms|\d+(\.\d+)? s\b/g, '<d>').replaceAll(role, '<role>').replace(/:5432\/cli_pitr\w+/, ':5432/<db>')).toMatchInlineSnapshot(`
      "production: RDS instance app-production can be restored to any time from <time> to <time> (7 days of automated backups)
        <id>: backing-up (<d> so far)
        <id>: available (<d> so far)
      staging: RDS instance <id> restored from app-production as of <at> in <d>: <id>.abc123xyz.eu-west-1.rds.amazonaws.com:5432
        point staging at it: set STAGING_DATABASE_URL to postgresql://<role>:****@<id>.abc123xyz.eu-west-1.rds.amazonaws.com:5432/<db>
        it has production's users and passwords as of that time; then: stagedb status --env staging
        it runs (and costs) until deleted: aws rds delete-db-instance --db-instance-identifier <id> --skip-final-snapshot --region eu-west-1"
    `);
    const history = JSON.parse((await cli(['history', '--env', 'staging', '--json'])).stdout) as { records: Array<{ outcome: string; command: string; summary: string }> };
    expect(history.records[0]).toEqual(
      expect.objectContaining({ outcome: 'ok', command: `restore --point-in-time ${at} --from production --to staging`, summary: `restored RDS instance app-production as of ${at} into ${id}` }),
    );
  });

  it('refused without confirmation, a time outside the window, no automated backups, a restore that fails, throttling: one line + fix each, nothing started', async () => {
    const { cli, server } = await setup();
    const unconfirmed = await cli(['restore', '--point-in-time', 'latest', '--from', 'production', '--to', 'staging']);
    expect(unconfirmed.code).toBe(5);
    expect(unconfirmed.stderr).toMatch(/fix: stagedb restore --point-in-time latest --from production --to staging --confirm staging/);
    const early = await cli(['restore', '--point-in-time', '2020-01-01T00:00:00Z', '--from', 'production', '--to', 'staging', '--confirm', 'staging']);
    expect([early.code, early.stderr.replace(ISO, '<time>')]).toEqual([
      4,
      'error: <time> is outside what RDS instance app-production can restore to: <time> … <time>\n  fix: pick a time in that window, or --point-in-time latest (stagedb backup list --env production shows it)\n',
    ]);
    const noZone = await cli(['restore', '--point-in-time', '2026-12-05 09:30', '--from', 'production', '--to', 'staging']);
    expect([noZone.code, noZone.stderr]).toEqual([4, 'error: --point-in-time must be a time with its zone (e.g. 2026-12-05T09:30:00Z) or "latest", not "2026-12-05 09:30"\n  fix: stagedb backup list --env <source> shows the window it can restore to\n']);
    const withBackupFlag = await cli(['restore', '--point-in-time', 'latest', '--from', 'production', '--to', 'staging', '--allow-foreign']);
    expect([withBackupFlag.code, withBackupFlag.stderr]).toEqual([
      4,
      'error: --allow-foreign is for restoring a backup, not --point-in-time (RDS restores the whole instance)\n  fix: stagedb restore --point-in-time latest --from production --to staging\n',
    ]);
    expect(server.requests.filter((x) => x.action === 'RestoreDBInstanceToPointInTime')).toEqual([]);

    const off = await (await setup({ posture: { backupRetentionPeriod: 0 } })).cli(['restore', '--point-in-time', 'latest', '--from', 'production', '--to', 'staging', '--confirm', 'staging']);
    expect([off.code, off.stderr]).toEqual([
      2,
      'error: RDS instance app-production (eu-west-1) has no automated backups (backup retention 0): there is no point in time to restore to\n  fix: turn them on (they cover from then on): aws rds modify-db-instance --db-instance-identifier app-production --backup-retention-period 7 --apply-immediately --region eu-west-1\n',
    ]);

    const failing = await setup({ restoreEndsIn: 'incompatible-network' });
    const failed = await failing.cli(['restore', '--point-in-time', 'latest', '--from', 'production', '--to', 'staging', '--confirm', 'staging', '--instance', 'app-copy']);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe(
      'error: the point-in-time restore of app-production into app-copy ended "incompatible-network"\n  fix: see its events: aws rds describe-events --source-identifier app-copy --source-type db-instance --region eu-west-1\n',
    );
    expect(failing.server.restored.get('app-copy')?.params.UseLatestRestorableTime).toBe('true');
    const history = JSON.parse((await failing.cli(['history', '--env', 'staging', '--json'])).stdout) as { records: Array<{ outcome: string; command: string }> };
    expect(history.records[0]).toEqual(expect.objectContaining({ outcome: 'failed', command: 'restore --point-in-time latest --from production --to staging' }));

    const noCredentials = await cli(['restore', '--point-in-time', 'latest', '--from', 'production', '--to', 'staging'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_CONFIG_FILE: '/nonexistent/config',
    });
    expect([noCredentials.code, noCredentials.stderr.replace(/http:\/\/127\.0\.0\.1:\d+/, '<endpoint>')]).toEqual([
      3,
      "error: cannot describe RDS instance app-production (eu-west-1, <endpoint>): no AWS credentials found\n  fix: export AWS_PROFILE=<profile> (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in the shell or the environment's env file), or run where an instance or task role is attached\n",
    ]);

    const throttled = await (await setup({ throttle: true })).cli(['restore', '--point-in-time', 'latest', '--from', 'production', '--to', 'staging', '--confirm', 'staging']);
    expect([throttled.code, throttled.stderr.replace(/http:\/\/127\.0\.0\.1:\d+/, '<endpoint>')]).toEqual([
      3,
      'error: AWS throttled the requests for RDS instance app-production (eu-west-1, <endpoint>) (Rate exceeded): cannot describe it\n  fix: run the same command again in a moment\n',
    ]);
  });
});
