import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { lintGate } from '../../src/lint/gate.js';
import { lintPending } from '../../src/lint/pending.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, rejection, type TempProject } from '../helpers/project.js';

/**
 * The deploy gate and `lint --env` against a real database: which tables are live, how big they are,
 * what their columns are, and which pending migrations deploy together. Also checks the run model's
 * central claim against the server itself: CONCURRENTLY fails anywhere in a file with its own BEGIN/COMMIT.
 */
const INIT = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" VARCHAR(100) NOT NULL,
    "authorId" INTEGER NOT NULL,
    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Post_title_idx" ON "Post"("title");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`;

// Pending: a hazard on "Post" (live, with rows), a new table, and an index on that new table in the next file.
const INDEXES = `-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");

-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);

-- CreateTable
CREATE TABLE "Tag" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));

-- DropIndex
DROP INDEX "Post_title_idx";
`;
const TAG_INDEX = `-- CreateIndex\nCREATE UNIQUE INDEX "Tag_name_key" ON "Tag"("name");\n`;

let db: FreshDatabase;
let p: TempProject;

beforeAll(async () => {
  db = await freshDatabase('lint_gate');
  p = createProject({ migrations: { '20240101000000_init': INIT } });
  await deploy({ env: environmentFor(db.url), migrationsDir: p.migrationsDir });
  await query(db.url, `INSERT INTO "User" ("email") VALUES ('a@example.com')`);
  await query(db.url, `INSERT INTO "Post" ("title", "authorId") SELECT 'post ' || g, 1 FROM generate_series(1, 20000) g`);
  await query(db.url, 'ANALYZE "Post"');
  p.addMigration('20240102000000_indexes', INDEXES);
  p.addMigration('20240103000000_tag_index', TAG_INDEX);
});
afterAll(async () => {
  await db?.drop();
  p?.remove();
});

const env = () => environmentFor(db.url, 'staging');

describe('lint --env: the pending migrations, with the sizes of the tables they touch', () => {
  it('lints only what is pending, together: a table an earlier pending migration creates is not live', async () => {
    const r = await lintPending({ env: env(), migrationsDir: p.migrationsDir, cwd: p.dir });
    expect(r.pending).toEqual(['20240102000000_indexes', '20240103000000_tag_index']);
    expect(r.result.context).toMatchObject({ env: 'staging', tables: 1 });
    // A VARCHAR(100) → VARCHAR(200) is binary-coercible: the database says what the column is now.
    expect(r.result.findings.map((f) => [f.migration, f.line, f.code, f.severity])).toEqual([
      ['20240102000000_indexes', 2, 'SDB001', 'info'],
      ['20240102000000_indexes', 11, 'SDB002', 'warning'],
    ]);
    const [index, drop] = r.result.findings;
    expect(index!.note).toMatch(/^small table \(~20k rows, [\d.]+ MB on staging\): the lock lasts about as long as reading it$/);
    expect(index!.file).toBe('prisma/migrations/20240102000000_indexes/migration.sql');
    // The dropped index's table comes from the catalog.
    expect(drop!.lock).toBe('ACCESS EXCLUSIVE on "Post" and on "Post_title_idx" (blocks every read and write) until the drop commits');
  });
  it('narrowing the column is judged from its current type', async () => {
    p.write('prisma/migrations/20240104000000_narrow/migration.sql', 'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(50);\n');
    try {
      const r = await lintPending({ env: env(), migrationsDir: p.migrationsDir, cwd: p.dir, lint: { smallTableBytes: 0 } });
      expect(r.result.findings.filter((f) => f.code === 'SDB011').map((f) => f.message)).toEqual(['changes "Post"."title" from character varying(100) to VARCHAR(50): a table rewrite']);
    } finally {
      p.write('prisma/migrations/20240104000000_narrow/migration.sql', '-- nothing\nSELECT 1;\n');
    }
  });
});

describe('the deploy gate', () => {
  it('lets a hazard on a small table through (info), and says so in one line for the audit', async () => {
    const g = await lintGate({ env: env(), migrationsDir: p.migrationsDir, cwd: p.dir, command: 'deploy' });
    expect(g.overridden).toBe(false);
    expect(g.summary).toBe('lint: no errors, 1 warning');
  });
  it('refuses error-level hazards before anything is applied, naming each one and the way out', async () => {
    const err = await rejection(lintGate({ env: env(), migrationsDir: p.migrationsDir, cwd: p.dir, command: 'deploy', lint: { smallTableBytes: 0, largeTableBytes: 1 } }));
    expect(err).toMatchObject({ kind: 'guard', code: 'E_LINT_BLOCKED' });
    expect(err.message).toBe('staging: the pending migrations have 1 zero-downtime hazard at error level (SDB001); nothing was applied');
    expect(err.details).toEqual([expect.stringMatching(/^error SDB001 prisma\/migrations\/20240102000000_indexes\/migration.sql:2:1 CREATE INDEX "Post_authorId_idx" on live table "Post" without CONCURRENTLY \(large table \(~20k rows, [\d.]+ MB on staging\)\)$/)]);
    expect(err.fix).toBe(
      'see each hazard and its safe alternative: stagedb lint --env staging; after review, suppress one statement with a comment above it (-- stagedb-lint-disable-next-statement SDB001: <reason>), or deploy anyway: stagedb deploy --env staging --allow-hazards "<reason>"',
    );
    expect(await query(db.url, `SELECT count(*)::int AS n FROM _prisma_migrations`)).toEqual([{ n: 1 }]);
  });
  it('an explicit reason overrides it, and the reason is the audit summary', async () => {
    const g = await lintGate({ env: env(), migrationsDir: p.migrationsDir, cwd: p.dir, command: 'deploy', allowHazards: 'Post is read-only during the migration window', lint: { smallTableBytes: 0, largeTableBytes: 1 } });
    expect(g.overridden).toBe(true);
    expect(g.summary).toBe('lint: 1 error (SDB001) overridden with --allow-hazards: Post is read-only during the migration window');
  });
  it('a suppression directive with a reason also lets the migration through', async () => {
    p.write('prisma/migrations/20240102000000_indexes/migration.sql', `-- stagedb-lint-disable-next-statement SDB001: built before the launch, while Post has test rows only\n${INDEXES}`);
    try {
      const g = await lintGate({ env: env(), migrationsDir: p.migrationsDir, cwd: p.dir, command: 'deploy', lint: { smallTableBytes: 0, largeTableBytes: 1 } });
      expect(g.summary).toBe('lint: no errors, 1 warning, 1 suppressed');
      expect(g.result.suppressed[0]!.reason).toBe('built before the launch, while Post has test rows only');
    } finally {
      p.write('prisma/migrations/20240102000000_indexes/migration.sql', INDEXES);
    }
  });
  it('with nothing pending it has nothing to say', async () => {
    const done = await freshDatabase('lint_gate_done');
    try {
      const q = createProject({ migrations: { '20240101000000_init': INIT } });
      await deploy({ env: environmentFor(done.url), migrationsDir: q.migrationsDir });
      const g = await lintGate({ env: environmentFor(done.url, 'staging'), migrationsDir: q.migrationsDir, cwd: q.dir, command: 'deploy' });
      expect(g).toMatchObject({ pending: [], summary: 'lint: nothing pending', overridden: false });
      q.remove();
    } finally {
      await done.drop();
    }
  });
});

describe('the deploy gate and drops of live tables (issue 20: they were silent with --env)', () => {
  it('reports a pending DROP INDEX and DROP TABLE with the severity their rules give them, as a role that is not a superuser', async () => {
    const t = await freshDatabase('lint_gate_drop');
    const q = createProject({ migrations: { '20240101000000_init': INIT } });
    try {
      await deploy({ env: environmentFor(t.url), migrationsDir: q.migrationsDir });
      await query(t.url, `INSERT INTO "User" ("email") VALUES ('a@example.com'); INSERT INTO "Post" ("title", "authorId") SELECT 'post ' || g, 1 FROM generate_series(1, 100) g`);
      // The gate connects as the application's role: not a superuser, not the owner of the tables.
      const role = `app_${t.name}`.slice(0, 60);
      await query(t.url, `CREATE ROLE "${role}" LOGIN PASSWORD 'app-secret'; GRANT SELECT ON "_prisma_migrations" TO "${role}"`);
      const u = new URL(t.url);
      u.username = role;
      u.password = 'app-secret';
      // Neither migration names its table in a way the old lookup saw: the index by its name, the table in a DROP.
      q.addMigration('20240102000000_drop_index', '-- DropIndex\nDROP INDEX "Post_title_idx";\n');
      q.addMigration('20240103000000_drop_post', '-- DropTable\nDROP TABLE "Post";\n');
      const g = await lintGate({ env: environmentFor(u.toString(), 'staging'), migrationsDir: q.migrationsDir, cwd: q.dir, command: 'deploy' });
      expect(g.result.findings.map((f) => [f.migration, f.code, f.severity, f.lock])).toEqual([
        ['20240102000000_drop_index', 'SDB002', 'warning', 'ACCESS EXCLUSIVE on "Post" and on "Post_title_idx" (blocks every read and write) until the drop commits'],
        // Its foreign key goes with it, and with it a lock on the table it references.
        ['20240103000000_drop_post', 'SDB016', 'warning', 'ACCESS EXCLUSIVE on "Post" and on "User" (blocks every read and write) until it commits'],
      ]);
      expect(g.summary).toBe('lint: no errors, 2 warnings');
      // Configured as errors, they block the deploy like any error-level hazard.
      const err = await rejection(lintGate({ env: environmentFor(u.toString(), 'staging'), migrationsDir: q.migrationsDir, cwd: q.dir, command: 'deploy', lint: { severities: { SDB002: 'error', 'drop-table': 'error' } } }));
      expect(err).toMatchObject({ code: 'E_LINT_BLOCKED', message: 'staging: the pending migrations have 2 zero-downtime hazards at error level (SDB002, SDB016); nothing was applied' });
      expect(JSON.stringify(err)).not.toContain('app-secret');
      await query(t.url, `DROP OWNED BY "${role}"; DROP ROLE "${role}"`);
    } finally {
      q.remove();
      await t.drop();
    }
  });
});

describe('the run model against the server', () => {
  it('CONCURRENTLY fails after the file\'s own COMMIT (one script), as SDB003 says', async () => {
    const t = await freshDatabase('lint_model');
    const q = createProject({ migrations: { '20240101000000_init': INIT } });
    try {
      await deploy({ env: environmentFor(t.url), migrationsDir: q.migrationsDir });
      const sql = 'BEGIN;\nALTER TABLE "Post" ADD COLUMN "x" TEXT;\nCOMMIT;\nCREATE INDEX CONCURRENTLY "Post_x_idx" ON "Post"("x");\n';
      q.addMigration('20240102000000_managed', sql);
      const lint = await lintPending({ env: environmentFor(t.url), migrationsDir: q.migrationsDir, cwd: q.dir });
      expect(lint.result.findings.map((f) => [f.code, f.line])).toEqual([
        ['SDB024', 1],
        ['SDB003', 4],
      ]);
      const err = await rejection(deploy({ env: environmentFor(t.url), migrationsDir: q.migrationsDir }));
      expect(err.message).toContain('CREATE INDEX CONCURRENTLY cannot run inside a transaction block');
    } finally {
      q.remove();
      await t.drop();
    }
  });
});
