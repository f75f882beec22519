/**
 * The drift cache (`status --drift`, the dashboard) on real databases: the cached answer is the
 * replayed one, with and without drift; a change to the database, to a migration's content (same
 * size, same mtime) or to schema.prisma is a miss; a hit needs no shadow database at all.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedEnvironment } from '../../src/config/environments.js';
import { detectDrift, type DriftReport } from '../../src/develop/diff.js';
import { cachedDrift, detectDriftCached, driftCacheDir } from '../../src/develop/drift-cache.js';
import { deploy } from '../../src/history/deploy.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { environmentFor } from '../helpers/project.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/prisma-history', import.meta.url));

let root: string;
let migrationsDir: string;
let schemaPath: string;
let d: FreshDatabase;
let env: ResolvedEnvironment;
const role = `driftcache_${process.pid}`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stagedb-drift-cache-'));
  cpSync(join(FIXTURE, 'prisma'), join(root, 'prisma'), { recursive: true });
  migrationsDir = join(root, 'prisma', 'migrations');
  schemaPath = join(root, 'prisma', 'schema.prisma');
  d = await freshDatabase('driftcache');
  env = environmentFor(d.url, 'staging', root);
  await deploy({ env, migrationsDir });
});
afterAll(async () => {
  await d?.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
  rmSync(root, { recursive: true, force: true });
});

const opts = () => ({ env, schemaPath, migrationsDir, root });
const uncached = async (): Promise<DriftReport> => detectDrift({ env, schemaPath, migrationsDir });
/** The entries (one per state of the inputs); each also has a second name per quick fingerprint seen (`<inputs>-q<…>.json`). */
const entries = () => (existsSync(driftCacheDir(root)) ? readdirSync(driftCacheDir(root)).filter((f) => f.endsWith('.json') && !/-q[0-9a-f]+\.json$/.test(f)) : []);

describe('detectDriftCached', () => {
  it('no drift: replays once, then answers from the cache, the same as the replay', async () => {
    expect(await cachedDrift(opts())).toBeUndefined();
    const first = await detectDriftCached(opts());
    expect(first).toMatchObject({ cache: 'miss', drifted: false, migrationsToDatabase: '' });
    expect(entries()).toHaveLength(1);
    const second = await detectDriftCached(opts());
    expect(second.cache).toBe('hit');
    const { cache: _c, ...rest } = second;
    expect(rest).toEqual(await uncached());
    expect(await cachedDrift(opts())).toEqual(second);
    // The folder keeps itself out of git.
    expect(readFileSync(join(driftCacheDir(root), '.gitignore'), 'utf8')).toContain('*');
  });

  it('the quick fingerprint: statistics (ANALYZE, in place) keep it; a TRUNCATE (a new pg_class row) changes it, and the full fingerprint still finds the entry', async () => {
    const quickNames = () => readdirSync(driftCacheDir(root)).filter((f) => /-q[0-9a-f]+\.json$/.test(f));
    expect((await detectDriftCached(opts())).cache).toBe('hit');
    const names = quickNames();
    expect(names).toHaveLength(1);
    await query(d.url, `ANALYZE`);
    await query(d.url, `VACUUM "User"`);
    expect((await detectDriftCached(opts())).cache).toBe('hit');
    expect(quickNames()).toEqual(names);
    await query(d.url, `TRUNCATE "Post", "User" CASCADE`);
    const r = await detectDriftCached(opts());
    expect(r).toMatchObject({ cache: 'hit', drifted: false });
    expect(quickNames()).toHaveLength(2);
    expect(entries()).toHaveLength(1);
  });

  it('drift made by hand is a miss (the database changed), then a hit with the same SQL as the replay', async () => {
    await query(d.url, `ALTER TABLE "User" ADD COLUMN "nickname" TEXT`);
    expect(await cachedDrift(opts())).toBeUndefined();
    const first = await detectDriftCached(opts());
    expect(first).toMatchObject({ cache: 'miss', drifted: true });
    expect(first.migrationsToDatabase).toContain('ADD COLUMN     "nickname" TEXT');
    const second = await detectDriftCached(opts());
    expect(second.cache).toBe('hit');
    const { cache: _c, ...rest } = second;
    expect(rest).toEqual(await uncached());
    // An index the engine sees, a default, a comment: each changes the fingerprint.
    for (const sql of [`CREATE INDEX "User_nick_idx" ON "User" ("nickname")`, `ALTER TABLE "User" ALTER COLUMN "nickname" SET DEFAULT 'x'`]) {
      await query(d.url, sql);
      expect(await cachedDrift(opts()), sql).toBeUndefined();
      const r = await detectDriftCached(opts());
      expect(r.cache).toBe('miss');
      const { cache: _x, ...same } = r;
      expect(same).toEqual(await uncached());
    }
    await query(d.url, `ALTER TABLE "User" DROP COLUMN "nickname"`);
    // Back to the state of the first test: its entry answers again.
    expect(await detectDriftCached(opts())).toMatchObject({ cache: 'hit', drifted: false });
  });

  it('an edited migration (same size, same mtime) is a miss, and the answer is the replay of the edited file', async () => {
    const last = readdirSync(migrationsDir).filter((n) => /^\d/.test(n)).sort().at(-1)!;
    const file = join(migrationsDir, last, 'migration.sql');
    const before = readFileSync(file, 'utf8');
    const { mtime, atime, size } = statSync(file);
    const edited = before.replace('"PostStatus" NOT NULL', '"PostStatus"     NULL');
    expect(edited).not.toBe(before);
    writeFileSync(file, edited);
    utimesSync(file, atime, mtime);
    expect(statSync(file).size).toBe(size);
    try {
      expect(await cachedDrift(opts())).toBeUndefined();
      const r = await detectDriftCached(opts());
      // The replay of the edited file makes "status" nullable; the database has it NOT NULL: drift.
      expect(r).toMatchObject({ cache: 'miss', drifted: true });
      const { cache: _c, ...rest } = r;
      expect(rest).toEqual(await uncached());
    } finally {
      writeFileSync(file, before);
    }
    expect((await detectDriftCached(opts())).cache).toBe('hit');
  });

  it('a changed schema.prisma is a miss (its diff to the database is part of the answer)', async () => {
    const before = readFileSync(schemaPath, 'utf8');
    writeFileSync(schemaPath, before.replace(/model User \{/, 'model User {\n  nickname String?'));
    try {
      const r = await detectDriftCached(opts());
      expect(r).toMatchObject({ cache: 'miss', drifted: false });
      expect(r.databaseToSchema).toContain('"nickname" TEXT');
      const { cache: _c, ...rest } = r;
      expect(rest).toEqual(await uncached());
    } finally {
      writeFileSync(schemaPath, before);
    }
  });

  it('environments with the same inputs checked at once share one replay (status --drift --env all)', async () => {
    const twin = await freshDatabase('driftcache2');
    try {
      const envB = environmentFor(twin.url, 'qa', root);
      await deploy({ env: envB, migrationsDir });
      await query(twin.url, `ALTER TABLE "Post" ADD COLUMN "shared" INT`);
      const envA = environmentFor(twin.url, 'uat', root);
      const count = entries().length;
      const [a, b] = await Promise.all([detectDriftCached({ ...opts(), env: envA }), detectDriftCached({ ...opts(), env: envB })]);
      expect([a.cache, b.cache]).toEqual(['miss', 'miss']);
      expect(a.env).toBe('uat');
      expect(b.env).toBe('qa');
      expect(entries()).toHaveLength(count + 1);
      const { cache: _a, env: _e, ...ra } = a;
      const { cache: _b, env: _f, ...rb } = b;
      expect(ra).toEqual(rb);
      const { env: _g, ...fresh } = await detectDrift({ env: envB, schemaPath, migrationsDir });
      expect(rb).toEqual(fresh);
      expect(rb.migrationsToDatabase).toContain('"shared" INTEGER');
    } finally {
      await twin.drop();
    }
  });

  it('a hit needs no shadow database: a role without CREATEDB (not the owner) gets the cached answer', async () => {
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
    await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'dev-only' NOCREATEDB`);
    await query(d.url, `GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    const u = new URL(d.url);
    u.username = role;
    u.password = 'dev-only';
    const plain = environmentFor(u.toString(), 'staging', root);
    const r = await detectDriftCached({ env: plain, schemaPath, migrationsDir, root });
    expect(r).toMatchObject({ cache: 'hit', drifted: false, migrationsToDatabase: '' });
  });
});
