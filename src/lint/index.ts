/**
 * The zero-downtime lint: PostgreSQL's own parser over migration files, one rule per hazard (see
 * rules/), each finding with its lock, why it hurts and the safe alternative. Nothing here prints or
 * exits. Import it lazily: it is the only part of stagedb that loads the parser.
 */
export { lintFiles, type LintRunOptions, type References, DEFAULT_SMALL_TABLE_BYTES, DEFAULT_LARGE_TABLE_BYTES } from './run.js';
export { lintPending, type PendingLint, type PendingLintOptions } from './pending.js';
export { lintGate, type GateOptions, type GateResult } from './gate.js';
export { readDatabaseContext } from './context.js';
export { formatText, formatGithub, summaryLine } from './format.js';
export { RULES } from './rules/index.js';
export { RULE_NAMES, ruleCode } from '../rule-codes.js';
export type * from './types.js';
