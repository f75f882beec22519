/**
 * `stagedb studio` from the built binary: bad input is one clear line and a documented exit code,
 * with nothing left running; a running Studio stops on SIGTERM, and does not outlive a stagedb that
 * is killed outright.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortFree } from '../../src/studio/port.js';
import { linkPrismaCli, startStudioCli, type RunningStudio } from '../helpers/browser.js';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

const ACCELERATE = 'prisma+postgres://accelerate.prisma-data.net/?api_key=eyJhbGciOiJIUzI1NiJ9.secret-accelerate-key';

let db: FreshDatabase;
let project: TempProject;
let bare: TempProject;
let busy: Server;
let busyPort: number;
const studios: RunningStudio[] = [];

/** A role that may only read: what studioUrl is for. */
const READER = `studio_reader_${process.pid}`;
const READER_PW = 'reader-pw-7c1f';
const readerUrl = () => {
  const u = new URL(db.url);
  u.username = READER;
  u.password = READER_PW;
  return u.toString();
};

/** One query through a running Studio's backend, as its page (or its SQL editor) sends it. */
async function throughStudio(address: string, sql: string): Promise<{ code: string; message: string } | null> {
  const res = await fetch(new URL('/bff', address), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ procedure: 'query', query: { sql, parameters: [] } }),
  });
  return ((await res.json()) as [{ code: string; message: string } | null])[0];
}

beforeAll(async () => {
  db = await freshDatabase('studio_cli');
  await query(db.url, 'CREATE TABLE "Item" (id SERIAL PRIMARY KEY, label TEXT)');
  await query(db.url, `DROP ROLE IF EXISTS ${READER}`);
  await query(db.url, `CREATE ROLE ${READER} LOGIN PASSWORD '${READER_PW}'`);
  await query(db.url, `GRANT CONNECT ON DATABASE ${db.name} TO ${READER}; GRANT USAGE ON SCHEMA public TO ${READER}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${READER}`);
  forbidInOutput(READER_PW);
  forbidInOutput(passwordOf(db.url), 'secret-accelerate-key');
  const tls = new URL(db.url);
  tls.searchParams.set('sslmode', 'require');
  const spec = {
    configJson: {
      environments: {
        development: { url: { $env: 'DATABASE_URL' } },
        production: { url: { $env: 'DATABASE_URL' } },
        staging: { url: { $env: 'DATABASE_URL' } },
        reporting: { url: { $env: 'DATABASE_URL' }, protection: 'production', ssl: 'prefer', studioUrl: { $env: 'STUDIO_URL' } },
        nowhere: { url: 'postgresql://u:nowhere-pw@127.0.0.1:1/db', protection: 'none' },
      },
    },
    envFiles: {
      '.env': { DATABASE_URL: db.url },
      '.env.production': { DATABASE_URL: tls.toString() },
      '.env.staging': { DATABASE_URL: ACCELERATE },
      // A production-level environment takes no URL from the shared .env: its own file names it.
      '.env.reporting': { DATABASE_URL: db.url, STUDIO_URL: readerUrl() },
    },
    // A Prisma config that cannot load here (its variable is set nowhere): Studio must not depend on it.
    files: { 'prisma.config.ts': `import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({ datasource: { url: env('ONLY_SET_IN_THE_CLOUD') } });\n` },
  };
  project = createProject(spec);
  linkPrismaCli(project.dir);
  // The same project without the Prisma CLI installed.
  bare = createProject(spec);
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await Promise.all(studios.map((s) => s.stop('SIGKILL').catch(() => {})));
  await new Promise((r) => busy?.close(r));
  project?.remove();
  bare?.remove();
  await db?.drop().catch(() => {});
  await query(db.url.replace(/\/[^/?]+(\?|$)/, '/postgres$1'), `DROP ROLE IF EXISTS ${READER}`).catch(() => {});
});

const studioSessions = async () =>
  (await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'stagedb studio'`, [db.name]))[0]!.n;

describe('stagedb studio: bad input is one clear line, an exit code, and nothing left running', () => {
  it('a busy --port: exit 4, before any connection', async () => {
    const r = await runCli(['studio', '--port', String(busyPort)], { cwd: project.dir });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr.replace(String(busyPort), '<port>')).toMatchInlineSnapshot(`
      "error: port <port> on 127.0.0.1 is already in use
        fix: leave --port out and stagedb picks a free port, or choose another: --port 5556
      "
    `);
    expect(await studioSessions()).toBe(0);
  });

  it('--port that is not a port: exit 4', async () => {
    const r = await runCli(['studio', '--port', 'eighty'], { cwd: project.dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: --port must be a port number between 1 and 65535, not "eighty"
        fix: stagedb studio --port 5555 (or leave it out for a free port)
      "
    `);
  });

  it('no Prisma CLI in the project: exit 3, and how to add it', async () => {
    const r = await runCli(['studio'], { cwd: bare.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: Prisma Studio comes with the Prisma CLI, and this project does not have it installed
        fix: npm install --save-dev prisma   (then run stagedb studio again)
      "
    `);
  });

  it('an environment with only an Accelerate URL: exit 3, in Studio\'s terms, and the api key never shown', async () => {
    const r = await runCli(['studio', '--env', 'staging'], { cwd: project.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: stagedb studio needs a direct PostgreSQL URL for staging, and it has only a Prisma Accelerate URL: Prisma Studio cannot browse through Accelerate or a pooler
        fix: set environments.staging.directUrl: env('DIRECT_URL') in the config and DIRECT_URL="postgresql://USER:PASSWORD@HOST:5432/DB" in .env.staging
      "
    `);
  });

  it('a database that cannot be reached: exit 3 with stagedb\'s connection message, Studio never started', async () => {
    const r = await runCli(['studio', '--env', 'nowhere'], { cwd: project.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: nowhere (url): nothing accepts connections at 127.0.0.1:1
        fix: start the local server: stagedb dev up
      "
    `);
  });
});

describe('stagedb studio: running and stopping', () => {
  it('development: read-write on a free port; SIGTERM stops Studio and closes its connections', async () => {
    const studio = startStudioCli(['--browser', 'none'], { cwd: project.dir });
    studios.push(studio);
    const address = await studio.address;
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(address);
    expect(page.status).toBe(200);
    await page.body?.cancel();
    expect(await studioSessions()).toBeGreaterThan(0);
    const r = await studio.stop('SIGTERM');
    expect(r.code).toBe(0);
    const shown = r.stdout.replace(/:\d+\//g, ':<port>/').replace(/ 7\.\d+\.\d+ /, ' <version> ').replace(db.name, '<db>');
    expect(shown).toMatchInlineSnapshot(`
      "development: Prisma Studio <version> is running at http://127.0.0.1:<port>/
        mode: read-write — development has protection none
        connected as postgres@127.0.0.1:<port>/<db> via url (env DATABASE_URL), TLS
        press Ctrl-C to stop
      development: Prisma Studio stopped (SIGTERM)
      "
    `);
    await assertPortFree(Number(new URL(address).port));
    await expect.poll(studioSessions, { timeout: 10_000 }).toBe(0);
  });

  it('production: read-only, over TLS, audited; --port is honoured', async () => {
    const port = await (await import('../../src/studio/port.js')).freePort();
    const studio = startStudioCli(['--env', 'production', '--port', String(port), '--browser', 'none'], { cwd: project.dir });
    studios.push(studio);
    expect(await studio.address).toBe(`http://127.0.0.1:${port}/`);
    expect(studio.output()).toMatch(/mode: read-only — production has protection production; PostgreSQL refuses every write/);
    expect(studio.output()).toMatch(/, TLS\n/);
    expect(studio.output()).toMatch(/note: Studio's SQL editor can switch the setting off; for a hard guarantee set studioUrl for production to a role with SELECT only/);
    // Through Studio's own backend, as the page would send it: PostgreSQL refuses the write.
    const res = await fetch(`http://127.0.0.1:${port}/bff`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ procedure: 'query', query: { sql: `INSERT INTO "Item" (label) VALUES ('x')`, parameters: [] } }),
    });
    const [error] = (await res.json()) as [{ code: string; message: string } | null];
    expect(error).toMatchObject({ code: '25006', message: 'cannot execute INSERT in a read-only transaction' });
    expect((await studio.stop()).code).toBe(0);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM "Item"')).toEqual([{ n: 0 }]);
    const h = await runCli(['history', '--env', 'production'], { cwd: project.dir });
    expect(h.stdout).toMatch(/ok\s+studio --env production/);
  });

  it("the limit, pinned: the session guard can be switched off from Studio's SQL editor; a SELECT-only studioUrl cannot", async () => {
    // The default guard: default_transaction_read_only is a user setting, so SQL sent through Studio can turn it off.
    const prod = startStudioCli(['--env', 'production', '--browser', 'none'], { cwd: project.dir });
    studios.push(prod);
    const address = await prod.address;
    // (Studio pools its connections: SET reaches one of them, so try until the INSERT lands on that one.)
    let inserted = false;
    for (let i = 0; i < 20 && !inserted; i++) {
      expect(await throughStudio(address, 'SET default_transaction_read_only = off')).toBeNull();
      inserted = (await throughStudio(address, `INSERT INTO "Item" (label) VALUES ('through the SQL editor')`)) === null;
    }
    expect(inserted).toBe(true);
    expect((await prod.stop()).code).toBe(0);
    expect(await query(db.url, 'SELECT label FROM "Item"')).toEqual([{ label: 'through the SQL editor' }]);
    await query(db.url, 'DELETE FROM "Item"');

    // The hard guarantee: a role without write privileges, named by studioUrl.
    const reporting = startStudioCli(['--env', 'reporting', '--browser', 'none'], { cwd: project.dir });
    studios.push(reporting);
    const at = await reporting.address;
    expect(reporting.output()).toMatch(new RegExp(`connected as ${READER}@127\\.0\\.0\\.1:\\d+/${db.name} via studioUrl \\(env STUDIO_URL\\)`));
    expect(reporting.output()).not.toMatch(/SQL editor can switch/);
    for (let i = 0; i < 20; i++) {
      expect(await throughStudio(at, 'SET default_transaction_read_only = off')).toBeNull();
      expect(await throughStudio(at, `INSERT INTO "Item" (label) VALUES ('x')`)).toMatchObject({ code: '42501', message: 'permission denied for table Item' });
    }
    expect((await reporting.stop()).code).toBe(0);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM "Item"')).toEqual([{ n: 0 }]);
  });

  it('a database marked production opens read-only, even from a development config that points at it', async () => {
    const marked = await freshDatabase('studio_marked');
    try {
      await query(marked.url, `ALTER DATABASE ${marked.name} SET stagedb.protection = 'production'`);
      const studio = startStudioCli(['--browser', 'none'], { cwd: project.dir, env: { DATABASE_URL: marked.url } });
      studios.push(studio);
      const address = await studio.address;
      expect(studio.output()).toMatch(/mode: read-only — the database is marked "production" \(its protection marker\), although development has protection none: check its URL/);
      expect(await throughStudio(address, 'CREATE TABLE t (id int)')).toMatchObject({ code: '25006' });
      expect((await studio.stop()).code).toBe(0);
    } finally {
      await marked.drop();
    }
  });

  it('a stagedb killed outright (SIGKILL) does not leave Studio behind', async () => {
    const studio = startStudioCli(['--browser', 'none'], { cwd: project.dir });
    studios.push(studio);
    const port = Number(new URL(await studio.address).port);
    await studio.stop('SIGKILL');
    // Studio notices its stdin closing and exits: the port frees up and its connections go.
    await expect.poll(() => assertPortFree(port).then(() => true, () => false), { timeout: 10_000 }).toBe(true);
    await expect.poll(studioSessions, { timeout: 10_000 }).toBe(0);
  });
});
