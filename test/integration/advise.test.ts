/**
 * `stagedb advise` on a real server of its own (pg_stat_statements in shared_preload_libraries,
 * max_connections = 30, a tiny shared_buffers so the cache can miss): each finding is caused for real, seen
 * reported, and — for the ones whose fix is a schema.prisma change — seen gone after that change is
 * migrated with `stagedb migrate dev`. The advisor runs as the roles users have: the database's owner
 * (not a superuser), a role with pg_monitor, and one with neither.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runAdvise, type AdviceReport } from '../../src/advise/index.js';
import { wraparoundSeverity } from '../../src/advise/checks/wraparound.js';
import { parsePrismaModels } from '../../src/advise/prisma-models.js';
import { loadConfig } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { rowsOf, startReplicaPair, type ReplicaPair } from '../helpers/replica.js';

let server: ReplicaPair;
const projects: TempProject[] = [];
const open: pg.Client[] = [];

const OWNER_PW = 'owner-pw-7d1c';
const urlAs = (user: string, password: string, db: string) => {
  const u = new URL(server.primary.url(db));
  u.username = user;
  u.password = password;
  return u.toString();
};
const superUrl = (db: string) => server.primary.url(db);

async function session(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  open.push(c);
  return c;
}

const SCHEMA = (extra = '') => `generator client {
  provider = "prisma-client"
  output   = "../src/generated/prisma"
}

datasource db {
  provider = "postgresql"
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  posts Post[]
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  // a comment that mentions @@index([title]) must not count
  authorId Int    @map("author_id")
  author   User   @relation(fields: [authorId], references: [id])
${extra}
  @@map("posts")
}
`;

/** A project whose development environment is database `db` as role `user`. */
function project(db: string, user = 'app_owner', password = OWNER_PW, schema = SCHEMA()): TempProject {
  const p = createProject({
    schema,
    configJson: { environments: { development: { url: { $env: 'DATABASE_URL' }, ssl: 'disable' } } },
    envFiles: { '.env': { DATABASE_URL: urlAs(user, password, db) } },
  });
  projects.push(p);
  return p;
}

async function advise(p: TempProject, thresholds = {}): Promise<AdviceReport> {
  const config = await loadConfig({ cwd: p.dir });
  const report = await runAdvise({ config, env: 'development', processEnv: {}, thresholds });
  expect(JSON.stringify(report)).not.toContain(OWNER_PW);
  // Every check either looked or said why it could not: none failed on its own SQL or types.
  expect(report.checks.filter((c) => c.status === 'error')).toEqual([]);
  return report;
}

const of = (r: AdviceReport, code: string) => r.findings.filter((f) => f.code === code);
const check = (r: AdviceReport, code: string) => r.checks.find((c) => c.code === code)!;

async function newDatabase(name: string): Promise<void> {
  await rowsOf(superUrl('postgres'), `CREATE DATABASE ${name} OWNER app_owner`);
}

beforeAll(async () => {
  server = await startReplicaPair({ replica: false, extraConf: ["shared_preload_libraries = 'pg_stat_statements'", 'max_connections = 30', 'shared_buffers = 256kB'] });
  await rowsOf(
    superUrl('postgres'),
    `CREATE ROLE app_owner LOGIN CREATEDB NOSUPERUSER PASSWORD '${OWNER_PW}';
     CREATE ROLE monitor LOGIN NOSUPERUSER PASSWORD 'monitor-pw' IN ROLE pg_monitor;
     CREATE ROLE other LOGIN NOSUPERUSER PASSWORD 'other-pw'`,
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.end().catch(() => undefined)));
  for (const p of projects) p.remove();
  await server?.stop();
});

describe('ADV001 relation without an index, fixed through schema.prisma', () => {
  it('is reported with the @@index to add, in the model’s field names, and is gone after migrate dev', async () => {
    await newDatabase('fk');
    const p = project('fk');
    const init = await runCli(['migrate', 'dev', '--name', 'init'], { cwd: p.dir, timeoutMs: 120_000 });
    expect(init.code, init.all).toBe(0);
    await rowsOf(urlAs('app_owner', OWNER_PW, 'fk'), `INSERT INTO "User" (email) SELECT 'u' || g || '@x' FROM generate_series(1, 100) g;
      INSERT INTO posts (title, author_id) SELECT 'post ' || g, 1 + g % 100 FROM generate_series(1, 20000) g; ANALYZE posts`);
    const before = await advise(p);
    const [f] = of(before, 'ADV001');
    expect(f).toMatchObject({
      severity: 'warn',
      object: 'posts',
      title: 'posts(author_id) references User with no index that starts with it',
      schemaChange: { model: 'Post', add: '@@index([authorId])' },
      fix: 'add `@@index([authorId])` to model Post in schema.prisma, then `stagedb migrate dev` (it writes CREATE INDEX CONCURRENTLY for a table that exists)',
    });
    expect(f!.evidence).toContain('posts has about 20,000 rows');

    p.write('prisma/schema.prisma', SCHEMA('  @@index([authorId])'));
    const idx = await runCli(['migrate', 'dev', '--name', 'post-author-index'], { cwd: p.dir, timeoutMs: 120_000 });
    expect(idx.code, idx.all).toBe(0);
    expect(of(await advise(p), 'ADV001')).toEqual([]);
  });

  it('relationMode = "prisma": no foreign key exists, the relation in schema.prisma is what is checked', async () => {
    await newDatabase('relmode');
    const schema = SCHEMA().replace('provider = "postgresql"\n}', 'provider = "postgresql"\n  relationMode = "prisma"\n}');
    const p = project('relmode', 'app_owner', OWNER_PW, schema);
    await rowsOf(urlAs('app_owner', OWNER_PW, 'relmode'), 'CREATE TABLE "User" (id serial PRIMARY KEY, email text UNIQUE); CREATE TABLE posts (id serial PRIMARY KEY, title text, author_id int NOT NULL)');
    const [f] = of(await advise(p), 'ADV001');
    expect(f).toMatchObject({ severity: 'info', schemaChange: { model: 'Post', add: '@@index([authorId])' } });
    expect(f!.evidence[0]).toBe('relation Post.author (relationMode = "prisma")');
  });
});

describe('index findings', () => {
  let p: TempProject;
  let url: string;
  beforeAll(async () => {
    await newDatabase('idx');
    url = urlAs('app_owner', OWNER_PW, 'idx');
    p = project('idx', 'app_owner', OWNER_PW, SCHEMA('  @@index([authorId])\n  @@index([authorId, title])'));
    await rowsOf(
      url,
      `CREATE TABLE "User" (id serial PRIMARY KEY, email text UNIQUE);
       CREATE TABLE posts (id serial PRIMARY KEY, title text NOT NULL, author_id int NOT NULL REFERENCES "User"(id));
       CREATE INDEX "posts_author_id_idx" ON posts (author_id);
       CREATE INDEX "posts_author_id_title_idx" ON posts (author_id, title);
       CREATE INDEX "posts_title_idx" ON posts (title);
       INSERT INTO "User" (email) VALUES ('a@x');
       INSERT INTO posts (title, author_id) SELECT 'same', 1 FROM generate_series(1, 50)`,
    );
  });

  it('ADV002: an index that another one starts with is redundant; the fix removes its @@index', async () => {
    const [f] = of(await advise(p), 'ADV002');
    expect(f).toMatchObject({
      title: 'index posts_author_id_idx on posts(author_id) is redundant: posts_author_id_title_idx(author_id, title) answers the same lookups',
      schemaChange: { model: 'Post', remove: '@@index([authorId])' },
    });
  });

  it('ADV003: an index no query used is reported with the statistics’ age; unique and key indexes never are', async () => {
    const unused = of(await advise(p), 'ADV003');
    expect(unused.map((f) => f.title)).toContain('index posts_title_idx on posts(title) has not been used');
    expect(unused.find((f) => f.title.includes('posts_title_idx'))!.evidence[0]).toMatch(/^0 index scans, statistics gathered since .* \(\d+ h — too short to call an index unused\)$/);
    expect(unused.some((f) => /pkey|email_key/.test(f.title))).toBe(false);
    // Used once: no longer reported.
    const c = await session(url);
    await c.query("SET enable_seqscan = off; SELECT * FROM posts WHERE title = 'x'; SELECT pg_stat_force_next_flush()");
    await c.end();
    await new Promise((r) => setTimeout(r, 300));
    expect(of(await advise(p), 'ADV003').map((f) => f.title)).not.toContain('index posts_title_idx on posts(title) has not been used');
  });

  it('ADV004: an interrupted concurrent unique build leaves an invalid index, reported until it is dropped', async () => {
    const failed = await rowsOf(url, 'CREATE UNIQUE INDEX CONCURRENTLY posts_title_key ON posts (title)').catch((e: Error) => e);
    expect(String(failed)).toMatch(/could not create unique index/);
    const [f] = of(await advise(p), 'ADV004');
    expect(f).toMatchObject({ title: 'index posts_title_key on posts is invalid: a concurrent build did not finish' });
    expect(f!.cost).toMatch(/and it still rejects duplicate keys$/);
    await rowsOf(url, 'DROP INDEX CONCURRENTLY posts_title_key');
    expect(of(await advise(p), 'ADV004')).toEqual([]);
  });
});

describe('ADV005 slow queries from pg_stat_statements', () => {
  it('without the extension: one note that says how to enable it, RDS included', async () => {
    await newDatabase('nopss');
    const [f] = of(await advise(project('nopss')), 'ADV005');
    expect(f).toMatchObject({ severity: 'info', title: 'pg_stat_statements is not installed: slow and frequent queries cannot be seen' });
    expect(f!.fix).toMatch(/DB parameter group/);
  });

  it('with it: a statement slower than 100 ms on average is a warning; another role’s text needs pg_read_all_stats', async () => {
    await newDatabase('pss');
    await rowsOf(superUrl('pss'), 'CREATE EXTENSION pg_stat_statements');
    const c = await session(superUrl('pss'));
    for (let i = 0; i < 6; i++) await c.query('SELECT pg_sleep(0.12) AS slow_probe');
    const asOwner = of(await advise(project('pss')), 'ADV005');
    const hidden = asOwner.find((f) => f.title.startsWith('a statement of another role'));
    expect(hidden?.evidence).toContain('its text is hidden from this role: grant it pg_read_all_stats (or pg_monitor)');
    const asMonitor = of(await advise(project('pss', 'monitor', 'monitor-pw')), 'ADV005');
    const slow = asMonitor.find((f) => f.title.includes('pg_sleep'));
    expect(slow).toMatchObject({ severity: 'warn' });
    expect(slow!.title).toMatch(/^SELECT pg_sleep\(\$1\) AS slow_probe — 1\d\d ms on average, 6 calls, \d+ % of all statement time$/);
  });
});

describe('tables', () => {
  it('ADV006: a large table read whole again and again', async () => {
    await newDatabase('seq');
    const url = urlAs('app_owner', OWNER_PW, 'seq');
    const c = await session(url);
    await c.query("CREATE TABLE events (id serial PRIMARY KEY, kind text); INSERT INTO events (kind) SELECT 'k' || (g % 7) FROM generate_series(1, 20000) g");
    for (let i = 0; i < 12; i++) await c.query("SELECT count(*) FROM events WHERE kind = 'k3'");
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.query('SELECT 1');
    const [f] = of(await advise(project('seq')), 'ADV006');
    expect(f).toMatchObject({ severity: 'warn', object: 'events' });
    expect(f!.title).toMatch(/^events \(20,000 rows\) was read whole 1[2-9] times$/);
  });

  it('ADV007: dead rows with autovacuum off, gone after VACUUM', async () => {
    await newDatabase('dead');
    const url = urlAs('app_owner', OWNER_PW, 'dead');
    const c = await session(url);
    await c.query("CREATE TABLE logs (id serial PRIMARY KEY, body text) WITH (autovacuum_enabled = false); INSERT INTO logs (body) SELECT 'x' FROM generate_series(1, 20000); DELETE FROM logs WHERE id > 5000");
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.query('SELECT 1');
    const p = project('dead');
    const [f] = of(await advise(p), 'ADV007');
    expect(f).toMatchObject({ severity: 'warn', title: 'logs holds 15,000 dead rows beside 5,000 live ones (75 %)' });
    expect(f!.fix).toContain('ALTER TABLE logs RESET (autovacuum_enabled)');
    await c.query('VACUUM logs');
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.query('SELECT 1');
    expect(of(await advise(p), 'ADV007').filter((x) => x.severity === 'warn')).toEqual([]);
  });

  it('ADV008: wraparound is reported past autovacuum_freeze_max_age, critical at half the limit; a fresh database is far from it', async () => {
    expect(wraparoundSeverity(150_000_000, 200_000_000)).toBeUndefined();
    expect(wraparoundSeverity(250_000_000, 200_000_000)).toBe('warn');
    expect(wraparoundSeverity(1_100_000_000, 200_000_000)).toBe('critical');
    await newDatabase('xid');
    const r = await advise(project('xid'));
    expect(check(r, 'ADV008').status).toBe('ok');
  });
});

describe('sessions', () => {
  it('ADV009: connections near the limit, with the runtime client’s pool arithmetic', async () => {
    await newDatabase('conns');
    // 30 max − 3 superuser-reserved = 27 for ordinary roles; 80 % is 21.6.
    for (let i = 0; i < 22; i++) await session(urlAs('app_owner', OWNER_PW, 'conns'));
    try {
      const [f] = of(await advise(project('conns')), 'ADV009');
      expect(f!.title).toMatch(/^2[2-7] of the 27 connections ordinary roles may use are open \(\d+ %\)$/);
      expect(f!.evidence[2]).toMatch(/^the runtime client would size each pool at 10 per process: \(30 max_connections − 3 superuser_reserved − 0 reserved − 5 kept free\) \/ \(1 instance × 1 pool\) = 22 → 10/);
    } finally {
      await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
    }
  });

  it('ADV010: a session idle in a transaction — visible with pg_monitor, "not visible" without it', async () => {
    await newDatabase('idle');
    const other = await session(urlAs('other', 'other-pw', 'idle'));
    await other.query('BEGIN; SELECT 1');
    await new Promise((r) => setTimeout(r, 400));
    const plain = await advise(project('idle'), { idleInTransactionMs: 200 });
    expect(check(plain, 'ADV010')).toMatchObject({ status: 'not-visible', note: '1 session of other roles cannot be inspected by this role: GRANT pg_monitor TO <role> (RDS: as the master user)' });
    const [f] = of(await advise(project('idle', 'monitor', 'monitor-pw'), { idleInTransactionMs: 200 }), 'ADV010');
    expect(f!.title).toMatch(/^session \d+ \(\(none\), other\) has been idle in a transaction for [\d.]+ m?s$/);
    expect(f!.fix).toMatch(/^end it: SELECT pg_terminate_backend\(\d+\); and set idle_in_transaction_session_timeout/);
    await other.query('ROLLBACK');
  });

  it('ADV011: a session waiting for a lock names the one holding it', async () => {
    await newDatabase('locks');
    const url = urlAs('app_owner', OWNER_PW, 'locks');
    const holder = await session(url);
    await holder.query("SET application_name = 'holder'; CREATE TABLE t (id int)");
    await holder.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
    const waiter = await session(url);
    const waiting = waiter.query('SELECT * FROM t').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const [f] = of(await advise(project('locks')), 'ADV011');
    expect(f!.title).toMatch(/^session \d+ \(\(none\)\) has waited \d+ ms for a lock held by \d+ \(holder\)$/);
    expect(f!.evidence).toEqual(['waiting: SELECT * FROM t', 'holding it up: BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE']);
    await holder.query('ROLLBACK');
    await waiting;
  });

  it('ADV012: reads that miss PostgreSQL’s cache', async () => {
    await newDatabase('cache');
    const c = await session(urlAs('app_owner', OWNER_PW, 'cache'));
    await c.query("CREATE TABLE big (id serial, pad text); INSERT INTO big (pad) SELECT repeat('x', 200) FROM generate_series(1, 20000)");
    for (let i = 0; i < 25; i++) await c.query('SELECT count(*) FROM big');
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.query('SELECT 1');
    const [f] = of(await advise(project('cache')), 'ADV012');
    expect(f!.title).toMatch(/^\d+\.\d % of block reads came from PostgreSQL's cache \([\d,]+ from disk\)$/);
    expect(f!.evidence[0]).toBe('shared_buffers 256kB');
  });
});

describe('ADV013 replica lag', () => {
  it('a standby whose replay is paused falls behind by the WAL written since, as the primary sees it', async () => {
    const pair = await startReplicaPair();
    try {
      await rowsOf(pair.primary.url('postgres'), 'CREATE DATABASE app');
      await rowsOf(pair.replica.url('postgres'), 'SELECT pg_wal_replay_pause()');
      await rowsOf(pair.primary.url('app'), "CREATE TABLE w AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 20000) g");
      await new Promise((r) => setTimeout(r, 500));
      const p = createProject({
        configJson: { environments: { development: { url: { $env: 'DATABASE_URL' }, ssl: 'disable', replicas: [{ $env: 'REPLICA_URL' }] } } },
        envFiles: { '.env': { DATABASE_URL: pair.primary.url('app'), REPLICA_URL: pair.replica.url('app') } },
      });
      projects.push(p);
      const r = await runAdvise({ config: await loadConfig({ cwd: p.dir }), env: 'development', processEnv: {}, thresholds: { replicaLagBytes: 256 * 1024 } });
      const [f] = of(r, 'ADV013');
      expect(f!.title).toMatch(/^standby \S+ is [\d.]+ [kM]B of WAL( \(.*\))? behind$/);
      expect(f!.fix).toContain('pg_wal_replay_resume()');
    } finally {
      await pair.stop();
    }
  });
});

describe('the advisor itself', () => {
  it('is read-only: a check cannot write, and a failing check does not stop the others', async () => {
    await newDatabase('ro');
    const r = await advise(project('ro'));
    expect(r.checks.map((c) => c.code)).toEqual(['ADV001', 'ADV002', 'ADV003', 'ADV004', 'ADV005', 'ADV006', 'ADV007', 'ADV008', 'ADV009', 'ADV010', 'ADV011', 'ADV012', 'ADV013']);
    expect(r.checks.filter((c) => c.status === 'error')).toEqual([]);
  });

  it('the CLI prints each finding with its evidence, cost and fix, and exits 1 for warnings; --json carries the same', async () => {
    const p = project('seq');
    const r = await runCli(['advise'], { cwd: p.dir });
    expect(r.code, r.all).toBe(1);
    expect(r.stdout).toMatch(/^development \(127\.0\.0\.1:\d+\/seq\): \d+ findings?, \d+ to act on$/m);
    expect(r.stdout).toMatch(/^  WARN  ADV006  events \(20,000 rows\) was read whole \d+ times\n {14}[\d,]+ rows read per sequential scan on average\n {14}\d+ index scans\n {14}cost: each of those queries reads every row of events; the time grows with the table\n {14}fix:  find the queries on events/m);
    const j = await runCli(['advise', '--json'], { cwd: p.dir });
    const data = JSON.parse(j.stdout) as { environments: AdviceReport[]; exitCode: number };
    expect(data.exitCode).toBe(1);
    expect(data.environments[0]!.findings.some((f) => f.code === 'ADV006')).toBe(true);
  });

  it('reads schema.prisma’s names and skips comments and strings', () => {
    const m = parsePrismaModels([SCHEMA('  @@index([authorId])')]);
    const post = m.models.find((x) => x.name === 'Post')!;
    expect(post.table).toBe('posts');
    expect(post.fields.find((f) => f.name === 'authorId')?.column).toBe('author_id');
    expect(post.indexed).toEqual([['id'], ['authorId']]);
    expect(post.fields.find((f) => f.name === 'author')?.relation).toEqual({ fields: ['authorId'], references: ['id'] });
  });
});
