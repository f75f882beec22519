/**
 * The runtime client on one server (the shared test cluster): both Prisma 7 generators, CRUD, the
 * environment chosen the CLI's way, the local `prisma dev` URL form, and what is built for Accelerate
 * and pooler URLs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, describeClientPlan } from '../../src/client/index.js';
import { closedPort, passwordOf } from '../helpers/cli.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { FIXTURE_SQL, generateFixtureClient, type GeneratedClient } from '../helpers/replica.js';

type AnyClient = any;
type ClientClass = new (options: unknown) => object;

let db: FreshDatabase;
let genTs: GeneratedClient;
let genJs: GeneratedClient;
let TsClient: ClientClass;
let JsClient: ClientClass;
const projects: TempProject[] = [];
const clients: AnyClient[] = [];

function project(environments: Record<string, unknown>, envFiles: Record<string, Record<string, string>> = {}): TempProject {
  const p = createProject({ configJson: { environments }, envFiles });
  projects.push(p);
  return p;
}

async function make(options: Parameters<typeof createPrismaClient>[0]): Promise<AnyClient> {
  const c = await createPrismaClient(options);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  [db, genTs, genJs] = await Promise.all([freshDatabase('client'), generateFixtureClient('prisma-client'), generateFixtureClient('prisma-client-js')]);
  TsClient = ((await import(genTs.entry)) as { PrismaClient: ClientClass }).PrismaClient;
  JsClient = ((await import(genJs.entry)) as { PrismaClient: ClientClass }).PrismaClient;
  await query(db.url, FIXTURE_SQL);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.$disconnect().catch(() => undefined)));
  for (const p of projects) p.remove();
  await genTs?.remove();
  await genJs?.remove();
  await db?.drop();
});

describe('a direct URL', () => {
  it('CRUD through the prisma-client generator, the environment picked by STAGEDB_ENV, connections named', async () => {
    const p = project({ development: { url: 'postgresql://nobody@127.0.0.1:1/none' }, staging: { url: { $env: 'DATABASE_URL' }, protection: 'none' } }, {
      '.env.staging': { DATABASE_URL: db.url },
    });
    const c = await make({ PrismaClient: TsClient, cwd: p.dir, processEnv: { STAGEDB_ENV: 'staging' } });
    const a = await c.item.create({ data: { name: 'a', n: 1 } });
    await c.item.createMany({ data: [{ name: 'b', n: 2 }, { name: 'c', n: 3 }] });
    expect(await c.item.findMany({ orderBy: { id: 'asc' }, select: { name: true } })).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(await c.item.update({ where: { id: a.id }, data: { n: { increment: 10 } } })).toMatchObject({ n: 11 });
    expect(await c.item.aggregate({ _sum: { n: true } })).toEqual({ _sum: { n: 16 } });
    await c.item.deleteMany({});
    expect(await c.item.count()).toBe(0);
    // Without replicas, $primary() and $replica() are the client itself: replica-aware code runs everywhere.
    expect(await c.$replica().item.count()).toBe(0);
    expect(await c.$primary().item.count()).toBe(0);
    const named = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'stagedb client' AND datname = $1", [db.name]);
    expect(named[0]?.n).toBeGreaterThan(0);
    // No sslmode in the URL is libpq's prefer: the server offers TLS, so the pool uses it.
    const tls = await query<{ ssl: boolean }>(db.url, "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'stagedb client' AND a.datname = $1", [db.name]);
    expect(tls.length).toBeGreaterThan(0);
    expect(tls.every((r) => r.ssl)).toBe(true);
  });

  it('the prisma-client-js generator works the same way, and an interactive transaction rolls back', async () => {
    const p = project({ development: { url: { $env: 'DATABASE_URL' } } });
    const c = await make({ PrismaClient: JsClient, cwd: p.dir, processEnv: { DATABASE_URL: db.url } });
    await expect(
      c.$transaction(async (tx: AnyClient) => {
        await tx.item.create({ data: { name: 'rolled back' } });
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await c.item.count({ where: { name: 'rolled back' } })).toBe(0);
  });

  it('a dead primary: the query fails as it would with plain adapter-pg (P1001), without the password', async () => {
    const dead = db.url.replace(/:(\d+)\//, `:${await closedPort()}/`);
    const p = project({ development: { url: { $env: 'DATABASE_URL' } } });
    const c = await make({ PrismaClient: TsClient, cwd: p.dir, processEnv: { DATABASE_URL: dead } });
    const err = (await c.item.count().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'PrismaClientKnownRequestError', code: 'P1001' });
    expect(err.message).toMatch(/Can't reach database server at 127\.0\.0\.1:\d+/);
    expect(err.message).not.toContain(passwordOf(db.url));
  });

  it('a local `prisma dev` URL connects to the direct URL inside its api_key', async () => {
    // The api_key `prisma dev` hands out is base64url JSON naming its direct TCP URL (runtime-checks §3).
    const key = Buffer.from(JSON.stringify({ databaseUrl: db.url, name: 'default' })).toString('base64url');
    const p = project({ development: { url: { $env: 'DATABASE_URL' } } });
    const processEnv = { DATABASE_URL: `prisma+postgres://localhost:51213/?api_key=${key}` };
    const plan = await describeClientPlan({ cwd: p.dir, processEnv, probe: false });
    expect(plan.mode).toBe('adapter-pg');
    expect(plan.notes[0]).toMatch(/local `prisma dev` URL: connecting to the direct URL inside its api_key/);
    const c = await make({ PrismaClient: TsClient, cwd: p.dir, processEnv });
    expect(await c.item.count()).toBe(0);
    // localAccelerate: 'http' keeps Prisma's accelerateUrl (what `prisma dev`'s HTTP endpoint would answer).
    expect((await describeClientPlan({ cwd: p.dir, processEnv, localAccelerate: 'http' })).mode).toBe('accelerate');
  });
});

describe('Accelerate and pooler URLs (built, not run: see the README)', () => {
  const accelerate = 'prisma+postgres://accelerate.prisma-data.net/?api_key=sk_live_not_a_real_key_123';

  it('prisma+postgres:// builds a client with accelerateUrl and no pool; the plan masks the api_key', async () => {
    const p = project({ production: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' }, ssl: 'disable' } });
    const processEnv = { DATABASE_URL: accelerate, DIRECT_URL: db.url };
    const plan = await describeClientPlan({ env: 'production', cwd: p.dir, processEnv });
    expect(plan).toMatchObject({ environment: 'production', mode: 'accelerate', accelerateUrl: 'prisma+postgres://accelerate.prisma-data.net/?api_key=****', replicas: [] });
    expect(plan.primary).toBeUndefined();
    expect(JSON.stringify(plan)).not.toContain('sk_live');
    // Constructing opens nothing: Prisma validates accelerateUrl (prisma+postgres://, an api_key) here.
    const c = await make({ PrismaClient: TsClient, env: 'prod', cwd: p.dir, processEnv });
    expect(typeof c.item.findMany).toBe('function');
    expect(typeof c.$replica).toBe('function');
  });

  it('replicas beside an Accelerate url are refused: Accelerate routes connections itself', async () => {
    const p = project({ production: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' }, ssl: 'disable', replicas: [db.url] } });
    await expect(describeClientPlan({ env: 'production', cwd: p.dir, processEnv: { DATABASE_URL: accelerate, DIRECT_URL: db.url } })).rejects.toMatchObject({
      code: 'E_CLIENT_REPLICAS_WITH_ACCELERATE',
    });
  });

  it('a pooler URL gets adapter-pg with node-postgres’s 10 connections and the pooler caveats', async () => {
    const u = new URL(db.url);
    u.searchParams.set('pgbouncer', 'true');
    const pooler = u.toString();
    const p = project({ staging: { url: { $env: 'DATABASE_URL' }, directUrl: { $env: 'DIRECT_URL' }, protection: 'none' } });
    const processEnv = { DATABASE_URL: pooler, DIRECT_URL: db.url };
    const plan = await describeClientPlan({ env: 'staging', cwd: p.dir, processEnv });
    expect(plan.primary).toMatchObject({ kind: 'pooler', pool: { max: 10, source: 'pooler' } });
    expect(plan.notes.join('\n')).toMatch(/session state \(SET, advisory locks, LISTEN, temporary tables\) does not outlive a transaction/);
    // It runs (here the "pooler" is the server itself): Prisma's pgbouncer parameter is not sent to node-postgres.
    const c = await make({ PrismaClient: TsClient, env: 'staging', cwd: p.dir, processEnv });
    expect(await c.item.count()).toBe(0);
  });
});
