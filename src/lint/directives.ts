/**
 * Suppression directives, in SQL comments:
 *
 *   -- stagedb-lint-disable-next-statement SDB001: the table is empty until the backfill job runs
 *   -- stagedb-lint-disable-file SDB015, SDB016: dropping the legacy tables, announced in #412
 *
 * Rules are named by code or name (`all` for every rule); the reason after the colon is required and
 * kept with the suppressed finding (and so in `--json` and the deploy's audit of what was overridden).
 * A directive without a reason, or naming an unknown rule, suppresses nothing and is reported itself.
 */
export interface Directive {
  scope: 'next-statement' | 'file';
  /** Codes and names as written (lower-cased names, upper-cased codes), or `all`. */
  rules: string[];
  reason: string;
  /** Character offset of the comment. */
  offset: number;
}

export interface DirectiveProblem {
  offset: number;
  message: string;
}

const DIRECTIVE = /--[ \t]*stagedb-lint-disable(-next-statement|-file|[\w-]*)([^\n]*)/g;

/** Finds the directives in `text` (a stretch of a file between statements; `base` is its offset in the file). */
export function findDirectives(text: string, base: number, known: (rule: string) => boolean, out: Directive[], problems: DirectiveProblem[]): void {
  if (!text.includes('stagedb-lint-')) return;
  for (const m of text.matchAll(DIRECTIVE)) {
    const offset = base + m.index!;
    const kind = m[1]!;
    if (kind !== '-next-statement' && kind !== '-file') {
      problems.push({ offset, message: `unknown directive "stagedb-lint-disable${kind}": use stagedb-lint-disable-next-statement or stagedb-lint-disable-file` });
      continue;
    }
    const rest = m[2]!;
    const colon = rest.indexOf(':');
    const list = (colon < 0 ? rest : rest.slice(0, colon)).split(/[\s,]+/).filter(Boolean);
    const reason = colon < 0 ? '' : rest.slice(colon + 1).trim();
    const rules = list.map((r) => (/^sdb\d+$/i.test(r) ? r.toUpperCase() : r.toLowerCase()));
    if (rules.length === 0) {
      problems.push({ offset, message: `stagedb-lint-disable${kind} names no rule: write the code, e.g. -- stagedb-lint-disable${kind} SDB001: <reason>` });
      continue;
    }
    const unknown = rules.filter((r) => r !== 'all' && !known(r));
    if (unknown.length) {
      problems.push({ offset, message: `stagedb-lint-disable${kind} names unknown rule${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (stagedb lint --rules lists them)` });
      continue;
    }
    if (!reason) {
      problems.push({ offset, message: `stagedb-lint-disable${kind} ${rules.join(', ')} has no reason: add one after a colon, e.g. -- stagedb-lint-disable${kind} ${rules[0]}: <why this is safe here>` });
      continue;
    }
    out.push({ scope: kind === '-file' ? 'file' : 'next-statement', rules, reason, offset });
  }
}

/** The directive that silences `code`/`name`, if any. */
export function suppressing(directives: Directive[], code: string, name: string): Directive | undefined {
  return directives.find((d) => d.rules.includes('all') || d.rules.includes(code) || d.rules.includes(name));
}
