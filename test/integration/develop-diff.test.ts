/**
 * `diffSchemas` and `detectDrift` on real databases: every pair of sources against what Prisma's
 * engine says, drift made by hand, and the shadow database (created on the server, refused without
 * CREATEDB, or the configured `shadowDatabaseUrl`).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedEnvironment } from '../../src/config/environments.js';
import { detectDrift, diffSchemas } from '../../src/develop/diff.js';
import { migrateDev } from '../../src/develop/migrate-dev.js';
import { ENGINE_CHAR_COLUMNS } from '../../src/engine/pg-adapter.js';
import { deploy } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { environmentFor, rejection } from '../helpers/project.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/prisma-history', import.meta.url));
const MIGRATIONS = join(FIXTURE, 'prisma', 'migrations');
const SCHEMA = join(FIXTURE, 'prisma', 'schema.prisma');
const FIRST_SCHEMA = join(FIXTURE, 'schemas', '01-init.prisma');
const NAMES = readLocalHistory(MIGRATIONS).migrations.map((m) => m.name);
const EMPTY = '-- This is an empty migration.\n';

const databases: FreshDatabase[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function db(): Promise<FreshDatabase> {
  const d = await freshDatabase('diff');
  databases.push(d);
  return d;
}

describe('diffSchemas', () => {
  let deployed: FreshDatabase;
  let env: ResolvedEnvironment;
  beforeAll(async () => {
    deployed = await db();
    env = environmentFor(deployed.url);
    await deploy({ env, migrationsDir: MIGRATIONS });
  });

  it('empty → schema is the whole schema; schema → same schema is empty', async () => {
    const create = await diffSchemas({ from: { kind: 'empty' }, to: { kind: 'schema', path: SCHEMA }, shadowEnv: env });
    expect(create.empty).toBe(false);
    expect(create.script).toContain('-- CreateEnum\nCREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\', \'MODERATOR\');');
    expect(create.script).toContain('CREATE TABLE "Comment" (\n    "id" UUID NOT NULL,');
    expect(await diffSchemas({ from: { kind: 'schema', path: SCHEMA }, to: { kind: 'schema', path: SCHEMA }, shadowEnv: env })).toEqual({ script: EMPTY, empty: true });
  });

  it('migrations → schema, database → schema and migrations → database agree that the history matches', async () => {
    const migrations = { kind: 'migrations', dir: MIGRATIONS } as const;
    expect(await diffSchemas({ from: migrations, to: { kind: 'schema', path: SCHEMA }, shadowEnv: env })).toEqual({ script: EMPTY, empty: true });
    expect(await diffSchemas({ from: { kind: 'database', env }, to: { kind: 'schema', path: SCHEMA } })).toEqual({ script: EMPTY, empty: true });
    expect(await diffSchemas({ from: migrations, to: { kind: 'database', env } })).toEqual({ script: EMPTY, empty: true });
  });

  it('an older schema against the migrations: the SQL of the later migrations, reversed', async () => {
    const d = await diffSchemas({ from: { kind: 'schema', path: FIRST_SCHEMA }, to: { kind: 'migrations', dir: MIGRATIONS }, shadowEnv: env });
    expect(d.empty).toBe(false);
    // Objects the engine reads from a database (here the shadow one) are named with their schema.
    expect(d.script).toContain('CREATE TABLE "public"."Comment" (');
    const reverse = await diffSchemas({ from: { kind: 'database', env }, to: { kind: 'schema', path: FIRST_SCHEMA } });
    expect(reverse.script).toMatch(/^DROP TABLE ("public"\.)?"Comment";$/m);
  });

  it('database → empty: what dropping everything would take', async () => {
    const d = await diffSchemas({ from: { kind: 'database', env }, to: { kind: 'empty' } });
    expect(d.script).toContain('DROP TABLE "public"."User";');
    // Read-only: the database is untouched.
    expect(await query(deployed.url, `SELECT count(*)::int AS n FROM _prisma_migrations`)).toEqual([{ n: NAMES.length }]);
  });

  it('refuses two databases and a diff with no server', async () => {
    const other = environmentFor((await db()).url, 'staging');
    expect(await rejection(diffSchemas({ from: { kind: 'database', env }, to: { kind: 'database', env: other } }))).toMatchInlineSnapshot(`
      {
        "code": "E_DIFF_TWO_DATABASES",
        "fix": "compare each with the migrations instead: stagedb status --env development,staging --drift",
        "kind": "usage",
        "message": "cannot compare the databases of development and staging directly: the schema engine connects to one database at a time",
      }
    `);
    expect(await rejection(diffSchemas({ from: { kind: 'migrations', dir: MIGRATIONS }, to: { kind: 'schema', path: SCHEMA } }), { [FIXTURE]: '<fixture>' })).toMatchInlineSnapshot(`
      {
        "code": "E_DIFF_NEEDS_SERVER",
        "fix": "name an environment whose server may create a temporary database: --shadow-env development",
        "kind": "usage",
        "message": "comparing migrations <fixture>/prisma/migrations with schema <fixture>/prisma/schema.prisma needs a PostgreSQL server: the schema engine computes every diff through a connection, and replays the migrations on a temporary shadow database there",
      }
    `);
  });
});

describe('detectDrift', () => {
  let d: FreshDatabase;
  let env: ResolvedEnvironment;
  beforeAll(async () => {
    d = await db();
    env = environmentFor(d.url, 'staging');
  });

  it('on an empty database: nothing applied, the whole schema to create, no drift', async () => {
    const r = await detectDrift({ env, schemaPath: SCHEMA, migrationsDir: MIGRATIONS });
    expect(r).toMatchObject({ env: 'staging', migrationsToDatabase: '', drifted: false, appliedMigrations: [] });
    expect(r.databaseToSchema).toContain('CREATE TABLE "User"');
  });

  it('compares with the applied migrations only: pending ones are not drift', async () => {
    const half = mkdtempSync(join(tmpdir(), 'stagedb-drift-'));
    dirs.push(half);
    cpSync(join(MIGRATIONS, 'migration_lock.toml'), join(half, 'migration_lock.toml'));
    for (const n of NAMES.slice(0, 3)) cpSync(join(MIGRATIONS, n), join(half, n), { recursive: true });
    await deploy({ env, migrationsDir: half });
    const r = await detectDrift({ env, schemaPath: SCHEMA, migrationsDir: MIGRATIONS });
    expect(r).toMatchObject({ migrationsToDatabase: '', drifted: false, appliedMigrations: NAMES.slice(0, 3) });
    expect(r.databaseToSchema).not.toBe('');
  });

  it('shows changes made outside the history, both ways', async () => {
    await deploy({ env, migrationsDir: MIGRATIONS });
    await query(d.url, `ALTER TABLE "User" ADD COLUMN "nickname" TEXT; CREATE INDEX "User_createdAt_idx" ON "User" ("createdAt")`);
    const r = await detectDrift({ env, schemaPath: SCHEMA, migrationsDir: MIGRATIONS });
    expect(r).toEqual({
      env: 'staging',
      migrationsToDatabase: '-- AlterTable\nALTER TABLE "public"."User" ADD COLUMN     "nickname" TEXT;\n\n-- CreateIndex\nCREATE INDEX "User_createdAt_idx" ON "public"."User"("createdAt" ASC);\n',
      databaseToSchema: '-- DropIndex\nDROP INDEX "User_createdAt_idx";\n\n-- AlterTable\nALTER TABLE "User" DROP COLUMN "nickname";\n',
      drifted: true,
      appliedMigrations: NAMES,
    });
  });
});

describe('temporary shadow databases', () => {
  it('are dropped after every use, also when the call fails', async () => {
    // A role of this test's own: the databases it owns are this test's, whatever other test files run meanwhile.
    const role = `shadowcheck_${process.pid}`;
    const x = await db();
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
    await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'dev-only' CREATEDB`);
    try {
      await query(adminUrl(), `ALTER DATABASE ${x.name} OWNER TO ${role}`);
      await query(x.url, `ALTER SCHEMA public OWNER TO ${role}`);
      const u = new URL(x.url);
      u.username = role;
      u.password = 'dev-only';
      const env = environmentFor(u.toString());
      await deploy({ env, migrationsDir: MIGRATIONS });
      const owned = async () => (await query<{ datname: string }>(adminUrl(), `SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1 ORDER BY 1`, [role])).map((r) => r.datname);
      expect((await detectDrift({ env, schemaPath: SCHEMA, migrationsDir: MIGRATIONS })).drifted).toBe(false);
      expect(await diffSchemas({ from: { kind: 'migrations', dir: MIGRATIONS }, to: { kind: 'database', env } })).toEqual({ script: EMPTY, empty: true });
      const broken = mkdtempSync(join(tmpdir(), 'stagedb-drift-'));
      dirs.push(broken);
      cpSync(MIGRATIONS, broken, { recursive: true });
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(broken, NAMES.at(-1)!, 'migration.sql'), 'ALTER TABLE "Nope" ADD COLUMN x int;\n');
      expect(await rejection(diffSchemas({ from: { kind: 'migrations', dir: broken }, to: { kind: 'database', env } }))).toMatchObject({ code: 'E_MIGRATION_FAILED' });
      expect(await owned()).toEqual([x.name]);
    } finally {
      await x.drop();
      databases.splice(databases.indexOf(x), 1);
      await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
    }
  });
});

describe('the shadow database', () => {
  const role = `nocreatedb_${process.pid}`;
  let d: FreshDatabase;
  let shadow: FreshDatabase;
  let restricted: string;
  let restrictedShadow: string;
  beforeAll(async () => {
    [d, shadow] = [await db(), await db()];
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
    await query(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'dev-only' NOCREATEDB`);
    await query(adminUrl(), `ALTER DATABASE ${d.name} OWNER TO ${role}; ALTER DATABASE ${shadow.name} OWNER TO ${role}`);
    for (const x of [d, shadow]) await query(x.url, `ALTER SCHEMA public OWNER TO ${role}`);
    const as = (url: string) => {
      const u = new URL(url);
      u.username = role;
      u.password = 'dev-only';
      return u.toString();
    };
    [restricted, restrictedShadow] = [as(d.url), as(shadow.url)];
    await deploy({ env: environmentFor(restricted), migrationsDir: MIGRATIONS });
  });
  afterAll(async () => {
    for (const x of [d, shadow]) await x.drop();
    databases.splice(databases.indexOf(d), 1);
    databases.splice(databases.indexOf(shadow), 1);
    await query(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
  });

  it('without CREATEDB: E_SHADOW_DB, saying why and how to configure shadowDatabaseUrl', async () => {
    const env = environmentFor(restricted);
    const r = await rejection(detectDrift({ env, schemaPath: SCHEMA, migrationsDir: MIGRATIONS }), { [role]: '<role>' });
    expect(r).toMatchInlineSnapshot(`
      {
        "code": "E_SHADOW_DB",
        "details": [
          "the shadow database is where the migrations are replayed to compute what they produce; it is dropped right after",
        ],
        "fix": "either grant it (as a superuser: ALTER ROLE "<role>" CREATEDB), or create an empty database for it and set environments.development.shadowDatabaseUrl: env('SHADOW_DATABASE_URL') in stagedb.config.ts (SHADOW_DATABASE_URL="postgresql://USER:PASSWORD@HOST:5432/DB_shadow")",
        "kind": "config",
        "message": "development: cannot create the temporary shadow database this needs: user "<role>" may not create databases (no CREATEDB)",
      }
    `);
    // migrate dev needs it too, and says the same.
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-shadow-'));
    dirs.push(dir);
    cpSync(MIGRATIONS, dir, { recursive: true });
    expect(await rejection(migrateDev({ env, schemaPath: SCHEMA, migrationsDir: dir, confirmReset: async () => false }))).toMatchObject({ code: 'E_SHADOW_DB' });
  });

  it('with shadowDatabaseUrl: replays there, and empties it again afterwards', async () => {
    const env: ResolvedEnvironment = { ...environmentFor(restricted), shadowDatabaseUrl: restrictedShadow };
    await query(shadow.url, `CREATE TABLE public.leftover (id int)`);
    expect(await detectDrift({ env, schemaPath: SCHEMA, migrationsDir: MIGRATIONS })).toEqual({
      env: 'development',
      migrationsToDatabase: '',
      databaseToSchema: '',
      drifted: false,
      appliedMigrations: NAMES,
    });
    expect(await query(shadow.url, `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`)).toEqual([{ n: 0 }]);

    // migrate dev works there too, with the same user.
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-shadow-'));
    dirs.push(dir);
    cpSync(MIGRATIONS, dir, { recursive: true });
    const schema = join(dir, 'schema.prisma');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(schema, readFileSync(SCHEMA, 'utf8').replace('model Tag {\n', 'model Tag {\n  color String?\n'));
    const r = await migrateDev({ env, schemaPath: schema, migrationsDir: dir, name: 'tag color', confirmReset: async () => false });
    expect(readFileSync(join(r.created!.path, 'migration.sql'), 'utf8')).toBe('-- AlterTable\nALTER TABLE "Tag" ADD COLUMN     "color" TEXT;\n');
  });

  it('refuses a shadowDatabaseUrl that is the environment\'s own database', async () => {
    const env: ResolvedEnvironment = { ...environmentFor(restricted), shadowDatabaseUrl: restricted.replace('127.0.0.1', 'localhost') };
    const before = await query(d.url, `SELECT count(*)::int AS n FROM _prisma_migrations`);
    expect(await rejection(detectDrift({ env, schemaPath: SCHEMA, migrationsDir: MIGRATIONS }))).toMatchInlineSnapshot(`
      {
        "code": "E_SHADOW_DB",
        "fix": "create an empty database for it (createdb <name>_shadow) and set shadowDatabaseUrl under environments.development in stagedb.config.ts to its URL",
        "kind": "config",
        "message": "development: shadowDatabaseUrl points at the environment's own database; the shadow database is emptied on every use, so it must be a separate, disposable database",
      }
    `);
    expect(await query(d.url, `SELECT count(*)::int AS n FROM _prisma_migrations`)).toEqual(before);
  });
});

describe('the engine on what real databases hold', () => {
  it('describes CHECK and EXCLUDE constraints (it reads their kind as a character, not as text)', async () => {
    const x = await db();
    const env = environmentFor(x.url);
    await query(x.url, `CREATE EXTENSION IF NOT EXISTS btree_gist; CREATE TABLE "Booking" (id int PRIMARY KEY, room int NOT NULL CHECK (room > 0), during tstzrange NOT NULL, EXCLUDE USING gist (room WITH =, during WITH &&))`);
    const d = await diffSchemas({ from: { kind: 'empty' }, to: { kind: 'database', env } });
    expect(d.script).toContain('CREATE TABLE "public"."Booking" (');
  });

  it('turns a panic in the middle of an async call into E_ENGINE_PANIC instead of hanging, and recovers', async () => {
    const x = await db();
    const env = environmentFor(x.url);
    await query(x.url, `CREATE TABLE t (id int CHECK (id > 0))`);
    // Undo the adapter's fix for one call: the describer then panics on the constraint's kind.
    ENGINE_CHAR_COLUMNS.delete('constraint_type');
    let r;
    try {
      r = await rejection(diffSchemas({ from: { kind: 'empty' }, to: { kind: 'database', env } }), { [x.name]: '<db>' });
    } finally {
      ENGINE_CHAR_COLUMNS.add('constraint_type');
    }
    expect(r.code).toBe('E_ENGINE_PANIC');
    expect(r.message).toMatch(/^development: Prisma's schema engine crashed \(a Rust panic\) during diff: panicked at schema-engine\/sql-schema-describer\/src\/postgres\.rs:\d+:\d+: called `Result::unwrap\(\)` on an `Err` value: "Getting constraint_type from Resultrow .*…$/);
    expect(r.message.length).toBeLessThan(450);
    expect(r.details?.[1]).toContain('as char failed');
    expect((await diffSchemas({ from: { kind: 'empty' }, to: { kind: 'database', env } })).script).toContain('CREATE TABLE "public"."t"');
  });
});
