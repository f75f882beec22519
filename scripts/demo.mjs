#!/usr/bin/env node
// `npm run demo`: the guide's whole flow, for real, on a project-local PostgreSQL.
//
// 1. starts the embedded local PostgreSQL for examples/guide-app (stagedb dev up),
// 2. gives it three databases — development, staging, production — and writes the app's
//    .env / .env.staging / .env.production the way the guide lays them out (staging and production
//    use Accelerate-style prisma+postgres:// URLs for the app and a direct URL for migrations),
// 3. runs the commands of the app's own package.json scripts (db:status, db:migrate:deploy, db:seed,
//    db:deploy:staging, db:backup:production, db:deploy:production, db:studio:production, …) with this
//    clone's stagedb binary, printing each command as it runs it and the script it comes from,
// 4. stops the server (its data stays under examples/guide-app/.stagedb; `stagedb dev up` restarts it).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
// STAGEDB_DEMO_APP runs the same flow on a copy of the app (the test suite does, to keep this demo true).
const app = process.env.STAGEDB_DEMO_APP ?? join(repo, 'examples', 'guide-app');
const bin = join(repo, 'bin', 'stagedb.js');
const { devUp, devDown, dropDatabase, redact } = await import(join(repo, 'dist', 'index.js'));
const scripts = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).scripts;

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[22m` : s);
const say = (s) => console.log(`\n${bold(`▸ ${s}`)}`);

/**
 * Runs one of the guide-app's scripts: the command its package.json gives it, with the extra arguments,
 * run by this clone's bin/stagedb.js. The line printed is the command that runs, and the script's name
 * beside it (in the app, after `npm install` there, `npm run <script>` runs the same command).
 */
function runScript(script, extra = []) {
  const line = scripts[script];
  if (!line) throw new Error(`guide-app has no script ${script}`);
  const args = [...line.replace(/^stagedb\s+/, '').split(/\s+/), ...extra];
  return stagedb(args, `the app's ${script}${extra.length ? `, plus ${extra.join(' ')}` : ''}`);
}

function stagedb(args, note) {
  console.log(dim(`$ stagedb ${args.join(' ')}${note ? `   # ${note}` : ''}`));
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: app, encoding: 'utf8', env: { ...process.env, STAGEDB_ENV: '' } });
  const out = `${r.stdout}${r.stderr}`.trimEnd();
  if (out) console.log(out.replace(/^/gm, '  '));
  console.log(dim(`  (exit ${r.status})`));
  return r.status;
}

function must(status, what) {
  if (status !== 0) {
    console.error(`demo: ${what} failed (exit ${status})`);
    process.exit(1);
  }
}

/**
 * Runs one of the guide-app's Studio scripts until Studio answers, loads its page once, then stops it
 * the way Ctrl-C would (SIGTERM): `stagedb studio` runs until it is stopped.
 */
async function studioRun(script) {
  const line = scripts[script];
  const args = [...line.replace(/^stagedb\s+/, '').split(/\s+/), '--browser', 'none'];
  console.log(dim(`$ stagedb ${args.join(' ')}   # the app's ${script}, plus --browser none; stopped like Ctrl-C once its page loads`));
  const child = spawn(process.execPath, [bin, ...args], { cwd: app, env: { ...process.env, STAGEDB_ENV: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  let address;
  while (!address && Date.now() < deadline && child.exitCode === null) {
    address = /is running at (http:\/\/\S+)/.exec(out)?.[1];
    if (!address) await new Promise((r) => setTimeout(r, 100));
  }
  if (address) {
    const page = await fetch(address).catch((e) => ({ status: e.message }));
    out += `(the demo loaded ${address}: HTTP ${page.status})\n`;
  }
  child.kill('SIGTERM');
  const code = await exited;
  console.log(out.trimEnd().replace(/^/gm, '  '));
  console.log(dim(`  (exit ${code})`));
  return address ? code : 1;
}

// A stagedb error (no PostgreSQL binaries, an unreachable directory…) is shown as the CLI shows it.
const fail = (e) => {
  console.error(`demo: ${redact(e?.message ?? String(e))}${e?.fix ? `\n  fix: ${redact(e.fix)}` : ''}`);
  process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

console.log(dim('Each "$ stagedb …" line below is the command that runs (this clone\'s bin/stagedb.js, in examples/guide-app),'));
console.log(dim("with the app's package.json script it comes from: after `npm install` in examples/guide-app, `npm run <script>` runs it."));

say('Starting the embedded local PostgreSQL for examples/guide-app (stagedb dev up)');
const databases = ['guide_development', 'guide_staging', 'guide_production'];
let server = await devUp(app, {});
// The demo owns these three databases: start from empty so every run shows the whole flow.
for (const db of databases) await dropDatabase(server.cluster, db);
server = await devUp(app, { databases });
console.log(`  PostgreSQL ${server.version} on ${server.host}:${server.port}, TLS on (self-signed); databases: ${databases.join(', ')}`);

say("Writing the guide's per-environment settings (.env, .env.staging, .env.production)");
const direct = (db, ssl) => `${server.urls[db]}${ssl ? '?sslmode=require' : ''}`;
const files = {
  '.env': `# development: local PostgreSQL, direct connection\nDATABASE_URL="${direct('guide_development')}"\n`,
  '.env.staging': `# staging: AWS RDS + Accelerate (here: the local server stands in for RDS)\nDATABASE_URL="prisma+postgres://localhost:51213/?api_key=staging_key"\nDIRECT_URL="${direct('guide_staging', true)}"\n`,
  '.env.production': `# production: AWS RDS Multi-AZ + Accelerate, TLS required\nDATABASE_URL="prisma+postgres://localhost:51213/?api_key=prod_key"\nDIRECT_URL="${direct('guide_production', true)}"\n`,
};
for (const [name, text] of Object.entries(files)) {
  writeFileSync(join(app, name), text, { mode: 0o600 });
  console.log(`  ${name}: ${redact(text.trim().split('\n').slice(1).join('  '))}`);
}

say('How each environment resolves (stagedb env)');
must(stagedb(['env']), 'stagedb env');

say('Status of every environment before anything is deployed (exit 1 = pending)');
stagedb(['status', '--env', 'all']);

say('Development: apply the migrations, then seed');
must(runScript('db:migrate:deploy'), 'db:migrate:deploy');
must(runScript('db:seed'), 'db:seed');
console.log(dim("  db:migrate runs Prisma's schema engine (WebAssembly, no download): schema.prisma already matches the migrations"));
must(runScript('db:migrate'), 'db:migrate');
must(runScript('db:status'), 'db:status');

say('Staging release: check status, then deploy');
runScript('db:status:staging');
must(runScript('db:deploy:staging'), 'db:deploy:staging');

say('Production release: backup first, then deploy');
must(runScript('db:backup:production'), 'db:backup:production');
console.log(dim('  production needs typed confirmation: in a terminal stagedb asks you to type "production";'));
console.log(dim('  without a terminal (CI, this demo) it refuses unless --confirm production says it ahead:'));
runScript('db:deploy:production');
must(runScript('db:deploy:production', ['--confirm', 'production']), 'db:deploy:production');

say('Seed staging too; production is protected, so seeding it is refused (exit 5)');
runScript('db:seed:staging', ['--confirm', 'staging']);
stagedb(['seed', '--env', 'production']);

say("Production Studio is read-only, enforced by PostgreSQL itself (db:studio:production)");
must(await studioRun('db:studio:production'), 'db:studio:production');

say('The audit trail: who changed production, what, when (stagedb history)');
must(stagedb(['history', '--env', 'production']), 'history');

say('One view of every environment');
must(stagedb(['status', '--env', 'all']), 'status --env all');

say('Stopping the local PostgreSQL (data kept; `npx stagedb dev up` in examples/guide-app restarts it)');
await devDown(app);
console.log('\ndemo finished.');
