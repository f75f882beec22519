import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { closedPort, forbidInOutput, normalize, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, withPassword, type TempProject } from '../helpers/project.js';

/**
 * `stagedb doctor` against the built binary: one project, one environment per way of breaking a
 * connection, each made to fail for its own reason against the real test cluster.
 */
const INIT = `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;
const POSTS = `CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL REFERENCES "User"("id"));\n`;
const MIGRATIONS = { '20240101000000_init': INIT, '20240102000000_posts': POSTS };
const WRONG_PW = 'Wrong-Doctor-Pw-5512';
const DEAD_PW = 'Dead-Port-Pw-9034';
const API_KEY = 'eyJhcGlLZXkiOiJkb2N0b3Itc2VjcmV0LWtleS0xMjM0NSJ9';

let project: TempProject;
let healthy: FreshDatabase;
let failed: FreshDatabase;
let vars: Record<string, string>;
let deadPort: number;

interface Check {
  code: string;
  name: string;
  status: string;
  detail: string;
  fix?: string;
}
interface Report {
  env: string;
  status: string;
  checks: Check[];
}

beforeAll(async () => {
  [healthy, failed] = await Promise.all([freshDatabase('doc'), freshDatabase('doc')]);
  forbidInOutput(passwordOf(healthy.url), WRONG_PW, DEAD_PW, API_KEY);
  deadPort = await closedPort();
  project = createProject({
    migrations: MIGRATIONS,
    configJson: {
      environments: {
        development: { url: { $env: 'DEV_URL' } },
        unreachable: { url: { $env: 'DEAD_URL' } },
        wrongpw: { url: { $env: 'WRONG_URL' } },
        nodb: { url: { $env: 'NODB_URL' } },
        broken: { url: { $env: 'BROKEN_URL' } },
        accelerate: { url: { $env: 'ACCEL_URL' } },
        novar: { url: { $env: 'NOT_SET_URL' } },
      },
    },
  });
  const nodb = new URL(healthy.url);
  nodb.pathname = '/doctor_no_such_database';
  vars = {
    DEV_URL: healthy.url,
    DEAD_URL: `postgresql://app:${DEAD_PW}@127.0.0.1:${deadPort}/app`,
    // Another database name: a wrong password fails before the name matters, and two environments on
    // one database would fail development's DOC016.
    WRONG_URL: withPassword(healthy.url, WRONG_PW).replace(`/${healthy.name}`, '/wrongpw_db'),
    NODB_URL: nodb.toString(),
    BROKEN_URL: failed.url,
    ACCEL_URL: `prisma+postgres://accelerate.prisma-data.net/?api_key=${API_KEY}`,
  };
  await deploy({ env: environmentFor(healthy.url), migrationsDir: project.migrationsDir });
  // broken: the second migration failed after one of its statements committed (a row with neither
  // finished_at nor rolled_back_at that no deploy may retry by itself).
  const bad = createProject({
    migrations: { ...MIGRATIONS, '20240102000000_posts': `CREATE TABLE "Post" ("id" INT);\nVACUUM "Post";\nALTER TABLE "Post" ADD COLUMN "a" INT REFERENCES "Users"("id");\n` },
  });
  await deploy({ env: environmentFor(failed.url), migrationsDir: bad.migrationsDir }).catch(() => undefined);
  bad.remove();
});

afterAll(async () => {
  project?.remove();
  await Promise.all([healthy?.drop(), failed?.drop()]);
});

const doctor = (...args: string[]) => runCli(['doctor', ...args], { cwd: project.dir, env: vars });

async function doctorJson(env: string): Promise<{ code: number | null; report: Report; byCode: Record<string, Check> }> {
  const r = await doctor('--env', env, '--json', '--timeout', '2');
  const data = JSON.parse(r.stdout) as { environments: Report[]; exitCode: number };
  expect(data.exitCode).toBe(r.code);
  const report = data.environments[0]!;
  return { code: r.code, report, byCode: Object.fromEntries(report.checks.map((c) => [c.code, c])) };
}

const statuses = (report: Report) => report.checks.map((c) => `${c.code} ${c.name} ${c.status}`);

describe('stagedb doctor', () => {
  it('a healthy environment: every check ok, exit 0, text names each check', async () => {
    const r = await doctor('--env', 'development');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('development (127.0.0.1:');
    expect(r.stdout).toContain('all checks passed');
    for (let i = 1; i <= 14; i++) expect(r.stdout).toMatch(new RegExp(`ok    DOC0${String(i).padStart(2, '0')}`));
    const { code, report } = await doctorJson('development');
    expect(code).toBe(0);
    expect(statuses(report)).toEqual([
      'DOC001 env-vars ok',
      'DOC002 url ok',
      'DOC003 direct-url ok',
      'DOC004 dns ok',
      'DOC005 tcp ok',
      'DOC006 tls ok',
      'DOC007 auth ok',
      'DOC008 database ok',
      'DOC009 privileges-migrate ok',
      'DOC010 privileges-backup ok',
      'DOC011 privileges-studio ok',
      'DOC012 pg-dump-version ok',
      'DOC013 migrations ok',
      'DOC014 connection-headroom ok',
      'DOC015 read-replicas ok',
      'DOC016 distinct-database ok',
      'DOC017 marker ok',
      'DOC018 rds-multi-az ok',
      'DOC019 rds-backups ok',
      'DOC020 rds-encryption ok',
      'DOC021 rds-delete-protect ok',
      'DOC022 rds-force-ssl ok',
      'DOC023 rds-perf-insights ok',
      'DOC024 rds-metrics ok',
      'DOC025 rds-minor-upgrade ok',
    ]);
    expect(report.checks.find((c) => c.code === 'DOC013')!.detail).toBe('2 applied, 0 pending, none failed');
  });

  it('an unreachable port: TCP fails with the network hint, everything after it is skipped, exit 3', async () => {
    const { code, report, byCode } = await doctorJson('unreachable');
    expect(code).toBe(3);
    expect(report.status).toBe('fail');
    expect(byCode.DOC004!.status).toBe('ok');
    expect(byCode.DOC005!.status).toBe('fail');
    expect(byCode.DOC005!.detail).toMatch(/^nothing accepts connections at 127\.0\.0\.1:\d+ \(connection refused\)$/);
    expect(byCode.DOC005!.fix).toContain('stagedb dev up');
    // Everything that needs the server is skipped; the replicas (none here) do not depend on the primary.
    for (const c of report.checks.slice(5, 14)) expect(c.status, c.code).toBe('skip');
    expect(byCode.DOC015!.status).toBe('ok');
    expect(byCode.DOC006!.detail).toBe('skipped: DOC005 tcp failed');
  });

  it('the text output of an unreachable environment (pinned)', async () => {
    const r = await doctor('--env', 'unreachable');
    expect(r.code).toBe(3);
    expect(normalize(r.stdout, { [String(deadPort)]: '<dead-port>' })).toMatchInlineSnapshot(`
      "unreachable (127.0.0.1:<dead-port>/app): FAILED
        ok    DOC001  env-vars             connection from url (env DEAD_URL); no env file found (values come from the shell or the config)
        ok    DOC002  url                  direct: 127.0.0.1:<dead-port>/app as app, schema public
        ok    DOC003  direct-url           url (env DEAD_URL) is a direct PostgreSQL URL
        ok    DOC004  dns                  127.0.0.1 is an IP address (no lookup needed)
        FAIL  DOC005  tcp                  nothing accepts connections at 127.0.0.1:<dead-port> (connection refused)
                                           fix: start the local server: stagedb dev up (or check the port in the URL)
        skip  DOC006  tls                  skipped: DOC005 tcp failed
        skip  DOC007  auth                 skipped: DOC005 tcp failed
        skip  DOC008  database             skipped: DOC005 tcp failed
        skip  DOC009  privileges-migrate   skipped: DOC005 tcp failed
        skip  DOC010  privileges-backup    skipped: DOC005 tcp failed
        skip  DOC011  privileges-studio    skipped: DOC005 tcp failed
        skip  DOC012  pg-dump-version      skipped: DOC005 tcp failed
        skip  DOC013  migrations           skipped: DOC005 tcp failed
        skip  DOC014  connection-headroom  skipped: DOC005 tcp failed
        ok    DOC015  read-replicas        no read replicas configured (reads go to the primary)
        ok    DOC016  distinct-database    no other environment (of 6) resolves to this database
        skip  DOC017  marker               skipped: DOC005 tcp failed
        ok    DOC018  rds-multi-az         no RDS instance in the config (backup.rds): not checked
        ok    DOC019  rds-backups          no RDS instance in the config (backup.rds): not checked
        ok    DOC020  rds-encryption       no RDS instance in the config (backup.rds): not checked
        ok    DOC021  rds-delete-protect   no RDS instance in the config (backup.rds): not checked
        ok    DOC022  rds-force-ssl        no RDS instance in the config (backup.rds): not checked
        ok    DOC023  rds-perf-insights    no RDS instance in the config (backup.rds): not checked
        ok    DOC024  rds-metrics          no RDS instance in the config (backup.rds): not checked
        ok    DOC025  rds-minor-upgrade    no RDS instance in the config (backup.rds): not checked"
    `);
  });

  it('a wrong password: authentication fails, the password appears nowhere', async () => {
    const r = await doctor('--env', 'wrongpw');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/FAIL  DOC007  auth .*password authentication failed for user/);
    const { byCode } = await doctorJson('wrongpw');
    expect(byCode.DOC006!.status).toBe('ok');
    expect(byCode.DOC007!.status).toBe('fail');
    expect(byCode.DOC007!.fix).toContain('check the user and password');
    expect(byCode.DOC008!.status).toBe('skip');
  });

  it('a missing database: DOC008 fails with the createdb command', async () => {
    const { code, byCode } = await doctorJson('nodb');
    expect(code).toBe(3);
    expect(byCode.DOC007!.status).toBe('ok');
    expect(byCode.DOC008!.status).toBe('fail');
    expect(byCode.DOC008!.detail).toContain('database "doctor_no_such_database" does not exist');
    expect(byCode.DOC008!.fix).toMatch(/^create it: createdb -h 127\.0\.0\.1 -p \d+ -U \S+ doctor_no_such_database$/);
    expect(byCode.DOC013!.status).toBe('skip');
  });

  it('a failed migration row: DOC013 fails with the exact resolve commands', async () => {
    const { code, byCode } = await doctorJson('broken');
    expect(code).toBe(3);
    expect(byCode.DOC009!.status).toBe('ok');
    expect(byCode.DOC013!.status).toBe('fail');
    expect(byCode.DOC013!.detail).toBe('1 failed migration block deploys: 20240102000000_posts');
    expect(byCode.DOC013!.fix).toBe(
      'stagedb migrate resolve --rolled-back 20240102000000_posts --env broken   (after undoing its partial changes; or --applied 20240102000000_posts if you finished it by hand)',
    );
  });

  it('an Accelerate URL without directUrl: DOC003 fails and explains directUrl; the api_key appears nowhere', async () => {
    const r = await doctor('--env', 'accelerate');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/FAIL  DOC003  direct-url .*Prisma Accelerate URL.*directUrl is the second URL/);
    expect(r.stdout).toContain("fix: set environments.accelerate.directUrl: env('DIRECT_URL')");
    const { byCode } = await doctorJson('accelerate');
    expect(byCode.DOC001!.status).toBe('ok');
    expect(byCode.DOC002!.status).toBe('ok');
    expect(byCode.DOC003!.status).toBe('fail');
    expect(byCode.DOC004!.status).toBe('skip');
  });

  it('a variable that is not set: DOC001 fails and says where it looked', async () => {
    const { code, byCode } = await doctorJson('novar');
    expect(code).toBe(3);
    expect(byCode.DOC001!.status).toBe('fail');
    expect(byCode.DOC001!.detail).toContain('environment variable NOT_SET_URL is not set');
    expect(byCode.DOC001!.fix).toContain('.env.novar');
    expect(byCode.DOC002!.status).toBe('skip');
  });

  it('--env all checks every environment; the worst decides the exit code', async () => {
    const r = await doctor('--env', 'all', '--json', '--timeout', '2');
    expect(r.code).toBe(3);
    const data = JSON.parse(r.stdout) as { environments: Report[] };
    expect(Object.fromEntries(data.environments.map((e) => [e.env, e.status]))).toEqual({
      development: 'ok',
      unreachable: 'fail',
      wrongpw: 'fail',
      nodb: 'fail',
      broken: 'fail',
      accelerate: 'fail',
      novar: 'fail',
    });
  });

  it('warnings only exit 1: a pg_dump that does not say its version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-fake-bin-'));
    try {
      for (const [name, out] of [['initdb', 'initdb (PostgreSQL) 17.0'], ['pg_ctl', 'pg_ctl (PostgreSQL) 17.0'], ['pg_dump', 'something else']]) {
        writeFileSync(join(dir, name!), `#!/bin/sh\necho "${out}"\n`);
        chmodSync(join(dir, name!), 0o755);
      }
      const r = await runCli(['doctor', '--env', 'development'], { cwd: project.dir, env: { ...vars, STAGEDB_PG_BIN: dir } });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('development (127.0.0.1:');
      expect(r.stdout).toMatch(/: warnings\n/);
      expect(r.stdout).toMatch(/WARN  DOC012  pg-dump-version +.*--version did not say its version/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad --timeout is a usage error', async () => {
    const r = await doctor('--timeout', 'soon');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--timeout must be a positive number of seconds');
  });
});
