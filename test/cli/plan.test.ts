import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, normalize, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * `stagedb plan` and `deploy --dry-run` (issue 15) through the built binary, on databases owned by a
 * non-superuser role with CREATEDB (so drift can be checked): each run mode, the locks with the
 * locked table's size there, the backup step (production), drift, and nothing changed.
 */
const INIT = `-- CreateTable\nCREATE TABLE "User" (\n    "id" SERIAL NOT NULL,\n    "email" TEXT NOT NULL,\n\n    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n);\n`;
const INDEX = `-- CreateIndex\nCREATE INDEX "User_email_idx" ON "User"("email");\n`;
const CONCURRENT = `CREATE INDEX CONCURRENTLY "User_id_email_idx" ON "User"("id", "email");\n`;
const OWN_TX = `BEGIN;\nCREATE TYPE "Role" AS ENUM ('A');\nCOMMIT;\n`;
const SCHEMA = `datasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String\n}\n`;

const owner = `plan_owner_${process.pid}`;
const PW = 'plan-pw';
let project: TempProject;
let staging: FreshDatabase;
let production: FreshDatabase;
let vars: Record<string, string>;
let shown: Record<string, string>;

const as = (url: string) => {
  const u = new URL(url);
  u.username = owner;
  u.password = PW;
  return u.toString();
};

beforeAll(async () => {
  [staging, production] = await Promise.all([freshDatabase('pl'), freshDatabase('pl')]);
  await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`);
  await query(adminUrl(), `CREATE ROLE ${owner} LOGIN PASSWORD '${PW}' CREATEDB NOSUPERUSER`);
  for (const d of [staging, production]) await query(adminUrl(), `ALTER DATABASE ${d.name} OWNER TO ${owner}`);
  forbidInOutput(PW);
  project = createProject({
    schema: SCHEMA,
    migrations: { '20240101000000_init': INIT },
    configJson: {
      environments: {
        development: { url: 'postgresql://localhost:1/unused' },
        staging: { url: { $env: 'STAGING_URL' } },
        production: { url: { $env: 'PROD_URL' }, ssl: 'disable' },
      },
    },
  });
  vars = { STAGING_URL: as(staging.url), PROD_URL: as(production.url) };
  for (const env of ['staging', 'production']) {
    const r = await runCli(['migrate', 'deploy', '--env', env, '--confirm', env], { cwd: project.dir, env: vars });
    expect(r.code, r.stderr).toBe(0);
  }
  for (const d of [staging, production]) {
    await query(d.url, `INSERT INTO "User" ("email") SELECT 'u' || g || '@example.com' FROM generate_series(1, 1000) g`);
    await query(d.url, `ANALYZE "User"`);
  }
  // production has changed outside its history.
  await query(production.url, `ALTER TABLE "User" ADD COLUMN "sneaky" TEXT`);
  project.addMigration('20240102000000_email_idx', INDEX);
  project.addMigration('20240103000000_concurrent', CONCURRENT);
  project.addMigration('20240104000000_role', OWN_TX);
  shown = { [project.dir]: '<project>', [`:${new URL(staging.url).port}/`]: ':<port>/', [staging.name]: '<db-staging>', [production.name]: '<db-production>' };
});

afterAll(async () => {
  project?.remove();
  for (const d of [staging, production]) await d?.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`).catch(() => {});
});

const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env: vars });
const applied = async (url: string) => (await query<{ n: string }>(url, `SELECT migration_name AS n FROM _prisma_migrations ORDER BY 1`)).map((r) => r.n);
/** Sizes depend on the server's page layout; the test pins them against the server itself. */
const sizeOf = async (url: string) => (await query<{ b: string }>(url, `SELECT pg_total_relation_size('"User"') AS b`))[0]!.b;

describe('stagedb plan', () => {
  it('--env staging,production --format markdown: each run mode, locks with the table size there, backup first on production, drift; nothing changed', async () => {
    const r = await cli('plan', '--env', 'staging,production', '--format', 'markdown');
    expect(r.code, r.stderr).toBe(0);
    const { formatBytes } = await import('../../src/backup/manifest.js');
    const size = formatBytes(Number(await sizeOf(staging.url)));
    expect(formatBytes(Number(await sizeOf(production.url)))).not.toBe('');
    expect(normalize(r.stdout, shown).replaceAll(size, '<size>').replace(/\d+ kB heap/g, '<heap> heap')).toMatchInlineSnapshot(`
      "## stagedb plan

      ### staging (guarded): deploy would apply 3 migrations

      - drift: none
      - backup: none before deploy

      | # | migration | runs as | locks (table size there) | findings | time (estimate) |
      |---|---|---|---|---|---|
      | 1 | \`20240102000000_email_idx\` | one transaction | \`SHARE\` on \`"User"\` (<size>, ~1000 rows), line 2 | **info** SDB001 line 2: CREATE INDEX "User_email_idx" on live table "User" without CONCURRENTLY | < 1 s<br>line 2: index build of \`"User"\`, <heap> heap at 25 MB/s |
      | 2 | \`20240103000000_concurrent\` | statement by statement (CREATE INDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own) | - | - | < 1 s<br>line 1: concurrent index build of \`"User"\`, <heap> heap at 25 MB/s, read twice, after the transactions already running end |
      | 3 | \`20240104000000_role\` | its own transaction (the file has BEGIN/COMMIT) | - | - | - |

      ### production (production): deploy would REFUSE

      - drift: DRIFT: the database changed outside its history; deploy refuses without --allow-drift
      - backup: taken first

      | # | migration | runs as | locks (table size there) | findings | time (estimate) |
      |---|---|---|---|---|---|
      | 1 | \`20240102000000_email_idx\` | one transaction | \`SHARE\` on \`"User"\` (<size>, ~1000 rows), line 2 | **info** SDB001 line 2: CREATE INDEX "User_email_idx" on live table "User" without CONCURRENTLY | < 1 s<br>line 2: index build of \`"User"\`, <heap> heap at 25 MB/s |
      | 2 | \`20240103000000_concurrent\` | statement by statement (CREATE INDEX CONCURRENTLY cannot run inside a transaction: each statement commits on its own) | - | - | < 1 s<br>line 1: concurrent index build of \`"User"\`, <heap> heap at 25 MB/s, read twice, after the transactions already running end |
      | 3 | \`20240104000000_role\` | its own transaction (the file has BEGIN/COMMIT) | - | - | - |

      _Times are rough estimates from each table's size there at conservative speeds (validating scan 100 MB/s, index build 25 MB/s, rewrite 15 MB/s; docs/release.md), without lock waits._

      _Nothing was changed. Generated by \`stagedb plan\`._"
    `);
    expect(await applied(staging.url)).toEqual(['20240101000000_init']);
    expect(await applied(production.url)).toEqual(['20240101000000_init']);
  });

  it('--format json: the same plan as data', async () => {
    const r = await cli('plan', '--env', 'staging', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout).environments[0];
    expect(plan.pending.map((m: { mode: string }) => m.mode)).toEqual(['transaction', 'statements', 'file-managed']);
    expect(plan.pending[0].locks[0]).toMatchObject({ mode: 'SHARE', on: '"User"', bytes: Number(await sizeOf(staging.url)), rows: 1000 });
    expect(plan).toMatchObject({ backupFirst: false, verdict: 'apply', drift: { checked: true, drifted: false } });
  });

  it('deploy --dry-run prints the plan and applies nothing', async () => {
    const plan = await cli('plan', '--env', 'staging');
    const dry = await cli('deploy', '--env', 'staging', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(normalize(dry.stdout, shown).replace(/ \(cached\)/g, '')).toContain(normalize(plan.stdout, shown).replace(/ \(cached\)/g, ''));
    expect(await applied(staging.url)).toEqual(['20240101000000_init']);
  });

  it('--env all with one environment unreachable: the others are planned, that one says why, exit 3', async () => {
    const r = await cli('plan', '--env', 'all');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^development: cannot plan: /m);
    expect(r.stdout).toMatch(/^staging \(guarded, .*\): deploy would apply 3 migrations$/m);
    expect(r.stdout).toMatch(/^production \(production, .*\): deploy would REFUSE$/m);
  });

  it('a rough duration where the table size tells: larger for a larger table, labelled an estimate with its basis', async () => {
    const estimates = async () => {
      const r = await cli('plan', '--env', 'staging', '--format', 'json');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).environments[0].pending.map((m: { estimate?: { seconds: number; statements: Array<{ operation: string; table: string; seconds: number; basis: string }> } }) => m.estimate);
    };
    const small = await estimates();
    // The plain index build (flagged by the lint) and the concurrent one (not flagged) are estimated; the enum file is not.
    expect(small.map((e: { statements: Array<{ operation: string }> } | undefined) => e?.statements.map((x) => x.operation))).toEqual([['index build'], ['concurrent index build'], undefined]);
    expect(small[0].statements[0]).toMatchObject({ at: '20240102000000_email_idx:2', table: '"User"', basis: expect.stringMatching(/^\d+ kB heap at 25 MB\/s$/) });
    expect(small[1].statements[0].basis).toMatch(/^\d+ kB heap at 25 MB\/s, read twice, after the transactions already running end$/);

    await query(staging.url, `INSERT INTO "User" ("email") SELECT 'bulk' || g || '@example.com' FROM generate_series(1, 100000) g`);
    await query(staging.url, `ANALYZE "User"`);
    const large = await estimates();
    for (const i of [0, 1]) {
      expect(large[i].seconds).toBeGreaterThan(small[i].seconds * 20);
      expect(large[i].statements[0].basis).toMatch(/^\d+(\.\d)? MB heap at 25 MB\/s/);
    }
    // The concurrent build reads the table twice: twice the plain build's time for the same table.
    expect(large[1].seconds).toBeCloseTo(large[0].seconds * 2, 6);

    const text = await cli('plan', '--env', 'staging');
    expect(text.stdout).toMatch(/^ {2}1\. 20240102000000_email_idx: one transaction, 1 statement, (< 1 s|~\d+ s) \(estimate\)$/m);
    expect(text.stdout).toMatch(/^ {7}time {2}line 2: index build of "User": (< 1 s|~\d+ s), \d+(\.\d)? MB heap at 25 MB\/s$/m);
    expect(text.stdout).toContain('Times are rough estimates from each table\'s size there at conservative speeds (validating scan 100 MB/s, index build 25 MB/s, rewrite 15 MB/s; docs/release.md), without lock waits.');
  });

  it('a bad --format: usage error, exit 4', async () => {
    const r = await cli('plan', '--format', 'yaml');
    expect(r.code).toBe(4);
  });
});
