import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/load.js';
import { runDoctor, type CheckResult } from '../../src/doctor/index.js';
import { startCluster, stopCluster, type RunningCluster } from '../../src/pg/cluster.js';
import { withParams } from '../helpers/tls.js';

/**
 * doctor against a server of its own whose limits the shared test cluster must not have: it accepts
 * only TLS connections (pg_hba `hostnossl … reject`, as an RDS parameter group with
 * rds.force_ssl=1 does), and it has only a handful of connection slots.
 */
let root: string;
let cluster: RunningCluster;
const MAX_CONNECTIONS = 10; // superuser_reserved_connections 3 → 7 usable

function config(url: string): ResolvedConfig {
  return {
    root,
    schemaPath: join(root, 'prisma', 'schema.prisma'),
    migrationsDir: join(root, 'prisma', 'migrations'),
    environments: { development: { protection: 'none', url } },
    warnings: [],
  };
}

async function doctor(url: string): Promise<Record<string, CheckResult>> {
  const report = await runDoctor({ config: config(url), env: 'development', processEnv: {}, timeoutMs: 3000 });
  for (const c of report.checks) expect(`${c.detail} ${c.fix ?? ''}`).not.toContain(cluster.password);
  return Object.fromEntries(report.checks.map((c) => [c.code, c]));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stagedb-doctor-limits-'));
  await chmod(root, 0o755);
  const dataDir = join(root, 'pg', 'data');
  const first = await startCluster({ dataDir, fast: true });
  const c = new pg.Client({ connectionString: first.url('postgres') });
  await c.connect();
  await c.query(`ALTER SYSTEM SET max_connections = ${MAX_CONNECTIONS}`);
  await c.end();
  // Only TLS from loopback: the rule for plain connections comes first and rejects them.
  const hba = join(dataDir, 'pg_hba.conf');
  const original = await readFile(hba, 'utf8');
  await writeFile(hba, `hostnossl all all 127.0.0.1/32 reject\nhostssl all all 127.0.0.1/32 scram-sha-256\n${original}`);
  await first.stop();
  cluster = await startCluster({ dataDir, fast: true });
}, 60_000);

afterAll(async () => {
  if (root) {
    await stopCluster(join(root, 'pg', 'data')).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
});

describe('doctor on a server with limits of its own', () => {
  it('a server that accepts only TLS: sslmode=disable fails authentication with the sslmode fix, and require passes', async () => {
    const plain = await doctor(withParams(cluster.url('postgres'), { sslmode: 'disable' }));
    expect(plain.DOC005!.status).toBe('ok');
    expect(plain.DOC007!.status).toBe('fail');
    expect(plain.DOC007!.detail).toMatch(/pg_hba\.conf rejects connection .*no encryption/);
    expect(plain.DOC007!.fix).toBe(
      'the server accepts only encrypted connections: set sslmode=require in the URL (RDS: sslmode=verify-full&sslrootcert=<path to the RDS CA bundle>)',
    );
    const tls = await doctor(withParams(cluster.url('postgres'), { sslmode: 'require' }));
    expect(tls.DOC006!.status).toBe('ok');
    expect(tls.DOC007!.status).toBe('ok');
  });

  it('connection headroom: warns when few slots are free and fails when none are', async () => {
    const url = withParams(cluster.url('postgres'), { sslmode: 'require' });
    const held: pg.Client[] = [];
    const hold = async (n: number) => {
      for (let i = 0; i < n; i++) {
        // The test's own connections: encrypted, certificate not checked (the cluster's is self-signed).
        const c = new pg.Client({ connectionString: cluster.url('postgres'), ssl: { rejectUnauthorized: false } });
        await c.connect();
        held.push(c);
      }
    };
    try {
      const usable = MAX_CONNECTIONS - 3;
      // doctor's own connection is one client backend too.
      await hold(usable - 3);
      const few = await doctor(url);
      expect(few.DOC014!.status).toBe('warn');
      expect(few.DOC014!.detail).toBe(`${usable - 2} of ${usable} usable connections in use (max_connections ${MAX_CONNECTIONS}, 3 reserved for superusers); 2 free`);
      await hold(2);
      const none = await doctor(url);
      expect(none.DOC014!.status).toBe('fail');
      expect(none.DOC014!.detail).toContain('; 0 free');
      expect(none.DOC014!.fix).toContain('max_connections');
    } finally {
      await Promise.all(held.map((c) => c.end()));
    }
  });
});
