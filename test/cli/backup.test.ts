import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { S3_CREDENTIALS, contentsOf, startS3 } from '../helpers/backup.js';
import { BIN, forbidInOutput, normalize, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { createProject } from '../helpers/project.js';
import { withParams } from '../helpers/tls.js';

/** backup, backup list/verify/prune and restore through the built binary, on real databases. */
const INIT = `CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL UNIQUE, "role" "Role" NOT NULL DEFAULT 'USER', "tags" TEXT[], "meta" JSONB, "avatar" BYTEA, "createdAt" TIMESTAMPTZ NOT NULL DEFAULT now());
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const [prod, staging] = await Promise.all([freshDatabase('cli_bk_prod'), freshDatabase('cli_bk_stg')]);
  const password = passwordOf(prod.url);
  forbidInOutput(password);
  const p = createProject({
    configJson: { environments: { production: { url: { $env: 'PROD_URL' } }, staging: { url: { $env: 'STAGING_URL' } } } },
    migrations: { '20240101000000_init': INIT },
  });
  cleanups.push(() => prod.drop(), () => staging.drop(), () => p.remove());
  // Production over TLS, as the default for a production-level environment requires.
  const env = { PROD_URL: withParams(prod.url, { sslmode: 'require' }), STAGING_URL: staging.url };
  const cli = (...args: string[]) => runCli(args, { cwd: p.dir, env, timeoutMs: 60_000 });
  const ids = (text: string) => [...new Set(text.match(/production-\d{8}T\d{6}Z-[0-9a-f]{4}/g) ?? [])];
  const shown = (text: string, extra: Record<string, string> = {}) =>
    normalize(text, { [prod.name]: '<prod-db>', [staging.name]: '<staging-db>', ...extra })
      .replace(/production-\d{8}T\d{6}Z-[0-9a-f]{4}/g, '<id>')
      .replace(/(pg_dump|pg_restore) \d+\.\d+/g, '$1 <version>')
      .replace(/sha256 [0-9a-f]{12,16}…/g, 'sha256 <sha>…')
      .replace(/\d+(\.\d+)? (B|kB|MB)\b/g, '<size>')
      .replace(/\d+(\.\d+)? s\b|\d+ ms\b/g, '<time>')
      .replace(/taken \d+[smhd] ago/g, 'taken <ago>');
  return { prod, staging, p, cli, ids, shown, password };
}

describe('stagedb backup, list, verify, restore', () => {
  it('backs up production, restores it into staging (confirmed), and refuses a corrupt backup', async () => {
    const { prod, staging, p, cli, ids, shown, password } = await setup();
    const deployed = await cli('deploy', '--env', 'production', '--confirm', 'production', '--skip-generate');
    expect(deployed.code, deployed.stderr).toBe(0);
    await query(prod.url, `INSERT INTO "User" (email, role, tags, meta, avatar) SELECT 'u' || g || '@x.org', 'ADMIN', ARRAY['a', 'b'], jsonb_build_object('g', g), decode(md5(g::text), 'hex') FROM generate_series(1, 500) g`);

    const b = await cli('backup', '--env', 'production');
    expect(b.code, b.stderr).toBe(0);
    // 4 tables: User, _prisma_migrations, and stagedb's audit_log and marker (one row each).
    expect(b.stderr).toBe('');
    expect(shown(b.stdout)).toMatchInlineSnapshot(`
      "production: pg_dump <version> of PostgreSQL <version> (<size>): custom format → .stagedb/backups/production
      production: backup <id> stored in .stagedb/backups/production
        custom format, <size> in <time>, sha256 <sha>…
        1 applied migration (last 20240101000000_init); 4 tables, 503 rows
        restore with: stagedb restore <id> --to <environment>"
    `);
    const [id] = ids(b.stdout);
    // The backup is in production's audit trail, like every guarded command.
    const prodHistory = JSON.parse((await cli('history', '--env', 'production', '--json')).stdout) as { records: Array<{ outcome: string; command: string; summary: string }> };
    expect(prodHistory.records[0]).toMatchObject({ outcome: 'ok', command: 'backup --env production' });
    expect(shown(prodHistory.records[0]!.summary)).toBe('backup <id>: custom format, <size>, sha256 <sha>…');

    const list = await cli('backup', 'list', '--env', 'production', '--json');
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { backups: Array<{ id: string; reason: string; migrations: string[] }>; incomplete: unknown[] };
    expect(listed.backups.map((x) => [x.id === id, x.reason, x.migrations])).toEqual([
      [true, 'manual', ['20240101000000_init']],
      [false, 'before-deploy', []],
    ]);
    expect(listed.incomplete).toEqual([]);
    expect(readdirSync(p.path('.stagedb/backups/production')).sort()).toEqual(['.gitignore', ...listed.backups.map((x) => x.id)].sort());
    expect(readFileSync(p.path('.stagedb/backups/production/.gitignore'), 'utf8')).toContain('*');
    expect(statSync(p.path('.stagedb/backups/production')).mode & 0o777).toBe(0o700);

    const verify = await cli('backup', 'verify', id!, '--env', 'production');
    expect(verify.code, verify.stderr).toBe(0);
    expect(shown(verify.stdout)).toContain('ok   checksum: 1 file, <size>, sha256 <sha>… as recorded');

    // Staging is guarded: without a terminal the restore needs --confirm, and nothing changes.
    const before = await contentsOf(prod.url);
    const refused = await cli('restore', 'latest', '--from', 'production', '--to', 'staging');
    expect(refused.code).toBe(5);
    expect(shown(refused.stderr)).toMatchInlineSnapshot(`
      "error: stagedb restore on staging (protection: guarded) needs confirmation, and there is no terminal to ask in
        fix: stagedb restore latest --from production --to staging --confirm staging"
    `);
    expect(await query(staging.url, `SELECT to_regclass('public."User"') IS NULL AS empty`)).toEqual([{ empty: true }]);

    const restored = await cli('restore', 'latest', '--from', 'production', '--to', 'staging', '--confirm', 'staging');
    expect(restored.code, restored.stderr).toBe(0);
    expect(shown(restored.stdout)).toMatchInlineSnapshot(`
      "staging: restoring <id> (production, <size>, taken <ago>) from .stagedb/backups/production
        checked: 1 file, sha256 as recorded; pg_restore <version> reads it
        staging: replacing schema "public" of <staging-db>, in one transaction
        staging: restored 2 tables
      staging: restored backup <id> of production into schema "public" of <staging-db> in <time> (one transaction)
        _prisma_migrations matches the backup: 1 applied, last 20240101000000_init
        staging kept its own audit trail (stagedb history --env staging)"
    `);
    expect(await contentsOf(staging.url)).toEqual(before);
    expect((await cli('status', '--env', 'staging')).code).toBe(0);
    const history = JSON.parse((await cli('history', '--env', 'staging', '--json')).stdout) as { records: Array<{ outcome: string; command: string }> };
    expect(history.records.map((r) => [r.outcome, r.command])).toEqual([
      ['ok', `restore ${id} --to staging`],
      ['refused', `restore ${id} --to staging`],
    ]);

    // A truncated backup: verify says so (exit 2), and restore refuses it before touching staging.
    truncateSync(p.path(`.stagedb/backups/production/${id}/dump.pgdump`), 1000);
    const bad = await cli('backup', 'verify', 'latest', '--env', 'production');
    expect(bad.code).toBe(2);
    expect(shown(bad.stderr)).toMatch(/^error: production: backup <id> failed verification\n {2}checksum: dump\.pgdump has <size> \(1000 bytes\), the manifest says \d+: truncated\n {2}fix: do not restore it;/);
    await query(staging.url, `INSERT INTO "User" (email) VALUES ('only-in-staging@x.org')`);
    const refusedCorrupt = await cli('restore', id!, '--to', 'staging', '--confirm', 'staging');
    expect(refusedCorrupt.code).toBe(2);
    expect(shown(refusedCorrupt.stderr)).toContain('error: backup <id> is corrupt: dump.pgdump has <size> (1000 bytes), the manifest says');
    expect(await query(staging.url, `SELECT count(*)::int AS n FROM "User" WHERE email = 'only-in-staging@x.org'`)).toEqual([{ n: 1 }]);
    // The refusal is in staging's audit trail too.
    const after = JSON.parse((await cli('history', '--env', 'staging', '--json')).stdout) as { records: Array<{ outcome: string; command: string; summary: string }> };
    expect(after.records[0]).toMatchObject({ outcome: 'failed', command: `restore ${id} --to staging` });
    expect(after.records[0]!.summary).toContain('is corrupt');

    // Nothing anywhere carries the password: outputs (checked by runCli), manifests, audit rows.
    for (const x of listed.backups) expect(readFileSync(p.path(`.stagedb/backups/production/${x.id}/manifest.json`), 'utf8')).not.toContain(password);
  });

  it('usage mistakes: restore takes --to, not --env; an unknown backup names the close one', async () => {
    const { cli, ids } = await setup();
    const noTo = await cli('restore', 'latest', '--env', 'staging');
    expect(noTo.code).toBe(4);
    expect(noTo.stderr).toContain('error: restore names its target with --to, not --env');
    const jobs = await cli('restore', 'latest', '--to', 'staging', '--jobs', '4');
    expect(jobs.code).toBe(4);
    expect(jobs.stderr.trimEnd()).toMatchInlineSnapshot(`
      "error: restore has no --jobs: it runs in one transaction (one session), so that a failed restore leaves the target as it was
        fix: stagedb restore latest --to staging"
    `);
    const b = await cli('backup', '--env', 'production');
    const [id] = ids(b.stdout);
    const typo = await cli('restore', id!.slice(0, -2), '--to', 'staging', '--confirm', 'staging');
    expect(typo.code).toBe(4);
    expect(typo.stderr).toContain(`fix: did you mean ${id}?`);
  });
});

/** Starts `stagedb <args>` and hands back the child, to kill it mid-way. */
function start(args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, done, output: () => out };
}

async function until(what: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a backup killed mid-stream (SIGKILL) is never listed as restorable', () => {
  async function bigProject(storage?: unknown, extraEnv: Record<string, string> = {}) {
    const db = await freshDatabase('cli_bk_kill');
    forbidInOutput(passwordOf(db.url));
    // Enough data that pg_dump streams for a couple of seconds.
    await query(db.url, `CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS t FROM generate_series(1, 400000) g`);
    const p = createProject({ configJson: { environments: { development: { url: { $env: 'DEV_URL' }, ...(storage ? { backup: { storage } } : {}) } } } });
    cleanups.push(() => db.drop(), () => p.remove());
    const env = { DEV_URL: db.url, ...extraEnv };
    return { db, p, env, cli: (...args: string[]) => runCli(args, { cwd: p.dir, env, timeoutMs: 60_000 }) };
  }

  it('local storage: killed three times at different points, then a complete one', async () => {
    const { p, env, cli } = await bigProject();
    const dir = p.path('.stagedb/backups/development');
    const names = () => (existsSync(dir) ? readdirSync(dir) : []);
    // Killed once pg_dump has written this much of the new backup's dump (each kill leaves its pg_dump
    // finishing on its own: the new backup is told apart from those by name).
    for (const threshold of [1, 1_000_000, 8_000_000]) {
      const before = new Set(names());
      const run = start(['backup', '--env', 'development'], p.dir, env);
      const written = () => {
        const mine = names().find((n) => n.endsWith('.partial') && !before.has(n));
        const file = mine && join(dir, mine, 'dump.pgdump');
        return file && existsSync(file) ? statSync(file).size : -1;
      };
      await until(() => written() >= threshold);
      run.child.kill('SIGKILL');
      await run.done;
      expect(run.output()).not.toContain('stored in');
    }
    const listed = await cli('backup', 'list', '--env', 'development', '--json');
    const l = JSON.parse(listed.stdout) as { backups: unknown[]; incomplete: Array<{ active: boolean }> };
    expect(l.backups).toEqual([]);
    expect(l.incomplete).toHaveLength(3);
    expect(l.incomplete.every((i) => !i.active)).toBe(true);
    const text = await cli('backup', 'list', '--env', 'development');
    expect(text.stdout).toContain('3 incomplete backups (interrupted or failed, not restorable): stagedb backup prune --env development removes them');
    const restore = await cli('restore', 'latest', '--to', 'development');
    expect(restore.code).toBe(4);
    expect(restore.stderr).toContain('error: there is no complete backup in');

    const pruned = await cli('backup', 'prune', '--env', 'development');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain('deleted 3 leftovers of interrupted backups');
    const ok = await cli('backup', '--env', 'development');
    expect(ok.code, ok.stderr).toBe(0);
    const after = JSON.parse((await cli('backup', 'list', '--env', 'development', '--json')).stdout) as { backups: unknown[]; incomplete: unknown[] };
    expect([after.backups.length, after.incomplete.length]).toEqual([1, 0]);
  });

  it('S3: killed mid-upload, nothing is listed; the next backup is', async () => {
    const s3 = await startS3('backups');
    cleanups.push(() => s3.close());
    const { cli, p, env } = await bigProject({ s3: { bucket: 'backups', endpoint: s3.endpoint } }, S3_CREDENTIALS);
    forbidInOutput(S3_CREDENTIALS.AWS_SECRET_ACCESS_KEY);
    const run = start(['backup', '--env', 'development'], p.dir, env);
    await until(() => run.output().includes('→ s3://backups/stagedb/development'));
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGKILL');
    await run.done;
    const l = JSON.parse((await cli('backup', 'list', '--env', 'development', '--json')).stdout) as { backups: unknown[] };
    expect(l.backups).toEqual([]);
    const ok = await cli('backup', '--env', 'development');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`stored in s3://backups/stagedb/development (${s3.endpoint})`);
    const after = JSON.parse((await cli('backup', 'list', '--env', 'development', '--json')).stdout) as { backups: unknown[] };
    expect(after.backups).toHaveLength(1);
  });
});

describe('restore covers exactly the schemas the datasource names (issue 19.2/19.9)', () => {
  async function twoDatabases(schema: string | undefined, url: (u: string) => string) {
    const [src, dst] = await Promise.all([freshDatabase('cli_rs_src'), freshDatabase('cli_rs_dst')]);
    const p = createProject({
      configJson: { environments: { source: { url: { $env: 'SRC_URL' }, protection: 'none' }, target: { url: { $env: 'DST_URL' }, protection: 'none' } } },
      migrations: { '20240101000000_init': INIT },
      ...(schema === undefined ? {} : { schema }),
    });
    cleanups.push(() => src.drop(), () => dst.drop(), () => p.remove());
    const env = { SRC_URL: url(src.url), DST_URL: url(dst.url) };
    const cli = (...args: string[]) => runCli(args, { cwd: p.dir, env, timeoutMs: 60_000 });
    const shown = (text: string) => normalize(text, { [src.name]: '<src-db>', [dst.name]: '<dst-db>' }).replace(/source-\d{8}T\d{6}Z-[0-9a-f]{4}/g, '<id>').replace(/\d+(\.\d+)? s\b|\d+ ms\b/g, '<time>');
    return { src, dst, cli, shown };
  }

  it('a ?schema=app project replaces schema "app", says so, and leaves public alone', async () => {
    const { src, dst, cli, shown } = await twoDatabases(undefined, (u) => `${u}?schema=app`);
    for (const name of ['source', 'target']) expect((await cli('deploy', '--env', name)).code).toBe(0);
    await query(src.url, `INSERT INTO app."User" (email) SELECT 'src' || g FROM generate_series(1, 40) g; CREATE TABLE public.src_only (x INT); INSERT INTO public.src_only VALUES (1)`);
    await query(dst.url, `INSERT INTO app."User" (email) VALUES ('old'); CREATE TABLE public.keep (x INT); INSERT INTO public.keep SELECT generate_series(1, 3)`);
    expect((await cli('backup', '--env', 'source')).code).toBe(0);
    const r = await cli('restore', 'latest', '--from', 'source', '--to', 'target');
    expect(r.code, r.stderr).toBe(0);
    expect(shown(r.stdout)).toContain('target: replacing schema "app" of <dst-db>, in one transaction');
    expect(shown(r.stdout)).toContain('target: restored backup <id> of source into schema "app" of <dst-db> in <time> (one transaction)');
    expect(shown(r.stderr)).toContain('warning: target: schema public is not one the datasource names: left as it is');
    expect(shown(r.stderr)).toContain('warning: backup <id> also holds schema public, which the datasource does not name: not restored');
    expect(await query(dst.url, 'SELECT count(*)::int AS n FROM public.keep')).toEqual([{ n: 3 }]);
    expect(await query(dst.url, `SELECT to_regclass('public.src_only') IS NULL AS gone`)).toEqual([{ gone: true }]);
    expect(await query(dst.url, 'SELECT count(*)::int AS n FROM app."User"')).toEqual([{ n: 40 }]);
  });

  it('a multiSchema datasource replaces every schema it names, and no other', async () => {
    const schema = `generator client {\n  provider = "prisma-client"\n  output   = "../generated/prisma"\n}\n\ndatasource db {\n  provider = "postgresql"\n  schemas  = ["public", "auth"]\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n\n  @@schema("public")\n}\n`;
    const { src, dst, cli, shown } = await twoDatabases(schema, (u) => u);
    for (const name of ['source', 'target']) expect((await cli('deploy', '--env', name)).code).toBe(0);
    for (const [url, n] of [[src.url, 7], [dst.url, 2]] as const) {
      await query(url, `CREATE SCHEMA auth; CREATE TABLE auth.session (id INT); INSERT INTO auth.session SELECT generate_series(1, ${n}); CREATE SCHEMA reporting; CREATE TABLE reporting.daily (d INT); INSERT INTO reporting.daily SELECT generate_series(1, ${n})`);
    }
    expect((await cli('backup', '--env', 'source')).code).toBe(0);
    const r = await cli('restore', 'latest', '--from', 'source', '--to', 'target');
    expect(r.code, r.stderr).toBe(0);
    expect(shown(r.stdout)).toContain('target: replacing schemas "public", "auth" of <dst-db>, in one transaction');
    expect(await query(dst.url, 'SELECT count(*)::int AS n FROM auth.session')).toEqual([{ n: 7 }]);
    expect(await query(dst.url, 'SELECT count(*)::int AS n FROM reporting.daily')).toEqual([{ n: 2 }]);
  });

  it('refuses, changing nothing, when another schema depends on a replaced one', async () => {
    const { dst, cli, shown } = await twoDatabases(undefined, (u) => u);
    for (const name of ['source', 'target']) expect((await cli('deploy', '--env', name)).code).toBe(0);
    await query(dst.url, `INSERT INTO "User" (email) VALUES ('kept'); CREATE SCHEMA billing; CREATE TABLE billing.invoice (id INT, "userId" INT REFERENCES public."User"(id))`);
    expect((await cli('backup', '--env', 'source')).code).toBe(0);
    const r = await cli('restore', 'latest', '--from', 'source', '--to', 'target');
    expect(r.code).toBe(2);
    expect(shown(r.stderr)).toMatchInlineSnapshot(`
      "warning: target: schema billing is not one the datasource names: left as it is
      error: target: restoring schema "public" would also drop 1 object in other schemas that depend on it; nothing was changed
        constraint invoice_userId_fkey on table billing.invoice
        fix: name those schemas in the datasource too (schemas = [...] in schema.prisma), so they are restored with it, or drop what depends on schema "public" first"
    `);
    expect(await query(dst.url, 'SELECT email FROM "User"')).toEqual([{ email: 'kept' }]);
  });
});

describe('backup storage that cannot hold backups (issue 12.8)', () => {
  it('a file where the directory should be, and a directory nobody may write: the same code, exit 3, one line each', async () => {
    const db = await freshDatabase('cli_bk_dir');
    const config = (dir: string) => ({ environments: { development: { url: { $env: 'DEV_URL' }, protection: 'none', backup: { storage: { dir } } } } });
    const p = createProject({ configJson: config('backups') });
    cleanups.push(() => db.drop(), () => p.remove());
    writeFileSync(join(p.dir, 'a-file'), 'not a directory\n');
    const run = (dir: string) => {
      writeFileSync(join(p.dir, 'stagedb.config.json'), JSON.stringify(config(dir)));
      return runCli(['backup', '--env', 'development'], { cwd: p.dir, env: { DEV_URL: db.url }, timeoutMs: 60_000 });
    };
    const file = await run(join(p.dir, 'a-file'));
    expect(file.code).toBe(3);
    expect(normalize(file.stderr, { [p.dir]: '<project>' })).toMatchInlineSnapshot(`
      "error: cannot write backups to <project>/a-file: it is a file, not a directory
        fix: point backup.storage.dir at a directory, or move the file away"
    `);
    const under = await run(join(p.dir, 'a-file', 'backups'));
    expect(under.code).toBe(3);
    expect(normalize(under.stderr, { [p.dir]: '<project>' })).toContain('error: cannot write backups to <project>/a-file/backups: part of the path is a file, not a directory');
    // Even root may not create a directory in /sys: an unwritable directory, whoever runs the tests.
    const denied = await run('/sys/stagedb-backups');
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/^error: cannot write backups to \/sys\/stagedb-backups: .*\n {2}fix: make \/sys\/stagedb-backups writable for this user, or set backup\.storage to another directory\n$/);
  });
});
