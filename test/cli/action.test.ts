import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * The GitHub Action's entry point (action/plan-comment.mjs) end to end, against a loopback HTTP server
 * standing in for the GitHub REST API (it records every call): the first run creates the comment, the
 * second finds it by its marker and updates it. Not run on github.com.
 */
const ENTRY = fileURLToPath(new URL('../../action/plan-comment.mjs', import.meta.url));
const INIT = `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n`;
const INDEX = `CREATE INDEX "User_email_idx" ON "User"("email");\n`;

interface Call {
  method: string;
  path: string;
  body?: { body?: string };
  auth?: string;
}
const calls: Call[] = [];
const comments: Array<{ id: number; body: string }> = [];
let server: Server;
let api: string;
let db: FreshDatabase;
let project: TempProject;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : undefined;
      calls.push({ method: req.method!, path: req.url!, body, auth: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET') return res.end(JSON.stringify(comments));
      if (req.method === 'POST') {
        const c = { id: 100 + comments.length, body: body.body };
        comments.push(c);
        res.statusCode = 201;
        return res.end(JSON.stringify(c));
      }
      const id = Number(req.url!.split('/').pop());
      const c = comments.find((x) => x.id === id)!;
      c.body = body.body;
      res.end(JSON.stringify(c));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = await freshDatabase('act');
  project = createProject({ migrations: { '20240101000000_init': INIT }, configJson: { environments: { development: { url: 'postgresql://localhost:1/unused' }, staging: { url: { $env: 'STAGING_URL' } } } } });
  writeFileSync(join(project.dir, 'event.json'), JSON.stringify({ pull_request: { number: 7 } }));
});

afterAll(async () => {
  server?.close();
  project?.remove();
  await db?.drop();
});

function runEntry(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ENTRY], {
      cwd: project.dir,
      env: { ...process.env, STAGING_URL: db.url, INPUT_ENVIRONMENTS: 'staging', INPUT_TOKEN: 'ghs_test_token', GITHUB_API_URL: api, GITHUB_REPOSITORY: 'acme/app', GITHUB_EVENT_PATH: join(project.dir, 'event.json') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the GitHub Action entry point', () => {
  it('creates one comment, then updates it on the next push; annotations for the migration files', async () => {
    const first = await runEntry();
    expect(first.code, first.stderr).toBe(0);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /repos/acme/app/issues/7/comments?per_page=100', 'POST /repos/acme/app/issues/7/comments']);
    expect(calls[1]!.auth).toBe('Bearer ghs_test_token');
    expect(comments[0]!.body).toMatch(/^<!-- stagedb-plan -->\n## stagedb plan/);
    expect(comments[0]!.body).toContain('`20240101000000_init` | one transaction');

    // Merged and deployed; the next pull request adds an index on the now live table.
    expect((await runCli(['migrate', 'deploy', '--env', 'staging', '--confirm', 'staging'], { cwd: project.dir, env: { STAGING_URL: db.url } })).code).toBe(0);
    project.addMigration('20240102000000_email_idx', INDEX);
    calls.length = 0;
    const second = await runEntry();
    expect(second.code, second.stderr).toBe(0);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /repos/acme/app/issues/7/comments?per_page=100', 'PATCH /repos/acme/app/issues/comments/100']);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('20240102000000_email_idx');
    expect(second.stdout).toMatch(/^::\w+ file=.*20240102000000_email_idx\/migration\.sql,line=1/m);
    expect(second.stdout + second.stderr + JSON.stringify(comments)).not.toContain(decodeURIComponent(new URL(db.url).password));
  });
});
