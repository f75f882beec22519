import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/registry.js';
import { runCli } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';

/** Commands that need no database: help, usage errors, commands not built yet, init. */
let empty: TempProject;
beforeAll(() => {
  empty = createProject({ schema: false });
});
afterAll(() => empty?.remove());

const run = (...args: string[]) => runCli(args, { cwd: empty.dir });

describe('help', () => {
  it('stagedb --help lists every command in the registry (exit 0)', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const [name, entry] of Object.entries(COMMANDS)) expect(r.stdout).toContain(`  ${name.padEnd(17)}${entry.summary}`);
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 pending migrations, 2 failed/modified history or migration error,');
  });

  it.each(Object.keys(COMMANDS))('stagedb %s --help (exit 0)', async (name) => {
    const r = await run(...name.split(' '), '--help');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.startsWith(`stagedb ${name} — ${COMMANDS[name]!.summary}\n\n`)).toBe(true);
    expect(r.stdout).toMatch(/Usage: stagedb |Not built yet: stagedb /);
  });

  const groups = [...new Set(Object.keys(COMMANDS).filter((k) => k.includes(' ')).map((k) => k.split(' ')[0]!))];
  it.each(groups.filter((g) => !COMMANDS[g]))('stagedb %s --help lists its subcommands (exit 0)', async (group) => {
    const r = await run(group, '--help');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    for (const [name, entry] of Object.entries(COMMANDS).filter(([k]) => k.startsWith(`${group} `))) {
      expect(lines.some((l) => l.startsWith(`  ${name} `) && l.endsWith(entry.summary)), name).toBe(true);
    }
    expect(r.stdout).toMatch(new RegExp(`^Usage: stagedb ${group} <command>`));
  });

  // `backup` is a command of its own (the guide's db:backup) and the group of backup list/verify/prune.
  it.each(groups.filter((g) => COMMANDS[g]))('stagedb %s --help is the command\'s help and names its subcommands (exit 0)', async (group) => {
    const r = await run(group, '--help');
    expect(r.code).toBe(0);
    for (const name of Object.keys(COMMANDS).filter((k) => k.startsWith(`${group} `))) expect(r.stdout).toContain(`stagedb ${name} `);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await run('--version');
    expect([r.code, r.stdout]).toEqual([0, `${pkg.version}\n`]);
  });
});

describe('usage errors (exit 4)', () => {
  it('an unknown command suggests the close one', async () => {
    const r = await run('stauts');
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: unknown command "stauts"
        fix: did you mean: stagedb status? (stagedb --help lists all)
      "
    `);
  });

  it('an unknown command with nothing close points at --help', async () => {
    const r = await run('frobnicate');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: unknown command "frobnicate"
        fix: stagedb --help
      "
    `);
  });

  it('a group without its subcommand, or with an unknown one, lists the subcommands', async () => {
    const [bare, wrong] = await Promise.all([run('migrate'), run('migrate', 'deploi')]);
    expect([bare.code, wrong.code]).toEqual([4, 4]);
    expect(bare.stderr).toMatchInlineSnapshot(`
      "error: "migrate" needs a subcommand
        fix: use one of: stagedb migrate deploy, stagedb migrate status, stagedb migrate resolve, stagedb migrate dev, stagedb migrate reset, stagedb migrate diff
      "
    `);
    expect(wrong.stderr).toContain('unknown command "migrate deploi"');
  });

  it('--json errors are JSON on stdout, with the exit code', async () => {
    const r = await run('stauts', '--json');
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { kind: 'usage', code: 'E_USAGE', message: 'unknown command "stauts"', details: [], fix: expect.stringContaining('stagedb status'), exitCode: 4 },
    });
  });

  it('an argument a command does not take', async () => {
    const r = await run('status', 'production');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: stagedb status takes no argument "production"
        fix: stagedb status --help
      "
    `);
  });

  it('a malformed --lock-timeout', async () => {
    const p = createProject({ migrations: {}, envFiles: { '.env': { DATABASE_URL: 'postgresql://u:p@127.0.0.1:9/x' } } });
    try {
      const r = await runCli(['migrate', 'deploy', '--lock-timeout', 'soon'], { cwd: p.dir });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('--lock-timeout needs a non-negative number of seconds, not "soon"');
    } finally {
      p.remove();
    }
  });
});

describe('migrate resolve usage', () => {
  it.each([
    ['neither flag', []],
    ['both flags', ['--applied', '20240101000000_init', '--rolled-back', '20240101000000_init']],
  ])('%s: exit 4, says exactly one is needed', async (_label, flags) => {
    const r = await run('migrate', 'resolve', ...flags);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: migrate resolve needs exactly one of --applied <name> or --rolled-back <name>
        fix: stagedb migrate resolve --rolled-back <migration_name> --env <env>
      "
    `);
  });

  it('a flag without its migration name', async () => {
    const r = await run('migrate', 'resolve', '--applied');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: stagedb migrate resolve: Option '--applied <value>' argument missing
        fix: stagedb migrate resolve --help
      "
    `);
  });

  it('the name given as a positional argument', async () => {
    const r = await run('migrate', 'resolve', '--rolled-back', '20240101000000_init', '20240102000000_next');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('takes no argument "20240102000000_next"');
  });

  it('--env all: one environment at a time', async () => {
    const r = await run('migrate', 'resolve', '--applied', '20240101000000_init', '--env', 'all');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: this command runs on one environment at a time, not --env all
        fix: pick one: --env development
      "
    `);
  });
});

describe('init', () => {
  const GUIDE_SCRIPTS = [
    'db:push',
    'db:migrate',
    'db:seed',
    'db:studio',
    'db:status',
    'db:migrate:reset',
    'db:migrate:deploy',
    'db:push:staging',
    'db:migrate:staging',
    'db:seed:staging',
    'db:studio:staging',
    'db:status:staging',
    'db:deploy:staging',
    'db:backup:staging',
    'db:studio:production',
    'db:deploy:production',
    'db:backup:production',
  ];

  it("writes stagedb.config.ts and exactly the guide's 17 scripts, keeping the user's own", async () => {
    const p = createProject({ packageJson: { name: 'shop', private: true, type: 'module', scripts: { build: 'tsc', test: 'vitest' } } });
    try {
      const r = await runCli(['init'], { cwd: p.dir });
      expect(r.code).toBe(0);
      const pkg = JSON.parse(readFileSync(p.path('package.json'), 'utf8')) as { name: string; scripts: Record<string, string> };
      expect(pkg.name).toBe('shop');
      expect(Object.keys(pkg.scripts)).toEqual(['build', 'test', ...GUIDE_SCRIPTS]);
      expect(Object.keys(pkg.scripts).filter((k) => k.startsWith('db:'))).toHaveLength(17);
      for (const name of GUIDE_SCRIPTS) expect(pkg.scripts[name]).toMatch(/^stagedb /);
      expect(pkg.scripts).toMatchObject({
        'db:status:staging': 'stagedb status --env staging',
        'db:deploy:production': 'stagedb deploy --env production',
        'db:migrate:deploy': 'stagedb migrate deploy',
      });
      const config = readFileSync(p.path('stagedb.config.ts'), 'utf8');
      expect(config).toContain("import { defineConfig, env } from 'stagedb';");
      expect(config).toContain("migrations: 'prisma/migrations'");

      // The config it writes loads, and every guide script's command exists in the registry.
      const env = await runCli(['env', '--json'], { cwd: p.dir, env: { DATABASE_URL: 'postgresql://u:p@127.0.0.1:9/dev' } });
      expect((JSON.parse(env.stdout) as { environments: Array<{ env: string }> }).environments.map((e) => e.env)).toEqual(['development', 'staging', 'production']);
      for (const name of GUIDE_SCRIPTS) {
        const words = pkg.scripts[name]!.split(' ').slice(1);
        const key = COMMANDS[`${words[0]} ${words[1]}`] ? `${words[0]} ${words[1]}` : words[0]!;
        expect(COMMANDS[key], `${name} → ${pkg.scripts[name]}`).toBeDefined();
      }
    } finally {
      p.remove();
    }
  });

  it("keeps a user's differing script and an existing config unless --force", async () => {
    const p = createProject({ packageJson: { name: 'shop', scripts: { 'db:push': 'prisma db push --skip-generate' } }, configJson: { environments: { development: { url: 'postgresql://localhost/x' } } } });
    try {
      const first = await runCli(['init'], { cwd: p.dir });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatchInlineSnapshot(`
        "kept the existing stagedb.config.json (--force overwrites it)
        added 16 scripts to package.json: db:migrate, db:seed, db:studio, db:status, db:migrate:reset, db:migrate:deploy, db:push:staging, db:migrate:staging, db:seed:staging, db:studio:staging, db:status:staging, db:deploy:staging, db:backup:staging, db:studio:production, db:deploy:production, db:backup:production
        kept your script db:push ("prisma db push --skip-generate"); --force replaces it
        added to .gitignore: .env* !.env.example .stagedb/
        next:
          stagedb dev up --write-env   a local PostgreSQL for development; writes DATABASE_URL to .env
          stagedb migrate dev          creates and applies a migration from schema.prisma
          .env.staging, .env.production: DATABASE_URL, and DIRECT_URL when DATABASE_URL is not a direct postgresql:// URL
          stagedb status --env all     every environment at a glance
        "
      `);
      let pkg = JSON.parse(readFileSync(p.path('package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(pkg.scripts['db:push']).toBe('prisma db push --skip-generate');
      expect(Object.keys(pkg.scripts)).toHaveLength(17);

      // Running it again changes nothing.
      const before = readFileSync(p.path('package.json'), 'utf8');
      await runCli(['init'], { cwd: p.dir });
      expect(readFileSync(p.path('package.json'), 'utf8')).toBe(before);

      const forced = await runCli(['init', '--force'], { cwd: p.dir });
      expect(forced.code).toBe(0);
      expect(forced.stdout).toContain('replaced scripts: db:push');
      pkg = JSON.parse(readFileSync(p.path('package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(pkg.scripts['db:push']).toBe('stagedb push');
    } finally {
      p.remove();
    }
  });

  // Known bug, left to the owner of src/project/init.ts: with --force, an existing stagedb.config.json
  // is overwritten with the TypeScript template, so the next command fails with E_CONFIG_SYNTAX.
  it('--force over a stagedb.config.json replaces it with a stagedb.config.ts that loads', async () => {
    const p = createProject({ configJson: { environments: { development: { url: 'postgresql://localhost/x' } } } });
    try {
      expect((await runCli(['init', '--force'], { cwd: p.dir })).code).toBe(0);
      expect(() => readFileSync(p.path('stagedb.config.json'))).toThrow();
      const r = await runCli(['env'], { cwd: p.dir, env: { DATABASE_URL: 'postgresql://u@localhost:5432/x' } });
      expect(r.stderr).not.toContain('is not valid JSON');
      expect(r.stdout).toContain('stagedb.config.ts');
      // The template's environments resolve: development and staging both take the shell's DATABASE_URL
      // here, which is one database for two environments (exit 3); production lacks sslmode=require.
      expect(r.stdout).toMatch(/development\s+error: development and staging resolve to the same database \(localhost:5432\/x\)/);
      expect(r.code).toBe(3);
    } finally {
      p.remove();
    }
  });

  it('keeps env files and .stagedb/ out of git: adds only the missing lines, keeps the user\'s, twice adds nothing', async () => {
    const p = createProject({ files: { '.gitignore': 'node_modules\n/.stagedb\ndist' } });
    try {
      const r = await runCli(['init'], { cwd: p.dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('added to .gitignore: .env* !.env.example\n');
      expect(readFileSync(p.path('.gitignore'), 'utf8')).toMatchInlineSnapshot(`
        "node_modules
        /.stagedb
        dist

        # stagedb: env files hold database passwords; .stagedb/ the local PostgreSQL and backups
        .env*
        !.env.example
        "
      `);
      const before = readFileSync(p.path('.gitignore'), 'utf8');
      const again = await runCli(['init'], { cwd: p.dir });
      expect(again.stdout).not.toContain('.gitignore');
      expect(readFileSync(p.path('.gitignore'), 'utf8')).toBe(before);
    } finally {
      p.remove();
    }
    // No .gitignore yet: one is written. A user's own `.env*` gets no exception added to it.
    const fresh = createProject();
    const own = createProject({ files: { '.gitignore': '.env*\n' } });
    try {
      await runCli(['init'], { cwd: fresh.dir });
      expect(readFileSync(fresh.path('.gitignore'), 'utf8')).toBe(
        '# stagedb: env files hold database passwords; .stagedb/ the local PostgreSQL and backups\n.env*\n!.env.example\n.stagedb/\n',
      );
      await runCli(['init'], { cwd: own.dir });
      expect(readFileSync(own.path('.gitignore'), 'utf8')).toBe(
        '.env*\n\n# stagedb: env files hold database passwords; .stagedb/ the local PostgreSQL and backups\n.stagedb/\n',
      );
    } finally {
      fresh.remove();
      own.remove();
    }
  });

  it('without a package.json: exit 4, nothing written', async () => {
    const p = createProject({ packageJson: false, schema: false });
    try {
      const r = await runCli(['init'], { cwd: p.dir });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('no package.json in');
      expect(() => readFileSync(p.path('stagedb.config.ts'))).toThrow();
    } finally {
      p.remove();
    }
  });
});
