import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import type { LocalHistory } from '../history/local.js';
import { lintPending, type PendingLint } from './pending.js';
import { findingLine } from './format.js';
import type { LintOptions } from './types.js';

export interface GateOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  cwd?: string;
  /** The command the user ran, for the fix line (e.g. "deploy"). */
  command: string;
  lint?: Omit<LintOptions, 'database'>;
  /** `--allow-hazards "<reason>"`: deploy despite errors; the reason goes into the audit record. */
  allowHazards?: string;
  /** The migrations folder, when the caller has read it already. */
  local?: LocalHistory;
}

export interface GateResult extends PendingLint {
  /** One line for the audit record's summary, e.g. `lint: 2 errors overridden (--allow-hazards: "…")`. */
  summary: string;
  overridden: boolean;
}

/**
 * The deploy gate for guarded and production environments: lints the pending migrations against the
 * target's real tables and refuses (E_LINT_BLOCKED, exit 5) when an error-level hazard remains,
 * unless `allowHazards` gives a reason. Warnings never block.
 */
export async function lintGate(options: GateOptions): Promise<GateResult> {
  const { env } = options;
  const pending = await lintPending({ env, migrationsDir: options.migrationsDir, cwd: options.cwd, local: options.local, lint: { runner: 'stagedb', ...options.lint } });
  const { counts, findings, suppressed } = pending.result;
  const errors = findings.filter((f) => f.severity === 'error');
  const tail = `${suppressed.length ? `, ${suppressed.length} suppressed` : ''}`;
  if (errors.length === 0) {
    const summary = pending.pending.length === 0 ? 'lint: nothing pending' : `lint: no errors, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}${tail}`;
    return { ...pending, summary, overridden: false };
  }
  const codes = [...new Set(errors.map((f) => f.code))].join(', ');
  const reason = options.allowHazards?.trim();
  if (reason) {
    return { ...pending, overridden: true, summary: `lint: ${errors.length} error${errors.length === 1 ? '' : 's'} (${codes}) overridden with --allow-hazards: ${reason}` };
  }
  throw new StagedbError(
    'guard',
    'E_LINT_BLOCKED',
    `${env.name}: the pending migrations have ${errors.length} zero-downtime hazard${errors.length === 1 ? '' : 's'} at error level (${codes}); nothing was applied`,
    {
      details: errors.map(findingLine),
      fix: `see each hazard and its safe alternative: stagedb lint --env ${env.name}; after review, suppress one statement with a comment above it (-- stagedb-lint-disable-next-statement ${errors[0]!.code}: <reason>), or deploy anyway: stagedb ${options.command} --env ${env.name} --allow-hazards "<reason>"`,
    },
  );
}
