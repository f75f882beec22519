import { relative } from 'node:path';
import { resolveEnvironment, type ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import { usageError } from '../errors.js';
import { progressLine } from '../render/progress.js';
import { ago } from '../render/table.js';
import type { Progress } from '../backup/progress.js';
import type { CommandContext, ParsedArgs } from './types.js';

/** What the backup commands share: progress lines, who is acting, paths as the user sees them. */

/**
 * A progress printer for a terminal: one line every few seconds (never in CI logs or with --json,
 * where a line per second is noise). Returns undefined when there is no terminal to print to.
 */
export function progressPrinter(ctx: CommandContext, label: string, everyMs = 3000): ((p: Progress) => void) | undefined {
  if (!ctx.interactive) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < everyMs && p.fraction !== 1) return;
    last = now;
    ctx.log(`${label}: ${progressLine(p)}`);
  };
}

/** A path relative to where the user stands, when that is shorter. */
export function shown(ctx: CommandContext, location: string): string {
  if (!location.startsWith('/')) return location;
  const rel = relative(ctx.cwd, location);
  return rel && !rel.startsWith('../..') && rel.length < location.length ? rel : location;
}

/**
 * An environment resolved only for its backup storage. Reading another environment's backups (a
 * restore of production's into staging) must not need production's database URL on this machine:
 * a placeholder stands in for it, and nothing ever connects to it.
 */
export function backupsOf(ctx: CommandContext, config: ResolvedConfig, name: string): ResolvedEnvironment {
  return resolveEnvironment(config, name, { processEnv: ctx.env, urlOverride: 'postgresql://backups-only@localhost/unused?sslmode=verify-full' });
}

export function jobsFlag(args: ParsedArgs): number | undefined {
  const v = args.values.jobs;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw usageError('E_USAGE', `--jobs must be a whole number from 1 to 64, not "${v}"`, 'e.g. --jobs 4');
  return n;
}

export function age(iso: string, now = Date.now()): string {
  return ago(new Date(iso), now);
}
