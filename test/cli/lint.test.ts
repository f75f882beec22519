import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject } from '../helpers/project.js';

/** `stagedb lint` and the deploy gate through the built binary: output formats, exit codes, the audit trail. */
const INIT = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
`;
const INDEX = `-- CreateIndex\nCREATE INDEX "User_createdAt_idx" ON "User"("email");\n`;
const DROP = `-- DropIndex\nDROP INDEX "User_email_key";\n`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A preloaded hook that reports, at exit, whether the SQL parser was ever loaded. */
const HOOK = join(tmpdir(), `stagedb-lint-hook-${process.pid}.cjs`);
writeFileSync(HOOK, `process.on('exit', () => { process.stderr.write(Object.keys(require.cache).some((k) => k.includes('libpg-query')) ? '[parser loaded]\\n' : '[parser not loaded]\\n'); });\n`);
afterAll(() => rmSync(HOOK, { force: true }));

describe('stagedb lint', () => {
  it('exit code by the highest severity: 2 errors, 1 warnings, 0 clean', async () => {
    const p = createProject({ migrations: { '20240101000000_init': INIT, '20240102000000_index': INDEX } });
    cleanups.push(() => p.remove());
    // Day one (issue 13): an index on the table the previous migration created. Without --env no size is
    // known, so it is a warning that says how to learn more, not an error.
    const all = await runCli(['lint'], { cwd: p.dir });
    expect(all.code, all.stderr).toBe(1);
    expect(all.stdout).toContain('prisma/migrations/20240102000000_index/migration.sql:2:1  warning  SDB001 create-index-concurrently');
    expect(all.stdout).toContain('note: table size unknown without --env: an error on a large table (stagedb lint --env <name>, and the deploy gate, judge it by size)');
    expect(all.stdout.trimEnd().split('\n').at(-1)).toBe('1 warning in 2 files.');
    // The folder given as an argument is the same history review, with the same findings.
    const folder = await runCli(['lint', 'prisma/migrations'], { cwd: p.dir });
    expect(folder.stdout).toBe(all.stdout);
    expect(folder.code).toBe(1);
    // Configured as an error, it is one without a size too.
    p.write('stagedb.config.json', JSON.stringify({ environments: { development: { url: 'postgresql://localhost/x' } }, lint: { rules: { SDB001: 'error' } } }));
    const strict = await runCli(['lint'], { cwd: p.dir });
    expect(strict.code).toBe(2);
    expect(strict.stdout.trimEnd().split('\n').at(-1)).toBe('1 error in 2 files.');
    p.write('stagedb.config.json', JSON.stringify({ environments: { development: { url: 'postgresql://localhost/x' } } }));

    p.write('prisma/migrations/20240102000000_index/migration.sql', DROP);
    expect((await runCli(['lint'], { cwd: p.dir })).code).toBe(1);
    // Files given on the command line deploy together: the index on a table created by the first is fine.
    const together = await runCli(['lint', 'prisma/migrations/20240101000000_init', 'prisma/migrations/20240102000000_index/migration.sql'], { cwd: p.dir });
    expect(together.code, together.stdout).toBe(0);
    expect(together.stdout.trim()).toBe('no hazards in 2 files.');
  });

  it('--json and --format github', async () => {
    const p = createProject({ migrations: { '20240101000000_init': INIT, '20240102000000_index': INDEX } });
    cleanups.push(() => p.remove());
    const json = await runCli(['lint', '--json'], { cwd: p.dir });
    expect(json.code).toBe(1);
    const data = JSON.parse(json.stdout);
    expect(data).toMatchObject({ counts: { error: 0, warning: 1, info: 0 }, highest: 'warning', exitCode: 1 });
    expect(data.findings[0]).toMatchObject({ code: 'SDB001', rule: 'create-index-concurrently', file: 'prisma/migrations/20240102000000_index/migration.sql', migration: '20240102000000_index', line: 2, column: 1 });
    // The facts behind the lock line, as data (checked against PostgreSQL by the lock oracle).
    expect(data.findings[0].claim).toEqual({ locks: [{ on: '"User"', mode: 'SHARE' }], rewrites: false, scans: true, blocksReads: false, blocksWrites: true });
    expect(data.files.map((f: { mode: string }) => f.mode)).toEqual(['transaction', 'transaction']);

    const gh = await runCli(['lint', '--format', 'github'], { cwd: p.dir });
    expect(gh.code).toBe(1);
    expect(gh.stdout.split('\n')[0]).toMatch(/^::warning file=prisma\/migrations\/20240102000000_index\/migration.sql,line=2,endLine=2,col=1,title=SDB001 create-index-concurrently::/);
  });

  it('names each migration, whether it reads the folder itself or is given it, a migration or a file', async () => {
    const p = createProject({ migrations: { '20240101000000_init': INIT, '20240102000000_index': INDEX } });
    cleanups.push(() => p.remove());
    const names = async (args: string[]) => JSON.parse((await runCli(['lint', '--json', ...args], { cwd: p.dir })).stdout).files.map((f: { path: string; migration?: string }) => [f.path, f.migration]);
    const both = [
      ['prisma/migrations/20240101000000_init/migration.sql', '20240101000000_init'],
      ['prisma/migrations/20240102000000_index/migration.sql', '20240102000000_index'],
    ];
    expect(await names([])).toEqual(both);
    expect(await names(['prisma/migrations'])).toEqual(both);
    expect(await names(['prisma/migrations/20240101000000_init', 'prisma/migrations/20240102000000_index/migration.sql'])).toEqual(both);
  });

  it("reads the folder in Prisma's order, the one status and deploy apply (lowercase a before B; not byte order), however it is named", async () => {
    const p = createProject({ migrations: { '20240101000000_B': INDEX, '20240101000000_a': INIT } });
    cleanups.push(() => p.remove());
    const names = async (args: string[]) => JSON.parse((await runCli(['lint', '--json', ...args], { cwd: p.dir })).stdout).files.map((f: { migration?: string }) => f.migration);
    const prisma = ['20240101000000_a', '20240101000000_B'];
    expect(await names([])).toEqual(prisma);
    expect(await names(['prisma/migrations'])).toEqual(prisma);
    expect(await names(['prisma/migrations/20240101000000_B', 'prisma/migrations/20240101000000_a'])).toEqual(prisma);
  });

  it('colour in a terminal only, never with NO_COLOR; usage errors', async () => {
    const p = createProject({ migrations: { '20240101000000_init': INIT, '20240102000000_index': INDEX } });
    cleanups.push(() => p.remove());
    expect((await runCli(['lint'], { cwd: p.dir, env: { FORCE_COLOR: '1', NO_COLOR: '' } })).stdout).toContain('\x1b[33mwarning\x1b[0m');
    expect((await runCli(['lint'], { cwd: p.dir })).stdout).not.toContain('\x1b[');
    const bad = await runCli(['lint', '--format', 'xml'], { cwd: p.dir });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('error: --format must be text, json or github, not "xml"');
    const missing = await runCli(['lint', 'nope.sql'], { cwd: p.dir });
    expect(missing.code).toBe(4);
  });

  it('severities from the config; unknown rules are config errors', async () => {
    const p = createProject({
      migrations: { '20240101000000_init': INIT, '20240102000000_index': INDEX },
      configJson: { environments: { development: { url: 'postgresql://localhost/x' } }, lint: { rules: { 'create-index-concurrently': 'warning' } } },
    });
    cleanups.push(() => p.remove());
    expect((await runCli(['lint'], { cwd: p.dir })).code).toBe(1);
    p.write('stagedb.config.json', JSON.stringify({ environments: { development: { url: 'postgresql://localhost/x' } }, lint: { rules: { SDB999: 'off' }, runner: 'flyway' } }));
    const bad = await runCli(['lint'], { cwd: p.dir });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('lint.rules.SDB999: unknown rule (stagedb lint --rules lists the codes and names)');
    expect(bad.stderr).toContain('lint.runner: must be one of "stagedb", "prisma"');
  });

  it('a large --json output reaches a pipe whole (nothing dropped at exit)', async () => {
    const migrations: Record<string, string> = { '20240101000000_init': INIT };
    for (let i = 1; i <= 300; i++) migrations[`20240102${String(i).padStart(6, '0')}_index`] = `-- CreateIndex\nCREATE INDEX "User_email_${i}_idx" ON "User"("email");\n`;
    const p = createProject({ migrations });
    cleanups.push(() => p.remove());
    const r = await runCli(['lint', '--json'], { cwd: p.dir });
    expect(r.stdout.length).toBeGreaterThan(256 * 1024);
    expect(JSON.parse(r.stdout).findings).toHaveLength(300);
  });

  it('a migration.sql that is a symlink out of the project is refused, never read or printed (issue 12 item 8)', async () => {
    const p = createProject({ migrations: { '20240101000000_init': INIT } });
    const secret = join(tmpdir(), `stagedb-lint-secret-${process.pid}.sql`);
    writeFileSync(secret, `-- canary-7fa1c2\nCREATE INDEX "x" ON "User"("email");\n`);
    cleanups.push(() => p.remove(), () => rmSync(secret, { force: true }));
    mkdirSync(join(p.migrationsDir, '20240102000000_link'));
    symlinkSync(secret, join(p.migrationsDir, '20240102000000_link', 'migration.sql'));
    for (const args of [['lint'], ['lint', 'prisma/migrations'], ['lint', 'prisma/migrations/20240102000000_link']]) {
      const r = await runCli(args, { cwd: p.dir });
      expect(r.code, r.all).toBe(2);
      expect(r.stderr).toContain('error: prisma/migrations/20240102000000_link/migration.sql is a symbolic link to ');
      expect(r.all).not.toContain('canary-7fa1c2');
      expect(r.all).not.toContain('SDB001');
    }
  });

  it('--rules lists every rule without loading the parser', async () => {
    const p = createProject({});
    cleanups.push(() => p.remove());
    const r = await runCli(['lint', '--rules'], { cwd: p.dir, env: { NODE_OPTIONS: `--require ${HOOK}` } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CODE\s+NAME\s+DEFAULT\s+HAZARD$/m);
    expect(r.stdout).toMatch(/^SDB026\s+type-hygiene\s+off\s+/m);
    expect(r.stderr).toContain('[parser not loaded]');
  });
});

describe('the deploy gate through the CLI', () => {
  async function setup(lint: Record<string, unknown> = {}) {
    const db = await freshDatabase('cli_lint');
    forbidInOutput(passwordOf(db.url));
    const config = {
      environments: { development: { url: { $env: 'DEV_URL' } }, staging: { url: { $env: 'STAGING_URL' }, ssl: 'disable' } },
      // Every non-empty table counts as medium: the index below is an error whatever its size.
      lint: { smallTableBytes: 0, ...lint },
    };
    const p = createProject({ configJson: config, migrations: { '20240101000000_init': INIT } });
    cleanups.push(() => db.drop(), () => p.remove());
    const env = { DEV_URL: db.url, STAGING_URL: db.url, NODE_OPTIONS: `--require ${HOOK}` };
    const cli = (...args: string[]) => runCli(args, { cwd: p.dir, env });
    const init = await cli('migrate', 'deploy', '--env', 'staging');
    expect(init.code, init.stderr).toBe(0);
    await query(db.url, `INSERT INTO "User" ("email") SELECT 'u' || g || '@example.com' FROM generate_series(1, 1000) g`);
    await query(db.url, 'ANALYZE "User"');
    p.addMigration('20240102000000_index', INDEX);
    return { db, p, cli };
  }

  it('refuses a guarded deploy with error-level hazards (exit 5, nothing applied); --allow-hazards goes through and into the audit', async () => {
    const { db, cli } = await setup();
    const lint = await cli('lint', '--env', 'staging');
    expect(lint.code).toBe(2);
    expect(lint.stdout).toContain('staging: 1 pending migration: 20240102000000_index');
    expect(lint.stdout).toMatch(/note: ~1000 rows, \d+ kB on staging/);

    const refused = await cli('deploy', '--env', 'staging', '--skip-generate');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('error: staging: the pending migrations have 1 zero-downtime hazard at error level (SDB001); nothing was applied');
    expect(refused.stderr).toMatch(/ {2}error SDB001 prisma\/migrations\/20240102000000_index\/migration.sql:2:1 CREATE INDEX "User_createdAt_idx" on live table "User" without CONCURRENTLY/);
    expect(refused.stderr).toContain('--allow-hazards "<reason>"');
    expect(await query(db.url, `SELECT count(*)::int AS n FROM _prisma_migrations`)).toEqual([{ n: 1 }]);

    const empty = await cli('deploy', '--env', 'staging', '--skip-generate', '--allow-hazards', ' ');
    expect(empty.code).toBe(4);

    const ok = await cli('deploy', '--env', 'staging', '--skip-generate', '--allow-hazards', 'users table is tiny, reviewed by @dba');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('warning: staging: deploying despite 1 error-level lint hazard (--allow-hazards: users table is tiny, reviewed by @dba)');
    expect(ok.stderr).toContain('[parser loaded]');

    const history = JSON.parse((await cli('history', '--env', 'staging', '--json')).stdout).records as Array<{ outcome: string; summary: string }>;
    expect(history.slice(0, 2).map((r) => [r.outcome, r.summary])).toEqual([
      ['ok', 'applied 20240102000000_index; drift: none (cached); lint: 1 error (SDB001) overridden with --allow-hazards: users table is tiny, reviewed by @dba'],
      ['refused', 'staging: the pending migrations have 1 zero-downtime hazard at error level (SDB001); nothing was applied'],
    ]);
  });

  it('status, --help and deploys to unprotected environments never load the parser', async () => {
    const { cli } = await setup();
    for (const args of [['status', '--env', 'staging'], ['deploy', '--help'], ['--help'], ['migrate', 'deploy', '--env', 'development']]) {
      const r = await cli(...args);
      expect(r.stderr, args.join(' ')).toContain('[parser not loaded]');
    }
  });
});
