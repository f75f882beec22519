import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

// `npm run demo` is the README's first command: run the same script, on a copy of the guide app.
describe('npm run demo', () => {
  it('runs the guide flow end to end: every environment deployed, development and staging seeded, production protected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagedb-demo-'));
    chmodSync(dir, 0o755); // the server runs as the postgres OS user when tests run as root
    try {
      const app = join(dir, 'guide-app');
      cpSync(join(repo, 'examples', 'guide-app'), app, {
        recursive: true,
        filter: (src) => !/[/\\](\.stagedb|node_modules|\.env[^/\\]*)$/.test(src),
      });
      // The seed imports pg from the app's dependencies: lend it the repository's.
      symlinkSync(join(repo, 'node_modules'), join(app, 'node_modules'));
      const r = spawnSync(process.execPath, [join(repo, 'scripts', 'demo.mjs')], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, STAGEDB_DEMO_APP: app },
        encoding: 'utf8',
        timeout: 120_000,
      });
      const out = `${r.stdout}${r.stderr}`;
      expect(r.status, out).toBe(0);
      expect(out).toContain('seeded 3 users, 2 posts, 3 tags');
      // What it prints is what it runs: the command, and the app's script it comes from.
      expect(out).toContain("$ stagedb deploy --env production --confirm production   # the app's db:deploy:production, plus --confirm production");
      expect(out).not.toContain('yarn run');
      expect(out).toContain('stagedb seed is refused on production (protection: production)');
      expect(out).toMatch(/ok +deploy --env production/);
      // db:studio:production from the guide app: read-only by the database, its page served, stopped by SIGTERM.
      const studio = out.slice(out.indexOf('Production Studio is read-only'), out.indexOf('The audit trail'));
      expect(studio).toMatch(/production: Prisma Studio \S+ is running at http:\/\/127\.0\.0\.1:\d+\//);
      expect(studio).toMatch(/mode: read-only — production has protection production; PostgreSQL refuses every write of this session/);
      expect(studio).toMatch(/HTTP 200\)/);
      expect(studio).toMatch(/\(exit 0\)/);
      expect(out).toMatch(/ok +studio --env production/);
      const finalStatus = out.slice(out.lastIndexOf('One view of every environment'));
      for (const env of ['development', 'staging', 'production']) expect(finalStatus).toMatch(new RegExp(`${env}\\s+\\S+\\s+up to date\\s+2\\s+0\\s+0\\s+0`));
      // The generated password is in the env files the demo wrote, and nowhere in its output.
      const password = /postgresql:\/\/[^:]+:([^@]+)@/.exec(readFileSync(join(app, '.env'), 'utf8'))![1]!;
      expect(password.length).toBeGreaterThan(8);
      expect(out).not.toContain(password);
      expect(out).not.toContain(decodeURIComponent(password));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
