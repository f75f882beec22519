/**
 * The proof that `stagedb studio --env production` is read-only where it matters: in the database.
 * A real Prisma Studio (the project's Prisma CLI, started by the built stagedb binary) is driven in
 * headless Chromium like a person would: open the table, edit a cell, save, confirm. PostgreSQL
 * refuses the UPDATE (SQLSTATE 25006), the page says so, and SQL shows the row unchanged. The same
 * edit through a read-write environment (staging) goes through: the test can see a change when there
 * is one.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortFree } from '../../src/studio/port.js';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { launchChromium, linkPrismaCli, loopbackPage, startStudioCli, type RunningStudio } from '../helpers/browser.js';
import { createProject, type TempProject } from '../helpers/project.js';

const TABLE = `CREATE TABLE "Customer" (id SERIAL PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE);
INSERT INTO "Customer" (name, email) VALUES ('Ada', 'ada@example.com'), ('Bob', 'bob@example.com');`;

const withSsl = (url: string) => {
  const u = new URL(url);
  u.searchParams.set('sslmode', 'require');
  return u.toString();
};

let prodDb: FreshDatabase;
let stagingDb: FreshDatabase;
let project: TempProject;
let browser: Browser | undefined;
const studios: RunningStudio[] = [];

beforeAll(async () => {
  prodDb = await freshDatabase('studio_prod');
  stagingDb = await freshDatabase('studio_stg');
  await query(prodDb.url, TABLE);
  await query(stagingDb.url, TABLE);
  forbidInOutput(passwordOf(prodDb.url));
  project = createProject({
    configJson: {
      environments: {
        production: { url: { $env: 'DATABASE_URL' } },
        staging: { url: { $env: 'DATABASE_URL' } },
      },
    },
    envFiles: { '.env.production': { DATABASE_URL: withSsl(prodDb.url) }, '.env.staging': { DATABASE_URL: withSsl(stagingDb.url) } },
  });
  linkPrismaCli(project.dir);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await Promise.all(studios.map((s) => s.stop('SIGKILL').catch(() => {})));
  project?.remove();
  await prodDb?.drop().catch(() => {});
  await stagingDb?.drop().catch(() => {});
});

async function openStudio(env: string): Promise<{ studio: RunningStudio; address: string }> {
  const studio = startStudioCli(['--env', env, '--browser', 'none'], { cwd: project.dir });
  studios.push(studio);
  return { studio, address: await studio.address };
}

/** Browses to the table and edits Bob's name through the grid, the way a person does. */
async function editBobsName(page: Page, address: string, to: string): Promise<void> {
  await page.goto(address);
  await page.getByText('Customer', { exact: true }).first().click();
  const cell = page.getByText('Bob', { exact: true });
  await cell.waitFor();
  await cell.dblclick();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(to);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: /Save 1 row/ }).click();
  // Studio asks before it writes staged edits.
  await page.getByRole('button', { name: /write to db/ }).click();
}

/** Studio's connections to a database, by the application_name stagedb gives them. */
const studioSessions = async (db: FreshDatabase) =>
  (await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'stagedb studio'`, [db.name]))[0]!.n;

const bob = async (url: string) => (await query<{ name: string }>(url, `SELECT name FROM "Customer" WHERE email = 'bob@example.com'`))[0]?.name;

// Generous: Studio's page is ~4 MB of JavaScript, and the suite shares two cores with other test files.
describe('stagedb studio in a browser', { timeout: 180_000 }, () => {
  it('production: an edit in Studio is refused by PostgreSQL, the page shows why, and the row is unchanged', async () => {
    const { studio, address } = await openStudio('production');
    expect(studio.output()).toMatch(/mode: read-only — production has protection production; PostgreSQL refuses every write of this session/);

    // Studio's connections are there, named, and read-only by the server's own account.
    expect(await studioSessions(prodDb)).toBeGreaterThan(0);

    const page = await loopbackPage(browser!);
    try {
      await editBobsName(page, address, 'Mallory');
      await page.getByText('"update" operation failed').waitFor();
      // Studio's console shows PostgreSQL's own message for the refused statement.
      await page.getByRole('button', { name: 'Console' }).click();
      await page.getByText('cannot execute UPDATE in a read-only transaction').first().waitFor();
    } finally {
      await page.close();
    }
    expect(await bob(prodDb.url)).toBe('Bob');
    expect(await query(prodDb.url, `SELECT name FROM "Customer" ORDER BY id`)).toEqual([{ name: 'Ada' }, { name: 'Bob' }]);

    const r = await studio.stop();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/production: Prisma Studio stopped \(SIGTERM\)/);
    // Nothing left running: the port is free again, and no Studio connection remains.
    await assertPortFree(Number(new URL(address).port));
    await expect.poll(() => studioSessions(prodDb), { timeout: 10_000 }).toBe(0);

    // Who opened production Studio, in the audit trail.
    const h = await runCli(['history', '--env', 'production'], { cwd: project.dir });
    expect(h.stdout).toMatch(/ok\s+studio --env production/);
  });

  it('staging (read-write): the same edit goes through — the test sees a change when there is one', async () => {
    const { studio, address } = await openStudio('staging');
    expect(studio.output()).toMatch(/mode: read-write — staging has protection guarded/);
    const page = await loopbackPage(browser!);
    try {
      await editBobsName(page, address, 'Mallory');
      await expect.poll(() => bob(stagingDb.url), { timeout: 30_000 }).toBe('Mallory');
      expect(await page.getByText('"update" operation failed').count()).toBe(0);
    } finally {
      await page.close();
    }
    const r = await studio.stop();
    expect(r.code).toBe(0);
  });
});
