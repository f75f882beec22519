import type { Finding, Runner, SeveritySetting } from '../../src/lint/types.js';

/**
 * The lock oracle's cases (test/integration/lint-oracle*.test.ts): for every rule, migrations that make
 * it fire on the fixture's tables (test/helpers/lock-oracle.ts FIXTURE), and the table it is about.
 */

export interface Case {
  code: string;
  /** What it is, for the test name. */
  what: string;
  /** The migration files (linted together with --env); the last one is the one observed. */
  files: string[];
  /** The table the finding is about: rewrite, scan and the blocked SELECT/DELETE are judged there. */
  main: string;
  setup?: string;
  runner?: Runner;
  severities?: Record<string, SeveritySetting>;
  serverVersionNum?: number;
  alias?: Record<string, string>;
  /** What another session holds while a statement that runs outside a transaction waits (default: ACCESS EXCLUSIVE on `main`). */
  hold?: string;
  /** Committed before each safe alternative runs (what the migration keeps when the fix moves a statement out). */
  prelude?: string;
}

export const CASES: Case[] = [
  { code: 'SDB001', what: 'CREATE INDEX', files: ['CREATE INDEX "Post_views_idx" ON "Post"(views);'], main: 'Post' },
  // The rows are in the partitions: the build reads (and locks) each of them.
  { code: 'SDB001', what: 'CREATE INDEX on a partitioned table', files: ['CREATE INDEX "Event_at_idx" ON "Event"(at);'], main: 'Event_2020' },
  { code: 'SDB002', what: 'DROP INDEX (its table found with --env)', files: ['DROP INDEX "Post_title_idx";'], main: 'Post' },
  { code: 'SDB003', what: 'CREATE INDEX CONCURRENTLY in a file with its own BEGIN/COMMIT', files: ['BEGIN;\nCREATE INDEX CONCURRENTLY "Post_views_idx" ON "Post"(views);\nCOMMIT;'], main: 'Post' },
  { code: 'SDB003', what: 'CREATE INDEX CONCURRENTLY beside another statement under prisma migrate deploy', runner: 'prisma', files: ['ALTER TABLE "Post" ADD COLUMN "x" TEXT;\nCREATE INDEX CONCURRENTLY "Post_views_idx" ON "Post"(views);'], main: 'Post' },
  { code: 'SDB004', what: 'ADD FOREIGN KEY', files: ['ALTER TABLE "Comment" ADD CONSTRAINT "Comment_post2_fkey" FOREIGN KEY ("postId") REFERENCES "Post"(id);'], main: 'Comment' },
  { code: 'SDB005', what: 'ADD CHECK', files: ['ALTER TABLE "Post" ADD CONSTRAINT "Post_views_check" CHECK (views >= 0);'], main: 'Post' },
  {
    code: 'SDB006',
    what: 'VALIDATE in the transaction of its NOT VALID add',
    files: ['ALTER TABLE "Post" ADD CONSTRAINT "Post_views_check" CHECK (views >= 0) NOT VALID;\nALTER TABLE "Post" VALIDATE CONSTRAINT "Post_views_check";'],
    main: 'Post',
    prelude: 'ALTER TABLE "Post" ADD CONSTRAINT "Post_views_check" CHECK (views >= 0) NOT VALID;',
  },
  // The names the fix would pick are taken (the old one, "Post_body_not_null", too): it must pick another, or fail with 42710.
  {
    code: 'SDB007',
    what: 'SET NOT NULL (the fix’s first names taken)',
    setup: 'ALTER TABLE "Post" ADD CONSTRAINT "Post_body_nn_check" CHECK (length(body) > 0), ADD CONSTRAINT "Post_body_not_null" CHECK (length(body) >= 0);',
    files: ['ALTER TABLE "Post" ALTER COLUMN body SET NOT NULL;'],
    main: 'Post',
  },
  { code: 'SDB008', what: 'ADD COLUMN NOT NULL without a default', files: ['ALTER TABLE "Post" ADD COLUMN "score" integer NOT NULL;'], main: 'Post' },
  { code: 'SDB009', what: 'ADD COLUMN with a volatile default', files: ['ALTER TABLE "Post" ADD COLUMN "uid" uuid DEFAULT gen_random_uuid();'], main: 'Post' },
  { code: 'SDB009', what: 'ADD COLUMN … GENERATED ALWAYS AS … STORED', files: ['ALTER TABLE "Post" ADD COLUMN "len" integer GENERATED ALWAYS AS (length(body)) STORED;'], main: 'Post' },
  { code: 'SDB010', what: 'ADD COLUMN SERIAL', files: ['ALTER TABLE "Post" ADD COLUMN "seq" SERIAL;'], main: 'Post' },
  { code: 'SDB011', what: 'INTEGER → BIGINT', files: ['ALTER TABLE "Post" ALTER COLUMN "views" SET DATA TYPE BIGINT;'], main: 'Post' },
  { code: 'SDB011', what: 'a narrower VARCHAR', files: ['ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(50);'], main: 'Post' },
  { code: 'SDB012', what: 'Prisma’s drop and recreate', files: ['ALTER TABLE "Post" DROP COLUMN "slug",\nADD COLUMN "slug" INTEGER;'], main: 'Post' },
  { code: 'SDB013', what: 'ADD UNIQUE', files: ['ALTER TABLE "Post" ADD CONSTRAINT "Post_slug_key" UNIQUE (slug);'], main: 'Post' },
  { code: 'SDB014', what: 'ADD PRIMARY KEY', files: ['ALTER TABLE "Tagging" ADD CONSTRAINT "Tagging_pkey" PRIMARY KEY ("postId", tag);'], main: 'Tagging' },
  { code: 'SDB015', what: 'DROP COLUMN', files: ['ALTER TABLE "Post" DROP COLUMN "slug";'], main: 'Post' },
  { code: 'SDB016', what: 'DROP TABLE with a foreign key (found with --env)', files: ['DROP TABLE "Comment";'], main: 'Comment' },
  { code: 'SDB017', what: 'RENAME COLUMN', files: ['ALTER TABLE "Post" RENAME COLUMN "slug" TO "handle";'], main: 'Post' },
  { code: 'SDB017', what: 'RENAME TABLE', files: ['ALTER TABLE "Log" RENAME TO "Journal";'], main: 'Log' },
  { code: 'SDB018', what: 'a new enum value used in its transaction', files: ['ALTER TYPE "Role" ADD VALUE \'OWNER\';\nUPDATE "User" SET role = \'OWNER\' WHERE id = 1;'], main: 'User' },
  {
    code: 'SDB019',
    what: 'Prisma’s enum recreate',
    files: ['CREATE TYPE "Role_new" AS ENUM (\'USER\');\nALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;\nALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");'],
    main: 'User',
  },
  { code: 'SDB020', what: 'DROP NOT NULL', files: ['ALTER TABLE "Post" ALTER COLUMN "title" DROP NOT NULL;'], main: 'Post' },
  { code: 'SDB021', what: 'DROP CONSTRAINT of a foreign key', files: ['ALTER TABLE "Comment" DROP CONSTRAINT "Comment_postId_fkey";'], main: 'Comment' },
  { code: 'SDB022', what: 'no lock_timeout under prisma migrate deploy', runner: 'prisma', files: ['ALTER TABLE "Post" ADD COLUMN "x" TEXT;'], main: 'Post' },
  { code: 'SDB023', what: 'a backfill in the transaction of DDL', files: ['ALTER TABLE "Post" ADD COLUMN "x" TEXT;\nUPDATE "Post" SET "x" = title;'], main: 'Post' },
  { code: 'SDB025', what: 'REINDEX TABLE', files: ['REINDEX TABLE "Post";'], main: 'Post' },
  { code: 'SDB025', what: 'REINDEX INDEX (its table found with --env)', files: ['REINDEX INDEX "Post_title_idx";'], main: 'Post' },
  { code: 'SDB025', what: 'CLUSTER', files: ['CLUSTER "Post" USING "Post_pkey";'], main: 'Post' },
  // VACUUM looks the table up under ACCESS SHARE first: a plain read lets that pass, then it waits for what it really needs.
  { code: 'SDB025', what: 'VACUUM FULL', files: ['VACUUM FULL "Post";'], main: 'Post', hold: 'SELECT 1 FROM "Post" LIMIT 1' },
  { code: 'SDB027', what: 'an index build with no statement_timeout', severities: { SDB027: 'warning' }, files: ['CREATE INDEX "Post_views_idx" ON "Post"(views);'], main: 'Post' },
  { code: 'SDB028', what: 'ADD COLUMN committed alone before the rest', files: ['ALTER TABLE "Post" ADD COLUMN "x" TEXT;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "Post_views_idx" ON "Post"(views);'], main: 'Post' },
  { code: 'SDB029', what: 'TRUNCATE … CASCADE', files: ['TRUNCATE "Post" CASCADE;'], main: 'Post' },
  { code: 'SDB030', what: 'ALTER DOMAIN ADD CHECK', files: ['ALTER DOMAIN "Email" ADD CONSTRAINT "Email_check" CHECK (VALUE LIKE \'%\');'], main: 'Contact', alias: { 'every table with a column of domain "Email"': 'Contact' } },
  {
    code: 'SDB030',
    what: 'ALTER DOMAIN VALIDATE CONSTRAINT',
    setup: 'ALTER DOMAIN "Email" ADD CONSTRAINT "Email_check" CHECK (VALUE LIKE \'%\') NOT VALID;',
    files: ['ALTER DOMAIN "Email" VALIDATE CONSTRAINT "Email_check";'],
    main: 'Contact',
    alias: { 'every table with a column of domain "Email"': 'Contact' },
  },
  { code: 'SDB031', what: 'SET UNLOGGED', files: ['ALTER TABLE "Log" SET UNLOGGED;'], main: 'Log' },
  { code: 'SDB032', what: 'REPLICA IDENTITY FULL', files: ['ALTER TABLE "Post" REPLICA IDENTITY FULL;'], main: 'Post' },
  { code: 'SDB033', what: 'a widening on a column a CHECK reads', setup: 'ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK (length(title) > 0);', files: ['ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);'], main: 'Post' },
  { code: 'SDB034', what: 'CREATE INDEX CONCURRENTLY on 14.2', serverVersionNum: 140002, files: ['CREATE INDEX CONCURRENTLY "Post_views_idx" ON "Post"(views);'], main: 'Post' },
  { code: 'SDB035', what: 'ADD EXCLUDE', files: ['ALTER TABLE "Post" ADD CONSTRAINT "Post_during_excl" EXCLUDE USING gist (during WITH &&);'], main: 'Post' },
  { code: 'SDB036', what: 'DETACH PARTITION', files: ['ALTER TABLE "Event" DETACH PARTITION "Event_2020";'], main: 'Event' },
  { code: 'SDB036', what: 'DETACH PARTITION on PostgreSQL 13 (no CONCURRENTLY)', serverVersionNum: 130000, files: ['ALTER TABLE "Event" DETACH PARTITION "Event_2020";'], main: 'Event' },
  { code: 'SDB037', what: 'CREATE TRIGGER on a partitioned table', files: ['CREATE TRIGGER "Event_touch" BEFORE UPDATE ON "Event" FOR EACH ROW EXECUTE FUNCTION "touch"();'], main: 'Event' },
  { code: 'SDB037', what: 'CREATE TRIGGER', files: ['CREATE TRIGGER "Post_touch" BEFORE UPDATE ON "Post" FOR EACH ROW EXECUTE FUNCTION "touch"();'], main: 'Post' },
  { code: 'SDB038', what: 'TRUNCATE', files: ['TRUNCATE "Comment";'], main: 'Comment' },
];

/** Rules whose hazard is not a lock, so they make no claim PostgreSQL could show; each is still made to fire here. */
export const CLAIMLESS: Array<{ code: string; why: string; files: string[]; severities?: Record<string, SeveritySetting> }> = [
  { code: 'SDB000', why: 'the parser refuses it: nothing runs', files: ['ALTER TABLE "Post" ADD COLUMN;'] },
  { code: 'SDB024', why: 'a BEGIN never committed: the run, not a lock', files: ['BEGIN;\nALTER TABLE "Post" ADD COLUMN "x" TEXT;'] },
  { code: 'SDB026', why: 'type advice', files: ['ALTER TABLE "Post" ADD COLUMN "n" INTEGER;'], severities: { SDB026: 'info' } },
  { code: 'SDB090', why: 'a suppression without a reason', files: ['-- stagedb-lint-disable-next-statement SDB001\nCREATE INDEX "Post_views_idx" ON "Post"(views);'] },
];

/** Safe alternatives that are words (or comments around a placeholder), not SQL to run. */
export const WORDS = new Set(['SDB001 CREATE INDEX on a partitioned table', 'SDB030 ALTER DOMAIN VALIDATE CONSTRAINT', 'SDB015', 'SDB016', 'SDB017', 'SDB019', 'SDB020', 'SDB021', 'SDB023', 'SDB025 VACUUM FULL', 'SDB025 CLUSTER', 'SDB034']);

/** The finding of this case's rule, with its claim. */
export function findingOf(c: Case, findings: Finding[]): Finding {
  const f = findings.find((x) => x.code === c.code);
  if (!f) throw new Error(`${c.code} did not fire on ${c.files.join(' | ')}: ${findings.map((x) => x.code).join(', ') || 'no finding'}`);
  return f;
}

