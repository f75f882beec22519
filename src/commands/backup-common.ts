import { usageError } from '../errors.js';
import { progressLine } from '../render/progress.js';
import { ago } from '../render/table.js';
import type { Progress } from '../backup/progress.js';
import type { CommandContext, ParsedArgs } from './types.js';

/** What the backup commands share: progress lines, the --jobs flag, ages. */

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
