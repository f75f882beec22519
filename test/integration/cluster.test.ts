import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StagedbError } from '../../src/errors.js';
import { clusterStatus, startCluster, stopCluster, type RunningCluster } from '../../src/pg/cluster.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e as { code?: string }).code,
  );
}

describe('startCluster / stopCluster / clusterStatus', () => {
  let root: string;
  let dataDir: string;
  let cluster: RunningCluster;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stagedb-cluster-test-'));
    await chmod(root, 0o755); // reachable by the `postgres` OS user when the tests run as root
    dataDir = join(root, 'pg', 'data');
    cluster = await startCluster({ dataDir, fast: true });
  });

  afterAll(async () => {
    await stopCluster(dataDir);
    await rm(root, { recursive: true, force: true });
  });

  it('serves SQL on 127.0.0.1 with the generated superuser password', async () => {
    expect(cluster).toMatchObject({ host: '127.0.0.1', user: 'postgres', dataDir });
    expect(cluster.port).toBeGreaterThan(0);
    expect(cluster.url('app')).toBe(`postgresql://postgres:${encodeURIComponent(cluster.password)}@127.0.0.1:${cluster.port}/app`);
    const [row] = await query<{ version: string; user: string }>(cluster.url(), 'SELECT version(), current_user AS user');
    expect(row?.version).toContain(`PostgreSQL ${cluster.version}`);
    expect(row?.user).toBe('postgres');
  });

  it('keeps port, user and password in cluster.json (0600) next to the data directory', async () => {
    const stateFile = join(root, 'pg', 'cluster.json');
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toMatchObject({
      port: cluster.port,
      user: 'postgres',
      password: cluster.password,
    });
    expect((await stat(join(root, 'pg', 'postgres.log'))).isFile()).toBe(true);
  });

  it('rejects a wrong password (28P01)', async () => {
    const wrong = `postgresql://postgres:not-the-password@127.0.0.1:${cluster.port}/postgres`;
    expect(await codeOf(query(wrong, 'SELECT 1'))).toBe('28P01');
  });

  it('reports a running cluster', async () => {
    expect(await clusterStatus(dataDir)).toMatchObject({
      initialized: true,
      running: true,
      port: cluster.port,
      version: cluster.version.split('.')[0],
    });
  });

  it('is idempotent: starting again returns the running cluster', async () => {
    const again = await startCluster({ dataDir });
    expect(again.port).toBe(cluster.port);
    expect(again.password).toBe(cluster.password);
  });

  it('refuses credentials that do not match the existing cluster', async () => {
    const e = await startCluster({ dataDir, password: 'something-else' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StagedbError);
    expect(e).toMatchObject({ kind: 'config', code: 'E_PG_CLUSTER_MISMATCH' });
    expect((e as Error).message).not.toContain('something-else');
  });

  it('stops, reports not running, and a second stop is a no-op', async () => {
    await stopCluster(dataDir);
    expect(await clusterStatus(dataDir)).toEqual({ initialized: true, running: false, version: cluster.version.split('.')[0] });
    await stopCluster(dataDir);
  });

  it('refuses an explicit port that is taken', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const e = await startCluster({ dataDir, port }).catch((err: unknown) => err);
      expect(e).toMatchObject({ kind: 'config', code: 'E_PG_PORT_IN_USE' });
      expect((await clusterStatus(dataDir)).running).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('restarts on the port it had before, with the same password', async () => {
    const restarted = await startCluster({ dataDir });
    expect(restarted.port).toBe(cluster.port);
    const [row] = await query<{ one: number }>(restarted.url(), 'SELECT 1 AS one');
    expect(row?.one).toBe(1);
  });

  it('reports a missing data directory as not initialized', async () => {
    expect(await clusterStatus(join(root, 'nope', 'data'))).toEqual({ initialized: false, running: false });
    await stopCluster(join(root, 'nope', 'data')); // no-op
  });

  it.runIf(process.getuid?.() === 0)('as root, names the directory the postgres OS user cannot reach', async () => {
    const hidden = await mkdtemp(join(tmpdir(), 'stagedb-hidden-')); // 0700, owned by root
    try {
      const e = await startCluster({ dataDir: join(hidden, 'pg', 'data') }).catch((err: unknown) => err);
      expect(e).toMatchObject({ kind: 'config', code: 'E_PG_DIR_NOT_REACHABLE', fix: expect.stringContaining(`chmod o+x ${hidden}`) });
    } finally {
      await rm(hidden, { recursive: true, force: true });
    }
  });

  it('refuses to initialise over a non-empty directory that is not a cluster', async () => {
    const other = join(root, 'other', 'data');
    await mkdir(other, { recursive: true });
    await writeFile(join(other, 'precious.txt'), 'keep me');
    expect(await startCluster({ dataDir: other }).catch((e: unknown) => e)).toMatchObject({
      kind: 'config',
      code: 'E_PG_DATADIR_NOT_EMPTY',
    });
    expect(await readFile(join(other, 'precious.txt'), 'utf8')).toBe('keep me');
  });
});

describe('freshDatabase', () => {
  let a: FreshDatabase;
  let b: FreshDatabase;

  beforeAll(async () => {
    [a, b] = await Promise.all([freshDatabase('iso'), freshDatabase('iso')]);
  });

  afterAll(async () => {
    await Promise.all([a?.drop(), b?.drop()]);
  });

  it('gives each caller its own database', async () => {
    expect(a.name).not.toBe(b.name);
    expect(a.name).toMatch(/^iso_/);
    const [row] = await query<{ db: string }>(a.url, 'SELECT current_database() AS db');
    expect(row?.db).toBe(a.name);
  });

  it('keeps tables in one database invisible from the other', async () => {
    await query(a.url, 'CREATE TABLE only_in_a (id int)');
    const inA = await query<{ t: string | null }>(a.url, "SELECT to_regclass('public.only_in_a')::text AS t");
    const inB = await query<{ t: string | null }>(b.url, "SELECT to_regclass('public.only_in_a')::text AS t");
    expect(inA[0]?.t).toBe('only_in_a');
    expect(inB[0]?.t).toBeNull();
  });

  it('drops the database, even with a session still connected', async () => {
    const c = await freshDatabase('drop');
    const client = new pg.Client({ connectionString: c.url });
    client.on('error', () => undefined); // the forced drop terminates this session
    await client.connect();
    await c.drop();
    const rows = await query<{ n: number }>(
      a.url.replace(`/${a.name}`, '/postgres'),
      `SELECT count(*)::int AS n FROM pg_database WHERE datname = '${c.name}'`,
    );
    expect(rows[0]?.n).toBe(0);
    await client.end().catch(() => undefined);
  });
});
