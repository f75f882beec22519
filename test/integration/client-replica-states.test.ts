/**
 * What the runtime client does in each state a real replica can be in, on a real primary and a real
 * `pg_basebackup -R` standby: stopped and restarted under concurrent reads, refusing the client's
 * password, and silent (a port that accepts and never answers). Reads must never fail; the logger hears
 * once when trouble starts, once when it ends, and in words that say what happened.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient } from '../../src/client/index.js';
import { startCluster } from '../../src/pg/cluster.js';
import { passwordOf } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { generateFixtureClient, seedFixtureDatabase, startReplicaPair, type GeneratedClient, type ReplicaPair } from '../helpers/replica.js';

type AnyClient = any;

let pair: ReplicaPair;
let gen: GeneratedClient;
let PrismaClient: new (options: unknown) => object;
let primaryUrl: string;
let replicaUrl: string;
const projects: TempProject[] = [];
const clients: AnyClient[] = [];

function projectWith(replica: string): TempProject {
  const p = createProject({
    configJson: { environments: { staging: { url: { $env: 'DATABASE_URL' }, protection: 'none', ssl: 'disable', replicas: [{ $env: 'REPLICA_URL' }] } } },
    envFiles: { '.env.staging': { DATABASE_URL: primaryUrl, REPLICA_URL: replica } },
  });
  projects.push(p);
  return p;
}

interface Heard {
  warn: string[];
  info: { at: number; message: string }[];
}

async function makeClient(replica: string, extra: Record<string, unknown> = {}): Promise<{ db: AnyClient; heard: Heard }> {
  const heard: Heard = { warn: [], info: [] };
  const logger = { warn: (m: string) => heard.warn.push(m), info: (m: string) => heard.info.push({ at: Date.now(), message: m }) };
  const db = await createPrismaClient({ PrismaClient, env: 'staging', cwd: projectWith(replica).dir, processEnv: {}, logger, ...extra });
  clients.push(db);
  return { db, heard };
}

const onStandby = async (db: AnyClient): Promise<boolean> => (await db.$replica().$queryRaw`SELECT pg_is_in_recovery() AS standby`)[0].standby;

beforeAll(async () => {
  [pair, gen] = await Promise.all([startReplicaPair(), generateFixtureClient('prisma-client')]);
  ({ PrismaClient } = (await import(gen.entry)) as { PrismaClient: typeof PrismaClient });
  ({ primaryUrl, replicaUrl } = await seedFixtureDatabase(pair, 10));
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.$disconnect().catch(() => undefined)));
  for (const p of projects) p.remove();
  await pair?.stop();
  await gen?.remove();
});

describe('a standby stopped and restarted under concurrent reads', () => {
  it('no read fails; one warning with the server’s own reason, one "answers again" once it is back, and reads return to it within the check interval', async () => {
    const { db, heard } = await makeClient(replicaUrl, { replicaRetryMs: 1000 });
    expect(await onStandby(db)).toBe(true);
    let failed = 0;
    const errors: string[] = [];
    let reads = 0;
    let stop = false;
    const loops = Array.from({ length: 16 }, async () => {
      while (!stop) {
        try {
          await db.item.count();
          reads++;
        } catch (e) {
          failed++;
          errors.push(String((e as Error).message).slice(0, 300));
        }
      }
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      await pair.replica.stop();
      await new Promise((r) => setTimeout(r, 1500));
      expect(heard.warn).toHaveLength(1);
      await startCluster({ dataDir: pair.replica.dataDir, port: pair.replica.port, fast: true });
      const upAt = Date.now();
      const deadline = upAt + 15_000;
      while (heard.info.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Some more reads on the replica, under the same load, before the loops stop.
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await Promise.all(loops);
      expect({ failed, errors }).toEqual({ failed: 0, errors: [] });
      expect(reads).toBeGreaterThan(50);
      expect(heard.warn).toHaveLength(1);
      expect(heard.warn[0]).toMatch(/^stagedb\/client \(staging\): read replica 1 \(postgresql:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/app\) is unreachable — /);
      // The reason is the server's or the socket's own, never an error class like "postgres".
      expect(heard.warn[0]).toMatch(/is unreachable — (terminating connection due to administrator command \(57P01\)|the database system is shutting down \(57P03\)|nothing accepts connections at 127\.0\.0\.1:\d+|Connection terminated[^;]*|[^;]*ECONNRESET[^;]*);/);
      expect(heard.warn[0]).toMatch(/its reads go to the primary until it answers \(checked in the background, at most 1\.0 s apart\)$/);
      expect(heard.info).toHaveLength(1);
      expect(heard.info[0]!.message).toMatch(/^stagedb\/client \(staging\): read replica 1 \(.*\) answers again after \d+\.\d s: its reads go back to it$/);
      // With checks at most 1 s apart, it is noticed about a second after it accepts connections (the
      // old fixed 30 s skip took ~20 s here): generous bound for a loaded machine.
      expect(heard.info[0]!.at - upAt).toBeLessThan(10_000);
      expect(await onStandby(db)).toBe(true);
      expect(heard.warn.join('\n')).not.toContain(passwordOf(replicaUrl));
    } finally {
      stop = true;
      await Promise.all(loops);
    }
  });
});

describe('a replica that refuses this client is configuration, not an outage', () => {
  it('a wrong password: reads go to the primary, and the warning says to fix the URL', async () => {
    const u = new URL(replicaUrl);
    u.password = 'not-the-password-3fa1';
    const { db, heard } = await makeClient(u.toString());
    for (let i = 0; i < 5; i++) expect(await db.item.count()).toBeGreaterThanOrEqual(10);
    expect(heard.warn).toHaveLength(1);
    expect(heard.warn[0]).toMatch(/read replica 1 \(.*\) refuses this client — staging replica 1: password authentication failed for user "postgres"; its reads go to the primary\. Fix: check the user and password/);
    expect(heard.warn[0]).not.toContain('not-the-password-3fa1');
  });
});

describe('a replica that never answers', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  it('a port that accepts and says nothing: each read waits at most the replica connect timeout once, then reads go to the primary', async () => {
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const dead = replicaUrl.replace(`:${pair.replica.port}/`, `:${port}/`);
    const { db, heard } = await makeClient(dead, { replicaConnectTimeoutMs: 300 });
    for (let i = 0; i < 5; i++) expect(await db.item.count()).toBeGreaterThanOrEqual(10);
    expect(heard.warn).toHaveLength(1);
    expect(heard.warn[0]).toMatch(/read replica 1 \(.*\) is unreachable — staging replica 1: no answer from 127\.0\.0\.1:\d+ within 0\.3s; its reads go to the primary until it answers/);
  });
});
