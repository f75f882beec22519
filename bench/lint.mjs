#!/usr/bin/env node
/**
 * `stagedb lint` side by side with squawk-cli (the free PostgreSQL migration linter) on one corpus of
 * 1000 Prisma-style migration files, in one run: wall times, both finding counts, and lint's cold start.
 * Writes one section of bench/RESULTS.md (between the `lint` markers, replaced on every run, appended
 * the first time). Needs no database.
 *
 *   node bench/lint.mjs                (after npm run build; run.mjs also calls it at its end)
 *   BENCH_QUICK=1 node bench/lint.mjs  (fewer repetitions: a smoke test)
 *   BENCH_LINT_FILES=2000 node bench/lint.mjs
 *
 * The corpus is bench/history.mjs's deterministic Prisma-shaped history (the one the deploy bench
 * applies), written as prisma/migrations/<name>/migration.sql. stagedb runs as a user runs it,
 * `node bin/stagedb.js lint` in the project (every migration, each judged as if the ones before it were
 * deployed: squawk's per-file view); squawk runs as `npx squawk` runs it, through the npm package's
 * `squawk` command (a Node launcher that starts the native binary) on the same files. The native
 * binary alone is timed too, for scale. Both tools print the same kind of output in each comparison:
 * JSON (`--json` / `--reporter json`), and each one's default human output. Runs are interleaved,
 * alternating which goes first, after untimed warm-ups; verdicts use medians.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateHistory } from './history.mjs';
import { markers, runIfMain, writeSection } from './section.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, '.work', 'lint');
const MARKERS = markers('lint');
const { START, END } = MARKERS;
/** Issue 6: stagedb lint within 1.5× of squawk's time on the same corpus. */
const TARGET = 1.5;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function timed(cmd, args, opts) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 << 20, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  return { ms, code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Both linters exit non-zero when they find something; anything else is a broken run. */
function checked(what, r, codes) {
  if (!codes.includes(r.code)) throw new Error(`${what} exited ${r.code} (expected one of ${codes.join(', ')})\n${r.stderr.slice(-2000)}`);
  return r;
}

function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PG') || k.startsWith('STAGEDB_') || k === 'NODE_OPTIONS' || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  // Plain output on both sides (no colour codes to write), as in CI logs. Without stagedb's findings
  // cache: this bench times a first run (bench/everyday.mjs times the cached one).
  return { ...env, NO_COLOR: '1', LC_ALL: 'C', STAGEDB_NO_CACHE: '1' };
}

function writeCorpus(count) {
  rmSync(WORK, { recursive: true, force: true });
  const project = join(WORK, 'project');
  const dir = join(project, 'prisma', 'migrations');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(project, 'package.json'), '{ "name": "lint-bench", "private": true }\n');
  writeFileSync(join(project, 'prisma', 'schema.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n');
  writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  const history = generateHistory({ count });
  let bytes = 0;
  for (const m of history) {
    mkdirSync(join(dir, m.name));
    writeFileSync(join(dir, m.name, 'migration.sql'), m.sql);
    bytes += Buffer.byteLength(m.sql);
  }
  const statements = history.reduce((n, m) => n + (m.sql.match(/;\s*$/gm)?.length ?? 0), 0);
  return { project, history, bytes, statements, single: join(dir, history[history.length - 1].name, 'migration.sql') };
}

function squawkNative() {
  const p = join(ROOT, 'node_modules', '@squawk-cli', `${process.platform}-${process.arch}`, 'bin', process.platform === 'win32' ? 'squawk.exe' : 'squawk');
  return existsSync(p) ? p : undefined;
}

const count = (xs, key) => {
  const out = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return Object.entries(out).sort((a, b) => b[1] - a[1]);
};

export async function runLintBench(opts = {}) {
  const quick = opts.quick ?? Boolean(process.env.BENCH_QUICK);
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  const files = Number(process.env.BENCH_LINT_FILES ?? 1000);
  const reps = quick ? 3 : 15;
  const cli = join(ROOT, 'bin', 'stagedb.js');
  const squawk = join(ROOT, 'node_modules', '.bin', 'squawk');
  if (!existsSync(join(ROOT, 'dist', 'lint', 'run.js'))) throw new Error('dist/ is missing: run npm run build first');
  if (!existsSync(squawk)) throw new Error('node_modules/.bin/squawk is missing: npm install (squawk-cli is a devDependency)');
  const native = squawkNative();
  const node = process.execPath;
  const loadBefore = loadavg();
  const started = Date.now();

  const corpus = writeCorpus(files);
  log(`bench lint: ${corpus.history.length} files, ${corpus.statements} statements, ${(corpus.bytes / 1024).toFixed(0)} KiB`);
  const cwd = corpus.project;
  const env = childEnv();
  // The floor under the rules: the same run with every rule off (start-up, config, reading, PostgreSQL's
  // parser as WebAssembly, the run model, output), from a config file beside the project.
  // src/rule-codes.ts since issue 17 (src/lint/codes.ts before).
  const codes = existsSync(join(ROOT, 'dist', 'rule-codes.js')) ? join(ROOT, 'dist', 'rule-codes.js') : join(ROOT, 'dist', 'lint', 'codes.js');
  const { RULE_NAMES } = await import(pathToFileURL(codes).href);
  const offConfig = join(WORK, 'rules-off.config.json');
  writeFileSync(
    offConfig,
    JSON.stringify({
      migrations: join(cwd, 'prisma', 'migrations'),
      environments: { development: { url: 'postgresql://localhost/unused' } },
      lint: { rules: Object.fromEntries(Object.keys(RULE_NAMES).map((code) => [code, 'off'])) },
    }),
  );
  const glob = 'prisma/migrations/*/migration.sql';
  const runs = {
    stagedbJson: () => checked('stagedb lint --json', timed(node, [cli, 'lint', '--json'], { cwd, env }), [0, 1, 2]),
    squawkJson: () => checked('squawk --reporter json', timed(squawk, ['--reporter', 'json', glob], { cwd, env }), [0, 1]),
    stagedbText: () => checked('stagedb lint', timed(node, [cli, 'lint'], { cwd, env }), [0, 1, 2]),
    squawkText: () => checked('squawk', timed(squawk, [glob], { cwd, env }), [0, 1]),
    stagedbFloor: () => checked('stagedb lint --json, every rule off', timed(node, [cli, 'lint', '--json', '--config', offConfig], { cwd, env }), [0]),
    ...(native ? { nativeJson: () => checked('squawk binary --reporter json', timed(native, ['--reporter', 'json', glob], { cwd, env }), [0, 1]) } : {}),
    // Cold start: one small migration; node -e 0 for scale.
    node: () => checked('node -e 0', timed(node, ['-e', '0'], { cwd, env }), [0]),
    stagedbOne: () => checked('stagedb lint <one file>', timed(node, [cli, 'lint', corpus.single], { cwd, env }), [0, 1, 2]),
    squawkOne: () => checked('squawk <one file>', timed(squawk, [corpus.single], { cwd, env }), [0, 1]),
  };

  // Warm-up (untimed), and the outputs both sides are judged on.
  const s = JSON.parse(runs.stagedbJson().stdout);
  const q = JSON.parse(runs.squawkJson().stdout);
  for (const k of Object.keys(runs)) runs[k]();
  if (s.files.length !== corpus.history.length) throw new Error(`stagedb linted ${s.files.length} files, expected ${corpus.history.length}`);
  const squawkFiles = new Set(q.map((x) => x.file)).size;

  const times = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  const keys = Object.keys(runs);
  for (let i = 0; i < reps; i++) {
    for (const k of i % 2 ? [...keys].reverse() : keys) times[k].push(runs[k]().ms);
    log(`  lint rep ${i + 1}/${reps}: stagedb ${times.stagedbJson.at(-1).toFixed(0)} ms, squawk ${times.squawkJson.at(-1).toFixed(0)} ms (JSON)`);
  }

  const result = {
    files: corpus.history.length,
    statements: corpus.statements,
    bytes: corpus.bytes,
    kinds: count(corpus.history, (m) => m.name.replace(/^\d+_/, '').replace(/_\d+$/, '')),
    times,
    stagedb: { total: s.findings.length, counts: s.counts, suppressed: s.suppressed.length, byRule: count(s.findings, (f) => `${f.code} ${f.rule}`) },
    squawk: { total: q.length, files: squawkFiles, byRule: count(q, (x) => x.rule_name), version: spawnSync(squawk, ['--version'], { encoding: 'utf8' }).stdout.trim() },
    native: Boolean(native),
    load: [loadBefore, loadavg()],
    seconds: (Date.now() - started) / 1000,
  };
  const md = render(result);
  if (opts.writeResults !== false) writeSection(join(BENCH, 'RESULTS.md'), md, MARKERS);
  log(`bench lint: stagedb ${median(times.stagedbJson).toFixed(0)} ms vs squawk ${median(times.squawkJson).toFixed(0)} ms (JSON)${opts.writeResults !== false ? '; wrote its section of bench/RESULTS.md' : ''}`);
  return result;
}

function render(r) {
  const ms = (x) => `${x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`;
  const t = r.times;
  const spread = (xs) => `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;
  const verdict = (ours, base) => {
    const ratio = median(ours) / median(base);
    return { ratio, text: `**${ratio.toFixed(2)}×** | ≤ ${TARGET.toFixed(2)}× | ${ratio <= TARGET ? 'pass' : '**FAIL**'}` };
  };
  const json = verdict(t.stagedbJson, t.squawkJson);
  const text = verdict(t.stagedbText, t.squawkText);
  const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const top = (xs) => xs.map(([k, n]) => `${n} ${k}`).join(', ');
  return `${START}
## Lint: \`stagedb lint\` vs squawk-cli, ${r.files} Prisma-style migrations

Written by \`bench/lint.mjs\`. Corpus: ${r.files} files, ${r.statements} statements, ${(r.bytes / 1024).toFixed(0)} KiB
(${top(r.kinds)}), the same generated history the deploy bench applies. stagedb is \`node bin/stagedb.js lint\` in
the project (every migration, each judged as if the earlier ones were deployed); squawk is the npm
package's \`squawk\` command (${r.squawk.version}) on \`prisma/migrations/*/migration.sql\`.

| | squawk median | stagedb median | ratio | target | result |
|---|---:|---:|---:|---:|---|
| JSON output (\`--reporter json\` / \`--json\`), n=${t.stagedbJson.length} | ${ms(median(t.squawkJson))} | ${ms(median(t.stagedbJson))} | ${json.text} |
| default human output, n=${t.stagedbText.length} | ${ms(median(t.squawkText))} | ${ms(median(t.stagedbText))} | ${text.text} |

| informational | median | spread |
|---|---:|---:|
| squawk JSON, npm command | ${ms(median(t.squawkJson))} | ${spread(t.squawkJson)} |
| stagedb lint --json | ${ms(median(t.stagedbJson))} | ${spread(t.stagedbJson)} |
| stagedb lint --json with every rule off: the floor of start-up, reading, parsing and output | ${ms(median(t.stagedbFloor))} | ${spread(t.stagedbFloor)} |
${r.native ? `| squawk JSON, the native binary alone (no Node launcher) | ${ms(median(t.nativeJson))} | ${spread(t.nativeJson)} |\n` : ''}| cold start: \`stagedb lint\` of one migration | ${ms(median(t.stagedbOne))} | ${spread(t.stagedbOne)} |
| cold start: \`squawk\` of one migration | ${ms(median(t.squawkOne))} | ${spread(t.squawkOne)} |
| for scale: bare \`node -e 0\` | ${ms(median(t.node))} | ${spread(t.node)} |

Findings on the same corpus:

| | total | by rule |
|---|---:|---|
| stagedb | ${r.stagedb.total} (${r.stagedb.counts.error} error, ${r.stagedb.counts.warning} warning, ${r.stagedb.counts.info} info) | ${top(r.stagedb.byRule)} |
| squawk | ${r.squawk.total} (in ${r.squawk.files} files) | ${top(r.squawk.byRule)} |

The counts differ by design: squawk reports every statement that matches a pattern (an index on a table the
same file creates, \`IF NOT EXISTS\` on every \`CREATE TABLE\`, timeouts per file, Prisma's \`INTEGER\`/\`TIMESTAMP(3)\`
types), stagedb only hazards to live tables, given how each file will run (its type hints are off by default).
The JSON row is the verdict that matters most for CI; the human rows include each tool's formatting
(squawk draws source excerpts for every finding). Times are whole processes, spawn to exit, children with
\`NO_COLOR=1\`, \`STAGEDB_NO_CACHE=1\` (every run a first run: the cached one is in the everyday section) and no inherited \`NODE_OPTIONS\`; ${t.stagedbJson.length} interleaved repetitions after one untimed
warm-up of each command. Load average before ${la(r.load[0])}, after ${la(r.load[1])}; ${r.seconds.toFixed(0)} s.
${END}
`;
}

runIfMain(import.meta.url, 'bench lint', () => runLintBench());
