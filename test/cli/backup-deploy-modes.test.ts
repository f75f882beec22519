import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query } from '../helpers/db.js';
import { createProject } from '../helpers/project.js';
import { startRdsServer, type RdsServerOptions } from '../helpers/rds-server.js';

/**
 * backupBeforeDeploy: 'snapshot' | 'pitr', and the pg_dump size limit, through the built binary:
 * production is a real database reached as its owner (an ordinary role, as the RDS master user is
 * not a superuser) with a canary password; RDS is the loopback stand-in, spoken to by the real
 * @aws-sdk/client-rds. Neither the password nor the AWS secret key may appear in any output.
 */
const CANARY = `CanaryDeploy${randomBytes(4).toString('hex')}`;
const CREDS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key', STAGEDB_RDS_POLL_MS: '10' };
forbidInOutput(CANARY, CREDS.AWS_SECRET_ACCESS_KEY);
const INIT = `-- CreateTable\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;

const role = `deploy_app_${randomBytes(3).toString('hex')}`;
let admin: pg.Client;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  // CREATEDB, as the RDS master user has: deploy's drift check makes a temporary shadow database.
  await admin.query(`CREATE ROLE ${role} LOGIN CREATEDB PASSWORD '${CANARY}'`);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

async function setup(production: Record<string, unknown>, rdsOptions: RdsServerOptions = {}, migrations: Record<string, string> = { '20240101000000_init': INIT }) {
  const [server, db] = await Promise.all([startRdsServer(rdsOptions), freshDatabase('cli_bk_modes')]);
  await admin.query(`ALTER DATABASE ${db.name} OWNER TO ${role}`);
  const u = new URL(db.url);
  u.username = role;
  u.password = CANARY;
  const p = createProject({
    configJson: { environments: { production: { url: { $env: 'PROD_URL' }, ssl: 'disable', ...production, backup: { rds: { instance: 'app-production', region: 'eu-west-1', endpoint: server.endpoint }, ...(production.backup as object) } } } },
    migrations,
  });
  cleanups.push(() => server.close(), () => db.drop(), () => p.remove());
  const cli = (args: string[]) => runCli(args, { cwd: p.dir, env: { PROD_URL: u.toString(), ...CREDS }, timeoutMs: 60_000 });
  const deploy = () => cli(['deploy', '--env', 'production', '--confirm', 'production', '--skip-generate']);
  const applied = async () => (await query(db.url, `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = '_prisma_migrations'`))[0]!.n === 1;
  return { server, cli, deploy, applied };
}

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;

describe("backupBeforeDeploy: 'pitr'", () => {
  it('records the restore point (time and WAL LSN) after checking automated backups cover it, prints the restore command, takes no dump', async () => {
    const { server, cli, deploy } = await setup({ backupBeforeDeploy: 'pitr' });
    const r = await deploy();
    expect(r.code, r.all).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('production: backup before deploy: restore point'));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(lines.findIndex((l) => l.includes('applied  20240101000000_init')));
    expect(lines.slice(at, at + 2).join('\n').replace(ISO, '<time>').replace(/WAL [0-9A-F]+\/[0-9A-F]+/, 'WAL <lsn>')).toMatchInlineSnapshot(`
      "production: backup before deploy: restore point <time> (WAL <lsn>), covered by RDS automated backups of app-production (7 days, restorable from <time>; stagedb backup list --env production)
        restore it (once RDS reaches that time, about 5 minutes on): stagedb restore --point-in-time <time> --from production --to <env>"
    `);
    expect(server.requests.map((x) => x.action)).toEqual(['DescribeDBInstances', 'DescribeDBInstanceAutomatedBackups']);
    const list = JSON.parse((await cli(['backup', 'list', '--env', 'production', '--json'])).stdout) as { backups: unknown[] };
    expect(list.backups).toEqual([]);
    // Nothing pending: no restore point, no AWS call.
    server.requests.length = 0;
    const again = await deploy();
    expect(again.code, again.all).toBe(0);
    expect(again.stdout).not.toContain('restore point');
    expect(server.requests).toEqual([]);
  });

  it('no automated backups, or RDS far behind: refused before any migration, one line + fix', async () => {
    const off = await setup({ backupBeforeDeploy: 'pitr' }, { posture: { backupRetentionPeriod: 0 } });
    const r = await off.deploy();
    expect([r.code, r.stderr]).toEqual([
      2,
      "error: production: no migration was applied: the backup before deploy failed: backupBeforeDeploy is 'pitr', and RDS instance app-production (eu-west-1) has no automated backups (backup retention 0)\n  fix: turn them on: aws rds modify-db-instance --db-instance-identifier app-production --backup-retention-period 7 --apply-immediately --region eu-west-1   (or backupBeforeDeploy: 'snapshot'); then deploy again\n",
    ]);
    expect(await off.applied()).toBe(false);
    const behind = await setup({ backupBeforeDeploy: 'pitr' }, { posture: { latestRestorableLagMs: 3 * 3600_000 } });
    const b = await behind.deploy();
    expect(b.code).toBe(2);
    expect(b.stderr.replace(ISO, '<time>')).toMatch(/^error: production: no migration was applied: the backup before deploy failed: backupBeforeDeploy is 'pitr', and RDS instance app-production's latest restorable time \(<time>\) is 180 min \d+ s behind the database's clock: automated backups may not cover this deploy\n  fix: see the instance's events: /);
    expect(await behind.applied()).toBe(false);
  });
});

describe("backupBeforeDeploy: 'snapshot'", () => {
  it('an RDS snapshot tagged before-deploy, waited for, with its restore command, before the first migration', async () => {
    const { server, deploy } = await setup({ backupBeforeDeploy: 'snapshot' });
    const r = await deploy();
    expect(r.code, r.all).toBe(0);
    const [id, snap] = [...server.snapshots.entries()][0]!;
    expect([snap.status, snap.tags['stagedb:reason'], snap.tags['stagedb:environment']]).toEqual(['available', 'before-deploy', 'production']);
    const text = r.stdout.replaceAll(id, '<id>').replace(/\d+ ms|\d+(\.\d+)? s\b/g, '<d>');
    expect(text).toContain('production: backup before deploy: RDS snapshot <id> of app-production is available (<d>): the restore point if this deploy goes wrong\n  restore it: aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier <id> --db-instance-identifier <new-instance> --region eu-west-1\n');
    expect(text.indexOf('restore it:')).toBeLessThan(text.indexOf('applied  20240101000000_init'));
  });

  it('a migration that fails afterwards names the snapshot as the restore point, with its restore command', async () => {
    const { server, deploy } = await setup({ backupBeforeDeploy: 'snapshot' }, {}, {
      '20240101000000_init': INIT,
      '20240102000000_broken': `-- AlterTable\nINSERT INTO "Missing" ("id") VALUES (1);\n`,
    });
    const r = await deploy();
    expect(r.code, r.all).toBe(2);
    const [id] = [...server.snapshots.keys()];
    expect(r.stderr).toContain(`restore point: RDS snapshot ${id}, taken just before this deploy`);
    expect(r.stderr).toContain(`to go back to before this deploy instead: aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${id} --db-instance-identifier <new-instance> --region eu-west-1`);
    expect(r.stderr).not.toContain('stagedb restore');
  });
});

describe('the pg_dump before deploy, above backup.beforeDeployDumpLimit', () => {
  it('stops before dumping with the choices explained; nothing dumped, nothing applied', async () => {
    const { cli, deploy, applied } = await setup({ backupBeforeDeploy: true, backup: { beforeDeployDumpLimit: 1024 } });
    const r = await deploy();
    expect(r.code).toBe(5);
    expect(r.stderr.replace(/is \d+(\.\d+)? MB/, 'is <size>').replace(/beforeDeployDumpLimit: \d+/, 'beforeDeployDumpLimit: <size+1>')).toMatchInlineSnapshot(`
      "error: production: no migration was applied: the database is <size>, above backup.beforeDeployDumpLimit (1.0 kB): the pg_dump before deploy would load it for a long time before the first migration
        backupBeforeDeploy: 'snapshot': an RDS snapshot, incremental and waited for (minutes)
        backupBeforeDeploy: 'pitr': record the exact restore point; needs RDS automated backups (backup retention > 0)
        backup.beforeDeployDumpLimit: <size+1>: take the pg_dump anyway, this size and below
        backupBeforeDeploy: false: no backup before deploy
        fix: choose one in environments.production of the config (above), then deploy again
      "
    `);
    expect(await applied()).toBe(false);
    const list = JSON.parse((await cli(['backup', 'list', '--env', 'production', '--json'])).stdout) as { backups: unknown[]; incomplete: unknown[] };
    expect([list.backups, list.incomplete]).toEqual([[], []]);
  });

  it("'snapshot' without backup.rds is a config error", async () => {
    const p = createProject({ configJson: { environments: { production: { url: 'postgresql://app@127.0.0.1:1/app', backupBeforeDeploy: 'snapshot' } } } });
    cleanups.push(() => p.remove());
    const r = await runCli(['status', '--env', 'production'], { cwd: p.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("environments.production.backupBeforeDeploy: 'snapshot' needs the RDS instance: backup: { rds: { instance: '<db-instance-id>', region: '<region>' } }");
  });
});
