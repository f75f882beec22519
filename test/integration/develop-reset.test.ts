/**
 * `describeLoss` and `resetDatabase` on real databases: what a reset would destroy, the schema
 * recreated with its owner, grants and comment, the migrations reapplied, and the protection rule.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    await query(d.url, `CREATE VIEW "PostTitles" AS SELECT title FROM "Post"; CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE SEQUENCE invoice_no; CREATE EXTENSION pg_stat_statements`);
  });

  it('describeLoss counts the rows of every table, and the other objects', async () => {
    const [loss, ...more] = await describeLoss(env);
    expect(more).toEqual([]);
    expect(loss!.schema).toBe('public');
    expect(loss!.tables.slice(0, 2)).toEqual([
      { name: 'Post', rows: 3 },
      { name: 'User', rows: 3 },
    ]);
    expect(loss!.tables.every((t) => t.estimated === undefined)).toBe(true);
    expect(loss!.tables.map((t) => t.name)).not.toContain('_prisma_migrations');
    expect(loss!.tables.map((t) => t.name).sort()).toEqual(['Comment', 'Post', 'Profile', 'Tag', 'User', '_PostToTag']);
    // Role and PostStatus enums, the view, the function and the sequence (the tables' own serial
    // sequences do not count, nor the extension's views and functions: the extension is named instead).
    expect(loss!.otherObjects).toBe(5);
    expect(loss!.extensions).toEqual(['pg_stat_statements']);
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
    expect((await describeLoss(env))[0]!.tables.every((t) => t.rows === 0)).toBe(true);
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

        expect((await describeLoss(env))[0]!.tables.find((t) => t.name === 'User')).toEqual({ name: 'User', rows: 1 });
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

describe('reset of a multiSchema datasource (schemas = ["public", "auth"])', () => {
  const SCHEMA = `datasource db {
  provider = "postgresql"
  // schemas = ["old"]   (a comment: not read)
  schemas  = ["public", "auth"]
}

model Account {
  id    Int    @id @default(autoincrement())
  email String
  posts Post[]
  @@schema("auth")
}

model Post {
  id        Int     @id @default(autoincrement())
  title     String
  accountId Int
  account   Account @relation(fields: [accountId], references: [id])
  @@schema("public")
}
`;
  const INIT = `-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "auth";

-- CreateEnum
CREATE TYPE "auth"."Role" AS ENUM ('user', 'admin');

-- CreateTable
CREATE TABLE "auth"."Account" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "role" "auth"."Role" NOT NULL DEFAULT 'user', CONSTRAINT "Account_pkey" PRIMARY KEY ("id"));

-- CreateTable
CREATE TABLE "public"."Post" ("id" SERIAL NOT NULL, "title" TEXT NOT NULL, "accountId" INTEGER NOT NULL, CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));

-- AddForeignKey
ALTER TABLE "public"."Post" ADD CONSTRAINT "Post_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "auth"."Account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`;

  it('drops and recreates every schema the datasource names (owner, grants, comment kept), and no other', async () => {
    const d = await db();
    const role = `reset_auth_${process.pid}`;
    // As on RDS: the database's owner, not a superuser.
    const owner = `reset_owner_${process.pid}`;
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}; DROP ROLE IF EXISTS ${owner}`);
    await query(adminUrl(), `CREATE ROLE ${role}; CREATE ROLE ${owner} LOGIN PASSWORD 'dev-only' NOCREATEDB`);
    await query(adminUrl(), `ALTER DATABASE ${d.name} OWNER TO ${owner}`);
    const u = new URL(d.url);
    u.username = owner;
    u.password = 'dev-only';
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-reset-'));
    try {
      const migrationsDir = join(dir, 'migrations');
      const name = '20240101000000_init';
      mkdirSync(join(migrationsDir, name), { recursive: true });
      writeFileSync(join(migrationsDir, name, 'migration.sql'), INIT);
      writeFileSync(join(dir, 'schema.prisma'), SCHEMA);
      const env = environmentFor(u.toString());
      await deploy({ env, migrationsDir });
      await query(
        d.url,
        `GRANT USAGE ON SCHEMA auth TO ${role}; COMMENT ON SCHEMA auth IS 'accounts';
         INSERT INTO auth."Account" (email) VALUES ('ada@example.com'), ('alan@example.com');
         INSERT INTO "Post" (title, "accountId") SELECT 'hello', id FROM auth."Account";
         ALTER TABLE auth."Account" ADD COLUMN sneaky text; CREATE FUNCTION auth.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE SCHEMA other; CREATE TABLE other.keep (id int); INSERT INTO other.keep VALUES (1)`,
      );
      expect(await schemaIdentity(d.url, 'auth')).toMatchObject([{ owner }]);
      const before = { public: await schemaIdentity(d.url), auth: await schemaIdentity(d.url, 'auth') };

      const loss = await describeLoss(env, { schemaPath: join(dir, 'schema.prisma') });
      expect(loss).toEqual([
        { schema: 'public', tables: [{ name: 'Post', rows: 2 }], otherObjects: 0, extensions: [] },
        // The Role enum and the function.
        { schema: 'auth', tables: [{ name: 'Account', rows: 2 }], otherObjects: 2, extensions: [] },
      ]);

      const events: Array<Record<string, unknown>> = [];
      const r = await resetDatabase({ env, migrationsDir, schemaPath: join(dir, 'schema.prisma'), onEvent: (e) => events.push(e) });
      expect(r.applied).toEqual([name]);
      expect(events[0]).toMatchObject({ type: 'reset', schemas: ['public', 'auth'] });
      expect(await query(d.url, `SELECT (SELECT count(*)::int FROM auth."Account") AS accounts, (SELECT count(*)::int FROM "Post") AS posts`)).toEqual([{ accounts: 0, posts: 0 }]);
      expect(await query(d.url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'auth' AND column_name = 'sneaky'`)).toEqual([{ n: 0 }]);
      expect(await query(d.url, `SELECT to_regproc('auth.f') IS NULL AS gone`)).toEqual([{ gone: true }]);
      expect(await query(d.url, `SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations`)).toEqual([{ migration_name: name, finished: true }]);
      expect({ public: await schemaIdentity(d.url), auth: await schemaIdentity(d.url, 'auth') }).toEqual(before);
      expect(await query(d.url, `SELECT id FROM other.keep`)).toEqual([{ id: 1 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await d.drop();
      databases.splice(databases.indexOf(d), 1);
      await query(adminUrl(), `DROP ROLE ${role}; DROP ROLE ${owner}`);
    }
  });

  it('a schema the role may not drop (another role owns auth): refused, with nothing dropped in any schema', async () => {
    const d = await db();
    const owner = `reset_owner2_${process.pid}`;
    await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`);
    await query(adminUrl(), `CREATE ROLE ${owner} LOGIN PASSWORD 'dev-only' NOCREATEDB`);
    await query(adminUrl(), `ALTER DATABASE ${d.name} OWNER TO ${owner}`);
    // As on Supabase: auth belongs to another role than the one migrating.
    await query(d.url, `CREATE SCHEMA auth; CREATE TABLE auth.users (id int); CREATE TABLE public.keep (id int); INSERT INTO public.keep VALUES (1); ALTER TABLE public.keep OWNER TO ${owner}`);
    const u = new URL(d.url);
    u.username = owner;
    u.password = 'dev-only';
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-reset-'));
    try {
      writeFileSync(join(dir, 'schema.prisma'), SCHEMA);
      const r = await rejection(resetDatabase({ env: environmentFor(u.toString()), migrationsDir: join(dir, 'migrations'), schemaPath: join(dir, 'schema.prisma') }), { [owner]: '<owner>' });
      expect(r).toMatchInlineSnapshot(`
        {
          "code": "E_RESET_PERMISSION",
          "fix": "connect as a role that owns each of them (public: the database's owner; auth: postgres), or as a superuser",
          "kind": "config",
          "message": "development: cannot reset schemas "public", "auth": must be owner of schema auth; nothing was dropped",
        }
      `);
      expect(await query(d.url, `SELECT id FROM public.keep`)).toEqual([{ id: 1 }]);
      expect(await query(d.url, `SELECT to_regclass('auth.users') IS NOT NULL AS kept`)).toEqual([{ kept: true }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await d.drop();
      databases.splice(databases.indexOf(d), 1);
      await query(adminUrl(), `DROP ROLE ${owner}`);
    }
  });
});
