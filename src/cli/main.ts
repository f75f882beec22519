import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CommandContext, CommandOutput } from '../commands/types.js';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { COMMANDS, GROUPS } from './registry.js';

/** Flags every command accepts. */
export const GLOBAL_OPTIONS = {
  env: { type: 'string', short: 'e' },
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  const section = (title: string, group: string) =>
    [title, ...Object.entries(COMMANDS).filter(([, e]) => e.group === group).map(([k, e]) => `  ${k.padEnd(width)}${e.summary}`)].join('\n');
  return [
    'stagedb — one Prisma + PostgreSQL schema, safely across development, staging and production',
    '',
    'Usage: stagedb <command> [--env <name>|all] [--config <file>] [--json]',
    '',
    section("The guide's commands:", 'guide'),
    '',
    section('Migration history:', 'history'),
    '',
    section('Local PostgreSQL:', 'local'),
    '',
    section('Project:', 'project'),
    '',
    'Environment: --env <name> > STAGEDB_ENV > development (aliases: dev, prod, stage).',
    'Exit codes: 0 ok, 1 pending migrations, 2 failed/modified history or migration error,',
    '            3 config or connection error, 4 usage, 5 refused by protection, 6 aborted, 70 internal.',
    'Run `stagedb <command> --help` for a command\'s flags.',
  ].join('\n');
}

interface Io {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  interactive: boolean;
}

/** Runs the CLI and returns the exit code. The only caller of process.exit is the bottom of this file. */
export async function run(io: Io): Promise<number> {
  const json = io.argv.includes('--json');
  const print = (s: string) => io.stdout(`${redact(s)}\n`);
  const eprint = (s: string) => io.stderr(`${redact(s)}\n`);
  try {
    const [first, second] = io.argv;
    if (!first || first === '--help' || first === '-h' || first === 'help') {
      print(topHelp());
      return EXIT.ok;
    }
    if (first === '--version' || first === '-v' || first === 'version') {
      print(version());
      return EXIT.ok;
    }
    let key = first;
    let rest = io.argv.slice(1);
    if (GROUPS.has(first) && second && !second.startsWith('-') && COMMANDS[`${first} ${second}`]) {
      key = `${first} ${second}`;
      rest = io.argv.slice(2);
    } else if (GROUPS.has(first) && !COMMANDS[first]) {
      const subs = Object.keys(COMMANDS).filter((k) => k.startsWith(`${first} `));
      if (second === '--help' || second === '-h') {
        const width = Math.max(...subs.map((k) => k.length)) + 2;
        print([`Usage: stagedb ${first} <command>`, '', ...subs.map((k) => `  ${k.padEnd(width)}${COMMANDS[k]!.summary}`), '', `Run \`stagedb ${first} <command> --help\` for a command's flags.`].join('\n'));
        return EXIT.ok;
      }
      throw new StagedbError('usage', 'E_USAGE', second ? `unknown command "${first} ${second}"` : `"${first}" needs a subcommand`, {
        fix: `use one of: ${subs.map((s) => `stagedb ${s}`).join(', ')}`,
      });
    }
    const entry = COMMANDS[key];
    if (!entry) {
      const close = Object.keys(COMMANDS).find((k) => k.startsWith(first.slice(0, 3)));
      throw new StagedbError('usage', 'E_USAGE', `unknown command "${first}"`, { fix: close ? `did you mean: stagedb ${close}? (stagedb --help lists all)` : 'stagedb --help' });
    }
    const { default: command } = await entry.load();
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    let parsed;
    try {
      parsed = parseArgs({ args: negativeValues(rest, options), options, allowPositionals: true, strict: command.strict ?? true, tokens: true });
    } catch (e) {
      // Node's unknown-option text goes on to suggest '-- "--flag"' (with an unbalanced quote): for a
      // mistyped flag that advice misleads, so keep its first sentence only.
      const first = (e as Error).message.split('\n')[0]!.split(/\. To specify a positional argument/)[0];
      throw new StagedbError('usage', 'E_USAGE', `stagedb ${key}: ${first}`, { fix: `stagedb ${key} --help` });
    }
    if (parsed.values.help) {
      print(`stagedb ${key} — ${entry.summary}\n\n${command.usage}`);
      return EXIT.ok;
    }
    checkEnvFlag(key, parsed.tokens ?? [], parsed.values.env);
    if (!command.positionals && parsed.positionals.length > 0) {
      throw new StagedbError('usage', 'E_USAGE', `stagedb ${key} takes no argument "${parsed.positionals[0]}"`, { fix: `stagedb ${key} --help` });
    }
    const ctx: CommandContext = {
      commandName: key,
      cwd: io.cwd,
      env: io.env,
      json,
      interactive: io.interactive && !json,
      log: (line) => (json ? eprint(line) : print(line)),
      warn: (line) => eprint(`warning: ${line}`),
      confirm: async (message) => {
        if (!ctx.interactive) return false;
        const p = await import('@clack/prompts');
        const answer = await untilEof((signal) => p.confirm({ message: redact(message), initialValue: false, signal }));
        return answer === true;
      },
      ask: async (message, placeholder) => {
        if (!ctx.interactive) return undefined;
        const p = await import('@clack/prompts');
        const answer = await untilEof((signal) => p.text({ message: redact(message), placeholder, signal }));
        return typeof answer === 'string' && answer.trim() ? answer.trim() : undefined;
      },
      typeToConfirm: async (message, expected) => {
        if (!ctx.interactive) return false;
        const p = await import('@clack/prompts');
        const answer = await untilEof((signal) => p.text({ message: redact(message), placeholder: expected, signal }));
        return typeof answer === 'string' && answer.trim() === expected;
      },
    };
    const out: CommandOutput = await command.run(ctx, parsed as never);
    if (json) print(JSON.stringify(out.data, jsonReplacer, 2));
    else if (out.text) print(await withScriptForms(out.text, io));
    return out.exitCode;
  } catch (e) {
    return reportError(e, json, print, eprint, io);
  }
}

/**
 * Runs a prompt that ends as cancelled when the input ends: Ctrl-D (read as a key in the prompt's raw
 * mode) or stdin closing. The prompt library waits for a key that never comes then, and Node, with
 * nothing left to run, exited 13 with no message and no audit record of the abort.
 */
async function untilEof<T>(prompt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onKey = (_s: unknown, key?: { ctrl?: boolean; name?: string }) => {
    if (key?.ctrl && key.name === 'd') ac.abort();
  };
  const onEnd = () => ac.abort();
  process.stdin.on('keypress', onKey);
  process.stdin.once('end', onEnd);
  process.stdin.once('close', onEnd);
  try {
    return await prompt(ac.signal);
  } finally {
    process.stdin.off('keypress', onKey);
    process.stdin.off('end', onEnd);
    process.stdin.off('close', onEnd);
  }
}

/**
 * `--lock-timeout -5`: parseArgs refuses a value that starts with "-" as ambiguous (it might be a
 * flag), and says so in words that do not help. A negative number after an option that takes a value is
 * its value: joined as `--lock-timeout=-5`, it reaches the command, which says what values it takes.
 */
function negativeValues(args: string[], options: Record<string, { type: string; short?: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const long = /^--([^=]+)$/.exec(a)?.[1];
    const short = /^-([a-zA-Z])$/.exec(a)?.[1];
    const name = long ?? (short ? Object.keys(options).find((k) => options[k]!.short === short) : undefined);
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** `--env` once, naming at least one environment: `--env ""` crashed, and `--env a --env b` silently meant b. */
function checkEnvFlag(key: string, tokens: Array<{ kind: string; name?: string }>, value: unknown): void {
  const given = tokens.filter((t) => t.kind === 'option' && t.name === 'env').length;
  if (given > 1) {
    throw new StagedbError('usage', 'E_USAGE', `stagedb ${key}: --env is given ${given} times; it takes one value`, {
      fix: `name one environment, or several in one comma list: stagedb ${key} --env development,staging`,
    });
  }
  if (typeof value === 'string' && !value.split(',').some((n) => n.trim())) {
    throw new StagedbError('usage', 'E_USAGE', `stagedb ${key}: --env needs an environment name, and got "${value}"`, {
      fix: `stagedb ${key} --env development   (or leave --env out: STAGEDB_ENV, else development)`,
    });
  }
}

/**
 * A command's `fix: stagedb …` and `apply with: stagedb …` lines (status, doctor) get the project's own
 * script beside them, as errors do (see reportError). The scripts are read only when such a line exists.
 */
async function withScriptForms(text: string, io: Io): Promise<string> {
  const hint = /^(\s*)(?:fix|apply with): (.*\bstagedb .*)$/;
  if (!text.split('\n').some((l) => hint.test(l))) return text;
  const { readProjectScripts, scriptForms } = await import('../project/scripts.js');
  const project = readProjectScripts(io.cwd, io.env.npm_config_user_agent);
  if (!project) return text;
  return text
    .split('\n')
    .flatMap((line) => {
      const m = hint.exec(line);
      return m ? [line, ...scriptForms(m[2]!, project).map((s) => `${m[1]}   or: ${s}`)] : [line];
    })
    .join('\n');
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Map ? Object.fromEntries(value) : value;
}

async function reportError(e: unknown, json: boolean, print: (s: string) => void, eprint: (s: string) => void, io: Io): Promise<number> {
  const err =
    e instanceof StagedbError
      ? e
      : new StagedbError('internal', 'E_INTERNAL', `internal error: ${(e as Error)?.message ?? String(e)}`, {
          fix: 'this is a bug in stagedb: please report it with the command you ran (add STAGEDB_DEBUG=1 for a stack trace)',
        });
  const code = exitCodeFor(err.kind);
  // The fix as the project's own script too (`yarn run db:deploy:production --confirm production`): a guide
  // user runs the scripts, not stagedb. Read only now, on the error path.
  let fixScripts: string[] = [];
  if (err.fix && err.fix.includes('stagedb ')) {
    const { readProjectScripts, scriptForms } = await import('../project/scripts.js');
    const project = readProjectScripts(io.cwd, io.env.npm_config_user_agent);
    fixScripts = project ? scriptForms(err.fix, project) : [];
  }
  if (json) {
    const fixScript = fixScripts.length ? { fixScripts } : {};
    print(JSON.stringify({ error: { kind: err.kind, code: err.code, message: err.message, details: err.details, fix: err.fix, ...fixScript, exitCode: code } }, null, 2));
  } else {
    eprint(`error: ${err.message}`);
    for (const d of err.details) eprint(`  ${d}`);
    if (err.fix) eprint(`  fix: ${err.fix}`);
    for (const s of fixScripts) eprint(`   or: ${s}`);
  }
  if (process.env.STAGEDB_DEBUG && e instanceof Error && e.stack) eprint(e.stack);
  return code;
}

/**
 * Runs the CLI on this process and exits: what bin/stagedb.js calls, on whichever copy of the CLI it
 * loaded (see scripts/bundle-cli.mjs). The one exit point.
 */
export async function main(): Promise<never> {
  const code = await run({
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: process.env,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  });
  // Files and terminals are written synchronously, but a pipe is not: output beyond the pipe's buffer
  // (64 KiB on Linux; `lint --json` of a long history is ~1 MB) is still queued when run() returns, and
  // process.exit would drop it. Exit once every queued write has reached the OS.
  await Promise.all(
    [process.stdout, process.stderr].map((s) => (s.writableLength > 0 ? new Promise<void>((done) => s.write('', () => done())) : undefined)),
  );
  process.exit(code);
}
