import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package manager a project's scripts are run with. */
export type ScriptRunner = 'npm' | 'yarn' | 'pnpm' | 'bun';

/** The `package.json` scripts of the project a command ran in, and how its team runs them. */
export interface ProjectScripts {
  scripts: Record<string, string>;
  runner: ScriptRunner;
}

const LOCK_FILES: ReadonlyArray<readonly [string, ScriptRunner]> = [
  ['yarn.lock', 'yarn'],
  ['pnpm-lock.yaml', 'pnpm'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['package-lock.json', 'npm'],
];

/**
 * The scripts of the nearest package.json at or above `dir`, or undefined when there is none (or it
 * cannot be read: a hint is never worth an error). The runner is the one that started this process
 * (`npm_config_user_agent`, set by npm, yarn, pnpm and bun for `<runner> run <script>`), else the one
 * whose lock file sits beside package.json, else npm.
 */
export function readProjectScripts(dir: string, userAgent?: string): ProjectScripts | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const file = join(d, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, unknown> };
        const scripts = Object.fromEntries(Object.entries(pkg.scripts ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
        const agent = /^(npm|yarn|pnpm|bun)\//.exec(userAgent ?? '')?.[1] as ScriptRunner | undefined;
        const runner = agent ?? LOCK_FILES.find(([f]) => existsSync(join(d, f)))?.[1] ?? 'npm';
        return { scripts, runner };
      } catch {
        return undefined;
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

/**
 * stagedb's flags that take no value. The parser below needs them to tell `--force staging` (a flag,
 * then a word) from `--env staging` (a flag and its value); test/unit/project-scripts.test.ts checks
 * this list against every command's options.
 */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set([
  'accept-data-loss', 'allow-foreign', 'allow-missing', 'allow-modified', 'allow-out-of-order', 'checksums', 'create-only',
  'deep', 'drift', 'dry-run', 'exit-code', 'fix', 'force', 'help', 'json', 'no-checksums', 'no-open', 'prisma-sql', 'read-only', 'rules', 'skip-generate',
  'skip-seed', 'snapshot', 'snapshots', 'with-privileges', 'write-env',
]);

interface ParsedCommand {
  /** Command words and positionals, e.g. ['deploy'] or ['restore', 'latest']. */
  words: string[];
  /** Flags in order, each with its value (undefined for a boolean flag). */
  flags: Array<[string, string | undefined]>;
}

const WORD = /^[a-z][a-z-]*$/;
// A positional that is an argument, not the prose after the command: a migration name, a backup id, `latest`.
const POSITIONAL = /^(latest|[\w.:<>-]*[\d_<][\w.:<>-]*)$/;
const TOKEN = /^[^\s;,()`]+$/;

/** Reads `<words…> [--flag [value]]…` from the tokens after `stagedb`, stopping where prose begins. */
function parseCommand(tokens: string[]): ParsedCommand | undefined {
  const words: string[] = [];
  const flags: ParsedCommand['flags'] = [];
  let i = 0;
  while (i < tokens.length && words.length < 2 && WORD.test(tokens[i]!)) words.push(tokens[i++]!);
  if (words.length === 0) return undefined;
  if (i < tokens.length && POSITIONAL.test(tokens[i]!) && !tokens[i]!.startsWith('-')) words.push(tokens[i++]!);
  while (i < tokens.length && /^--?[a-z]/.test(tokens[i]!) && TOKEN.test(tokens[i]!)) {
    const raw = tokens[i++]!;
    const [flag, inline] = raw.replace(/^-e$/, '--env').replace(/^--/, '').split(/=(.*)/s) as [string, string | undefined];
    if (inline !== undefined || BOOLEAN_FLAGS.has(flag)) flags.push([flag, inline]);
    else if (i < tokens.length && TOKEN.test(tokens[i]!) && !tokens[i]!.startsWith('-')) flags.push([flag, tokens[i++]!]);
    else break;
  }
  return { words, flags };
}

/** `stagedb …` commands in a fix text: the whole text when it is one, else each one after a colon or in a sentence. */
function commandsIn(text: string): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  for (const m of text.matchAll(/(?:^|[\s:(`])(?:npx )?stagedb ([^;,()`]*)/g)) {
    // Two spaces or more end a command: "stagedb init   (writes stagedb.config.ts)".
    const parsed = parseCommand(m[1]!.split(/\s{2,}/)[0]!.trim().split(/\s+/));
    if (parsed) out.push(parsed);
  }
  return out;
}

const flagText = (flags: ParsedCommand['flags']) => flags.map(([f, v]) => (v === undefined ? `--${f}` : `--${f} ${v}`));

/**
 * For each `stagedb …` command in a fix, the project's own script that runs it, as the team types it:
 * `stagedb deploy --env production --confirm production` with the guide's
 * `"db:deploy:production": "stagedb deploy --env production"` becomes
 * `yarn run db:deploy:production --confirm production`. A script matches when it runs the same
 * command on the same environment (no `--env` on both sides counts as the same) and every flag it
 * passes is in the fix; the fix's other arguments are passed through. The script passing the most
 * flags wins; a command no script runs gets no line.
 */
export function scriptForms(fix: string, project: ProjectScripts): string[] {
  const scripts = Object.entries(project.scripts)
    .map(([name, line]) => ({ name, cmd: /^(?:npx )?stagedb /.test(line) ? parseCommand(line.replace(/^(?:npx )?stagedb /, '').trim().split(/\s+/)) : undefined, line }))
    .filter((s): s is { name: string; cmd: ParsedCommand; line: string } => s.cmd !== undefined && !/[;&|<>$`]/.test(s.line));
  const forms: string[] = [];
  for (const want of commandsIn(fix)) {
    const envOf = (c: ParsedCommand) => c.flags.find(([f]) => f === 'env')?.[1];
    const best = scripts
      .filter(({ cmd }) => {
        // The same command words; one more word in the fix only when it is an argument (`restore latest`
        // for a `stagedb restore` script), never a subcommand: `stagedb backup` does not run `backup list`.
        const more = want.words.slice(cmd.words.length);
        if (cmd.words.join(' ') !== want.words.slice(0, cmd.words.length).join(' ')) return false;
        if (more.length > 1 || (more.length === 1 && !POSITIONAL.test(more[0]!))) return false;
        if (envOf(cmd) !== envOf(want)) return false;
        return cmd.flags.every(([f, v]) => want.flags.some(([wf, wv]) => wf === f && wv === v));
      })
      .sort((a, b) => b.cmd.flags.length - a.cmd.flags.length)[0];
    if (!best) continue;
    const extra = [
      ...want.words.slice(best.cmd.words.length),
      ...flagText(want.flags.filter(([f, v]) => !best.cmd.flags.some(([bf, bv]) => bf === f && bv === v))),
    ];
    const form = runLine(project.runner, best.name, extra);
    if (!forms.includes(form)) forms.push(form);
  }
  return forms;
}

function runLine(runner: ScriptRunner, script: string, extra: string[]): string {
  if (extra.length === 0) return `${runner} run ${script}`;
  // npm passes arguments to the script only after `--`; yarn, pnpm and bun pass them as they are.
  return runner === 'npm' ? `npm run ${script} -- ${extra.join(' ')}` : `${runner} run ${script} ${extra.join(' ')}`;
}
