import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { lintPending } from '../../src/lint/pending.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, type TempProject } from '../helpers/project.js';

/**
 * What `lint --env` reads from the catalog for SDB033 (R41): the CHECK constraints that read a column
 * whose type a pending migration changes, as pg_get_constraintdef writes them.
 */
const INIT = `CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" VARCHAR(100) NOT NULL,
    "body" TEXT,
    CONSTRAINT "Post_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Post_title_check" CHECK (length("title") > 0)
);
`;

let db: FreshDatabase;
let p: TempProject;

beforeAll(async () => {
  db = await freshDatabase('lint_context');
  p = createProject({ migrations: { '20240101000000_init': INIT } });
  await deploy({ env: environmentFor(db.url), migrationsDir: p.migrationsDir });
  await query(db.url, `INSERT INTO "Post" ("title") SELECT 'post ' || g FROM generate_series(1, 1000) g`);
  p.addMigration('20240102000000_widen', '-- AlterTable\nALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200),\nALTER COLUMN "body" SET DATA TYPE VARCHAR(500);\n');
});
afterAll(async () => {
  await db?.drop();
  p?.remove();
});

describe('lint --env and CHECK constraints', () => {
  it("flags the widening of a column a CHECK reads (and not of one none reads), with the constraint as the server writes it", async () => {
    const r = await lintPending({ env: environmentFor(db.url, 'staging'), migrationsDir: p.migrationsDir, cwd: p.dir, lint: { smallTableBytes: 0 } });
    const hits = r.result.findings.filter((f) => f.code === 'SDB033');
    expect(hits.map((f) => [f.line, f.column, f.message])).toEqual([[2, 33, 'changes the type of "title" on live table "Post", which CHECK constraint "Post_title_check" reads']]);
    expect(hits[0]!.fix).toContain('ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK ((length((title)::text) > 0)) NOT VALID;');
    // TEXT → VARCHAR(500) may fail on a longer value: SDB011 (a rewrite), not SDB033.
    expect(r.result.findings.filter((f) => f.code === 'SDB011').map((f) => f.line)).toEqual([3]);
  });
});
