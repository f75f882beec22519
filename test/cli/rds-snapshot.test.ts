import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase } from '../helpers/db.js';
import { createProject } from '../helpers/project.js';
import { startRdsServer } from '../helpers/rds-server.js';

/** `stagedb backup --snapshot` and `backup list --snapshots` through the built binary, against the loopback RDS API. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CREDS = { AWS_ACCESS_KEY_ID: 'AKIASTAGEDBTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key', STAGEDB_RDS_POLL_MS: '10' };

async function setup(rds = true) {
  const [server, db] = await Promise.all([startRdsServer({ pollsToAvailable: 2 }), freshDatabase('cli_rds')]);
  const p = createProject({
    configJson: {
      environments: {
        production: {
          url: { $env: 'PROD_URL' },
          ssl: 'disable',
          ...(rds ? { backup: { rds: { instance: 'app-production', region: 'eu-west-1', endpoint: server.endpoint } } } : {}),
        },
      },
    },
  });
  cleanups.push(() => server.close(), () => db.drop(), () => p.remove());
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: p.dir, env: { PROD_URL: db.url, ...CREDS, ...env }, timeoutMs: 60_000 });
  return { server, cli };
}

describe('stagedb backup --snapshot', () => {
  it('snapshots the RDS instance, waits, prints its identifier and ARN, lists it, and records it in the audit trail', async () => {
    const { cli, server } = await setup();
    const r = await cli(['backup', '--snapshot', '--env', 'production']);
    expect(r.code, r.stderr).toBe(0);
    const id = /stagedb-production-\d{8}-\d{6}/.exec(r.stdout)![0];
    expect(r.stdout.trimEnd().replaceAll(id, '<id>').replace(/\d+ ms|\d+(\.\d+)? s\b/g, '<time>')).toMatchInlineSnapshot(`
      "production: RDS snapshot <id> of app-production (eu-west-1) started
      production: <id>: creating 0 %, <time> so far
      production: <id>: creating 50 %, <time> so far
      production: <id>: available 100 %, <time> so far
      production: RDS snapshot <id> of app-production is available (20 GB allocated)
        arn:aws:rds:eu-west-1:123456789012:snapshot:<id>
        restore it as a new instance: aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier <id> --db-instance-identifier <new-instance> --region eu-west-1"
    `);
    expect(server.requests.map((x) => x.action)).toEqual(['CreateDBSnapshot', 'DescribeDBSnapshots', 'DescribeDBSnapshots']);

    const list = await cli(['backup', 'list', '--snapshots', '--env', 'production', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { snapshots: Array<{ identifier: string; status: string }> }).snapshots.map((s) => [s.identifier, s.status])).toEqual([[id, 'available']]);

    const history = JSON.parse((await cli(['history', '--env', 'production', '--json'])).stdout) as { records: Array<{ outcome: string; command: string; summary: string }> };
    expect(history.records[0]).toEqual(
      expect.objectContaining({ outcome: 'ok', command: 'backup --snapshot --env production', summary: `RDS snapshot ${id} of app-production (arn:aws:rds:eu-west-1:123456789012:snapshot:${id})` }),
    );
  });

  it('refused credentials: one error, exit 3, and a failed record in the audit trail', async () => {
    const { cli } = await setup();
    const r = await cli(['backup', '--snapshot', '--env', 'production'], { AWS_ACCESS_KEY_ID: 'AKIAWRONG' });
    expect(r.code).toBe(3);
    expect(r.stderr.replace(/http:\/\/127\.0\.0\.1:\d+/, '<endpoint>')).toMatchInlineSnapshot(`
      "error: RDS instance app-production (eu-west-1, <endpoint>) refused the credentials (InvalidClientTokenId): cannot create a snapshot of it
        fix: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (shell or the environment's env file), AWS_PROFILE, or the role's permissions: rds:CreateDBSnapshot, rds:DescribeDBSnapshots, rds:AddTagsToResource on the instance
      "
    `);
    const history = JSON.parse((await cli(['history', '--env', 'production', '--json'])).stdout) as { records: Array<{ outcome: string; command: string }> };
    expect(history.records[0]).toMatchObject({ outcome: 'failed', command: 'backup --snapshot --env production' });
  });

  it('no backup.rds configured: says how to add it (exit 3)', async () => {
    const { cli } = await setup(false);
    const r = await cli(['backup', '--snapshot', '--env', 'production']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: environment production names no RDS instance to snapshot
        fix: add it to the config: environments.production.backup.rds = { instance: 'my-db-instance', region: 'eu-west-1' }   (or take a pg_dump backup: stagedb backup --env production)
      "
    `);
  });

  it('without @aws-sdk/client-rds installed: one line saying how to install it (exit 3)', async () => {
    const { cli } = await setup();
    // A resolve hook makes the optional peer dependency look uninstalled, as in a project without it.
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-no-rds-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, `export async function resolve(s, c, next) { return next(s === '@aws-sdk/client-rds' ? '@aws-sdk/client-rds-not-installed' : s, c); }\n`);
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const r = await cli(['backup', '--snapshot', '--env', 'production'], { NODE_OPTIONS: `--import ${pathToFileURL(register).href}` });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: RDS snapshots need the AWS SDK for RDS, which is not installed (an optional peer dependency of stagedb)
        fix: npm install -D @aws-sdk/client-rds
      "
    `);
  });

  it('usage: --snapshot does not take pg_dump flags; --timeout needs --snapshot', async () => {
    const { cli } = await setup();
    const a = await cli(['backup', '--snapshot', '--format', 'custom', '--env', 'production']);
    expect([a.code, a.stderr.split('\n')[0]]).toEqual([4, 'error: --format is for pg_dump backups, not --snapshot']);
    const b = await cli(['backup', '--timeout', '5', '--env', 'production']);
    expect([b.code, b.stderr.split('\n')[0]]).toEqual([4, 'error: --timeout goes with --snapshot']);
  });
});
