/**
 * Real servers for the runtime client's tests and bench: a primary cluster of its own and a streaming
 * hot standby made from it with `pg_basebackup -R -X stream` on another loopback port, and a Prisma
 * client generated for the fixture schema (test/fixtures/client/schema.prisma).
 */
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { startCluster, stopCluster, type RunningCluster } from '../../src/pg/cluster.js';
import { execCapture } from '../../src/pg/exec.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ReplicaPair {
  primary: RunningCluster;
  replica: RunningCluster;
  /** The directory holding both data directories. */
  dir: string;
  stop(): Promise<void>;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * A primary (`extraConf` appended to its postgresql.conf, e.g. `max_connections = 20`) and, with
 * `replica` (default true), a streaming standby of it, both on free loopback ports. ~2 s.
 */
export async function startReplicaPair(opts: { extraConf?: string[]; replica?: boolean } = {}): Promise<ReplicaPair> {
  const dir = await mkdtemp(join(tmpdir(), 'stagedb-client-'));
  await chmod(dir, 0o755);
  const primaryDir = join(dir, 'primary', 'data');
  const replicaDir = join(dir, 'replica', 'data');
  const stop = async () => {
    await stopCluster(replicaDir).catch(() => undefined);
    await stopCluster(primaryDir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let primary = await startCluster({ dataDir: primaryDir, fast: true });
    if (opts.extraConf?.length) {
      // postgresql.conf is read at start: append, then restart (stagedb.conf, included last, keeps the port).
      const conf = join(primaryDir, 'postgresql.conf');
      await writeFile(conf, `${await readFile(conf, 'utf8')}\n${opts.extraConf.join('\n')}\n`);
      await stopCluster(primaryDir);
      primary = await startCluster({ dataDir: primaryDir, fast: true, port: primary.port });
    }
    if (opts.replica === false) return { primary, replica: undefined as unknown as RunningCluster, dir, stop };
    const user = postgresUser();
    await mkdir(join(dir, 'replica'), { recursive: true, mode: 0o755 });
    if (user) await chown(join(dir, 'replica'), user.uid, user.gid);
    const r = await execCapture(
      join(primary.binDir, 'pg_basebackup'),
      ['-h', '127.0.0.1', '-p', String(primary.port), '-U', primary.user, '-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
      { cwd: dir, env: { PATH: process.env.PATH, PGPASSWORD: primary.password, LC_ALL: 'C' }, uid: user?.uid, gid: user?.gid, timeoutMs: 60_000 },
    );
    if (r.code !== 0) throw new Error(`pg_basebackup failed (${r.code}): ${r.stderr}`);
    // Same superuser and password as the primary (it is a copy); startCluster gives it its own port.
    const replica = await startCluster({ dataDir: replicaDir, password: primary.password, fast: true });
    await waitForStreaming(primary);
    return { primary, replica, dir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitForStreaming(primary: RunningCluster): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await rowsOf(primary.url('postgres'), "SELECT state FROM pg_stat_replication WHERE state = 'streaming'");
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error('the standby did not start streaming within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function rowsOf<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Waits until the standby has replayed everything the primary has written so far (the insert position:
 * with synchronous_commit off, the write position can still be before the last commit). */
export async function waitForReplay(primaryUrl: string, replicaUrl: string): Promise<void> {
  const [row0] = await rowsOf<{ lsn: string }>(primaryUrl, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
  const lsn = row0!.lsn;
  const deadline = Date.now() + 30_000;
  for (;;) {
    // Asked in `postgres`: the database of replicaUrl may itself be what has not been replayed yet.
    const [row] = await rowsOf<{ done: boolean }>(withDatabase(replicaUrl, 'postgres'), 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]);
    if (row?.done) return;
    if (Date.now() > deadline) throw new Error('the standby did not catch up within 30 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Database `app` on the pair's primary with the fixture's tables and `items` seed rows in "Item", replayed
 * on the standby before it returns: the starting point of the runtime client's tests.
 */
export async function seedFixtureDatabase(pair: ReplicaPair, items: number): Promise<{ primaryUrl: string; replicaUrl: string }> {
  await rowsOf(pair.primary.url('postgres'), 'CREATE DATABASE app');
  const primaryUrl = pair.primary.url('app');
  const replicaUrl = pair.replica.url('app');
  await rowsOf(primaryUrl, FIXTURE_SQL);
  await rowsOf(primaryUrl, "INSERT INTO \"Item\" (name, n) SELECT 'seed ' || g, g FROM generate_series(1, $1::int) g", [items]);
  await waitForReplay(primaryUrl, replicaUrl);
  return { primaryUrl, replicaUrl };
}

/** The fixture's tables, created by hand (migrations are not what these tests are about). */
export const FIXTURE_SQL = `
CREATE TABLE "Item" (id serial PRIMARY KEY, name text NOT NULL, n integer NOT NULL DEFAULT 0);
CREATE TABLE "Tag" (id serial PRIMARY KEY, label text NOT NULL, "itemId" integer NOT NULL REFERENCES "Item"(id));
`;

export interface GeneratedClient {
  /** Directory with the generated client (and a node_modules link so it resolves @prisma/client). */
  dir: string;
  /** Import this module for `PrismaClient` (a .ts file for `prisma-client`, .js for `prisma-client-js`). */
  entry: string;
  remove(): Promise<void>;
}

/**
 * Runs the real `prisma generate` (Prisma 7.10.1 CLI) for test/fixtures/client/schema.prisma with the
 * given generator, with stagedb's schema-engine stub so the CLI does not try to download an engine.
 */
export async function generateFixtureClient(provider: 'prisma-client' | 'prisma-client-js'): Promise<GeneratedClient> {
  const dir = await mkdtemp(join(tmpdir(), 'stagedb-client-gen-'));
  // The generator resolves @prisma/client from the schema's directory.
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const schema = (await readFile(join(ROOT, 'test/fixtures/client/schema.prisma'), 'utf8')).replace(
    /generator client \{[^}]*\}/,
    provider === 'prisma-client'
      ? 'generator client {\n  provider     = "prisma-client"\n  output       = "./gen"\n  moduleFormat = "esm"\n  runtime      = "nodejs"\n}'
      : 'generator client {\n  provider = "prisma-client-js"\n  output   = "./gen"\n}',
  );
  await writeFile(join(dir, 'schema.prisma'), schema);
  const r = await execCapture(process.execPath, [join(ROOT, 'node_modules/prisma/build/index.js'), 'generate', '--schema', join(dir, 'schema.prisma')], {
    cwd: dir,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: join(ROOT, 'bin/prisma-schema-engine-unavailable'), PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    timeoutMs: 60_000,
  });
  if (r.code !== 0) throw new Error(`prisma generate failed: ${r.stdout}\n${r.stderr}`);
  return {
    dir,
    entry: join(dir, 'gen', provider === 'prisma-client' ? 'client.ts' : 'index.js'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
