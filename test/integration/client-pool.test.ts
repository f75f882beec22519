/**
 * Pool sizes computed from a real server's settings: a cluster of its own started with
 * max_connections = 20 (superuser_reserved_connections stays at PostgreSQL's default, 3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, describeClientPlan } from '../../src/client/index.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { FIXTURE_SQL, generateFixtureClient, rowsOf, startReplicaPair, type GeneratedClient, type ReplicaPair } from '../helpers/replica.js';

type AnyClient = any;

let server: ReplicaPair;
let gen: GeneratedClient;
let PrismaClient: new (options: unknown) => object;
let url: string;
const projects: TempProject[] = [];
const clients: AnyClient[] = [];

function projectWith(env: Record<string, unknown>): TempProject {
  const p = createProject({ configJson: { environments: { production: { url: { $env: 'DATABASE_URL' }, ssl: 'disable', ...env } } }, envFiles: { '.env.production': { DATABASE_URL: url } } });
  projects.push(p);
  return p;
}

beforeAll(async () => {
  [server, gen] = await Promise.all([startReplicaPair({ replica: false, extraConf: ['max_connections = 20'] }), generateFixtureClient('prisma-client')]);
  ({ PrismaClient } = (await import(gen.entry)) as { PrismaClient: typeof PrismaClient });
  await rowsOf(server.primary.url('postgres'), 'CREATE DATABASE app');
  url = server.primary.url('app');
  await rowsOf(url, FIXTURE_SQL);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.$disconnect().catch(() => undefined)));
  for (const p of projects) p.remove();
  await server?.stop();
  await gen?.remove();
});

describe('pool size from max_connections', () => {
  it('reads the server: 20 − 3 superuser_reserved − 5 kept free = 12 per process, at most 10', async () => {
    const plan = await describeClientPlan({ env: 'production', cwd: projectWith({}).dir, processEnv: {} });
    expect(plan.primary?.settings).toEqual({ maxConnections: 20, superuserReserved: 3, reserved: 0, inRecovery: false });
    expect(plan.primary?.pool).toEqual({
      max: 10,
      source: 'computed',
      explain: '(20 max_connections − 3 superuser_reserved − 0 reserved − 5 kept free) / (1 instance × 1 pool) = 12 → 10 (at most 10)',
    });
  });

  it('divides by pool.instances: 4 instances get 3 connections each', async () => {
    const plan = await describeClientPlan({ env: 'production', cwd: projectWith({ pool: { instances: 4 } }).dir, processEnv: {} });
    expect(plan.primary?.pool?.max).toBe(3);
    expect(plan.primary?.pool?.explain).toBe('(20 max_connections − 3 superuser_reserved − 0 reserved − 5 kept free) / (4 instances × 1 pool) = 3');
  });

  it('divides by the pools this process opens on the same server (a replica URL naming the primary)', async () => {
    const plan = await describeClientPlan({ env: 'production', cwd: projectWith({ pool: { instances: 2 }, replicas: [url] }).dir, processEnv: {} });
    expect(plan.primary?.pool?.max).toBe(3);
    expect(plan.replicas[0]?.pool?.max).toBe(3);
    expect(plan.notes).toContain('a replica URL names the primary server itself: its reads are not offloaded');
  });

  it('pool.max wins over the computation; the option wins over the config', async () => {
    const dir = projectWith({ pool: { max: 7, instances: 4 } }).dir;
    expect((await describeClientPlan({ env: 'production', cwd: dir, processEnv: {} })).primary?.pool).toEqual({ max: 7, source: 'config', explain: 'pool.max = 7' });
    expect((await describeClientPlan({ env: 'production', cwd: dir, processEnv: {}, pool: { max: 4 } })).primary?.pool?.max).toBe(4);
  });

  it('the client uses the computed size: 30 concurrent queries hold exactly 3 connections with 4 instances', async () => {
    const db: AnyClient = await createPrismaClient({ PrismaClient, env: 'production', cwd: projectWith({ pool: { instances: 4 } }).dir, processEnv: {}, applicationName: 'pool-size-test' });
    clients.push(db);
    await Promise.all(Array.from({ length: 30 }, () => db.$queryRaw`SELECT 1 AS one FROM pg_sleep(0.02)`));
    const [row] = await rowsOf<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pool-size-test'");
    expect(row?.n).toBe(3);
  });

  it('a server too small for every instance: at least 2 connections each, and the logger is told once', async () => {
    const warnings: string[] = [];
    const db: AnyClient = await createPrismaClient({ PrismaClient, env: 'production', cwd: projectWith({ pool: { instances: 8 } }).dir, processEnv: {}, logger: { warn: (m) => warnings.push(m) } });
    clients.push(db);
    for (let i = 0; i < 3; i++) expect(await db.item.count()).toBe(0);
    expect(warnings).toEqual([
      'stagedb/client (production): primary pool: the server allows 12 application connections, fewer than 8 pools × 2: under load it will refuse connections (53300 too many clients); raise max_connections, lower pool.instances, or put a pooler (RDS Proxy, PgBouncer) or Accelerate in front',
    ]);
  });
});
