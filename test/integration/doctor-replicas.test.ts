import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/load.js';
import { runDoctor, type CheckResult } from '../../src/doctor/index.js';
import { inspectReplica } from '../../src/doctor/checks/read-replicas.js';
import { closedPort } from '../helpers/cli.js';
import { startReplicaPair, waitForReplay, type ReplicaPair } from '../helpers/replica.js';

/** DOC015 against a real primary and a pg_basebackup standby of it. */
let pair: ReplicaPair;
let dead: number;
const root = join(tmpdir(), 'stagedb-doctor-replicas');

async function doctor(replicas: string[]): Promise<CheckResult> {
  const config: ResolvedConfig = {
    root,
    schemaPath: join(root, 'prisma', 'schema.prisma'),
    migrationsDir: join(root, 'prisma', 'migrations'),
    environments: { development: { protection: 'none', url: pair.primary.url('postgres'), replicas } },
    warnings: [],
  };
  const report = await runDoctor({ config, env: 'development', processEnv: {}, timeoutMs: 3000 });
  const c = report.checks.find((x) => x.code === 'DOC015')!;
  expect(`${c.detail} ${c.fix ?? ''}`).not.toContain(pair.primary.password);
  return c;
}

beforeAll(async () => {
  pair = await startReplicaPair();
  dead = await closedPort();
  // Something replayed, so the standby has a last replayed transaction to report.
  const pg = await import('pg');
  const c = new pg.default.Client({ connectionString: pair.primary.url('postgres') });
  await c.connect();
  await c.query('CREATE TABLE doctor_replay_probe (id int); DROP TABLE doctor_replay_probe');
  await c.end();
  await waitForReplay(pair.primary.url('postgres'), pair.replica.url('postgres'));
}, 90_000);

afterAll(async () => {
  await pair?.stop();
});

describe('DOC015 read-replicas', () => {
  it('no replicas configured: ok, and says reads go to the primary', async () => {
    const c = await doctor([]);
    expect(c).toMatchObject({ status: 'ok', detail: 'no read replicas configured (reads go to the primary)' });
  });

  it('a streaming standby: ok, with how long ago it replayed', async () => {
    const c = await doctor([pair.replica.url('postgres')]);
    expect(c.status).toBe('ok');
    expect(c.detail).toMatch(new RegExp(`^replica 1 \\(127\\.0\\.0\\.1:${pair.replica.port}\\) is a standby, last replayed transaction \\d+\\.\\d s ago$`));
  });

  it('the primary listed as its own replica: warns that it accepts writes', async () => {
    const c = await doctor([pair.primary.url('postgres')]);
    expect(c.status).toBe('warn');
    expect(c.detail).toBe(`replica 1 (127.0.0.1:${pair.primary.port}) is not a standby: it accepts writes — it is the primary itself`);
    expect(c.fix).toContain('point it at a hot standby');
  });

  it('an unreachable replica warns (the client falls back to the primary); a good one beside it is still reported', async () => {
    const c = await doctor([pair.replica.url('postgres'), `postgresql://app:pw-not-shown@127.0.0.1:${dead}/postgres`]);
    expect(c.status).toBe('warn');
    expect(c.detail).toMatch(/^replica 1 \(127\.0\.0\.1:\d+\) is a standby, .*; replica 2 \(127\.0\.0\.1:\d+\) cannot be reached: /);
    expect(c.fix).toMatch(/^replica 2: .*\(until then stagedb\/client sends its reads to the primary\)$/);
    expect(`${c.detail} ${c.fix}`).not.toContain('pw-not-shown');
  });
});

describe('DOC015: stale means replay stopped, not an old last transaction', () => {
  const replicaSql = async (sql: string) => {
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: pair.replica.url('postgres') });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  const primaryWrite = async () => {
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: pair.primary.url('postgres') });
    await c.connect();
    await c.query('CREATE TABLE IF NOT EXISTS doctor_stale_probe (id int); INSERT INTO doctor_stale_probe VALUES (1)');
    await c.end();
  };
  /** Replay paused with WAL received and not replayed, and the last replayed transaction older than 1 s. */
  const receivedNotReplayed = async () => {
    await replicaSql('SELECT pg_wal_replay_pause()');
    await new Promise((r) => setTimeout(r, 1200));
    await primaryWrite();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const [row] = await replicaSql('SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() AS behind');
      if (row.behind) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the standby did not receive the write');
  };

  it('a standby whose replay is paused is stale, and the fix says how to resume it', async () => {
    await receivedNotReplayed();
    try {
      const f = await inspectReplica(pair.replica.url('postgres'), 1, 'development', 'x:1', 3000, { staleSeconds: 1, resampleMs: 300 });
      expect(f.detail).toMatch(/^replica 1 \(127\.0\.0\.1:\d+\) is a standby, last replayed transaction \d+\.\d s ago, and has not replayed the WAL it had received 0\.3 s earlier \(replay is paused\): its reads are stale$/);
      expect(f.problem).toMatch(/pg_wal_replay_resume\(\)/);
    } finally {
      await replicaSql('SELECT pg_wal_replay_resume()');
    }
  });

  it('a standby caught in the instant between receiving and replaying (as right after a load) is not called stale', async () => {
    await receivedNotReplayed();
    // The first look sees received > replayed; replay goes on while the check waits to look again.
    const pending = inspectReplica(pair.replica.url('postgres'), 1, 'development', 'x:1', 3000, { staleSeconds: 1, resampleMs: 1000 });
    await new Promise((r) => setTimeout(r, 200));
    await replicaSql('SELECT pg_wal_replay_resume()');
    const f = await pending;
    expect(f.problem).toBeUndefined();
    expect(f.detail).toMatch(/^replica 1 \(127\.0\.0\.1:\d+\) is a standby, caught up \(it replayed all it had received within 1\.0 s\)$/);
  });
});
