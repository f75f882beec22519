/**
 * The only door to Prisma's schema engine. Everything engine-specific (the WebAssembly build, its
 * input shapes, the driver adapter) lives behind {@link openEngine}; callers see stagedb's own types.
 *
 * Importing this file is cheap: the engine (5 MB of WebAssembly), `@prisma/adapter-pg` and the
 * pool are loaded by `openEngine` with dynamic imports, so `status`, `deploy` and `--help` never pay
 * for them. Import this module itself lazily too (`await import('../engine/index.js')`).
 *
 * The interface speaks in operations, not in engine calls, so that a Prisma 8 flow (`migration plan`
 * / `db migrate`) can sit behind it later without changing callers.
 */
import type { OpenEngineOptions, SchemaEngine } from './types.js';

export type { GeneratedMigration } from '../history/write.js';
export type { DatasourceProvider, SchemaFile, StrippedSetting, PreparedSchema } from './schema.js';
export { assertPostgresSchema, datasourceProviders, datasourceSchemas, prepareSchemaForEngine, ENGINE_PREVIEW_FEATURES } from './schema.js';
export { readSchemaFiles } from './schema-files.js';

export { ENGINE_PACKAGE, ENGINE_PACKAGE_VERSION } from './package.js';
export type { CreatedMigration, DataLossEvaluation, DevDatabaseCheck, DiffResult, DiffSource, HistoryDiagnosis, OpenEngineOptions, PushOutcome, SchemaEngine } from './types.js';

/** Loads the engine (once per process) and connects it. Errors are StagedbErrors. */
export async function openEngine(options: OpenEngineOptions): Promise<SchemaEngine> {
  const { openWasmEngine } = await import('./wasm-engine.js');
  return openWasmEngine(options);
}

/** Opens an engine, runs `fn`, and closes the engine whatever happens. */
export async function withEngine<T>(options: OpenEngineOptions, fn: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const engine = await openEngine(options);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}
