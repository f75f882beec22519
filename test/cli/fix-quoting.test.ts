import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidInOutput, passwordOf, runCli } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * Issue 12.7: a fix line is pasted into a shell. A migration folder or database named with `$(…)` or
 * backticks must reach the command as that name, and run nothing. Each fix line below is run by a real
 * `sh` with the command replaced by a function that prints its arguments, in a scratch directory where
 * the injected `touch` would leave a file.
 */
let db: FreshDatabase;
const cleanup: Array<() => void> = [];
beforeAll(async () => {
  db = await freshDatabase('quote');
  forbidInOutput(passwordOf(db.url));
});
afterAll(async () => {
  for (const c of cleanup) c();
  await db?.drop();
});

/** Runs `line` in sh with `command` stubbed to print its arguments one per line; returns them, and whether anything was injected. */
function paste(line: string, command: string): { args: string[]; injected: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'stagedb-paste-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const out = execFileSync('sh', ['-c', `${command}() { for a in "$@"; do printf '%s\\n' "$a"; done; }\n${line}`], { cwd: dir, encoding: 'utf8' });
  return { args: out.split('\n').filter(Boolean), injected: existsSync(join(dir, 'PWNED')) };
}

/** The `stagedb …` command a fix line hands the user (up to the first ";" or "   (" aside). */
function fixCommand(text: string, start: string): string {
  const i = text.indexOf(start);
  expect(i, text).toBeGreaterThanOrEqual(0);
  const cmd = text.slice(i).split('\n')[0]!.split(/;|\s{3}\(/)[0]!.trim();
  // A command given inside an aside "(… instead: stagedb …)" ends with the aside's ")".
  const open = (cmd.match(/\(/g) ?? []).length;
  const close = (cmd.match(/\)/g) ?? []).length;
  return close > open ? cmd.replace(/\)$/, '') : cmd;
}

describe.each(['20240102000000_x$(touch PWNED)', '20240102000000_x`touch PWNED`'])('a migration folder named %s', (bad) => {
  let p: TempProject;
  beforeAll(() => {
    p = createProject({ migrations: { '20240101000000_init': 'CREATE TABLE "A" (id int);\n', [bad]: 'CREATE TABLE "B" (id int REFERENCES nowhere(id));\n' } });
    cleanup.push(() => p.remove());
  });

  it('deploy fails on it, and its fix lines paste as that name and run nothing', async () => {
    const r = await runCli(['migrate', 'deploy', '--url', db.url], { cwd: p.dir });
    expect(r.code, r.all).toBe(2);
    // Nothing of it was committed (one transaction): the fix is to deploy again, or to record it as
    // finished by hand — that line carries the folder's name.
    const line = fixCommand(r.stderr, 'stagedb migrate resolve --applied');
    const pasted = paste(line, 'stagedb');
    expect(pasted.injected).toBe(false);
    expect(pasted.args.slice(0, 4)).toEqual(['migrate', 'resolve', '--applied', bad]);

    const status = await runCli(['status', '--url', db.url], { cwd: p.dir });
    for (const start of ['stagedb migrate resolve --rolled-back', 'stagedb migrate resolve --applied']) {
      if (!status.all.includes(start)) continue;
      const s = paste(fixCommand(status.all, start), 'stagedb');
      expect(s.injected).toBe(false);
      expect(s.args[3]).toBe(bad);
    }
    // Clear it for the next name.
    await runCli(['migrate', 'resolve', '--rolled-back', bad, '--url', db.url], { cwd: p.dir });
  });
});

describe('the git checkout fix line', () => {
  it('a migration folder without migration.sql, named with $(…): the path pastes as itself', async () => {
    const bad = '20240102000000_y$(touch PWNED)';
    const p = createProject({ migrations: { '20240101000000_init': 'CREATE TABLE "A" (id int);\n', [bad]: null } });
    cleanup.push(() => p.remove());
    const r = await runCli(['migrate', 'deploy', '--url', db.url], { cwd: p.dir });
    expect(r.code, r.all).toBe(2);
    const line = /git checkout -- (.*)\) or delete/.exec(r.stderr)?.[0].replace(/\) or delete$/, '');
    expect(line, r.stderr).toBeDefined();
    const pasted = paste(line!, 'git');
    expect(pasted.injected).toBe(false);
    expect(pasted.args).toEqual(['checkout', '--', `prisma/migrations/${bad}`]);
  });
});

describe('the createdb fix line', () => {
  it('a database name with $(…) pastes as that name and runs nothing', async () => {
    const name = 'app$(touch PWNED)';
    const u = new URL(db.url);
    u.pathname = `/${encodeURIComponent(name)}`;
    const p = createProject({ migrations: { '20240101000000_init': 'CREATE TABLE "A" (id int);\n' } });
    cleanup.push(() => p.remove());
    const r = await runCli(['migrate', 'deploy', '--url', u.toString()], { cwd: p.dir });
    expect(r.code, r.all).toBe(3);
    const line = fixCommand(r.stderr, 'createdb ');
    const pasted = paste(line, 'createdb');
    expect(pasted.injected).toBe(false);
    expect(pasted.args.at(-1)).toBe(name);
  });
});
