/**
 * The runtime client as a deployment runs it: several application processes (real child processes,
 * each its own pools) against one small server, with the default settings — nobody told the client how
 * many processes there are. A server with max_connections = 25 has 22 slots for ordinary roles; three
 * processes that each trust "I am the only instance" would ask for 30.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, type TempProject } from '../helpers/project.js';
import { runCli } from '../helpers/cli.js';
import { runLoadWorker, type LoadResult } from '../helpers/load.js';
import { generateFixtureClient, rowsOf, seedFixtureDatabase, startReplicaPair, type GeneratedClient, type ReplicaPair } from '../helpers/replica.js';

let pair: ReplicaPair;
let gen: GeneratedClient;
let project: TempProject;
let primaryUrl: string;
let replicaUrl: string;

const APP = 'load-test';

beforeAll(async () => {
  [pair, gen] = await Promise.all([
    // The standby's max_connections must be at least the primary's: both small.
    startReplicaPair({ extraConf: ['max_connections = 25'] }),
    generateFixtureClient('prisma-client-js'),
  ]);
  ({ primaryUrl, replicaUrl } = await seedFixtureDatabase(pair, 100));
  project = createProject({
    configJson: {
      environments: {
        production: { url: { $env: 'DATABASE_URL' }, ssl: 'disable' },
        replicated: { url: { $env: 'DATABASE_URL' }, ssl: 'disable', protection: 'none', replicas: [{ $env: 'REPLICA_URL' }] },
      },
    },
    envFiles: {
      '.env.production': { DATABASE_URL: primaryUrl },
      '.env.replicated': { DATABASE_URL: primaryUrl, REPLICA_URL: replicaUrl },
    },
  });
}, 180_000);

afterAll(async () => {
  project?.remove();
  await pair?.stop();
  await gen?.remove();
});

const total = (rs: LoadResult[], k: 'ops' | 'failed') => rs.reduce((s, r) => s + r[k], 0);

async function connectionsOf(url: string, applicationName: string): Promise<number> {
  const [row] = await rowsOf<{ n: number }>(url, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1', [`${applicationName}%`]);
  return row!.n;
}

describe('three application processes on a server with max_connections = 25, default pool settings', () => {
  it('no operation fails, the pools leave room for stagedb and a psql session, and stagedb status still runs', async () => {
    let running = 3;
    const load = [1, 2, 3].map((k) =>
      runLoadWorker({ project: project.dir, env: 'production', client: gen.entry, ms: 6000, concurrency: 16, options: { applicationName: `${APP} ${k}` } }).finally(() => running--),
    );
    // While they run: the most connections the three held at once (sampled), and a stagedb command of its own
    // once they are under way (a process needs a moment to load Prisma before its first connection).
    let held = 0;
    let status: Awaited<ReturnType<typeof runCli>> | undefined;
    while (running > 0) {
      const n = await connectionsOf(primaryUrl, APP);
      held = Math.max(held, n);
      if (n > 0 && !status) status = await runCli(['status', '--env', 'production'], { cwd: project.dir });
      await new Promise((r) => setTimeout(r, 100));
    }
    const results = await Promise.all(load);
    const failed = total(results, 'failed');
    expect({ failed, errors: results.map((r) => r.errors), first: results.find((r) => r.firstError)?.firstError }).toEqual({ failed: 0, errors: [{}, {}, {}], first: undefined });
    for (const r of results) expect(r.ops).toBeGreaterThan(10);
    // 25 − 3 superuser_reserved − 5 kept free = 17: what the three processes may hold together.
    // Each process checks before it keeps a connection, one growth at a time; three checking at the same
    // instant can each see room for one more, so the bound is the budget plus one per process — still
    // 3 superuser slots and 3 ordinary ones short of the server's 25.
    expect(held).toBeLessThanOrEqual(17 + 3);
    expect(held).toBeGreaterThan(0);
    expect(status).toBeDefined();
    expect(status?.stderr).not.toMatch(/too many clients/);
    expect(status?.code).not.toBe(3);
    console.log(`three processes, max_connections 25: ${total(results, 'ops')} operations, 0 failed, ${held} connections held mid-run`);
  });
});

describe('a full replica is not a replica that is down', () => {
  it('reads stay on the standby while it is full of its own connections, and nothing is reported as unreachable', async () => {
    // Fill the standby with other sessions until ordinary roles are refused, leaving the client's pool one slot.
    const blockers: { end(): Promise<void> }[] = [];
    const pg = (await import('pg')).default;
    try {
      for (;;) {
        const c = new pg.Client({ connectionString: replicaUrl });
        c.on('error', () => {});
        try {
          await c.connect();
        } catch {
          break;
        }
        blockers.push(c);
      }
      // Free two slots: the client's pool opens its probe and one connection, then the server is full again.
      await blockers.pop()!.end();
      await blockers.pop()!.end();
      const r = await runLoadWorker({ project: project.dir, env: 'replicated', client: gen.entry, ms: 3000, concurrency: 8, writeShare: 0, options: { applicationName: `${APP}-full` } });
      expect({ failed: r.failed, errors: r.errors }).toEqual({ failed: 0, errors: {} });
      const said = r.warnings.map((w) => w.message).join('\n');
      expect(said).not.toMatch(/unreachable/);
      // What it said instead: the replica's pool stopped growing and its reads waited for its own connection.
      expect(said).toMatch(/replica 1 \(.*\): the server is full \((sorry, too many clients already|\d+ client connections are open, ordinary roles may have 22, and 5 are kept free for deploys, backups and psql)\): this pool stays at \d+ connections? and queries wait for them/);
      expect(r.ops).toBeGreaterThan(10);
    } finally {
      await Promise.all(blockers.map((c) => c.end().catch(() => undefined)));
    }
  });
});

describe('read-your-writes under load (a primary and a streaming standby)', () => {
  const replicaCommits = async () => (await rowsOf<{ n: string }>(replicaUrl, "SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = 'app'"))[0]!.n;

  it('with readYourWrites and $session(), a read right after a write sees it; reads that follow no write still go to the standby', async () => {
    const plain = await runLoadWorker({ project: project.dir, env: 'replicated', client: gen.entry, ms: 4000, concurrency: 8, writeShare: 0.5, session: true, options: { applicationName: `${APP}-ryw-off` } });
    const before = Number(await replicaCommits());
    const ryw = await runLoadWorker({ project: project.dir, env: 'replicated', client: gen.entry, ms: 4000, concurrency: 8, writeShare: 0.5, session: true, options: { applicationName: `${APP}-ryw-on`, readYourWrites: 1000 } });
    const onStandby = Number(await replicaCommits()) - before;
    console.log(
      `read-your-writes: off ${plain.staleAfterWrite}/${plain.readsAfterWrite} reads after a write missed it; ` +
        `on (1 s window) ${ryw.staleAfterWrite}/${ryw.readsAfterWrite}, and ${onStandby} transactions still ran on the standby`,
    );
    expect(plain.failed + ryw.failed).toBe(0);
    expect(ryw.readsAfterWrite).toBeGreaterThan(10);
    expect(ryw.staleAfterWrite).toBe(0);
    // Each session is one loop iteration: the iterations that do not write read on the standby as before.
    expect(onStandby).toBeGreaterThan(10);
  });
});
