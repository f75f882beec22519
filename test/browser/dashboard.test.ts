/**
 * `stagedb dashboard` in headless Chromium, as a person sees it: three environments side by side,
 * one of them stopped (its URL points at a port nothing listens on). Every section shows every
 * environment; the stopped one shows its error (redacted) and does not stop the others. The token is
 * required, only GET/HEAD are answered, the page has no script and no form that posts, and loading
 * and refreshing it changes nothing in any database. A screenshot is kept in test-results/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaFingerprint } from '../../src/develop/drift-cache.js';
import { launchChromium, loopbackPage } from '../helpers/browser.js';
import { assertBuilt, BIN, closedPort, forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { rowsOf, startReplicaPair, type ReplicaPair } from '../helpers/replica.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

const SCHEMA = `generator client {
  provider = "prisma-client"
  output   = "../src/generated/prisma"
}

datasource db {
  provider = "postgresql"
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  age   Int
  posts Post[]
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}
`;
const INIT = `CREATE TABLE "User" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE TABLE "Post" ("id" SERIAL NOT NULL, "title" TEXT NOT NULL, "authorId" INTEGER NOT NULL, CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`;
const AGE = `ALTER TABLE "User" ADD COLUMN "age" INTEGER NOT NULL;\n`;

/** Development runs on a server of its own, with pg_stat_statements preloaded (for the query-time plot). */
let server: ReplicaPair | undefined;
let dev: { url: string };
let staging: FreshDatabase;
let project: TempProject;
let browser: Browser | undefined;
let dashboard: ChildProcess | undefined;
let output = '';
let address = '';
const role = `dash_owner_${process.pid}`;

/** `url` logged in as `user`. */
const as = (url: string, user: string, password: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
};

beforeAll(async () => {
  server = await startReplicaPair({ replica: false, extraConf: ["shared_preload_libraries = 'pg_stat_statements'"] });
  await rowsOf(server.primary.url('postgres'), 'CREATE DATABASE dash_dev');
  dev = { url: server.primary.url('dash_dev') };
  staging = await freshDatabase('dash_stg');
  // Staging as on RDS: its owner is a plain role (no superuser), with CREATEDB for drift's shadow database.
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
  await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'stg-Secret-42' CREATEDB`);
  await query(adminUrl(), `ALTER DATABASE ${staging.name} OWNER TO ${role}`);
  await query(staging.url, `ALTER SCHEMA public OWNER TO ${role}`);
  const stagingUrl = as(staging.url, role, 'stg-Secret-42');
  const stopped = `postgresql://app:prod-Secret-99@127.0.0.1:${await closedPort()}/app?sslmode=require`;
  for (const u of [dev.url, stagingUrl, stopped]) forbidInOutput(passwordOf(u));
  project = createProject({
    schema: SCHEMA,
    migrations: { '20240101000000_init': INIT },
    configJson: {
      environments: {
        development: { url: { $env: 'DATABASE_URL' }, protection: 'none' },
        staging: { url: { $env: 'DATABASE_URL' }, protection: 'guarded' },
        production: { url: { $env: 'DATABASE_URL' }, protection: 'production' },
      },
    },
    envFiles: { '.env.development': { DATABASE_URL: dev.url }, '.env.staging': { DATABASE_URL: stagingUrl }, '.env.production': { DATABASE_URL: stopped } },
  });
  const cli = (...args: string[]) => runCli(args, { cwd: project.dir, timeoutMs: 120_000 });
  // Staging gets the first migration only (through deploy: it leaves an audit record), development both.
  const deployed = await cli('deploy', '--env', 'staging', '--skip-generate');
  expect(deployed.code, deployed.all).toBe(0);
  project.addMigration('20240102000000_user_age', AGE);
  expect((await cli('migrate', 'deploy', '--env', 'development')).code).toBe(0);
  // Query statistics on development (the test cluster preloads pg_stat_statements).
  await query(dev.url, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
  for (let i = 0; i < 5; i++) await query(dev.url, `SELECT count(*) FROM "User" u JOIN "Post" p ON p."authorId" = u.id WHERE u.id > $1`, [i]);
  // Drift on staging: a column added by hand.
  await query(stagingUrl, `ALTER TABLE "User" ADD COLUMN "nickname" TEXT`);
  // A backup of development, verified.
  const b = await cli('backup', '--env', 'development');
  expect(b.code, b.all).toBe(0);
  expect((await cli('backup', 'verify', 'latest', '--env', 'development')).code).toBe(0);
  // Warm the drift cache (production is down: it exits 3, the others are stored).
  const s = await cli('status', '--drift', '--env', 'all');
  expect(s.code, s.all).toBe(3);

  assertBuilt();
  dashboard = spawn(process.execPath, [BIN, 'dashboard', '--no-open'], { cwd: project.dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  address = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString('utf8');
      const m = /running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(output);
      if (m && /press Ctrl-C to stop/.test(output)) resolve(m[1]!);
    };
    dashboard!.stdout!.on('data', onData);
    dashboard!.stderr!.on('data', onData);
    dashboard!.once('close', (code) => reject(new Error(`stagedb dashboard exited (${code}):\n${output}`)));
  });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  dashboard?.kill('SIGKILL');
  project?.remove();
  await server?.stop().catch(() => {});
  await staging?.drop().catch(() => {});
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`).catch(() => {});
});

const cell = (page: Page, section: string, env: string) => page.locator(`section#${section} .cell[data-env="${env}"]`);

/** What a page load could change, read on both databases: the schema, the history, the audit trail, the backup files. */
async function state(): Promise<string> {
  const pg = (await import('pg')).default;
  const out: unknown[] = [];
  for (const url of [dev.url, staging.url]) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      out.push((await schemaFingerprint(c, ['public'])).hash);
      out.push((await c.query(`SELECT count(*)::int AS n, max(finished_at) AS f FROM _prisma_migrations`)).rows[0]);
      out.push((await c.query(`SELECT CASE WHEN to_regclass('stagedb.audit_log') IS NULL THEN -1 ELSE (SELECT count(*)::int FROM stagedb.audit_log) END AS n`)).rows[0]);
      out.push((await c.query(`SELECT count(*)::int AS n FROM "User"`)).rows[0]);
    } finally {
      await c.end();
    }
  }
  return JSON.stringify(out);
}

describe('stagedb dashboard', () => {
  it('shows every section for three environments, the stopped one with its error, and keeps a screenshot', async () => {
    const before = await state();
    const page = await loopbackPage(browser!);
    await page.goto(address);
    for (const env of ['development', 'staging', 'production']) await expect(page.locator(`.env[data-env="${env}"] h2`).textContent()).resolves.toBe(env);

    // Migration state: up to date, one pending, unreachable.
    await expect(cell(page, 'state', 'development').textContent()).resolves.toMatch(/up to date/);
    const stg = (await cell(page, 'state', 'staging').textContent())!;
    expect(stg).toMatch(/pending/);
    expect(stg).toContain('20240102000000_user_age');
    const down = (await cell(page, 'state', 'production').textContent())!;
    expect(down).toMatch(/unavailable/);
    expect(down).toMatch(/127\.0\.0\.1/);
    expect(down).not.toContain('prod-Secret-99');

    // Drift, from the cache status --drift filled.
    await expect(cell(page, 'drift', 'development').textContent()).resolves.toMatch(/no drift.*from the cache/s);
    const drift = (await cell(page, 'drift', 'staging').textContent())!;
    expect(drift).toMatch(/drift/);
    expect(drift).toContain('"nickname" TEXT');
    await expect(cell(page, 'drift', 'production').textContent()).resolves.toMatch(/unavailable/);

    // Backups: development's verified one; none for staging.
    const backup = (await cell(page, 'backups', 'development').textContent())!;
    expect(backup).toMatch(/development-\d{8}T\d{6}Z-[0-9a-f]{4}/);
    expect(backup).toMatch(/verified/);
    await expect(cell(page, 'backups', 'staging').textContent()).resolves.toMatch(/no backup/);

    // Audit trail: staging's deploy.
    await expect(cell(page, 'audit', 'staging').textContent()).resolves.toMatch(/deploy.*ok/s);
    await expect(cell(page, 'audit', 'production').textContent()).resolves.toMatch(/unavailable/);

    // Lint of what is pending: staging's NOT NULL column without a default.
    await expect(cell(page, 'lint', 'development').textContent()).resolves.toMatch(/nothing pending/);
    await expect(cell(page, 'lint', 'staging').textContent()).resolves.toMatch(/SDB\d{3}.*20240102000000_user_age/s);

    // Advice: the foreign key without an index, with the schema.prisma fix.
    const advice = (await cell(page, 'advice', 'development').textContent())!;
    expect(advice).toContain('ADV001');
    expect(advice).toContain('@@index([authorId])');
    await expect(cell(page, 'advice', 'production').textContent()).resolves.toMatch(/unavailable/);

    // Plots: inline SVG with a bar per table, connections, and query time (or why not).
    await expect(cell(page, 'plots', 'development').locator('[data-plot="table-sizes"] svg rect').count()).resolves.toBe(3);
    await expect(cell(page, 'plots', 'development').locator('[data-plot="table-sizes"]').textContent()).resolves.toMatch(/User.*Post|Post.*User/s);
    await expect(cell(page, 'plots', 'staging').locator('[data-plot="connections"] svg rect').count()).resolves.toBeGreaterThan(0);
    await expect(cell(page, 'plots', 'development').locator('[data-plot="query-time"]').textContent()).resolves.toMatch(/calls/);
    await expect(cell(page, 'plots', 'development').locator('[data-plot="query-time"] svg rect').count()).resolves.toBeGreaterThan(0);
    await expect(cell(page, 'plots', 'staging').locator('[data-plot="query-time"]').textContent()).resolves.toMatch(/not installed/);

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: `${RESULTS}dashboard.png`, fullPage: true });

    // Refresh re-reads every environment: a migration applied meanwhile shows at once.
    const firstRead = await page.locator('header .meta').first().textContent();
    await page.locator('#refresh').click();
    await page.waitForLoadState('load');
    await expect(page.locator('header .meta').first().textContent()).resolves.not.toBe(firstRead);
    expect(new URL(page.url()).searchParams.get('token')).toBe(new URL(address).searchParams.get('token'));
    // "Check drift now" is a GET too: the cache answers, and the page says drift was checked.
    await page.locator('#check-drift').click();
    await page.waitForLoadState('load');
    await expect(page.locator('header .meta').first().textContent()).resolves.toMatch(/drift checked now/);
    await expect(cell(page, 'drift', 'staging').textContent()).resolves.toContain('"nickname" TEXT');
    await page.close();

    expect(await state()).toBe(before);
    expect(output).not.toMatch(/Secret/);
  });

  it('refuses requests without the token, with another Host, and anything but GET/HEAD', async () => {
    const base = new URL(address);
    const token = base.searchParams.get('token')!;
    const root = `${base.origin}/`;
    expect((await fetch(root)).status).toBe(403);
    expect((await fetch(`${root}?token=${token.slice(0, -1)}x`)).status).toBe(403);
    const refused = await fetch(root);
    expect(await refused.text()).not.toContain(token);
    expect((await fetch(address, { method: 'HEAD' })).status).toBe(200);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await fetch(address, { method, body: method === 'DELETE' ? undefined : 'x=1' });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    }
    // DNS rebinding: the right port and token under another name are refused.
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: Number(base.port), path: `/?token=${token}`, headers: { Host: `evil.example:${base.port}` } }, (res) => resolve(res.statusCode!)).on('error', reject);
    });
    expect(status).toBe(403);
  });

  it('the page has no script, no form that posts, loads nothing from elsewhere, and says so in its headers', async () => {
    const r = await fetch(address);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    const page = await loopbackPage(browser!);
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(address);
    await expect(page.locator('script').count()).resolves.toBe(0);
    const methods = await page.$$eval('form', (fs) => fs.map((f) => (f as HTMLFormElement).method));
    expect(methods.length).toBeGreaterThan(0);
    expect(new Set(methods)).toEqual(new Set(['get']));
    expect(requests.every((u) => u.startsWith(new URL(address).origin))).toBe(true);
    await page.close();
  });

  it('stops on SIGTERM', async () => {
    const closed = new Promise<number | null>((resolve) => dashboard!.once('close', (code) => resolve(code)));
    dashboard!.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(output).toMatch(/stagedb dashboard stopped \(SIGTERM\)/);
  });
});
