import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOCK_CLASS, LOCK_WORKFLOW } from '../../src/guard/lock.js';
import { deploy, type DeployEvent } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { environmentStatus } from '../../src/history/status.js';
import { freshDatabase, type FreshDatabase, query } from '../helpers/db.js';
import { createProject, environmentFor, rejection, withSchema, type TempProject } from '../helpers/project.js';


const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Row {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const rows = (url: string, schema = 'public') =>
  query<Row>(url, `SELECT * FROM "${schema}"._prisma_migrations ORDER BY started_at, migration_name`);

const tables = async (url: string, schema = 'public') =>
  (await query<{ t: string }>(url, `SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema])).map((r) => r.t);

const INIT = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
`;
const POSTS = `-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "authorId" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(migrations: Record<string, string | null>): Promise<{ db: FreshDatabase; project: TempProject }> {
  const db = await freshDatabase('deploy');
  const project = createProject({ migrations });
  cleanups.push(() => db.drop(), () => project.remove());
  return { db, project };
}

describe('deploy', () => {
  it('applies pending migrations in order and records them as Prisma does', async () => {
    const { db, project } = await setup({ '20240101000000_init': INIT, '20240102000000_posts': POSTS });
    const events: DeployEvent[] = [];
    const before = new Date();
    const result = await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, onEvent: (e) => events.push(e) });

    expect(result.applied.map((a) => [a.name, a.mode])).toEqual([
      ['20240101000000_init', 'transaction'],
      ['20240102000000_posts', 'transaction'],
    ]);
    expect(result.alreadyApplied).toBe(0);
    expect(result.serverVersion).toMatch(/^\d+/);
    // Consecutive transactional migrations go to the server in one message: both start, then both finish.
    expect(events.map((e) => e.type)).toEqual(['created-table', 'connected', 'apply-start', 'apply-start', 'apply-done', 'apply-done']);

    const recorded = await rows(db.url);
    expect(recorded.map((r) => r.migration_name)).toEqual(['20240101000000_init', '20240102000000_posts']);
    for (const [r, script] of [
      [recorded[0]!, INIT],
      [recorded[1]!, POSTS],
    ] as const) {
      expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.checksum).toBe(sha256(script));
      expect(r.applied_steps_count).toBe(1);
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.finished_at!.getTime()).toBeGreaterThanOrEqual(r.started_at.getTime());
      expect(r.started_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 5_000);
      expect(r.logs).toBeNull();
      expect(r.rolled_back_at).toBeNull();
    }
    expect(await tables(db.url)).toEqual(['Post', 'User', '_prisma_migrations']);
    // The migration really ran: the FK from the second file holds.
    await expect(query(db.url, `INSERT INTO "Post" ("authorId", title) VALUES (42, 'x')`)).rejects.toMatchObject({ code: '23503' });
  });

  it('creates _prisma_migrations with exactly Prisma\'s columns and types', async () => {
    const { db, project } = await setup({ '20240101000000_init': INIT });
    await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir });
    const cols = await query<{ column_name: string; data_type: string; is_nullable: string; len: number | null }>(
      db.url,
      `SELECT column_name, data_type, is_nullable, character_maximum_length AS len FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(cols.map((c) => `${c.column_name} ${c.data_type}${c.len ? `(${c.len})` : ''} ${c.is_nullable === 'YES' ? 'NULL' : 'NOT NULL'}`)).toEqual([
      'id character varying(36) NOT NULL',
      'checksum character varying(64) NOT NULL',
      'finished_at timestamp with time zone NULL',
      'migration_name character varying(255) NOT NULL',
      'logs text NULL',
      'rolled_back_at timestamp with time zone NULL',
      'started_at timestamp with time zone NOT NULL',
      'applied_steps_count integer NOT NULL',
    ]);
  });

  it('is a no-op when everything is applied, and applies only what is new', async () => {
    const { db, project } = await setup({ '20240101000000_init': INIT });
    const env = environmentFor(db.url);
    await deploy({ env, migrationsDir: project.migrationsDir });
    const first = await rows(db.url);

    const again = await deploy({ env, migrationsDir: project.migrationsDir });
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toBe(1);
    expect(await rows(db.url)).toEqual(first);

    project.addMigration('20240102000000_posts', POSTS);
    const third = await deploy({ env, migrationsDir: project.migrationsDir });
    expect(third.applied.map((a) => a.name)).toEqual(['20240102000000_posts']);
    expect(third.alreadyApplied).toBe(1);
    const after = await rows(db.url);
    expect(after).toHaveLength(2);
    expect(after[0]).toEqual(first[0]);
  });

  it('runs a file with CREATE INDEX CONCURRENTLY statement by statement, and says why', async () => {
    const { db, project } = await setup({
      '20240101000000_init': INIT,
      '20240102000000_email_idx': `-- A hand-written migration: no lock on "User" while the index builds.\nCREATE INDEX CONCURRENTLY "User_email_lower_idx" ON "User" (lower("email"));\n`,
    });
    const events: DeployEvent[] = [];
    const result = await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, onEvent: (e) => events.push(e) });
    expect(result.applied.map((a) => a.mode)).toEqual(['transaction', 'statements']);
    const start = events.find((e) => e.type === 'apply-start' && e.name === '20240102000000_email_idx');
    expect(start).toMatchObject({ mode: 'statements' });
    expect(start && 'reason' in start ? start.reason : '').toMatchInlineSnapshot(`"CREATE INDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own"`);
    const idx = await query<{ valid: boolean }>(db.url, `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'User_email_lower_idx'`);
    expect(idx).toEqual([{ valid: true }]);
    const [, row] = await rows(db.url);
    expect(row).toMatchObject({ migration_name: '20240102000000_email_idx', applied_steps_count: 1, logs: null, rolled_back_at: null });
    expect(row!.finished_at).toBeInstanceOf(Date);
  });

  it('statement by statement, a statement PostgreSQL refuses in a transaction block that stagedb does not list still runs (alone)', async () => {
    // CLUSTER without a table cannot run in a transaction block (25001); each step is BEGIN … COMMIT with its progress record.
    const { db, project } = await setup({ '20240101000000_init': INIT, '20240102000000_maint': `VACUUM "User";\nCLUSTER;\nCREATE TABLE "After" ("id" INT);\n` });
    const result = await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir });
    expect(result.applied.map((a) => a.mode)).toEqual(['transaction', 'statements']);
    const [, row] = await rows(db.url);
    expect(row).toMatchObject({ migration_name: '20240102000000_maint', applied_steps_count: 1, logs: null });
  });

  it("runs a file with its own BEGIN/COMMIT as written ('file-managed')", async () => {
    // What Prisma writes when it changes an enum: the file manages its own transaction.
    const enumChange = `-- AlterEnum
BEGIN;
CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');
ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'USER';
COMMIT;
`;
    const { db, project } = await setup({
      '20240101000000_init': `CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN', 'GUEST');\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "role" "Role" NOT NULL DEFAULT 'USER');\n`,
      '20240102000000_drop_guest': enumChange,
    });
    const events: DeployEvent[] = [];
    const result = await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, onEvent: (e) => events.push(e) });
    expect(result.applied.map((a) => a.mode)).toEqual(['transaction', 'file-managed']);
    const start = events.find((e) => e.type === 'apply-start' && e.name === '20240102000000_drop_guest');
    expect(start && 'reason' in start ? start.reason : '').toMatchInlineSnapshot(`"the file has its own BEGIN/COMMIT"`);
    const labels = await query<{ l: string }>(db.url, `SELECT unnest(enum_range(NULL::"Role"))::text AS l`);
    expect(labels.map((r) => r.l)).toEqual(['USER', 'ADMIN']);
    const recorded = await rows(db.url);
    expect(recorded[1]).toMatchObject({ migration_name: '20240102000000_drop_guest', applied_steps_count: 1, checksum: sha256(enumChange) });
    expect(recorded[1]!.finished_at).toBeInstanceOf(Date);
  });

  it('puts _prisma_migrations and the tables in the ?schema= of the URL', async () => {
    const { db, project } = await setup({ '20240101000000_init': INIT, '20240102000000_posts': POSTS });
    const url = withSchema(db.url, 'tenant_a');
    const env = environmentFor(url);
    expect(env.directInfo.schema).toBe('tenant_a');
    const result = await deploy({ env, migrationsDir: project.migrationsDir });
    expect(result.applied).toHaveLength(2);
    expect(await tables(db.url, 'tenant_a')).toEqual(['Post', 'User', '_prisma_migrations']);
    expect(await tables(db.url, 'public')).toEqual([]);
    expect((await rows(db.url, 'tenant_a')).map((r) => r.migration_name)).toEqual(['20240101000000_init', '20240102000000_posts']);

    // status reads the same schema; the default schema of the same database is a different, empty history.
    const local = readLocalHistory(project.migrationsDir);
    const custom = await environmentStatus(env, local);
    expect(custom).toMatchObject({ state: 'up-to-date', target: expect.stringMatching(/\?schema=tenant_a$/) });
    expect(custom.history?.applied).toBe(2);
    const plain = await environmentStatus(environmentFor(db.url), local);
    expect(plain).toMatchObject({ state: 'pending', uninitialized: true });
    expect(plain.history?.pending).toBe(2);
  });

  it('serialises concurrent deploys of one database: both succeed, nothing is applied twice', async () => {
    const { db, project } = await setup({
      '20240101000000_init': INIT,
      // Slow enough that the second run certainly arrives while the first holds the lock.
      '20240102000000_slow': `SELECT pg_sleep(0.4);\nCREATE TABLE "Audit" ("id" SERIAL PRIMARY KEY);\n`,
      '20240103000000_posts': POSTS,
    });
    const eventsA: DeployEvent[] = [];
    const eventsB: DeployEvent[] = [];
    const [a, b] = await Promise.all([
      deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, onEvent: (e) => eventsA.push(e) }),
      deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, onEvent: (e) => eventsB.push(e) }),
    ]);
    const appliedNames = [...a.applied, ...b.applied].map((x) => x.name).sort();
    expect(appliedNames).toEqual(['20240101000000_init', '20240102000000_slow', '20240103000000_posts']);
    // One of them did all the work, the other waited and found nothing left to do.
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, 3]);
    const waiter = a.applied.length === 0 ? eventsA : eventsB;
    expect(waiter.some((e) => e.type === 'lock-wait')).toBe(true);
    expect(waiter.some((e) => e.type === 'created-table')).toBe(false);
    const recorded = await rows(db.url);
    expect(recorded.map((r) => r.migration_name)).toEqual(appliedNames);
    expect(recorded.every((r) => r.applied_steps_count === 1 && r.finished_at !== null)).toBe(true);
  });

  it('gives up on a held lock after the lock timeout, naming the holder, and changes nothing', async () => {
    const { db, project } = await setup({ '20240101000000_init': INIT });
    const holder = new pg.Client({ connectionString: db.url, application_name: 'release-train-42' });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, LOCK_WORKFLOW]);
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

    const events: DeployEvent[] = [];
    const t0 = Date.now();
    const err = await rejection(
      deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, deployLockWaitMs: 300, onEvent: (e) => events.push(e) }),
      { [`pid ${holderPid},`]: 'pid <holder-pid>,', [`pg_terminate_backend(${holderPid})`]: 'pg_terminate_backend(<holder-pid>)' },
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err).toMatchInlineSnapshot(`
      {
        "code": "E_LOCKED",
        "fix": "wait for it to finish and retry, or raise --lock-timeout; if it is stuck: SELECT pg_terminate_backend(<holder-pid>);",
        "kind": "guard",
        "message": "development: another stagedb run holds the deploy lock (pid <holder-pid>, release-train-42, user postgres from 127.0.0.1, since <time>)",
      }
    `);
    expect(events[0]).toMatchObject({ type: 'lock-wait', holder: { pid: holderPid, applicationName: 'release-train-42' } });
    expect(await tables(db.url)).toEqual([]);

    // Once the holder lets go, the same deploy goes through.
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCK_WORKFLOW]);
    const ok = await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, deployLockWaitMs: 300 });
    expect(ok.applied).toHaveLength(1);
  });

  it("does not wait for Prisma's own advisory lock (it uses a different key)", async () => {
    const { db, project } = await setup({ '20240101000000_init': INIT });
    const prisma = new pg.Client({ connectionString: db.url, application_name: 'prisma-migrate' });
    await prisma.connect();
    cleanups.push(() => prisma.end());
    await prisma.query('SELECT pg_advisory_lock(72707369)');
    const ok = await deploy({ env: environmentFor(db.url), migrationsDir: project.migrationsDir, deployLockWaitMs: 200 });
    expect(ok.applied).toHaveLength(1);
  });
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
