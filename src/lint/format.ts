import type { Finding, LintResult, Severity } from './types.js';

/**
 * Renderers for a lint result. `--json` needs none (the result is the data); `text` is for people,
 * `github` for GitHub Actions' workflow commands (annotations on the pull request's files).
 */

/** One finding on one line, as the deploy gate prints it and its refusal lists it. */
export const findingLine = (f: Finding): string => `${f.severity} ${f.code} ${f.file}:${f.line}:${f.column} ${f.message}${f.note ? ` (${f.note})` : ''}`;

const SGR = { red: 31, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;

function paint(on: boolean) {
  return (code: keyof typeof SGR, s: string) => (on ? `\x1b[${SGR[code]}m${s}\x1b[0m` : s);
}

const COLOR_OF: Record<Severity, keyof typeof SGR> = { error: 'red', warning: 'yellow', info: 'cyan' };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(r: LintResult): string {
  const files = plural(r.files.length, 'file');
  const sup = r.suppressed.length ? ` (${r.suppressed.length} suppressed)` : '';
  if (r.findings.length === 0) return `no hazards in ${files}${sup}.`;
  const parts = [r.counts.error && plural(r.counts.error, 'error'), r.counts.warning && plural(r.counts.warning, 'warning'), r.counts.info && `${r.counts.info} info`].filter(Boolean);
  return `${parts.join(', ')} in ${files}${sup}.`;
}

function statementLines(f: Finding, max = 3): string[] {
  const lines = f.statement.split('\n');
  const shown = lines.slice(0, max).map((l) => (l.length > 160 ? `${l.slice(0, 159)}…` : l));
  if (lines.length > max) shown.push('…');
  return shown;
}

/** Human text, grouped by file, colour when `color`. */
export function formatText(r: LintResult, options: { color?: boolean } = {}): string {
  const c = paint(!!options.color);
  const out: string[] = [];
  const byFile = new Map<string, Finding[]>();
  for (const f of r.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  for (const file of r.files) {
    const fs = byFile.get(file.path);
    if (!fs) continue;
    out.push(`${c('bold', file.path)} ${c('dim', `(${file.modeReason})`)}`);
    for (const f of fs) {
      out.push(`  ${file.path}:${f.line}:${f.column}  ${c(COLOR_OF[f.severity], f.severity)}  ${c('bold', f.code)} ${f.rule}`);
      out.push(`    ${f.message}`);
      if (f.statement) for (const l of statementLines(f)) out.push(c('dim', `    │ ${l}`));
      if (f.lock) out.push(`    ${c('dim', 'lock:')} ${f.lock}`);
      out.push(`    ${c('dim', 'why:')}  ${f.why}`);
      if (f.note) out.push(`    ${c('dim', 'note:')} ${f.note}`);
      if (f.fix) {
        out.push(`    ${c('dim', 'safe alternative:')}`);
        for (const l of f.fix.split('\n')) out.push(`      ${l.startsWith('--') ? c('dim', l) : l}`);
      }
      out.push('');
    }
  }
  for (const s of r.suppressed) out.push(c('dim', `suppressed ${s.code} at ${s.file}:${s.line}: ${s.reason}`));
  if (r.suppressed.length) out.push('');
  if (r.context) out.push(c('dim', `sizes from ${r.context.env} (PostgreSQL ${Math.floor(r.context.serverVersionNum / 10000)}), ${plural(r.context.tables, 'table')} found there`));
  out.push(summaryLine(r));
  return out.join('\n');
}

/** GitHub Actions workflow-command escaping (data; properties also escape `:` and `,`). */
const esc = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const escProp = (s: string) => esc(s).replaceAll(':', '%3A').replaceAll(',', '%2C');

const LEVEL: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'notice' };

/** One `::error file=…,line=…::…` annotation per finding, then the summary. */
export function formatGithub(r: LintResult): string {
  const out = r.findings.map((f) => {
    const body = [f.message, f.lock ? `Lock: ${f.lock}` : '', `Why: ${f.why}`, f.note ? `Note: ${f.note}` : '', f.fix ? `Safe alternative:\n${f.fix}` : ''].filter(Boolean).join('\n');
    return `::${LEVEL[f.severity]} file=${escProp(f.file)},line=${f.line},endLine=${f.endLine},col=${f.column},title=${escProp(`${f.code} ${f.rule}`)}::${esc(body)}`;
  });
  out.push(summaryLine(r));
  return out.join('\n');
}
