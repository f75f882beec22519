import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The path of a real user, from a clone: `npm pack` (which builds), the tarball installed into a brand-new
 * Prisma 7 project from the registry (the local npm cache first), then the README's steps in that project
 * with the installed binary — init, dev up --write-env, migrate dev, status, lint, backup, a staging deploy
 * through the guide's own npm script, a refused production deploy, dev down. npm 11 skips the install
 * scripts of prisma and @prisma/engines here (not allowed): stagedb must work without them, and does.
 */
const repo = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

const work = mkdtempSync(join(tmpdir(), 'stagedb-pack-'));
chmodSync(work, 0o755); // the local server runs as the postgres OS user when tests run as root
const app = join(work, 'my-app');
const bin = join(app, 'node_modules', '.bin', 'stagedb');

interface Run {
  code: number | null;
  out: string;
}

/**
 * Runs a command the way a user's shell would. The environment is the user's, not the one `npm test`
 * gives its scripts: npm_* variables (npm_config_local_prefix, …) would point the inner npm at this repo.
 */
function sh(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
const stagedb = (...args: string[]) => sh(bin, args, app);
const npm = (args: string[], cwd = app, timeoutMs?: number) => sh('npm', args, cwd, timeoutMs);

afterAll(async () => {
  // The cluster stops even when a step failed half-way (dev down is idempotent), then everything goes.
  if (existsSync(join(app, '.stagedb', 'pg'))) {
    const down = existsSync(bin) ? await stagedb('dev', 'down') : undefined;
    if (down?.code !== 0) {
      const pid = Number(readFileSync(join(app, '.stagedb', 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    }
  }
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('npm pack, installed into a new Prisma 7 project', () => {
  it("a clone's tarball holds the built package, and a new project goes from init to a deployed staging with it", async () => {
    // 1. A copy of the clone as git sees it (no dist/): `npm pack` there must build it (prepack).
    const clone = join(work, 'clone');
    const files = await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repo).catch(() => undefined);
    if (files?.code === 0) {
      for (const f of files.out.split('\0').filter((f) => f && f !== 'node_modules' && !f.startsWith('node_modules/'))) {
        if (!existsSync(join(repo, f))) continue; // deleted in the working tree, not yet committed
        mkdirSync(dirname(join(clone, f)), { recursive: true });
        copyFileSync(join(repo, f), join(clone, f));
      }
    } else {
      // Not a git checkout (a source tarball): everything but what .gitignore keeps out of a clone.
      const ignored = /(^|\/)(\.git|node_modules|dist|\.stagedb|coverage|\.work|src\/generated|\.env[^/]*|[^/]*\.log)$/;
      cpSync(repo, clone, { recursive: true, filter: (src) => !ignored.test(src.slice(repo.length).split(sep).join('/')) });
    }
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    symlinkSync(realpathSync(join(repo, 'node_modules')), join(clone, 'node_modules'));
    const packed = await npm(['pack', '--json', '--pack-destination', work], clone, 240_000);
    expect(packed.code, packed.out).toBe(0);
    const [report] = JSON.parse(packed.out.slice(packed.out.indexOf('[\n'))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const inTarball = new Set(report!.files.map((f) => f.path));

    // What the tarball must hold: the bin, the bundle, and everything the library entry points and the
    // bundle load at run time (followed import by import); no tsc copy of the CLI the bundle replaced.
    const missing: string[] = [];
    const seen = new Set<string>();
    const follow = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      if (!inTarball.has(file)) missing.push(file);
      if (!/\.(js|d\.ts)$/.test(file) || !existsSync(join(clone, file))) return;
      const text = readFileSync(join(clone, file), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
        let target = join(dirname(file), m[1]!);
        if (file.endsWith('.d.ts')) target = target.replace(/\.js$/, '.d.ts');
        if (!target.startsWith('..')) follow(target);
      }
    };
    for (const entry of ['bin/stagedb.js', 'dist/index.js', 'dist/index.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', 'package.json']) follow(entry);
    // A comment's example (`import … from './generated/prisma/client.js'`) is not an import of ours.
    expect(missing.filter((f) => !f.includes('generated/prisma'))).toEqual([]);
    expect(seen.has('dist/studio/launcher.js') && seen.has('dist/config/define.js')).toBe(true);
    expect([...inTarball].filter((f) => /^dist\/(cli|commands|render)\//.test(f))).toEqual([]);
    expect([...inTarball].filter((f) => f.startsWith('dist/cli-bundle/') && f.endsWith('.js.map')).length).toBeGreaterThan(0);

    // 2. A new Prisma 7 project, as `prisma init` lays it out (prisma.config.ts reads DATABASE_URL), and
    // stagedb installed from the tarball next to the Prisma versions we test with.
    mkdirSync(join(app, 'prisma'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify(
        {
          name: 'my-app',
          private: true,
          type: 'module',
          dependencies: { '@prisma/client': pkg.devDependencies['@prisma/client'] },
          devDependencies: { prisma: pkg.devDependencies.prisma },
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(
      join(app, 'prisma', 'schema.prisma'),
      'generator client {\n  provider = "prisma-client"\n  output   = "../src/generated/prisma"\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n}\n',
    );
    writeFileSync(
      join(app, 'prisma.config.ts'),
      "import { defineConfig, env } from 'prisma/config';\n\nexport default defineConfig({\n  schema: 'prisma/schema.prisma',\n  migrations: { path: 'prisma/migrations' },\n  datasource: { url: env('DATABASE_URL') },\n});\n",
    );
    const install = await npm(['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', join(work, report!.filename)], app, 300_000);
    expect(install.code, install.out).toBe(0);
    expect(existsSync(bin)).toBe(true);
    expect((await stagedb('--version')).out.trim()).toBe(pkg.version);

    // 3. The README's steps.
    const init = await stagedb('init');
    expect(init.code, init.out).toBe(0);
    expect(init.out).toContain('stagedb dev up --write-env');
    expect(readFileSync(join(app, '.gitignore'), 'utf8')).toMatch(/^\.env\*$[\s\S]*^\.stagedb\/$/m);
    const scripts = (JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['db:deploy:staging']).toBe('stagedb deploy --env staging');

    // Before the database exists, migrate dev says which command creates it.
    const early = await stagedb('migrate', 'dev', '--name', 'init');
    expect(early.code, early.out).toBe(3);
    expect(early.out).toContain('fix: stagedb dev up --write-env');

    const up = await stagedb('dev', 'up', '--write-env');
    expect(up.code, up.out).toBe(0);
    expect(readFileSync(join(app, '.env'), 'utf8')).toMatch(/^DATABASE_URL="postgresql:\/\/.+\/development"$/m);

    const migrate = await stagedb('migrate', 'dev', '--name', 'init');
    expect(migrate.code, migrate.out).toBe(0);
    const [migration] = readdirSync(join(app, 'prisma', 'migrations')).filter((d) => d.endsWith('_init'));
    expect(readFileSync(join(app, 'prisma', 'migrations', migration!, 'migration.sql'), 'utf8')).toContain('CREATE TABLE "User"');

    const status = await stagedb('status');
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(/development\s+none\s+up to date\s+1\s+0/);

    const lint = await stagedb('lint');
    expect(lint.code, lint.out).toBe(0);

    const backup = await stagedb('backup');
    expect(backup.code, backup.out).toBe(0);
    expect(backup.out).toMatch(/backup development-\S+ stored in \.stagedb\/backups\/development/);

    // Staging, rehearsed on the local server: a database of its own, its URL in .env.staging, and the
    // guide's script deploys it (migrations, then the client, generated by the project's Prisma CLI).
    expect((await stagedb('dev', 'up', '--db', 'staging')).code).toBe(0);
    writeFileSync(join(app, '.env.staging'), readFileSync(join(app, '.env'), 'utf8').replace('/development"', '/staging"'));
    const pending = await npm(['run', 'db:status:staging']);
    expect(pending.code, pending.out).toBe(1);
    expect(pending.out).toContain('apply with: stagedb deploy --env staging\n     or: npm run db:deploy:staging\n');
    const deploy = await npm(['run', 'db:deploy:staging']);
    expect(deploy.code, deploy.out).toBe(0);
    expect(deploy.out).toContain(`applied  ${migration}`);
    expect(deploy.out).toMatch(/generated the Prisma client \(Prisma 7\./);
    expect(existsSync(join(app, 'src', 'generated', 'prisma', 'client.ts'))).toBe(true);
    const staging = await npm(['run', 'db:status:staging']);
    expect(staging.code, staging.out).toBe(0);
    expect(staging.out).toMatch(/staging\s+guarded\s+up to date\s+1\s+0/);

    // Production without a terminal is refused, and the fix names the guide's script in npm's form.
    writeFileSync(join(app, '.env.production'), readFileSync(join(app, '.env'), 'utf8').replace('/development"', '/staging?sslmode=require"'));
    const prod = await npm(['run', 'db:deploy:production']);
    expect(prod.code).toBe(5);
    expect(prod.out).toContain('fix: stagedb deploy --env production --confirm production\n   or: npm run db:deploy:production -- --confirm production');

    const down = await stagedb('dev', 'down');
    expect(down.code, down.out).toBe(0);
  }, 600_000);
});
