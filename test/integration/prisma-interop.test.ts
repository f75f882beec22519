/**
 * stagedb's `_prisma_migrations` implementation against the oracle: Prisma's own schema engine (the
 * pinned WASM build, through src/engine), on real databases. Each tool deploys, fails, resolves and
 * reads the other's work, and the rows, the history table and the user schema are compared.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_PACKAGE_VERSION, ENGINE_PREVIEW_FEATURES, openEngine, withEngine, type SchemaEngine } from '../../src/engine/index.js';
import type { WasmSchemaEngine } from '../../src/engine/wasm-engine.js';
import { checksum } from '../../src/history/checksum.js';
import { deploy } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { resolveMigration } from '../../src/history/resolve.js';
import { compareHistory } from '../../src/history/state.js';
import { environmentStatus } from '../../src/history/status.js';
import { listRows } from '../../src/history/table.js';
import { execCapture } from '../../src/pg/exec.js';
import { findPgTool } from '../../src/pg/find-binaries.js';
import { closedPort } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase, query } from '../helpers/db.js';
import { environmentFor, rejection, withSchema } from '../helpers/project.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/prisma-history/prisma', import.meta.url));
const MIGRATIONS = join(FIXTURE, 'migrations');
const SCHEMA = join(FIXTURE, 'schema.prisma');
const NAMES = readdirSync(MIGRATIONS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

const databases: FreshDatabase[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function db(): Promise<FreshDatabase> {
  const d = await freshDatabase('interop');
  databases.push(d);
  return d;
}

/**
 * Runs `fn` on an engine connected to `url`, then closes it. Always closed at once: an open engine
 * holds Prisma's advisory lock on the database from its first history operation until it is closed.
 */
function onEngine<T>(url: string, fn: (e: SchemaEngine) => Promise<T>, migrationsDir = MIGRATIONS): Promise<T> {
  return withEngine({ url, migrationsDir, schema: SCHEMA, label: 'engine' }, fn);
}

/** A copy of the fixture's migrations folder, to add or change migrations in. */
function copyOfHistory(names = NAMES): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagedb-interop-'));
  dirs.push(dir);
  cpSync(join(MIGRATIONS, 'migration_lock.toml'), join(dir, 'migration_lock.toml'));
  for (const n of names) cpSync(join(MIGRATIONS, n), join(dir, n), { recursive: true });
  return dir;
}

/** Adds (or replaces) `<dir>/<name>/migration.sql`. */
function writeMigration(dir: string, name: string, sql: string): void {
  const path = join(dir, name);
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'migration.sql'), sql);
}


/** `_prisma_migrations` without what legitimately differs (ids, times), in history order. */
async function comparableRows(url: string, schema = 'public') {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await listRows(client, schema)).map((r) => ({
      migration_name: r.migration_name,
      checksum: r.checksum,
      logs: r.logs,
      finished: r.finished_at !== null,
      rolled_back: r.rolled_back_at !== null,
      applied_steps_count: r.applied_steps_count,
    }));
  } finally {
    await client.end();
  }
}

/** The history table's definition as PostgreSQL stores it: columns, types, nullability, defaults, key. */
async function historyTableDefinition(url: string, schema = 'public') {
  const columns = await query(
    url,
    `SELECT column_name, ordinal_position, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = $1 AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    [schema],
  );
  const constraints = await query(
    url,
    `SELECT c.conname, c.contype::text AS contype, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname = '_prisma_migrations' ORDER BY 1`,
    [schema],
  );
  return { columns, constraints };
}

/** `pg_dump --schema-only`, without the lines that differ between any two dumps. */
async function schemaDump(url: string): Promise<string> {
  const pgDump = await findPgTool('pg_dump');
  const r = await execCapture(pgDump, ['--schema-only', '--no-owner', '--no-privileges', `--dbname=${url}`]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  // \restrict carries a random key per dump (PostgreSQL's CVE-2025-8714 fix).
  return r.stdout.replace(/^\\(un)?restrict .*$/gm, '').replace(/^-- Dumped (from|by) .*$/gm, '');
}

const env = (d: FreshDatabase, url = d.url) => environmentFor(url, 'test');
const stagedbDeploy = (url: string, migrationsDir = MIGRATIONS) => deploy({ env: environmentFor(url, 'test'), migrationsDir });

describe('the fixture history, deployed by stagedb and by the engine', () => {
  let a: FreshDatabase;
  let b: FreshDatabase;
  beforeAll(async () => {
    [a, b] = [await db(), await db()];
    const byStagedb = await stagedbDeploy(a.url);
    expect(byStagedb.applied.map((m) => m.name)).toEqual(NAMES);
    // The enum removal carries Prisma's own BEGIN/COMMIT; stagedb runs it as written.
    expect(byStagedb.applied.find((m) => m.name.endsWith('_remove_editor_role'))?.mode).toBe('file-managed');
    const byEngine = await onEngine(b.url, (e) => e.applyMigrations());
    expect(byEngine.applied).toEqual(NAMES);
  });

  it('writes the same _prisma_migrations rows', async () => {
    const [ra, rb] = [await comparableRows(a.url), await comparableRows(b.url)];
    expect(ra).toEqual(rb);
    expect(ra).toEqual(
      readLocalHistory(MIGRATIONS).migrations.map((m) => ({
        migration_name: m.name,
        checksum: checksum(m.script),
        logs: null,
        finished: true,
        rolled_back: false,
        applied_steps_count: 1,
      })),
    );
    // Times: started_at <= finished_at in both.
    for (const url of [a.url, b.url]) {
      const bad = await query(url, `SELECT migration_name FROM _prisma_migrations WHERE finished_at < started_at`);
      expect(bad).toEqual([]);
    }
  });

  it('creates the same history table', async () => {
    const [da, dbb] = [await historyTableDefinition(a.url), await historyTableDefinition(b.url)];
    expect(da).toEqual(dbb);
    expect(da.constraints).toEqual([{ conname: '_prisma_migrations_pkey', contype: 'p', def: 'PRIMARY KEY (id)' }]);
  });

  it('leaves identical schemas (pg_dump --schema-only)', async () => {
    const [sa, sb] = [await schemaDump(a.url), await schemaDump(b.url)];
    expect(sa).toBe(sb);
    expect(sa).toContain(`CREATE TYPE public."Role" AS ENUM (\n    'USER',\n    'ADMIN',\n    'MODERATOR'\n);`);
    expect(sa).toContain('CREATE INDEX "Comment_postId_createdAt_idx" ON public."Comment" USING btree ("postId", "createdAt" DESC);');
  });

  it('matches the schema.prisma it was generated from (engine diff database → schema is empty)', async () => {
    for (const url of [a.url, b.url]) {
      const d = await onEngine(url, (e) => e.diff({ kind: 'database' }, { kind: 'schema' }));
      expect(d.script).toBe('-- This is an empty migration.\n');
      expect(d.empty).toBe(true);
    }
  });

  it('is up to date for the engine when stagedb deployed it, drift included', async () => {
    const d = await onEngine(a.url, (e) => e.diagnoseMigrationHistory({ drift: true }));
    expect(d).toEqual({ hasMigrationsTable: true, failed: [], edited: [], unapplied: [], unpersisted: [], drift: '', upToDate: true });
  });

  it('is up to date for stagedb when the engine deployed it', async () => {
    const local = readLocalHistory(MIGRATIONS);
    const s = await environmentStatus(env(b), local);
    expect(s.state).toBe('up-to-date');
    expect(s.history).toMatchObject({ applied: NAMES.length, pending: 0, failed: [], modified: [], missingLocally: [], outOfOrder: [] });
    const client = new pg.Client({ connectionString: b.url });
    await client.connect();
    try {
      expect(compareHistory(local.migrations, await listRows(client, 'public')).entries.map((e) => e.state)).toEqual(NAMES.map(() => 'applied'));
    } finally {
      await client.end();
    }
  });
});

describe('taking turns on one database', () => {
  it('stagedb deploys the first half, the engine the rest, and back', async () => {
    const [x, y] = [await db(), await db()];
    const half = copyOfHistory(NAMES.slice(0, 3));
    // x: stagedb first, then the engine; y: the engine first, then stagedb.
    await stagedbDeploy(x.url, half);
    await onEngine(x.url, async (e) => {
      expect(await e.diagnoseMigrationHistory()).toMatchObject({ unapplied: NAMES.slice(3), failed: [], edited: [], upToDate: false });
      expect((await e.applyMigrations()).applied).toEqual(NAMES.slice(3));
    });

    expect((await onEngine(y.url, (e) => e.applyMigrations(), half)).applied).toEqual(NAMES.slice(0, 3));
    const rest = await stagedbDeploy(y.url);
    expect(rest.applied.map((m) => m.name)).toEqual(NAMES.slice(3));
    expect(rest.alreadyApplied).toBe(3);

    expect(await comparableRows(x.url)).toEqual(await comparableRows(y.url));
    expect(await schemaDump(x.url)).toBe(await schemaDump(y.url));
  });

  it('agrees in a non-public schema (?schema=app)', async () => {
    // Only the first two migrations: Prisma wrote "public"."User" into the enum migration, generated
    // for the public schema, so the rest of this history only runs there (for either tool).
    const dir = copyOfHistory(NAMES.slice(0, 2));
    const [x, y] = [await db(), await db()];
    const [ux, uy] = [withSchema(x.url, 'app'), withSchema(y.url, 'app')];
    await stagedbDeploy(ux, dir);
    await onEngine(uy, (e) => e.applyMigrations(), dir);
    expect(await comparableRows(x.url, 'app')).toEqual(await comparableRows(y.url, 'app'));
    expect(await historyTableDefinition(x.url, 'app')).toEqual(await historyTableDefinition(y.url, 'app'));
    expect(await schemaDump(x.url)).toBe(await schemaDump(y.url));
    expect(await query(x.url, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).toEqual([{ n: 0 }]);
    expect(await onEngine(ux, (e) => e.diagnoseMigrationHistory({ drift: true }), dir)).toMatchObject({ upToDate: true, drift: '' });
    expect((await environmentStatus(environmentFor(uy, 'test'), readLocalHistory(dir))).state).toBe('up-to-date');
  });
});

/** Fails at its third statement, after two that the engine (statement by statement) commits. */
const BROKEN = `-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Post_slug_key" ON "Post"("slug");

-- Seed tags (the second row breaks Tag_name_key)
INSERT INTO "Tag" ("name") VALUES ('news'), ('news');
`;
const FIXED = BROKEN.replace(`('news'), ('news')`, `('news'), ('sports')`);
const BROKEN_NAME = '20240121093000_post_slug';

describe('a migration that fails midway', () => {
  let dir: string;
  let c: FreshDatabase; // failed by stagedb
  let d: FreshDatabase; // failed by the engine
  let engineFailure: Awaited<ReturnType<typeof rejection>>;
  beforeAll(async () => {
    dir = copyOfHistory();
    writeMigration(dir, BROKEN_NAME, BROKEN);
    [c, d] = [await db(), await db()];
    const s = await rejection(stagedbDeploy(c.url, dir));
    expect(s).toMatchObject({ kind: 'migration', code: 'E_MIGRATION_FAILED' });
    engineFailure = await rejection(onEngine(d.url, (x) => x.applyMigrations(), dir));
  });

  it('fails in the engine with a message that names the migration and what was committed', () => {
    expect(engineFailure).toMatchInlineSnapshot(`
      {
        "code": "E_MIGRATION_FAILED",
        "details": [
          "committed: the schema engine runs a migration statement by statement, so the statements before the failing one were committed",
        ],
        "fix": "undo those statements and fix migration.sql, then: stagedb migrate resolve --rolled-back 20240121093000_post_slug   (or, if you complete it by hand: stagedb migrate resolve --applied 20240121093000_post_slug)",
        "kind": "migration",
        "message": "engine: migration 20240121093000_post_slug failed while the schema engine applied it: Unique constraint failed: Tag_name_key",
      }
    `);
  });

  it('is recorded the same way by both: unfinished, no step, logs', async () => {
    const [rc, rd] = [await comparableRows(c.url), await comparableRows(d.url)];
    const failed = (rows: typeof rc) => rows.filter((r) => r.migration_name === BROKEN_NAME);
    expect(failed(rc)).toHaveLength(1);
    expect(failed(rd)).toHaveLength(1);
    for (const r of [failed(rc)[0]!, failed(rd)[0]!]) {
      expect(r).toMatchObject({ checksum: checksum(BROKEN), finished: false, rolled_back: false, applied_steps_count: 0 });
    }
    // The logs are each tool's own words: PostgreSQL's error (stagedb) or the driver adapter's summary of it (engine).
    expect(failed(rc)[0]!.logs).toContain('ERROR: duplicate key value violates unique constraint "Tag_name_key"');
    expect(failed(rd)[0]!.logs).toMatch(/^external connector error\nUnique constraint failed: Tag_name_key\n/);
    // Everything but the logs' wording is the same; the wording is each tool's own.
    const withoutLogs = (rows: typeof rc) => rows.map(({ logs, ...rest }) => ({ ...rest, hasLogs: logs !== null && logs !== '' }));
    expect(withoutLogs(rc)).toEqual(withoutLogs(rd));
  });

  it('differs in what it leaves behind: stagedb commits nothing, the WASM engine commits the statements before the failure', async () => {
    const slug = (url: string) => query(url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'Post' AND column_name = 'slug'`);
    expect(await slug(c.url)).toEqual([]);
    expect(await slug(d.url)).toEqual([{ column_name: 'slug' }]);
  });

  it('blocks the other tool: the engine refuses (P3009) after stagedb failed, stagedb refuses after the engine failed', async () => {
    const byEngine = await rejection(onEngine(c.url, (e) => e.applyMigrations(), dir));
    byEngine.message = byEngine.message.replace(/\(started [^)]*\)/, '(started <time>)');
    expect(byEngine).toMatchInlineSnapshot(`
      {
        "code": "E_FAILED_MIGRATION",
        "fix": "after undoing its partial changes and fixing the file: stagedb migrate resolve --rolled-back 20240121093000_post_slug; if you finished it by hand instead: stagedb migrate resolve --applied 20240121093000_post_slug",
        "kind": "history",
        "message": "engine: migration 20240121093000_post_slug failed (started <time>) and blocks new deploys (Prisma P3009)",
      }
    `);

    const byStagedb = await rejection(stagedbDeploy(d.url, dir));
    expect(byStagedb).toMatchObject({ kind: 'history', code: 'E_FAILED_MIGRATION' });

    expect(await onEngine(c.url, (e) => e.diagnoseMigrationHistory(), dir)).toMatchObject({ failed: [BROKEN_NAME], upToDate: false });
    const status = await environmentStatus(env(d), readLocalHistory(dir));
    expect(status.state).toBe('blocked');
    expect(status.history?.failed.map((f) => f.name)).toEqual([BROKEN_NAME]);
  });

  it("is resolved --rolled-back by either tool, after which the other deploys the fixed file", async () => {
    // c: stagedb failed it (nothing committed); stagedb marks it rolled back; the engine deploys.
    await resolveMigration({ env: env(c), migrationsDir: dir, name: BROKEN_NAME, as: 'rolled-back' });
    // d: the engine failed it and left its first two statements; undo them, the engine marks it rolled back, stagedb deploys.
    await query(d.url, `DROP INDEX "Post_slug_key"; ALTER TABLE "Post" DROP COLUMN "slug"`);
    await onEngine(d.url, (e) => e.markMigrationRolledBack(BROKEN_NAME), dir);

    const rolledBack = async (url: string) => (await comparableRows(url)).filter((r) => r.migration_name === BROKEN_NAME);
    for (const url of [c.url, d.url]) {
      expect(await rolledBack(url)).toMatchObject([{ finished: false, rolled_back: true, applied_steps_count: 0 }]);
    }

    writeMigration(dir, BROKEN_NAME, FIXED);
    expect((await onEngine(c.url, (e) => e.applyMigrations(), dir)).applied).toEqual([BROKEN_NAME]);
    expect((await stagedbDeploy(d.url, dir)).applied.map((m) => m.name)).toEqual([BROKEN_NAME]);

    const [rc, rd] = [await comparableRows(c.url), await comparableRows(d.url)];
    const withoutLogs = (rows: typeof rc) => rows.map(({ logs, ...rest }) => ({ ...rest, hasLogs: logs !== null && logs !== '' }));
    expect(withoutLogs(rc)).toEqual(withoutLogs(rd));
    expect(rc.filter((r) => r.migration_name === BROKEN_NAME)).toMatchObject([
      { checksum: checksum(BROKEN), finished: false, rolled_back: true, applied_steps_count: 0 },
      { checksum: checksum(FIXED), finished: true, rolled_back: false, applied_steps_count: 1, logs: null },
    ]);
    expect(await schemaDump(c.url)).toBe(await schemaDump(d.url));

    expect((await onEngine(d.url, (e) => e.diagnoseMigrationHistory({ drift: true }), dir)).upToDate).toBe(true);
    expect((await environmentStatus(env(c), readLocalHistory(dir))).state).toBe('up-to-date');
  });
});

describe('resolve --applied', () => {
  it('writes the rows markMigrationApplied writes, on a new database and over a failed attempt', async () => {
    const [e, f] = [await db(), await db()];
    const first = NAMES[0]!;
    // Baselining: no history table yet; both create it and record the migration without running it.
    await resolveMigration({ env: env(e), migrationsDir: MIGRATIONS, name: first, as: 'applied' });
    await onEngine(f.url, (e) => e.markMigrationApplied(first));
    expect(await comparableRows(e.url)).toEqual(await comparableRows(f.url));
    expect(await comparableRows(e.url)).toEqual([{ migration_name: first, checksum: checksum(readLocalHistory(MIGRATIONS).migrations[0]!.script), logs: '', finished: true, rolled_back: false, applied_steps_count: 0 }]);
    expect(await historyTableDefinition(e.url)).toEqual(await historyTableDefinition(f.url));
    for (const url of [e.url, f.url]) {
      // Recorded, not run: no table of the migration exists.
      expect(await query(url, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).toEqual([{ tablename: '_prisma_migrations' }]);
      expect(await query(url, `SELECT started_at = finished_at AS same FROM _prisma_migrations`)).toEqual([{ same: true }]);
    }

    // Over a failed attempt: the failed row is marked rolled back and a new applied row is added.
    const dir = copyOfHistory();
    writeMigration(dir, BROKEN_NAME, BROKEN);
    const [g, h] = [await db(), await db()];
    await rejection(stagedbDeploy(g.url, dir));
    await rejection(stagedbDeploy(h.url, dir));
    await resolveMigration({ env: env(g), migrationsDir: dir, name: BROKEN_NAME, as: 'applied' });
    await onEngine(h.url, (e) => e.markMigrationApplied(BROKEN_NAME), dir);
    const [rg, rh] = [await comparableRows(g.url), await comparableRows(h.url)];
    expect(rg).toEqual(rh);
    expect(rg.filter((r) => r.migration_name === BROKEN_NAME)).toMatchObject([
      { finished: false, rolled_back: true, applied_steps_count: 0 },
      { finished: true, rolled_back: false, applied_steps_count: 0, logs: '', checksum: checksum(BROKEN) },
    ]);
  });

  it('is refused by both with the same codes: already applied, not failed, never applied, unknown', async () => {
    const x = await db();
    await stagedbDeploy(x.url);
    const both = async (as: 'applied' | 'rolled-back', name: string) => {
      const byStagedb = await rejection(resolveMigration({ env: env(x), migrationsDir: MIGRATIONS, name, as }));
      const byEngine = await rejection(onEngine(x.url, (e) => (as === 'applied' ? e.markMigrationApplied(name) : e.markMigrationRolledBack(name))));
      return [byStagedb.code, `${byEngine.code} ${/\(Prisma (P\d+)\)/.exec(byEngine.message)?.[1]}`];
    };
    expect(await both('applied', NAMES[0]!)).toEqual(['E_ALREADY_APPLIED', 'E_ALREADY_APPLIED P3008']);
    expect(await both('rolled-back', NAMES[0]!)).toEqual(['E_NOT_FAILED', 'E_NOT_FAILED P3012']);
    expect(await both('rolled-back', '20990101000000_nope')).toEqual(['E_NEVER_APPLIED', 'E_NEVER_APPLIED P3011']);
    expect(await both('applied', '20990101000000_nope')).toEqual(['E_MIGRATION_UNKNOWN', 'E_MIGRATION_UNKNOWN P3017']);
  });
});

describe('an applied migration edited afterwards', () => {
  it('is flagged by both, and a CRLF checkout by neither', async () => {
    const x = await db();
    const dir = copyOfHistory();
    await stagedbDeploy(x.url, dir);
    const first = readLocalHistory(dir).migrations[0]!;
    const verdicts = async (script: string) => {
      writeMigration(dir, first.name, script);
      const byEngine = await onEngine(x.url, (e) => e.diagnoseMigrationHistory(), dir);
      const byStagedb = await environmentStatus(env(x), readLocalHistory(dir));
      return { engine: byEngine.edited, stagedb: byStagedb.history?.modified.map((m) => m.name) };
    };
    expect(await verdicts(first.script.replace(/\n/g, '\r\n'))).toEqual({ engine: [], stagedb: [] });
    expect(await verdicts(`${first.script}-- reviewed\n`)).toEqual({ engine: [first.name], stagedb: [first.name] });
    expect(await verdicts(`${first.script}\n`)).toEqual({ engine: [first.name], stagedb: [first.name] });
  });
});

describe('the engine module', () => {
  it('loads the pinned engine and hands it the Prisma 6 schema without what it refuses', async () => {
    const x = await db();
    await withEngine({ url: x.url, schema: SCHEMA }, async (e) => {
      expect(e.engineVersion).toBe(ENGINE_PACKAGE_VERSION.split('.').at(-1));
      expect(e.stripped.map((s) => (s.kind === 'datasource-property' ? `${s.property}=env(${s.env})` : `feature ${s.feature}`))).toEqual([
        'feature metrics',
        'feature driverAdapters',
        'url=env(DATABASE_URL)',
        'directUrl=env(DIRECT_URL)',
      ]);
      // Every preview feature stagedb keeps is one this engine accepts.
      const files = [{ path: 'all-features.prisma', content: `generator client {\n  provider = "prisma-client"\n  output = "x"\n  previewFeatures = ${JSON.stringify(ENGINE_PREVIEW_FEATURES)}\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n\nmodel A {\n  id Int @id\n}\n` }];
      expect((await e.diff({ kind: 'empty' }, { kind: 'schema', files })).script).toContain('CREATE TABLE "A"');
    });
  });

  it('reports an invalid schema as a config error that points at the file and line', async () => {
    const x = await db();
    const files = [{ path: 'prisma/schema.prisma', content: 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n\nmodel A {\n  id Int @id\n  b  Strin\n}\n' }];
    // Line 8 is still line 8: the stripped url line was blanked, not removed.
    expect(await rejection(withEngine({ url: x.url, label: 'development' }, (e) => e.diff({ kind: 'empty' }, { kind: 'schema', files })))).toMatchInlineSnapshot(`
      {
        "code": "E_SCHEMA_INVALID",
        "details": [
          "  -->  prisma/schema.prisma:8",
          "   |",
          " 7 |   id Int @id",
          " 8 |   b  Strin",
          "   |",
        ],
        "fix": "fix the schema where shown (stagedb already removed the datasource url/directUrl and the preview features this engine does not know)",
        "kind": "config",
        "message": "development: Type "Strin" is neither a built-in type, nor refers to another model, composite type, or enum. (Prisma P1012)",
      }
    `);
  });

  it('turns a Rust panic into E_ENGINE_PANIC, discards the crashed instance and starts a fresh one next time', async () => {
    const x = await db();
    const crashed = (await openEngine({ url: x.url, migrationsDir: MIGRATIONS })) as WasmSchemaEngine;
    try {
      const panic = await rejection(crashed.debugPanic());
      expect(panic).toMatchObject({ kind: 'internal', code: 'E_ENGINE_PANIC' });
      expect(panic.message).toContain('This is the debugPanic artificial panic');
      expect(await rejection(crashed.diagnoseMigrationHistory())).toMatchObject({ code: 'E_ENGINE_CLOSED' });
    } finally {
      await crashed.close();
    }
    expect(await onEngine(x.url, (e) => e.diagnoseMigrationHistory())).toMatchObject({ hasMigrationsTable: false, unapplied: NAMES });
  });

  it("fails to connect with stagedb's own connection errors", async () => {
    const port = await closedPort();
    const r = await rejection(openEngine({ url: `postgresql://u:secret@127.0.0.1:${port}/x`, label: 'staging' }));
    expect(r).toMatchObject({ kind: 'connection', code: 'E_CONN_REFUSED', message: `staging: nothing accepts connections at 127.0.0.1:${port}` });
  });
});
