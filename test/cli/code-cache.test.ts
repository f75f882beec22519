import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../helpers/cli.js';

/**
 * Issue 18: bin/stagedb.js runs a command from dist/cli-bundle/cli.cjs compiled with V8's code cache
 * (cli.<tag>.cache beside it). V8 accepts a cache for any script of the same length, so a cache must
 * never stand in for a script edited in place (a patched install): its bytecode would run instead of
 * the file's code. One cache per command (cli.<tag>.<command>.cache), written by the command's first run
 * when it ends with the V8 flags it started with. Runs on a copy of the package, so the build the other
 * tests use is left alone.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let pkg: string;
let bundle: string;

const caches = () => readdirSync(bundle).filter((f) => /^cli\.[0-9a-f]+\.[a-z]+\.cache$/.test(f));
const stagedb = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [join(pkg, 'bin', 'stagedb.js'), ...args], {
    cwd: pkg,
    env: { PATH: process.env.PATH ?? '', HOME: pkg, NO_COLOR: '1', ...env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(() => {
  assertBuilt();
  pkg = mkdtempSync(join(tmpdir(), 'stagedb-code-cache-'));
  mkdirSync(join(pkg, 'dist'));
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist', 'cli-bundle'), join(pkg, 'dist', 'cli-bundle'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  bundle = join(pkg, 'dist', 'cli-bundle');
  for (const f of caches()) rmSync(join(bundle, f));
});

afterAll(() => rmSync(pkg, { recursive: true, force: true }));

describe('the CLI code cache', () => {
  it('is written by the first command, used by the next, and never by --help or STAGEDB_NO_CODE_CACHE', () => {
    expect(stagedb(['--help']).code).toBe(0);
    expect(stagedb(['status', '--help'], { STAGEDB_NO_CODE_CACHE: '1' }).code).toBe(0);
    expect(caches()).toEqual([]);

    const first = stagedb(['status', '--help']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Compares the migrations folder');
    expect(caches()).toHaveLength(1);
    const cache = join(bundle, caches()[0]!);
    const then = new Date('2024-01-02T03:04:05Z');
    utimesSync(cache, then, then);

    const second = stagedb(['status', '--help']);
    expect(second).toEqual(first);
    // Used as it was, not written again.
    expect(statSync(cache).mtimeMs).toBe(then.getTime());
  });

  it('is not used for a cli.cjs edited in place to the same length: the edit runs, and the cache is made anew', () => {
    stagedb(['status', '--help']);
    expect(caches()).toHaveLength(1);
    const cache = join(bundle, caches()[0]!);
    const before = readFileSync(cache);
    const file = join(bundle, 'cli.cjs');
    const text = readFileSync(file, 'utf8');
    const edited = text.replace('Compares the migrations folder', 'Comparez the migrations folder');
    expect(edited).not.toBe(text);
    expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(text));
    writeFileSync(file, edited);

    const r = stagedb(['status', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Comparez the migrations folder');
    expect(readFileSync(cache).equals(before)).toBe(false);
    // And the new cache serves the edited script.
    expect(stagedb(['status', '--help']).stdout).toContain('Comparez the migrations folder');
  });

  it("is one per command: lint gives back the V8 flags it changes and writes its own, with status's tag, used by the next lint", () => {
    for (const f of caches()) rmSync(join(bundle, f));
    // Every --help shares one cache: it compiles little of the command.
    expect(stagedb(['status', '--help']).code).toBe(0);
    expect(stagedb(['lint', '--help']).code).toBe(0);
    expect(caches()).toEqual([expect.stringMatching(/\.help\.cache$/)]);
    for (const f of caches()) rmSync(join(bundle, f));
    expect(stagedb(['status']).code).toBe(2); // no migrations folder here: an error, but not a usage error
    const [status] = caches();
    expect(status).toMatch(/\.status\.cache$/);
    const statusBytes = readFileSync(join(bundle, status!));
    writeFileSync(join(pkg, 'one.sql'), 'CREATE TABLE "A" ("id" INT);\nCREATE INDEX "A_id_idx" ON "A" ("id");\n');
    const first = stagedb(['lint', '--json', 'one.sql']);
    expect(first.code, first.stderr).toBe(0);
    // --no-opt and --liftoff-only, set for the run, are undone at its end: the same V8 tag as status's.
    expect(caches().sort()).toEqual([status, status!.replace('.status.', '.lint.')].sort());
    expect(readFileSync(join(bundle, status!)).equals(statusBytes)).toBe(true);
    const lint = join(bundle, status!.replace('.status.', '.lint.'));
    const then = new Date('2024-01-02T03:04:05Z');
    utimesSync(lint, then, then);
    const again = stagedb(['lint', '--json', 'one.sql']);
    expect(again).toEqual(first);
    expect(statSync(lint).mtimeMs).toBe(then.getTime());
    // And what it prints is what the modules print.
    expect(stagedb(['lint', '--json', 'one.sql'], { STAGEDB_NO_CODE_CACHE: '1' })).toEqual(first);
  });

  it('is written by a command that changed the V8 flags (plan: --liftoff-only for the engine) with the tag it started with, never after a usage error', () => {
    for (const f of caches()) rmSync(join(bundle, f));
    const plan = stagedb(['plan']);
    expect(plan.code, plan.stderr).toBe(3); // no config here: the flags were already set
    // Given back at exit: the same V8 tag as a command that never changed them.
    const tag = (name: string) => name.split('.')[1];
    expect(caches().map((f) => f.replace(/^cli\.[0-9a-f]+\./, 'cli.'))).toEqual(['cli.plan.cache']);
    expect(stagedb(['status', '--env', 'development']).code).not.toBe(4);
    expect(new Set(caches().map(tag)).size).toBe(1);
    for (const f of caches()) rmSync(join(bundle, f));
    const typo = stagedb(['stauts']);
    expect(typo.code, typo.stderr).toBe(4);
    expect(caches()).toEqual([]);
    expect(stagedb(['status', '--help']).code).toBe(0);
    expect(caches()).toHaveLength(1);
  });

  it('without cli.cjs (a build from before it), commands run from the modules', () => {
    const file = join(bundle, 'cli.cjs');
    const text = readFileSync(file);
    rmSync(file);
    try {
      const r = stagedb(['status', '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('the migrations folder');
    } finally {
      writeFileSync(file, text);
    }
  });

  it('a damaged cache is a missing one', () => {
    stagedb(['status', '--help']);
    const cache = join(bundle, caches()[0]!);
    writeFileSync(cache, 'not a code cache');
    const r = stagedb(['status', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the migrations folder');
    expect(readFileSync(cache).length).toBeGreaterThan(1000);
  });
});
