import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_ID } from '../build-id.js';
import { loadConfig } from '../config/load.js';
import { usageError } from '../errors.js';
import { isHistory, readLintInputs } from '../lint/inputs.js';
import type { LintOptions, LintResult, Runner } from '../lint/types.js';
import { colorWanted } from '../render/color.js';
import { ENV_HELP } from './shared.js';
import type { Command } from './types.js';
import { shortLivedLint } from './wasm-tier.js';

const FORMATS = ['text', 'json', 'github'] as const;
type Format = (typeof FORMATS)[number];

/** Exit codes by the highest severity found (README, "Lint"). */
const EXIT_BY_SEVERITY = { error: 2, warning: 1, info: 0 } as const;

const command: Command = {
  usage: `Usage: stagedb lint [paths…] [--env <name>] [--format text|json|github] [--runner stagedb|prisma]

Checks migration SQL for zero-downtime hazards with PostgreSQL's own parser: each finding names the
statement and its line, the lock it takes, why it hurts, and the safe alternative as SQL.

  stagedb lint                   every migration in the folder, each judged as if the ones before it
                                 were deployed (their tables live)
  stagedb lint <folder>          a migrations folder: the same, for that folder
  stagedb lint <paths…>          these files (or migration directories), as migrations that deploy
                                 together: a table an earlier one creates is new
  stagedb lint --env <name>      the migrations pending on that environment, with the size of every
                                 table they touch there (an index on an empty table is fine; on a
                                 large one it is an outage)

Suppress a reviewed hazard with a comment and a reason:
  -- stagedb-lint-disable-next-statement SDB001: built while the table is still empty
  -- stagedb-lint-disable-file SDB015: the column was unused since v2.3

Without --env no table size is known: a hazard that grows with the table is a warning (an error
with --env on a table of size, and in the deploy gate), unless the config sets the rule to error.

Exit code: 0 no hazards (or info only), 1 warnings, 2 errors; 3 config or connection error, 4 usage.

      --format <f>           text (default; colour in a terminal unless NO_COLOR), json (as --json),
                             github (GitHub Actions annotations)
      --runner <r>           who deploys the files: stagedb (default) or prisma (prisma migrate
                             deploy: each file one transaction, no lock_timeout); config lint.runner
      --rules                list the rules: code, name, default severity
      --fix                  rewrite migrations no configured environment has applied into
                             zero-downtime steps (docs/zero-downtime.md); with paths: only those
${ENV_HELP.replace('environment (default: STAGEDB_ENV, else development; aliases dev, prod, stage)', 'lint its pending migrations against this environment (only when given)')}`,
  options: {
    format: { type: 'string' },
    runner: { type: 'string' },
    rules: { type: 'boolean' },
    fix: { type: 'boolean' },
  },
  positionals: true,
  async run(ctx, args) {
    if (args.values.rules) return (await import('./lint-modes.js')).listRules();
    if (args.values.fix) return (await import('./lint-modes.js')).fix(ctx, args);
    const format = (args.values.format as string | undefined) ?? (ctx.json ? 'json' : 'text');
    if (!FORMATS.includes(format as Format)) throw usageError('E_USAGE', `--format must be text, json or github, not "${format}"`, 'stagedb lint --format github');
    const runnerFlag = args.values.runner as string | undefined;
    if (runnerFlag !== undefined && runnerFlag !== 'stagedb' && runnerFlag !== 'prisma') throw usageError('E_USAGE', `--runner must be stagedb or prisma, not "${runnerFlag}"`, 'stagedb lint --runner prisma');

    // A lint process lives ~0.2 s: TurboFan's optimized code for the rules and the tree walks arrives too
    // late to pay for compiling it (~30 ms of CPU on a 1000-file history, on V8's background threads,
    // which a two-core machine does not have to spare). Interpreted and baseline code only, for this
    // process alone (the deploy gate, which runs inside a deploy, leaves V8 as it is; bin/stagedb.js gives
    // the flags back at exit, so that lint's code cache is written).
    await shortLivedLint();
    // A review of the whole history keeps each file's findings under .stagedb/cache/ (src/lint/cache.ts;
    // docs/performance.md): unchanged files are not parsed again. STAGEDB_NO_CACHE=1 turns it off.
    const historyReview = args.values.env === undefined && isHistory(args.positionals, ctx.cwd);
    const caching = historyReview && BUILD_ID !== undefined && !/^(1|true|yes)$/i.test(ctx.env.STAGEDB_NO_CACHE ?? '');
    // Start loading PostgreSQL's parser now: its WebAssembly compiles on V8's background threads while
    // this thread loads the config and reads the files (~15 ms of a cold lint). Awaited by lintFiles.
    // Not when a cache is there (looked for beside the working directory, before the config says where
    // the project is): a warm review of an unchanged history needs no parser; lintFiles loads it on a miss.
    if (!caching || !existsSync(join(ctx.cwd, '.stagedb', 'cache', 'lint.json'))) {
      import('../lint/parse.js')
        .then((p) => p.loadParser())
        .catch(() => {});
    }
    const config = await loadConfig({ cwd: ctx.cwd, configFile: args.values.config as string | undefined });
    const cache = caching ? { path: join(config.root, '.stagedb', 'cache', 'lint.json'), identity: BUILD_ID! } : undefined;
    for (const w of config.warnings) ctx.warn(w);
    const runner = (runnerFlag ?? config.lint?.runner ?? 'stagedb') as Runner;
    const options: LintOptions = {
      runner,
      severities: config.lint?.rules,
      smallTableBytes: config.lint?.smallTableBytes,
      largeTableBytes: config.lint?.largeTableBytes,
    };
    // Only what this run needs: the runner and the formatters (the gate and history reads stay unloaded).
    performance.mark('stagedb:lint:config');
    const lint = { ...(await import('../lint/run.js')), ...(await import('../lint/format.js')) };
    performance.mark('stagedb:lint:modules');
    const envName = args.values.env as string | undefined;
    let result: LintResult;
    let pending: string[] | undefined;
    if (envName !== undefined) {
      ({ result, pending } = await (await import('./lint-modes.js')).lintOnEnvironment(ctx, args, config, options, envName, format));
    } else {
      const inputs = readLintInputs({ cwd: ctx.cwd, root: config.root, migrationsDir: config.migrationsDir, paths: args.positionals });
      performance.mark('stagedb:lint:read');
      // A history (no path, or only migrations folders: `stagedb lint prisma/migrations`) is reviewed one
      // migration at a time, each as if the ones before it were deployed; named files deploy together.
      result = await lint.lintFiles(inputs, { ...options, separately: historyReview, cache });
    }

    const exitCode = result.highest ? EXIT_BY_SEVERITY[result.highest] : 0;
    const data = { ...result, ...(envName !== undefined ? { env: envName } : {}), ...(pending ? { pending } : {}), exitCode };
    const color = colorWanted(ctx.env, ctx.interactive);
    // With --json the CLI prints `data` itself; --format json without it prints the same JSON as text.
    const text = ctx.json ? '' : format === 'github' ? lint.formatGithub(result) : format === 'json' ? JSON.stringify(data, null, 2) : lint.formatText(result, { color });
    return { exitCode, data, text };
  },
};

export default command;
