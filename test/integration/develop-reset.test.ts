/**
 * `describeLoss` and `resetDatabase` on real databases: what a reset would destroy, the schema
 * recreated with its owner, grants and comment, the migrations reapplied, and the protection rule.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedEnvironment } from '../../src/config/environments.js';
import { describeLoss, resetDatabase } from '../../src/develop/reset.js';
import { deploy } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { environmentFor, rejection, withSchema } from '../helpers/project.js';

const MIGRATIONS = fileURLToPath(new URL('../fixtures/prisma-history/prisma/migrations', import.meta.url));
const NAMES = readLocalHistory(MIGRATIONS).migrations.map((m) => m.name);

const databases: FreshDatabase[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
});
async function db(): Promise<FreshDatabase> {
  const d = await freshDatabase('reset');
  databases.push(d);
  return d;
}

/** The schema's owner, privileges and comment, as PostgreSQL stores them. */
async function schemaIdentity(url: string, schema = 'public') {
  return query(url, `SELECT pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`, [schema]);
}

describe('reset of public', () => {
  let d: FreshDatabase;
  let env: ResolvedEnvironment;
  let pristine: Awaited<ReturnType<typeof schemaIdentity>>;
  beforeAll(async () => {
    d = await db();
    env = environmentFor(d.url);
    pristine = await schemaIdentity(d.url);
    await deploy({ env, migrationsDir: MIGRATIONS });
    await query(d.url, `INSERT INTO "User" (email, name) VALUES ('ada@example.com', 'Ada'), ('alan@example.com', 'Alan'), ('grace@example.com', 'Grace')`);
    await query(d.url, `INSERT INTO "Post" (title, "authorId", "updatedAt") SELECT 'Hello from ' || name, id, now() FROM "User"`);
    await query(d.url, `CREATE VIEW "PostTitles" AS SELECT title FROM "Post"; CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE SEQUENCE invoice_no`);
  });

  it('describeLoss counts the rows of every table, and the other objects', async () => {
    const loss = await describeLoss(env);
    expect(loss.schema).toBe('public');
    expect(loss.tables.slice(0, 2)).toEqual([
      { name: 'Post', rows: 3 },
      { name: 'User', rows: 3 },
    ]);
    expect(loss.tables.every((t) => t.estimated === undefined)).toBe(true);
    expect(loss.tables.map((t) => t.name)).not.toContain('_prisma_migrations');
    expect(loss.tables.map((t) => t.name).sort()).toEqual(['Comment', 'Post', 'Profile', 'Tag', 'User', '_PostToTag']);
    // Role and PostStatus enums, the view, the function and the sequence (the tables' own serial sequences do not count).
    expect(loss.otherObjects).toBe(5);
  });

  it('drops the data, keeps the schema\'s owner, grants and comment, and reapplies every migration', async () => {
    const events: string[] = [];
    const r = await resetDatabase({ env, migrationsDir: MIGRATIONS, onEvent: (e) => events.push(e.type) });
    expect(r.applied).toEqual(NAMES);
    expect(events[0]).toBe('reset');
    expect(events).toContain('apply-done');
    expect(await query(d.url, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 0 }]);
    expect(await query(d.url, `SELECT to_regclass('"PostTitles"') IS NULL AS gone, to_regclass('invoice_no') IS NULL AS seq_gone`)).toEqual([{ gone: true, seq_gone: true }]);
    expect(await schemaIdentity(d.url)).toEqual(pristine);
    // PostgreSQL 15+: public belongs to pg_database_owner, usable by everyone; a plain DROP/CREATE would lose both.
    expect(pristine).toEqual([{ owner: 'pg_database_owner', acl: '{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}', comment: 'standard public schema' }]);
    expect((await describeLoss(env)).tables.every((t) => t.rows === 0)).toBe(true);
  });

  it('is refused on guarded and production environments, with nothing dropped', async () => {
    await query(d.url, `INSERT INTO "User" (email) VALUES ('kept@example.com')`);
    for (const protection of ['guarded', 'production'] as const) {
      const protectedEnv: ResolvedEnvironment = { ...env, name: protection === 'guarded' ? 'staging' : 'production', protection };
      const r = await rejection(resetDatabase({ env: protectedEnv, migrationsDir: MIGRATIONS }));
      expect(r).toMatchObject({ kind: 'guard', code: 'E_REFUSED' });
      if (protection === 'guarded') {
        expect(r).toMatchInlineSnapshot(`
          {
            "code": "E_REFUSED",
            "fix": "reset only development databases (protection 'none'); if staging really is one, set protection: 'none' for environments.staging in stagedb.config.ts",
            "kind": "guard",
            "message": "staging: migrate reset is refused on an environment with protection 'guarded': it drops schema "public" with every row in it",
          }
        `);
      }
    }
    expect(await query(d.url, `SELECT email FROM "User"`)).toEqual([{ email: 'kept@example.com' }]);
  });

  it('refuses a broken migrations folder before dropping anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-reset-'));
    try {
      cpSync(MIGRATIONS, dir, { recursive: true });
      rmSync(join(dir, NAMES[1]!, 'migration.sql'));
      expect(await rejection(resetDatabase({ env, migrationsDir: dir }))).toMatchObject({ code: 'E_MIGRATION_FILE_MISSING' });
      expect(await query(d.url, `SELECT email FROM "User"`)).toEqual([{ email: 'kept@example.com' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reset of another schema (?schema=app)', () => {
  it('drops only that schema and recreates it with its owner and grants', async () => {
    const d = await db();
    const role = `reset_reader_${process.pid}`;
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
    await query(adminUrl(), `CREATE ROLE ${role}`);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'stagedb-reset-'));
      try {
        // Only the first two fixture migrations run outside public (see prisma-interop.test.ts).
        for (const n of NAMES.slice(0, 2)) cpSync(join(MIGRATIONS, n), join(dir, n), { recursive: true });
        const env = environmentFor(withSchema(d.url, 'app'));
        await deploy({ env, migrationsDir: dir });
        await query(d.url, `GRANT USAGE ON SCHEMA app TO ${role}; COMMENT ON SCHEMA app IS 'the app'; CREATE TABLE public.keep (id int); INSERT INTO public.keep VALUES (1); INSERT INTO app."User" (email) VALUES ('x@example.com')`);
        const before = await schemaIdentity(d.url, 'app');
        expect(before[0]!.acl).toContain(`${role}=U/`);

        expect((await describeLoss(env)).tables.find((t) => t.name === 'User')).toEqual({ name: 'User', rows: 1 });
        const r = await resetDatabase({ env, migrationsDir: dir });
        expect(r.applied).toEqual(NAMES.slice(0, 2));
        expect(await schemaIdentity(d.url, 'app')).toEqual(before);
        expect(await query(d.url, `SELECT count(*)::int AS n FROM app."User"`)).toEqual([{ n: 0 }]);
        expect(await query(d.url, `SELECT id FROM public.keep`)).toEqual([{ id: 1 }]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await query(d.url, `DROP OWNED BY ${role}`);
      await query(adminUrl(), `DROP ROLE ${role}`);
    }
  });
});
