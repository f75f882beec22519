import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/history/deploy.js';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, withPassword, type TempProject } from '../helpers/project.js';

/**
 * Issue 18: what `status` and `lint` keep between runs must never stand in for a file that changed.
 * The hard case is a file edited in place to the same size, with its modification time put back
 * (fs.utimes): anything keyed by size and mtime would reuse a stale entry.
 */
const INIT = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
`;
// Same length, byte for byte: a hazard (an index built with a write lock on a live table), and none.
const HAZARD = `-- CreateIndex\nCREATE INDEX "User_email_idx" ON "User"("email");\n`;
const SAFE = `-- Nothing to see\nSELECT 1 /* ${'-'.repeat(30)} */;\n`;

/** Whole seconds, so that fs.utimes can put a file's times back exactly. */
const WHEN = new Date('2024-01-02T03:04:05Z');

/** Rewrites `path` with `content` of the same size, and puts its modification time back. */
function editInPlace(path: string, content: string): void {
  utimesSync(path, WHEN, WHEN);
  const before = statSync(path);
  expect(Buffer.byteLength(content)).toBe(before.size);
  writeFileSync(path, content);
  utimesSync(path, WHEN, WHEN);
  const after = statSync(path);
  expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
}

/** A preloaded hook that reports at exit whether PostgreSQL's parser (libpg-query) was loaded. */
const HOOK = join(tmpdir(), `stagedb-cache-hook-${process.pid}.cjs`);
writeFileSync(HOOK, `process.on('exit', () => { process.stderr.write(Object.keys(require.cache).some((k) => k.includes('libpg-query')) ? '[parser loaded]\\n' : '[parser not loaded]\\n'); });\n`);
afterAll(() => rmSync(HOOK, { force: true }));

describe('lint: the findings cache under .stagedb/cache', () => {
  let p: TempProject;
  beforeAll(() => {
    p = createProject({ migrations: { '20240101000000_init': INIT, '20240102000000_index': HAZARD } });
  });
  afterAll(() => p.remove());
  const lint = (extra: Record<string, string> = {}) => runCli(['lint', '--json'], { cwd: p.dir, env: { NODE_OPTIONS: `--require ${HOOK}`, ...extra } });
  const codes = (stdout: string) => (JSON.parse(stdout) as { findings: Array<{ code: string; migration: string }> }).findings.map((f) => `${f.migration} ${f.code}`);

  it('a warm run gives the same findings without loading the parser', async () => {
    expect(SAFE.length).toBe(HAZARD.length);
    const cold = await lint();
    expect(cold.code, cold.stderr).toBe(1);
    expect(codes(cold.stdout)).toEqual(['20240102000000_index SDB001']);
    expect(cold.stderr).toContain('[parser loaded]');
    expect(existsSync(p.path('.stagedb/cache/lint.json'))).toBe(true);

    const warm = await lint();
    expect(warm.code).toBe(1);
    expect(warm.stdout).toBe(cold.stdout);
    expect(warm.stderr).toContain('[parser not loaded]');
  });

  it('a file edited in place (same size, same mtime) is linted again, never taken from the cache', async () => {
    const file = p.path('prisma/migrations/20240102000000_index/migration.sql');
    utimesSync(file, WHEN, WHEN);
    await lint(); // the cache holds the hazard's findings
    editInPlace(file, SAFE);
    const safe = await lint();
    expect(safe.stderr).toContain('[parser loaded]');
    expect(codes(safe.stdout)).toEqual([]);
    expect(safe.code).toBe(0);
    // And back: the cache now holds SAFE's (empty) findings for this path; the hazard must come back.
    editInPlace(file, HAZARD);
    const again = await lint();
    expect(codes(again.stdout)).toEqual(['20240102000000_index SDB001']);
    expect(again.code).toBe(1);
  });

  it('options are part of the key: a rule turned off in the config is not answered from the cache', async () => {
    await lint();
    p.write('stagedb.config.json', JSON.stringify({ environments: { development: { url: 'postgresql://localhost/x' } }, lint: { rules: { SDB001: 'off' } } }));
    const off = await lint();
    expect(codes(off.stdout)).toEqual([]);
    rmSync(p.path('stagedb.config.json'));
    expect(codes((await lint()).stdout)).toEqual(['20240102000000_index SDB001']);
  });

  it('a damaged cache file is an empty cache; STAGEDB_NO_CACHE=1 neither reads nor writes it', async () => {
    const cacheFile = p.path('.stagedb/cache/lint.json');
    writeFileSync(cacheFile, '{"v":1,"identity":');
    const r = await lint();
    expect(codes(r.stdout)).toEqual(['20240102000000_index SDB001']);
    expect(() => JSON.parse(readFileSync(cacheFile, 'utf8'))).not.toThrow();
    rmSync(p.path('.stagedb'), { recursive: true });
    const none = await lint({ STAGEDB_NO_CACHE: '1' });
    expect(codes(none.stdout)).toEqual(['20240102000000_index SDB001']);
    expect(existsSync(cacheFile)).toBe(false);
  });
});

describe('status: a migration edited in place after it was applied', () => {
  let db: FreshDatabase;
  let p: TempProject;
  let appUrl: string;
  beforeAll(async () => {
    db = await freshDatabase('evc');
    p = createProject({ migrations: { '20240101000000_init': INIT, '20240102000000_index': HAZARD } });
    await deploy({ env: environmentFor(db.url), migrationsDir: p.migrationsDir });
    // As an application role that owns nothing and may only read the history (not a superuser).
    const role = `evc_app_${process.pid}`;
    await query(db.url, `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await query(db.url, `CREATE ROLE ${role} LOGIN PASSWORD 'Evc-App-Pw-1'`);
    await query(db.url, `GRANT SELECT ON "_prisma_migrations" TO ${role}`);
    const u = new URL(withPassword(db.url, 'Evc-App-Pw-1'));
    u.username = role;
    appUrl = u.toString();
    forbidInOutput(passwordOf(db.url), 'Evc-App-Pw-1');
  });
  afterAll(async () => {
    p.remove();
    await db.drop();
  });

  it('is MODIFIED on the next run, though its size and mtime are those of the applied file', async () => {
    const status = () => runCli(['status', '--json'], { cwd: p.dir, env: { DATABASE_URL: appUrl } });
    const file = p.path('prisma/migrations/20240102000000_index/migration.sql');
    utimesSync(file, WHEN, WHEN);
    const before = await status();
    expect(before.code, before.stderr).toBe(0);
    editInPlace(file, SAFE);
    const after = await status();
    expect(after.code).toBe(2);
    expect((JSON.parse(after.stdout) as { environments: Array<{ modified: string[] }> }).environments[0]!.modified).toEqual(['20240102000000_index']);
    editInPlace(file, HAZARD);
    expect((await status()).code).toBe(0);
  });
});
