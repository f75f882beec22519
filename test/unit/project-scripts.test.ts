import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/registry.js';
import { GUIDE_SCRIPTS } from '../../src/project/init.js';
import { BOOLEAN_FLAGS, readProjectScripts, scriptForms, type ProjectScripts } from '../../src/project/scripts.js';

/** A fix line's script form: what a guide user types instead of the stagedb command. */
const guide = (runner: ProjectScripts['runner']): ProjectScripts => ({ scripts: Object.fromEntries(GUIDE_SCRIPTS), runner });

describe('scriptForms', () => {
  it("finds the guide's script for the fix's command and environment, and passes the rest through", () => {
    const yarn = guide('yarn');
    expect(scriptForms('stagedb deploy --env production --confirm production', yarn)).toEqual(['yarn run db:deploy:production --confirm production']);
    expect(scriptForms('stagedb deploy --env production --confirm production', guide('npm'))).toEqual(['npm run db:deploy:production -- --confirm production']);
    expect(scriptForms('stagedb deploy --env production --confirm production', guide('pnpm'))).toEqual(['pnpm run db:deploy:production --confirm production']);
    // Inside a sentence, after a colon, before prose or a semicolon.
    expect(scriptForms('see the history: stagedb status --env staging; then resolve it', yarn)).toEqual(['yarn run db:status:staging']);
    expect(scriptForms('nothing to do; see: stagedb status --env staging', yarn)).toEqual(['yarn run db:status:staging']);
    expect(scriptForms('stagedb status --env staging checks the same connection', yarn)).toEqual(['yarn run db:status:staging']);
    expect(scriptForms('stagedb migrate deploy --env staging --allow-modified', yarn)).toEqual(['yarn run db:migrate:staging --allow-modified']);
    // No --env on either side is the same environment; a boolean flag takes no value.
    expect(scriptForms('reset the development database: stagedb migrate reset --force', yarn)).toEqual(['yarn run db:migrate:reset --force']);
    expect(scriptForms('stagedb dev up --write-env   (starts a local PostgreSQL)', { scripts: { 'db:up': 'stagedb dev up' }, runner: 'npm' })).toEqual([
      'npm run db:up -- --write-env',
    ]);
  });

  it('gives no form where no script runs that command on that environment', () => {
    const yarn = guide('yarn');
    // db:migrate:deploy follows STAGEDB_ENV: it is not the production command.
    expect(scriptForms('stagedb migrate deploy --env production --confirm production', yarn)).toEqual([]);
    // `stagedb backup --env staging` is not `backup list`.
    expect(scriptForms('stagedb backup list --env staging shows the restorable backups', yarn)).toEqual([]);
    expect(scriptForms('stagedb restore latest --from production --to staging --confirm staging', yarn)).toEqual([]);
    expect(scriptForms('npm install --save-dev prisma', yarn)).toEqual([]);
    // A script that does more than run stagedb is never offered.
    expect(scriptForms('stagedb status --env staging', { scripts: { s: 'stagedb status --env staging && echo ok' }, runner: 'npm' })).toEqual([]);
  });

  it('prefers the script that passes the most of the fix, and offers a positional argument to a command script', () => {
    const scripts = { status: 'stagedb status', 'status:all': 'stagedb status --drift', restore: 'stagedb restore --to staging' };
    expect(scriptForms('stagedb status --drift', { scripts, runner: 'yarn' })).toEqual(['yarn run status:all']);
    expect(scriptForms('stagedb restore latest --to staging --confirm staging', { scripts, runner: 'npm' })).toEqual([
      'npm run restore -- latest --confirm staging',
    ]);
  });

  it("BOOLEAN_FLAGS lists exactly the commands' flags that take no value", async () => {
    const booleans = new Set(['help', 'json']); // the global ones (src/cli/main.ts)
    for (const entry of Object.values(COMMANDS)) {
      const { default: command } = await entry.load();
      for (const [name, spec] of Object.entries(command.options ?? {})) if (spec.type === 'boolean') booleans.add(name);
    }
    expect([...BOOLEAN_FLAGS].sort()).toEqual([...booleans].sort());
  });
});

describe('readProjectScripts', () => {
  it('reads the nearest package.json; the runner is the one that started stagedb, else the lock file, else npm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-scripts-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { 'db:status': 'stagedb status', odd: 3 } }));
      mkdirSync(join(dir, 'prisma'));
      expect(readProjectScripts(join(dir, 'prisma'))).toEqual({ scripts: { 'db:status': 'stagedb status' }, runner: 'npm' });
      writeFileSync(join(dir, 'yarn.lock'), '');
      expect(readProjectScripts(dir)?.runner).toBe('yarn');
      expect(readProjectScripts(dir, 'pnpm/9.1.0 npm/? node/v20.19.0 linux x64')?.runner).toBe('pnpm');
      writeFileSync(join(dir, 'package.json'), '{ not json');
      expect(readProjectScripts(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
