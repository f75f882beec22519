#!/usr/bin/env node
// The GitHub Action's entry point (action.yml): runs `stagedb plan` for the configured environments and
// keeps ONE pull-request comment up to date with it (found again by a hidden marker: updated on every
// push, never a new comment each time), then prints lint annotations for the migration files
// (`stagedb lint --env <env> --format github`, which GitHub shows on the files). Plain Node, no
// dependencies: the GitHub REST API through fetch. Runs the project's stagedb (node_modules/.bin), else
// the one next to this file.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MARKER = '<!-- stagedb-plan -->';

function stagedb(cwd) {
  const local = join(cwd, 'node_modules', 'stagedb', 'bin', 'stagedb.js');
  return existsSync(local) ? local : join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'stagedb.js');
}

async function github(method, path, body) {
  const api = process.env.GITHUB_API_URL || 'https://api.github.com';
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${process.env.INPUT_TOKEN || process.env.GITHUB_TOKEN}`, accept: 'application/vnd.github+json', 'content-type': 'application/json', 'user-agent': 'stagedb-action' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`GitHub API ${method} ${path}: HTTP ${res.status}`);
  return res.json();
}

async function main() {
  const cwd = process.cwd();
  const envs = (process.env.INPUT_ENVIRONMENTS || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (envs.length === 0) throw new Error('input "environments" is empty: e.g. environments: staging,production');
  const bin = stagedb(cwd);
  const plan = spawnSync(process.execPath, [bin, 'plan', '--env', envs.join(','), '--format', 'markdown'], { cwd, encoding: 'utf8', env: process.env });
  process.stderr.write(plan.stderr ?? '');
  const body = plan.status === 0 ? `${MARKER}\n${plan.stdout.trim()}\n` : `${MARKER}\n## stagedb plan\n\nThe plan could not be made (exit ${plan.status}):\n\n\`\`\`\n${(plan.stdout + plan.stderr).trim()}\n\`\`\`\n`;
  const event = process.env.GITHUB_EVENT_PATH && existsSync(process.env.GITHUB_EVENT_PATH) ? JSON.parse(readFileSync(process.env.GITHUB_EVENT_PATH, 'utf8')) : {};
  const number = event.pull_request?.number ?? event.number;
  const repo = process.env.GITHUB_REPOSITORY;
  if (number && repo) {
    const comments = await github('GET', `/repos/${repo}/issues/${number}/comments?per_page=100`);
    const mine = comments.find((c) => typeof c.body === 'string' && c.body.startsWith(MARKER));
    if (mine) await github('PATCH', `/repos/${repo}/issues/comments/${mine.id}`, { body });
    else await github('POST', `/repos/${repo}/issues/${number}/comments`, { body });
  } else {
    process.stdout.write(`${body}\n(not a pull request: no comment posted)\n`);
  }
  // Annotations on the migration files: the lint of each environment's pending migrations, as workflow commands.
  for (const env of envs) {
    const lint = spawnSync(process.execPath, [bin, 'lint', '--env', env, '--format', 'github'], { cwd, encoding: 'utf8', env: process.env });
    process.stdout.write(lint.stdout ?? '');
  }
  if (plan.status !== 0) process.exitCode = plan.status ?? 1;
}

main().catch((e) => {
  process.stderr.write(`stagedb action: ${e.message}\n`);
  process.exitCode = 1;
});
