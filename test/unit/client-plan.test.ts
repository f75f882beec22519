import { describe, expect, it } from 'vitest';
import { computePoolSize } from '../../src/client/pool-size.js';
import { planClient } from '../../src/client/plan.js';
import { isUnreachable } from '../../src/client/replica-adapter.js';
import { StagedbError } from '../../src/errors.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { resolveEnvironment } from '../../src/config/environments.js';
import type { EnvironmentConfig } from '../../src/config/define.js';

function env(def: EnvironmentConfig, processEnv: NodeJS.ProcessEnv = {}) {
  const config: ResolvedConfig = { root: '/nonexistent', schemaPath: '/nonexistent/schema.prisma', migrationsDir: '/nonexistent/migrations', environments: { staging: { protection: 'none', ...def } }, warnings: [] };
  return resolveEnvironment(config, 'staging', { processEnv });
}

describe('computePoolSize', () => {
  const pg = { maxConnections: 100, superuserReserved: 3, reserved: 0 };

  it('PostgreSQL defaults, one process: capped at 10', () => {
    expect(computePoolSize(pg, { instances: 1, poolsOnServer: 1 })).toEqual({
      max: 10,
      source: 'computed',
      explain: '(100 max_connections − 3 superuser_reserved − 0 reserved − 10 kept free) / (1 instance × 1 pool) = 87 → 10 (at most 10)',
    });
  });

  it('the reserve is 10 % of the budget, at least 5', () => {
    expect(computePoolSize({ maxConnections: 1000, superuserReserved: 3, reserved: 0 }, { instances: 100, poolsOnServer: 1 }).explain).toBe(
      '(1000 max_connections − 3 superuser_reserved − 0 reserved − 100 kept free) / (100 instances × 1 pool) = 8',
    );
    expect(computePoolSize({ maxConnections: 30, superuserReserved: 3, reserved: 0 }, { instances: 5, poolsOnServer: 1 }).max).toBe(4);
  });

  it('PostgreSQL 16 reserved_connections count against the budget too', () => {
    expect(computePoolSize({ maxConnections: 100, superuserReserved: 3, reserved: 10 }, { instances: 8, poolsOnServer: 1 }).max).toBe(9);
    expect(computePoolSize({ maxConnections: 100, superuserReserved: 3, reserved: 0 }, { instances: 8, poolsOnServer: 1 }).max).toBe(10);
  });

  it('an RDS db.t4g.micro (max_connections 81) shared by 6 tasks', () => {
    expect(computePoolSize({ maxConnections: 81, superuserReserved: 3, reserved: 0 }, { instances: 6, poolsOnServer: 1 }).explain).toMatch(/− 8 kept free\) \/ \(6 instances × 1 pool\) = 11 → 10 \(at most 10\)$/);
    expect(computePoolSize({ maxConnections: 81, superuserReserved: 3, reserved: 0 }, { instances: 12, poolsOnServer: 1 }).max).toBe(5);
  });

  it('never below 2, and then it says the server is too small', () => {
    const size = computePoolSize({ maxConnections: 20, superuserReserved: 3, reserved: 0 }, { instances: 20, poolsOnServer: 1 });
    expect(size.max).toBe(2);
    expect(size.explain).toMatch(/= 0 → 2 \(at least 2\)$/);
    expect(size.warning).toMatch(/^the server allows 12 application connections, fewer than 20 pools × 2/);
  });
});

describe('planClient', () => {
  it('a direct URL: adapter-pg, pool computed later', () => {
    const { plan, targets } = planClient(env({ url: 'postgresql://app:s3cret-pw@db.internal:5432/app' }));
    expect(plan).toEqual({
      environment: 'staging',
      mode: 'adapter-pg',
      primary: { role: 'primary', display: 'postgresql://app:****@db.internal:5432/app', kind: 'direct', server: 'db.internal:5432', poolsOnServer: 1 },
      replicas: [],
      instances: 1,
      notes: [],
      warnings: [],
    });
    expect(targets[0]?.url).toBe('postgresql://app:s3cret-pw@db.internal:5432/app');
    expect(JSON.stringify(plan)).not.toContain('s3cret-pw');
  });

  it("the URL's connection_limit is the pool size unless pool.max says otherwise", () => {
    expect(planClient(env({ url: 'postgresql://a:b@h/db?connection_limit=4' })).plan.primary?.fixedPool).toEqual({ max: 4, source: 'url', explain: 'connection_limit=4 in the URL' });
    expect(planClient(env({ url: 'postgresql://a:b@h/db?connection_limit=4', pool: { max: 6 } })).plan.primary?.fixedPool?.max).toBe(6);
  });

  it('replicas: one pool each, counted per server; an unset replica variable is a warning, not an error', () => {
    const { plan } = planClient(
      env({ url: 'postgresql://a:b@primary:5432/db', replicas: ['postgresql://a:b@replica-1:5432/db', { $env: 'REPLICA_2' }, 'postgresql://a:b@PRIMARY:5432/db'], pool: { instances: 3 } }),
    );
    expect(plan.replicas.map((r) => [r.role, r.server, r.poolsOnServer])).toEqual([
      ['replica 1', 'replica-1:5432', 1],
      ['replica 2', 'primary:5432', 2],
    ]);
    expect(plan.primary?.poolsOnServer).toBe(2);
    expect(plan.instances).toBe(3);
    expect(plan.warnings).toEqual(['replicas.1: environment variable REPLICA_2 is not set; reads go to the primary']);
  });

  it('an Accelerate URL: no pool, the api_key masked', () => {
    const { plan, accelerateUrl } = planClient(env({ url: 'prisma+postgres://accelerate.prisma-data.net/?api_key=eyJhbGciOi', directUrl: 'postgresql://a:b@h/db' }));
    expect(plan.mode).toBe('accelerate');
    expect(plan.accelerateUrl).toBe('prisma+postgres://accelerate.prisma-data.net/?api_key=****');
    expect(accelerateUrl).toBe('prisma+postgres://accelerate.prisma-data.net/?api_key=eyJhbGciOi');
  });
});

describe('isUnreachable: which replica failures send reads to the primary', () => {
  const adapterError = (cause: Record<string, unknown>) => Object.assign(new Error(String(cause.kind)), { name: 'DriverAdapterError', cause });

  it('cannot connect, connection lost, TLS, authentication, a server shutting down or full', () => {
    for (const kind of ['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TlsConnectionError', 'AuthenticationFailed', 'TooManyConnections']) {
      expect(isUnreachable(adapterError({ kind })), kind).toBe(true);
    }
    expect(isUnreachable(adapterError({ kind: 'postgres', code: '57P01' }))).toBe(true);
    expect(isUnreachable(adapterError({ kind: 'postgres', originalCode: '57P03' }))).toBe(true);
    expect(isUnreachable(new StagedbError('connection', 'E_CONN_REFUSED', 'nothing accepts connections'))).toBe(true);
    expect(isUnreachable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('not a query the server refused: the application sees those', () => {
    expect(isUnreachable(adapterError({ kind: 'postgres', code: '25006' }))).toBe(false);
    expect(isUnreachable(adapterError({ kind: 'UniqueConstraintViolation' }))).toBe(false);
    expect(isUnreachable(new StagedbError('config', 'E_TLS', 'bad sslmode'))).toBe(false);
    expect(isUnreachable(new Error('column "x" does not exist'))).toBe(false);
  });
});
