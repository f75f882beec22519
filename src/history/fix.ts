import { shellQuote } from '../shell-quote.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import type { Progress } from './progress.js';

/** What a fix line needs to know of the environment it points at. */
export type FixTarget = Pick<ResolvedEnvironment, 'name' | 'directSource' | 'directUrl'>;

/**
 * The one place that writes the stagedb commands a message tells the user to run ("fix lines").
 * Every one of them must act on the database the failed command acted on: `--env <name>` alone
 * would send a run that was pointed elsewhere with `--url` to the environment's own database, so a
 * `--url` target is carried over (issue 19 item 9) — without its password, which is never printed:
 * the line asks for it from PGPASSWORD (or ~/.pgpass), as libpq and node-postgres both read it.
 *
 * Names go through `shellQuote` (the one shell-quoting helper) so a pasted line runs what it says
 * and nothing else.
 */
export function fixCommand(env: FixTarget, ...args: string[]): string {
  return ['stagedb', ...args.map((a) => shellQuote(a)), ...targetArgs(env)].join(' ');
}

/** The flags that name the same target database: `--env <name>`, plus the `--url` the run was given. */
export function targetArgs(env: FixTarget): string[] {
  const out = ['--env', shellQuote(env.name)];
  if (env.directSource === '--url flag') out.push('--url', shellQuote(withoutPassword(env.directUrl)));
  return out;
}

/** Whether the run's `--url` carried a password that the fix lines leave out. */
export function urlPasswordLeftOut(env: Pick<ResolvedEnvironment, 'directSource' | 'directUrl'>): boolean {
  if (env.directSource !== '--url flag') return false;
  try {
    return new URL(env.directUrl).password !== '';
  } catch {
    return false;
  }
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '';
    return u.toString();
  } catch {
    // Not parseable as a WHATWG URL (it was parsed by stagedb's own parser): never echo it.
    return '<the same --url>';
  }
}

/**
 * `e` with a note on its fix line when that line carries a `--url` shown without its password: the
 * line runs as printed once PGPASSWORD (or ~/.pgpass) supplies it.
 */
export function withPasswordNote(env: FixTarget, e: unknown): unknown {
  if (!(e instanceof StagedbError) || !e.fix?.includes(' --url ') || !urlPasswordLeftOut(env)) return e;
  return new StagedbError(e.kind, e.code, e.message, {
    details: e.details,
    fix: `${e.fix}   (the --url is shown without its password: set PGPASSWORD before running it)`,
    cause: e.cause,
  });
}

/**
 * The two ways on from a migration some of whose statements were committed: undo them and run it
 * again, or finish the rest by hand and record it as applied. Prisma's own choice (P3009), with
 * the statements named.
 */
export function partialAdvice(target: FixTarget, name: string, p: Progress | undefined): string {
  const rolledBack = `${fixCommand(target, 'migrate', 'resolve', '--rolled-back', name)} && ${fixCommand(target, 'deploy')}`;
  const applied = fixCommand(target, 'migrate', 'resolve', '--applied', name);
  if (!p || p.unknown || p.mode === 'transaction') {
    return `undo its partial changes, then: ${rolledBack}; or, if you finish it by hand: ${applied}`;
  }
  // Statements 1 … upTo may have changed the database; the rest did not run.
  const upTo = p.uncertain !== undefined ? p.uncertain + 1 : p.committed;
  const span = (a: number, b: number) => (a === b ? `statement ${a}` : `statements ${a}–${b}`);
  const undo = span(1, upTo);
  const last = p.statements;
  const rest =
    p.uncertain === undefined
      ? span(p.committed + 1, last)
      : p.uncertain + 1 === last
        ? `statement ${last} if it did not commit`
        : `${span(p.uncertain + 1, last)} (from ${p.uncertain + 2} if statement ${p.uncertain + 1} did commit)`;
  const maybe = p.uncertain !== undefined ? ` (statement ${p.uncertain + 1} may not have committed)` : '';
  return `either undo what ${undo} did${maybe}, then: ${rolledBack}   (the whole file runs again); or finish it by hand — run ${rest} — then: ${applied}`;
}
