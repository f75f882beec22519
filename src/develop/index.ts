/**
 * The development commands as a library: push, migrate dev, migrate reset, migrate diff and drift.
 * Nothing here prints, prompts or exits: confirmations are callbacks, progress is `onEvent`, and
 * every refusal or failure is a StagedbError with a `fix`. Each file loads the schema engine lazily.
 */
export { planPush, push, type PushPlan, type PushResult } from './push.js';
export { migrateDev, problemLines, type DevProblem, type MigrateDevOptions, type MigrateDevResult } from './migrate-dev.js';
export { describeLoss, resetDatabase, recreateSchemas, type LossReport, type ResetOptions } from './reset.js';
export { resetSchemas } from './shared.js';
export { diffSchemas, detectDrift, type DiffSide, type DiffSchemasOptions, type DiffOutcome, type DriftReport } from './diff.js';
export { migrationNameSlug } from './name.js';
export type { DevelopEvent } from './shared.js';
