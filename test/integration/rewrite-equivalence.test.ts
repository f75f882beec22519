/**
 * Proof of equivalence for the zero-downtime rewriter, one case per rewrite, on real PostgreSQL, as a
 * non-superuser that owns its database (as on RDS). For each schema edit: Prisma's engine generates
 * the migration (diff from the old schema to the new one, as migrate dev would write it); the
 * rewriter turns it into steps; then, each on its own database seeded with the same rows,
 *  - the oracle: Prisma's original SQL, each file sent whole as one simple query;
 *  - the steps through stagedb's deploy;
 *  - the steps each sent whole as one simple query (how Prisma ≤ 6 runs a file: one implicit transaction);
 *  - the steps through the engine's own applyMigrations.
 * The four end schemas must be identical (a catalog snapshot: columns, defaults, NOT NULL, indexes,
 * constraints and whether they are valid, enum values), show no drift against schema.prisma (the
 * engine's diff), and the steps must have no error-level lint finding, judged file by file and together.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, withEngine } from '../../src/engine/index.js';
import { deploy } from '../../src/history/deploy.js';
import { splitStatements } from '../../src/history/split.js';
import { lintFiles } from '../../src/lint/run.js';
import { readColumnFacts, rewriteMigration, stepDirectoryNames, type ColumnTarget, type RewriteResult } from '../../src/rewrite/index.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { environmentFor } from '../helpers/project.js';

const HEAD = 'datasource db {\n  provider = "postgresql"\n}\n';
const BASE = `${HEAD}
enum Role {
  USER
  ADMIN
}

model Account {
  id      Int      @id
  email   String?
  name    String
  balance Int
  role    Role     @default(USER)
}

model Ledger {
  id        Int @id
  accountId Int
  amount    Int
}

model Tag {
  id    Int    @id @default(autoincrement())
  label String @unique
}

model Empty {
  id Int @id
}

model Wallet {
  id    Int   @id
  cents Int   @default(0)
  score Int?
  kind  Role?

  @@index([cents])
}
`;

const SEED = `
INSERT INTO "Account" (id, email, name, balance) SELECT g, 'user' || g || '@example.com', 'name ' || g, g FROM generate_series(1, 3000) g;
INSERT INTO "Ledger" (id, "accountId", amount) SELECT g, 1 + g % 3000, g FROM generate_series(1, 3000) g;
INSERT INTO "Tag" (label) SELECT 'tag ' || g FROM generate_series(1, 50) g;
INSERT INTO "Wallet" (id, cents, score, kind) SELECT g, g * 7, CASE WHEN g % 3 = 0 THEN NULL ELSE g END, CASE WHEN g % 2 = 0 THEN 'USER'::"Role" END FROM generate_series(1, 3000) g;
`;

const sub = (from: string, to: string) => (s: string) => {
  if (!s.includes(from)) throw new Error(`test schema has no ${from}`);
  return s.replace(from, to);
};

interface Case {
  name: string;
  edit: (schema: string) => string;
  /** The rewrites expected to fire. */
  codes: string[];
}

const CASES: Case[] = [
  { name: 'add_index', edit: sub('  role    Role     @default(USER)\n}', '  role    Role     @default(USER)\n\n  @@index([email])\n}'), codes: ['ZDT001'] },
  { name: 'add_unique_field', edit: sub('  name    String\n', '  name    String   @unique\n'), codes: ['ZDT001'] },
  { name: 'drop_unique', edit: sub('label String @unique', 'label String'), codes: ['ZDT002'] },
  {
    name: 'add_relation',
    edit: (s) => sub('  amount    Int\n}', '  amount    Int\n  account   Account @relation(fields: [accountId], references: [id])\n}')(sub('  role    Role     @default(USER)\n}', '  role    Role     @default(USER)\n  ledgers Ledger[]\n}')(s)),
    codes: ['ZDT003'],
  },
  { name: 'optional_to_required', edit: sub('  email   String?\n', '  email   String\n'), codes: ['ZDT004'] },
  { name: 'change_primary_key', edit: sub('  id    Int    @id @default(autoincrement())\n  label String @unique', '  id    Int    @default(autoincrement())\n  label String @id'), codes: ['ZDT002', 'ZDT005'] },
  { name: 'add_uuid_column', edit: sub('  balance Int\n', '  balance Int\n  ref     String   @default(dbgenerated("gen_random_uuid()")) @db.Uuid\n'), codes: ['ZDT006'] },
  { name: 'add_required_column_on_empty_table', edit: sub('model Empty {\n  id Int @id\n}', 'model Empty {\n  id   Int    @id\n  note String\n}'), codes: ['ZDT008'] },
  {
    name: 'enum_value_used_at_once',
    edit: (s) => sub('  ADMIN\n}', '  ADMIN\n  MODERATOR\n}')(sub('  id    Int    @id @default(autoincrement())\n  label String @unique\n}', '  id    Int    @id @default(autoincrement())\n  label String @unique\n  role  Role   @default(MODERATOR)\n}')(s)),
    codes: ['ZDT007'],
  },
  {
    name: 'required_email_index_and_relation',
    edit: (s) =>
      sub('  amount    Int\n}', '  amount    Int\n  account   Account @relation(fields: [accountId], references: [id])\n}')(
        sub('  role    Role     @default(USER)\n}', '  role    Role     @default(USER)\n  ledgers Ledger[]\n\n  @@index([email])\n}')(sub('  email   String?\n', '  email   String\n')(s)),
      ),
    codes: ['ZDT001', 'ZDT003', 'ZDT004'],
  },
  {
    name: 'type_changes',
    edit: (s) => sub('  score Int?\n', '  score Float?\n')(sub('  cents Int   @default(0)\n', '  cents BigInt @default(0)\n')(s)),
    codes: ['ZDT009'],
  },
  { name: 'enum_value_removed', edit: sub('  USER\n  ADMIN\n}', '  USER\n}'), codes: ['ZDT010'] },
  { name: 'add_field_with_constant_default', edit: sub('  balance Int\n', '  balance Int\n  active  Boolean  @default(true)\n'), codes: [] },
  { name: 'new_table_with_index_and_relation', edit: (s) => `${sub('  role    Role     @default(USER)\n}', '  role    Role     @default(USER)\n  notes   Note[]\n}')(s)}\nmodel Note {\n  id        Int     @id\n  accountId Int\n  account   Account @relation(fields: [accountId], references: [id])\n\n  @@index([accountId])\n}\n`, codes: [] },
];

const OWNER = `zdt_owner_${process.pid}`;
const OWNER_PW = 'owner-only';
const databases: FreshDatabase[] = [];
const dirs: string[] = [];
let initSql = '';

afterAll(async () => {
  for (const d of databases) await d.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${OWNER}`).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A database owned by a role that is no superuser, and that role's URL. */
async function ownedDb(): Promise<string> {
  const d = await freshDatabase('zdt');
  databases.push(d);
  await query(adminUrl(), `ALTER DATABASE ${d.name} OWNER TO ${OWNER}`);
  await query(d.url, `ALTER SCHEMA public OWNER TO ${OWNER}`);
  const u = new URL(d.url);
  u.username = OWNER;
  u.password = OWNER_PW;
  return u.toString();
}

async function simpleQueries(url: string, scripts: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // No parameters: pg sends a simple query, the whole file in one message, as Prisma ≤ 6 does.
    for (const s of scripts) await c.query(s);
  } finally {
    await c.end();
  }
}

/** Everything about the schema an application (and Prisma) can see, in a stable order. */
async function snapshot(url: string): Promise<unknown> {
  const [r] = await query<{ s: unknown }>(
    url,
    `SELECT json_build_object(
       'columns', (SELECT json_agg(json_build_object('t', c.relname, 'c', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notnull', a.attnotnull, 'default', pg_get_expr(d.adbin, d.adrelid)) ORDER BY c.relname, a.attname)
                   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> '_prisma_migrations' AND a.attnum > 0 AND NOT a.attisdropped),
       'indexes', (SELECT json_agg(json_build_object('i', c.relname, 'def', pg_get_indexdef(i.indexrelid), 'valid', i.indisvalid) ORDER BY c.relname)
                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = i.indrelid
                  WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'),
       'constraints', (SELECT json_agg(json_build_object('t', t.relname, 'name', k.conname, 'def', pg_get_constraintdef(k.oid), 'valid', k.convalidated) ORDER BY t.relname, k.conname)
                   FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                  WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'),
       'enums', (SELECT json_agg(json_build_object('e', t.typname, 'v', e.enumlabel) ORDER BY t.typname, e.enumsortorder)
                   FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid)
     ) AS s`,
  );
  return r!.s;
}

/** The rewrite as migrate dev makes it: the columns a plan moves read from a database at the state before the migration. */
async function rewriteWithFacts(sql: string): Promise<RewriteResult> {
  const url = await ownedDb();
  await simpleQueries(url, [initSql, SEED]);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await rewriteMigration(sql, { describeColumns: (targets: ColumnTarget[]) => readColumnFacts(c, targets) });
  } finally {
    await c.end();
  }
}

/** The rows a plan moves, by value (jsonb orders the keys: a column's position does not matter). */
async function rows(url: string): Promise<unknown> {
  const [r] = await query<{ w: string; a: string }>(url, `SELECT (SELECT md5(string_agg(to_jsonb(w)::text, ',' ORDER BY id)) FROM "Wallet" w) AS w, (SELECT md5(string_agg(id || ':' || role::text, ',' ORDER BY id)) FROM "Account") AS a`);
  return r;
}

async function prismaSql(from: string, to: string): Promise<string> {
  const url = await ownedDb();
  return withEngine({ url, label: 'generate' }, async (e) => (await e.diff({ kind: 'schema', files: [{ path: 'schema.prisma', content: from }] }, { kind: 'schema', files: [{ path: 'schema.prisma', content: to }] })).script);
}

async function drift(url: string, schema: string): Promise<string> {
  return withEngine({ url, label: 'drift' }, async (e) => {
    const d = await e.diff({ kind: 'database' }, { kind: 'schema', files: [{ path: 'schema.prisma', content: schema }] });
    return d.empty ? '' : d.script;
  });
}

/** A migrations folder with the init migration and, later, the steps. */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagedb-zdt-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  mkdirSync(join(dir, '20260101000000_init'));
  writeFileSync(join(dir, '20260101000000_init', 'migration.sql'), initSql);
  return dir;
}

function addSteps(dir: string, rewritten: RewriteResult, name: string): void {
  const names = stepDirectoryNames(`20260102000000_${name}`, rewritten.steps);
  rewritten.steps.forEach((s, i) => {
    mkdirSync(join(dir, names[i]!));
    writeFileSync(join(dir, names[i]!, 'migration.sql'), s.script);
  });
}

beforeAll(async () => {
  await query(adminUrl(), `CREATE ROLE ${OWNER} LOGIN PASSWORD '${OWNER_PW}' NOSUPERUSER NOCREATEDB`);
  initSql = await prismaSql(HEAD, BASE);
}, 60_000);

describe.each(CASES)('$name', (c) => {
  let edited: string;
  let original: string;
  let rewritten: RewriteResult;
  let oracle: unknown;
  let oracleRows: unknown;

  beforeAll(async () => {
    edited = c.edit(BASE);
    original = await prismaSql(BASE, edited);
    rewritten = await rewriteWithFacts(original);
    const url = await ownedDb();
    // Prisma's SQL statement by statement, each committing on its own (as Prisma 7's engine runs a file):
    // the oracle must reach the end schema even where the file as one transaction cannot (a new enum value used at once).
    await simpleQueries(url, [initSql, SEED, ...splitStatements(original).map((x) => x.text)]);
    oracle = await snapshot(url);
    oracleRows = await rows(url);
  }, 60_000);

  it('rewrites what it should, leaves the rest as Prisma wrote it, and finds nothing more to rewrite in its own steps', async () => {
    expect([...new Set(rewritten.changes.map((x) => x.code))].sort()).toEqual(c.codes);
    for (const step of rewritten.steps) expect(await rewriteMigration(step.script), step.script).toMatchObject({ changed: false, unsafe: [] });
    expect(rewritten.unsafe).toEqual([]);
    expect(rewritten.changed).toBe(c.codes.length > 0);
    if (!rewritten.changed) expect(rewritten.steps.map((s) => s.script)).toEqual([original]);
    for (const ch of rewritten.changes) expect(ch.why.length).toBeGreaterThan(20);
  });

  it('deploys through stagedb to the schema of Prisma\'s SQL, with no drift', async () => {
    const url = await ownedDb();
    const dir = folder();
    const env = environmentFor(url);
    await deploy({ env, migrationsDir: dir });
    await simpleQueries(url, [SEED]);
    addSteps(dir, rewritten, c.name);
    const r = await deploy({ env, migrationsDir: dir });
    expect(r.applied).toHaveLength(rewritten.steps.length);
    expect(await snapshot(url)).toEqual(oracle);
    expect(await rows(url)).toEqual(oracleRows);
    expect(await drift(url, edited)).toBe('');
  }, 60_000);

  it.runIf(c.name === 'enum_value_used_at_once')('Prisma\'s own file fails as one transaction: the reason for the rewrite', async () => {
    const url = await ownedDb();
    await simpleQueries(url, [initSql]);
    await expect(simpleQueries(url, [original])).rejects.toThrow(/unsafe use of new value "MODERATOR"/);
  });

  it('deploys with each file sent whole as one simple query (one implicit transaction) to the same schema', async () => {
    const url = await ownedDb();
    await simpleQueries(url, [initSql, SEED, ...rewritten.steps.map((s) => s.script)]);
    expect(await snapshot(url)).toEqual(oracle);
    expect(await rows(url)).toEqual(oracleRows);
  }, 60_000);

  it('deploys through the engine\'s applyMigrations to the same schema', async () => {
    const url = await ownedDb();
    const dir = folder();
    await withEngine({ url, migrationsDir: dir, label: 'engine' }, (e) => e.applyMigrations());
    await simpleQueries(url, [SEED]);
    addSteps(dir, rewritten, c.name);
    const engine = await openEngine({ url, migrationsDir: dir, label: 'engine' });
    try {
      expect((await engine.applyMigrations()).applied).toHaveLength(rewritten.steps.length);
    } finally {
      await engine.close();
    }
    expect(await snapshot(url)).toEqual(oracle);
    expect(await rows(url)).toEqual(oracleRows);
  }, 60_000);

  it('has no error-level lint finding, file by file and deployed together', async () => {
    const files = rewritten.steps.map((s, i) => ({ path: `step${i + 1}.sql`, sql: s.script }));
    for (const separately of [true, false]) {
      for (const runner of ['stagedb', 'prisma'] as const) {
        const r = await lintFiles(files, { separately, runner });
        expect(r.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.file}: ${f.message}`), `${runner}${separately ? ', file by file' : ''}`).toEqual([]);
      }
    }
  });
});

describe('a required column without a default on a table with rows (ZDT008)', () => {
  it('stops at the guard with what to do, nothing hazardous done; filled, the same folders finish the change', async () => {
    const edited = sub('  balance Int\n', '  balance Int\n  nick    String\n')(BASE);
    const original = await prismaSql(BASE, edited);
    expect(original).toContain('ADD COLUMN     "nick" TEXT NOT NULL');
    const rewritten = await rewriteMigration(original);
    expect(rewritten.changes.map((c) => c.code)).toEqual(['ZDT008']);
    const url = await ownedDb();
    const dir = folder();
    const env = environmentFor(url);
    await deploy({ env, migrationsDir: dir });
    await simpleQueries(url, [SEED]);
    addSteps(dir, rewritten, 'nick');
    const failed = await deploy({ env, migrationsDir: dir }).catch((e: unknown) => e as Error & { code?: string });
    expect(failed).toMatchObject({ code: 'E_MIGRATION_FAILED' });
    expect((failed as Error).message).toContain('stagedb: "Account"."nick" is still NULL in some rows; fill it (see this migration.sql), then deploy again');
    // The column is there, nullable: the app version that writes it can run; old rows are untouched.
    expect(await query(url, `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'Account' AND column_name = 'nick'`)).toEqual([{ is_nullable: 'YES' }]);

    await query(url, `UPDATE "Account" SET nick = 'n' || id`);
    const { resolveMigration } = await import('../../src/history/resolve.js');
    const guard = stepDirectoryNames('20260102000000_nick', rewritten.steps)[1]!;
    await resolveMigration({ env, migrationsDir: dir, name: guard, as: 'rolled-back' });
    await deploy({ env, migrationsDir: dir });
    expect(await query(url, `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'Account' AND column_name = 'nick'`)).toEqual([{ is_nullable: 'NO' }]);
    expect(await drift(url, edited)).toBe('');
  }, 60_000);
});

describe('a primary key moved to a unique column (ZDT002 + ZDT005)', () => {
  it('never leaves the column without a valid unique index: the old one is dropped only after the new key is attached', async () => {
    const edited = sub('  id    Int    @id @default(autoincrement())\n  label String @unique', '  id    Int    @default(autoincrement())\n  label String @id')(BASE);
    const rewritten = await rewriteMigration(await prismaSql(BASE, edited));
    const url = await ownedDb();
    await simpleQueries(url, [initSql, SEED]);
    const guarded = async () =>
      (await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = 'label' WHERE i.indrelid = '"Tag"'::regclass AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum`))[0]!.n;
    expect(await guarded()).toBe(1);
    for (const step of rewritten.steps) {
      await simpleQueries(url, [step.script]);
      expect(await guarded(), step.script).toBeGreaterThan(0);
    }
    expect(await drift(url, edited)).toBe('');
  }, 60_000);
});

describe('an enum value removed while rows still hold it (ZDT010)', () => {
  it('stops before anything changes, with what to do; moved off it, the same folders finish the change', async () => {
    const edited = sub('  USER\n  ADMIN\n}', '  USER\n}')(BASE);
    const rewritten = await rewriteWithFacts(await prismaSql(BASE, edited));
    expect(rewritten.changes.map((c) => c.code)).toEqual(['ZDT010']);
    const url = await ownedDb();
    const dir = folder();
    const env = environmentFor(url);
    await deploy({ env, migrationsDir: dir });
    await simpleQueries(url, [SEED, `UPDATE "Account" SET role = 'ADMIN' WHERE id <= 10`]);
    addSteps(dir, rewritten, 'drop_admin');
    const failed = await deploy({ env, migrationsDir: dir }).catch((e: unknown) => e as Error & { code?: string });
    expect(failed).toMatchObject({ code: 'E_MIGRATION_FAILED' });
    expect((failed as Error).message).toContain('stagedb: "Account"."role" still holds a value the new "Role_new" drops; move those rows (see this migration.sql), then deploy again');
    // Nothing of the plan is there: the guard ran first, in the expand's transaction.
    expect(await query(url, `SELECT typname FROM pg_type WHERE typname LIKE 'Role%' ORDER BY 1`)).toEqual([{ typname: 'Role' }]);
    expect(await query(url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name LIKE '%zdt%'`)).toEqual([{ n: 0 }]);

    await query(url, `UPDATE "Account" SET role = 'USER' WHERE role = 'ADMIN'`);
    const { resolveMigration } = await import('../../src/history/resolve.js');
    await resolveMigration({ env, migrationsDir: dir, name: stepDirectoryNames('20260102000000_drop_admin', rewritten.steps)[0]!, as: 'rolled-back' });
    await deploy({ env, migrationsDir: dir });
    expect(await query(url, `SELECT count(*)::int AS n FROM "Account" WHERE role = 'USER'`)).toEqual([{ n: 3000 }]);
    expect(await drift(url, edited)).toBe('');
  }, 60_000);
});

describe('a renamed field: Prisma drops the old column and adds a required one (ZDT011)', () => {
  it('says the data would be lost, and keeps the old column until the new one is filled, so it can be filled from it', async () => {
    const edited = sub('  name    String\n', '  fullName String\n')(BASE);
    const original = await prismaSql(BASE, edited);
    expect(original).toContain('DROP COLUMN "name",\nADD COLUMN     "fullName" TEXT NOT NULL');
    const rewritten = await rewriteWithFacts(original);
    expect(rewritten.unsafe).toMatchObject([{ code: 'ZDT011', message: '"Account" loses "name" and gains "fullName": if this is a renamed field, every value of "name" is lost', plan: expect.stringContaining('fullName … @map("name")') }]);
    expect(rewritten.changes.map((c) => c.code).sort()).toEqual(['ZDT008', 'ZDT011']);
    const url = await ownedDb();
    const dir = folder();
    const env = environmentFor(url);
    await deploy({ env, migrationsDir: dir });
    await simpleQueries(url, [SEED]);
    addSteps(dir, rewritten, 'rename');
    await expect(deploy({ env, migrationsDir: dir })).rejects.toThrow('"Account"."fullName" is still NULL in some rows');
    // The guard stopped the deploy with "name" and its data still there, no longer required (the new app writes only fullName).
    await query(url, `INSERT INTO "Account" (id, "fullName", balance) VALUES (9001, 'new app', 0)`);
    await query(url, `UPDATE "Account" SET "fullName" = name WHERE "fullName" IS NULL`);
    const { resolveMigration } = await import('../../src/history/resolve.js');
    await resolveMigration({ env, migrationsDir: dir, name: stepDirectoryNames('20260102000000_rename', rewritten.steps)[1]!, as: 'rolled-back' });
    await deploy({ env, migrationsDir: dir });
    expect(await query(url, `SELECT "fullName" FROM "Account" WHERE id IN (7, 9001) ORDER BY id`)).toEqual([{ fullName: 'name 7' }, { fullName: 'new app' }]);
    expect(await drift(url, edited)).toBe('');
  }, 60_000);
});

describe('the app writes while a type change moves its columns (ZDT009)', () => {
  const APP = `zdt_app_${process.pid}`;
  afterAll(async () => {
    await query(adminUrl(), `DROP OWNED BY ${APP}; DROP ROLE IF EXISTS ${APP}`).catch(() => undefined);
  });

  it('an application role that does not own the table inserts and updates between every step; every value arrives, converted', async () => {
    const edited = sub('  score Int?\n', '  score Float?\n')(sub('  cents Int   @default(0)\n', '  cents BigInt @default(0)\n')(BASE));
    const rewritten = await rewriteWithFacts(await prismaSql(BASE, edited));
    expect(rewritten.changes.map((c) => c.code)).toEqual(['ZDT009', 'ZDT009']);
    const url = await ownedDb();
    await simpleQueries(url, [initSql, SEED]);
    await query(adminUrl(), `CREATE ROLE ${APP} LOGIN PASSWORD 'app'`);
    await query(url, `GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ${APP}`);
    const app = new URL(url);
    app.username = APP;
    app.password = 'app';
    const write = async (i: number) => {
      await query(app.toString(), `INSERT INTO "Wallet" (id, score) VALUES (${10_000 + i}, ${i})`);
      await query(app.toString(), `UPDATE "Wallet" SET cents = cents + 1, score = 5 WHERE id = ${i + 1}`);
    };
    await write(0);
    for (let i = 0; i < rewritten.steps.length; i++) {
      await simpleQueries(url, [rewritten.steps[i]!.script]);
      await write(i + 1);
    }
    const n = rewritten.steps.length + 1;
    const got = await query<{ id: number; cents: string; score: number }>(url, `SELECT id, cents::text AS cents, score FROM "Wallet" WHERE id <= ${n} OR id >= 10000 ORDER BY id`);
    expect(got).toEqual([
      ...Array.from({ length: n }, (_, i) => ({ id: i + 1, cents: String((i + 1) * 7 + 1), score: 5 })),
      ...Array.from({ length: n }, (_, i) => ({ id: 10_000 + i, cents: '0', score: i })),
    ]);
    expect(await query(url, `SELECT count(*)::int AS n FROM "Wallet" WHERE cents IS NULL`)).toEqual([{ n: 0 }]);
    expect(await drift(url, edited)).toBe('');
  }, 60_000);
});

describe('what the plan reads of a column (readColumnFacts)', () => {
  it('names why a column cannot be moved alone: a constraint, a view, an expression index, a partitioned table', async () => {
    const url = await ownedDb();
    await simpleQueries(url, [
      `CREATE TABLE p (id int PRIMARY KEY, a int NOT NULL DEFAULT 1, b int, c int, d int, e int);
       CREATE INDEX p_a_idx ON p (a DESC);
       CREATE UNIQUE INDEX p_b_key ON p (b);
       CREATE INDEX p_c_expr ON p ((c + 1));
       CREATE VIEW pv AS SELECT d FROM p;
       CREATE TABLE q (id int, pid int REFERENCES p (id)) PARTITION BY RANGE (id);`,
    ]);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const facts = await readColumnFacts(c, ['a', 'b', 'c', 'd', 'e', 'id'].map((column) => ({ schema: 'public', table: 'p', column })).concat([{ schema: 'public', table: 'q', column: 'id' }, { schema: 'public', table: 'nope', column: 'x' }]));
      const by = Object.fromEntries(facts.map((f) => [`${f.table}.${f.column}`, f]));
      expect(Object.keys(by).sort()).toEqual(['p.a', 'p.b', 'p.c', 'p.d', 'p.e', 'p.id', 'q.id']);
      expect(by['p.a']).toMatchObject({ notNull: true, default: '1', indexes: [{ name: 'p_a_idx', unique: false, using: 'btree (a DESC)' }] });
      expect(by['p.a']!.blocker).toBeUndefined();
      expect(by['p.b']).toMatchObject({ notNull: false, indexes: [{ name: 'p_b_key', unique: true, using: 'btree (b)' }] });
      expect(by['p.c']!.blocker).toContain('its index "p_c_expr" cannot be built again by name');
      expect(by['p.d']!.blocker).toBe('a view or rule reads it');
      expect(by['p.e']).toMatchObject({ notNull: false, indexes: [] });
      expect(by['p.e']!.blocker).toBeUndefined();
      expect(by['p.id']!.blocker).toBe('the constraints "p_pkey", "q_pid_fkey" use it');
      expect(by['q.id']!.blocker).toContain('the table is partitioned');
    } finally {
      await c.end();
    }
  });
});
