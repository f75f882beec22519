/**
 * The WebAssembly schema engine behind `SchemaEngine`. Loaded only through `openEngine` (a dynamic
 * import), so nothing here runs for commands that do not need the engine.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  DiffTarget,
  MigrationList,
  SchemaEngine as WasmEngine,
  SchemaFilter,
} from '@prisma/schema-engine-wasm';
import type { ErrorRegistry } from '@prisma/driver-adapter-utils';
import { migrationDirectoryNames } from '../history/local.js';
import { StagedbError } from '../errors.js';
import { engineError, isWasmPanic } from './errors.js';
import type {
  CreatedMigration,
  DataLossEvaluation,
  DevDatabaseCheck,
  DiffResult,
  DiffSource,
  HistoryDiagnosis,
  OpenEngineOptions,
  PushOutcome,
  SchemaEngine,
} from './types.js';
import { migrationLockToml, type GeneratedMigration } from '../history/write.js';
import { ENGINE_PACKAGE, ENGINE_PACKAGE_VERSION } from './package.js';
import { openEngineConnection, type EngineConnection } from './pg-adapter.js';
import { assertPostgresSchema, prepareSchemaForEngine, type SchemaFile, type StrippedSetting } from './schema.js';
import { readSchemaFiles } from './schema-files.js';

/** What `schema_engine_bg.js` exports that we use (its .d.ts declares only the engine class). */
interface EngineBindings {
  SchemaEngine: typeof WasmEngine;
  version(): string;
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
}

interface LoadedEngineModule {
  bindings: EngineBindings;
  /** Set after a panic: a trapped instance must not be called again, so the next open loads a new one. */
  poisoned: boolean;
}

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

let compiled: { module: WebAssembly.Module; bgPath: string } | undefined;
let current: Promise<LoadedEngineModule> | undefined;
let generation = 0;

/**
 * The engine's panic hook calls `global.PRISMA_WASM_PANIC_REGISTRY.set_message(…)` before the trap;
 * the trap itself only says "unreachable". Installed once; a registry someone else (Prisma Client)
 * installed is reused and read through its `get()`.
 */
interface PanicRegistry {
  set_message(message: string): void;
  get?(): string;
  lastPanic?: string;
}

function panicRegistry(): PanicRegistry {
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry };
  if (!g.PRISMA_WASM_PANIC_REGISTRY) {
    const registry: PanicRegistry = {
      set_message(message: string) {
        registry.lastPanic = message;
      },
      get: () => registry.lastPanic ?? '',
    };
    g.PRISMA_WASM_PANIC_REGISTRY = registry;
  }
  return g.PRISMA_WASM_PANIC_REGISTRY;
}

function engineMissing(detail: string): StagedbError {
  return new StagedbError('config', 'E_ENGINE_MISSING', `Prisma's schema engine (${ENGINE_PACKAGE}) is not installed: ${detail}`, {
    fix: `npm install --save-exact ${ENGINE_PACKAGE}@${ENGINE_PACKAGE_VERSION}`,
  });
}

/**
 * Node 20 cannot `import` a .wasm file, so the package's entry point (which does) is bypassed: load
 * its JS glue, compile the .wasm ourselves, instantiate it with the glue as its import object, and
 * hand the exports back to the glue. The compiled module is kept; a poisoned instance is replaced by
 * importing the glue again under a new URL (a fresh module, so a fresh `wasm` binding inside it).
 */
async function loadEngineModule(): Promise<LoadedEngineModule> {
  if (current) {
    const loaded = await current.catch(() => undefined);
    if (loaded && !loaded.poisoned) return loaded;
    current = undefined;
  }
  const attempt = (async (): Promise<LoadedEngineModule> => {
    if (!compiled) {
      let bgPath: string;
      try {
        bgPath = createRequire(import.meta.url).resolve(`${ENGINE_PACKAGE}/schema_engine_bg`);
      } catch (e) {
        throw engineMissing((e as Error).message.split('\n')[0] ?? 'cannot resolve it');
      }
      const dir = dirname(bgPath);
      const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
      if (version !== ENGINE_PACKAGE_VERSION) {
        throw new StagedbError('config', 'E_ENGINE_VERSION', `${ENGINE_PACKAGE} ${version} is installed, but stagedb is built against ${ENGINE_PACKAGE_VERSION} (its API changes without notice)`, {
          fix: `npm install --save-exact ${ENGINE_PACKAGE}@${ENGINE_PACKAGE_VERSION}`,
        });
      }
      // Compiled off the main thread, while openWasmEngine connects to the database.
      compiled = { module: await WebAssembly.compile(readFileSync(join(dir, 'schema_engine_bg.wasm'))), bgPath };
    }
    panicRegistry();
    const url = pathToFileURL(compiled.bgPath).href + (generation > 0 ? `?instance=${generation}` : '');
    generation++;
    const bindings = (await import(url)) as EngineBindings;
    // The engine arms a 10 s timer (its advisory-lock timeout) on every lock and never clears it, which
    // kept a library caller's process alive for 10 s after close(): its timers are unref'd, so they
    // still fire while the process has work, but never hold it open.
    const imports: Record<string, unknown> = { ...(bindings as unknown as Record<string, unknown>) };
    for (const [key, fn] of Object.entries(imports)) {
      if (key.startsWith('__wbg_setTimeout_') && typeof fn === 'function') {
        imports[key] = (...args: unknown[]) => {
          const timer = (fn as (...a: unknown[]) => unknown)(...args) as { unref?: () => void };
          timer?.unref?.();
          return timer;
        };
      }
    }
    const instance = new WebAssembly.Instance(compiled.module, { './schema_engine_bg.js': imports as WebAssembly.ModuleImports });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return { bindings, poisoned: false };
  })();
  current = attempt;
  return attempt;
}

/** The schema option as files with display paths relative to the working directory (as Prisma prints them). */
function readSchema(schema: OpenEngineOptions['schema']): SchemaFile[] | undefined {
  if (schema === undefined) return undefined;
  return typeof schema === 'string' ? readSchemaFiles(schema) : [...schema];
}

/** The schema, checked (PostgreSQL datasource) and stripped of what the engine refuses. */
function prepare(files: readonly SchemaFile[]) {
  assertPostgresSchema(files);
  return prepareSchemaForEngine(files);
}

/** The migrations folder the way the Prisma CLI hands it to the engine (packages/migrate listMigrations). */
export function readMigrationList(migrationsDir: string, only?: readonly string[]): MigrationList {
  const baseDir = resolve(migrationsDir);
  const lockPath = join(baseDir, 'migration_lock.toml');
  const lockfile = { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null };
  const exists = existsSync(baseDir) && statSync(baseDir).isDirectory();
  const keep = only ? new Set(only) : undefined;
  const names = exists ? migrationDirectoryNames(baseDir, { hidden: true }).filter((name) => !keep || keep.has(name)) : [];
  return {
    baseDir,
    lockfile,
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => {
      let content: { tag: 'ok'; value: string } | { tag: 'error'; value: string };
      try {
        content = { tag: 'ok', value: readFileSync(join(baseDir, name, 'migration.sql'), 'utf8') };
      } catch (e) {
        content = { tag: 'error', value: (e as Error).message };
      }
      return { path: name, migrationFile: { path: 'migration.sql', content } };
    }),
  };
}

const MINIMAL_DATASOURCE: SchemaFile = { path: 'schema.prisma', content: 'datasource db {\n  provider = "postgresql"\n}\n' };

export async function openWasmEngine(options: OpenEngineOptions): Promise<SchemaEngine> {
  const label = options.label ?? labelOf(options.url);
  const prepared = (() => {
    const files = readSchema(options.schema);
    return files ? prepare(files) : undefined;
  })();
  // Loading the engine and connecting overlap: start-up is the longer of the two, not their sum.
  const [loadedOutcome, connectionOutcome] = await Promise.allSettled([
    loadEngineModule(),
    openEngineConnection(options.url, { label, shadowDatabaseUrl: options.shadowDatabaseUrl, env: options.env, readOnly: options.readOnly }),
  ]);
  if (loadedOutcome.status === 'rejected' || connectionOutcome.status === 'rejected') {
    if (connectionOutcome.status === 'fulfilled') await connectionOutcome.value.end().catch(() => {});
    throw loadedOutcome.status === 'rejected' ? loadedOutcome.reason : (connectionOutcome as PromiseRejectedResult).reason;
  }
  const loaded = loadedOutcome.value;
  const connection = connectionOutcome.value;
  const registry = panicRegistry();
  let jsErrors: ErrorRegistry | undefined;
  try {
    const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
    const adapter = bindMigrationAwareSqlAdapterFactory(connection.factory);
    jsErrors = adapter.errorRegistry;
    const progress: Progress = {};
    const engine = await loaded.bindings.SchemaEngine.new(
      { datamodels: prepared ? prepared.files.map((f) => [f.path, f.content] as [string, string]) : undefined },
      (line: string) => {
        trackProgress(progress, line);
        options.onLog?.(line);
      },
      adapter,
    );
    return new WasmSchemaEngine(loaded, engine, connection, adapter.errorRegistry, registry, progress, options, label, prepared?.files, prepared?.stripped ?? []);
  } catch (e) {
    if (isWasmPanic(e)) loaded.poisoned = true;
    await connection.end().catch(() => {});
    throw engineError(jsErrors ? withJsCause(e, jsErrors) : e, { operation: 'start', label, env: options.env, panicMessage: registry.get?.() });
  }
}

/**
 * A JavaScript error inside the adapter (pg threw something that is not a database error) reaches
 * us only as "External error id#N"; the error itself waits in the adapter's registry under N.
 * Put its message in place of the id, and keep the original as the cause.
 */
function withJsCause(e: unknown, registry: ErrorRegistry): unknown {
  const err = e as { message?: string; code?: string; name?: string };
  const id = /External error id#(\d+)/.exec(err?.message ?? '')?.[1];
  if (id === undefined) return e;
  const original = registry.consumeError(Number(id))?.error;
  if (original === undefined) return e;
  // Our own adapter code already said what went wrong (e.g. no CREATEDB for the shadow database).
  if (original instanceof StagedbError) return original;
  const text = original instanceof Error ? original.message : String(original);
  const out = new Error(err.message!.replace(`External error id#${id}`, text), { cause: original }) as Error & { code?: string };
  out.name = err.name ?? 'Error';
  if (err.code) out.code = err.code;
  return out;
}

/** What the engine's log says it is doing: its errors do not name the migration that failed, its log does. */
interface Progress {
  applying?: string;
}

function trackProgress(progress: Progress, line: string): void {
  if (!line.includes('Applying `')) return;
  try {
    const event = JSON.parse(line) as { fields?: { message?: string } };
    const name = /^Applying `(.+)`$/.exec(event.fields?.message ?? '')?.[1];
    if (name) progress.applying = name;
  } catch {
    /* not JSON: not a progress line */
  }
}

/** PostgreSQL's 25006, "cannot execute … in a read-only transaction", as it reaches us through the engine. */
function isReadOnlyRefusal(e: unknown, registry: ErrorRegistry): boolean {
  const err = withJsCause(e, registry) as { message?: string; cause?: { code?: string } };
  return err?.cause?.code === '25006' || /read-only transaction/.test(err?.message ?? '');
}

/**
 * A Rust panic inside an async engine call does not reject the call. wasm-bindgen polls the Rust
 * future from a promise callback; the trap is thrown there, as an uncaught exception, and the call's
 * promise never settles (measured: a describer panic left migrate dev hanging until the test's
 * timeout). So while engine calls run, an uncaught WebAssembly RuntimeError rejects them instead.
 * Node's capture callback is used when free (then nobody else sees the trap, e.g. a test runner's
 * handler); otherwise a listener. Anything that is not a trap is thrown again as it would have been.
 */
const activeTraps = new Set<(e: unknown) => void>();
let installed: 'capture' | 'listener' | undefined;

function onUncaught(e: unknown): void {
  if (isWasmPanic(e) && activeTraps.size > 0) {
    for (const reject of activeTraps) reject(e);
    return;
  }
  const mode = installed;
  uninstallTrap();
  // Not ours: let it take its normal course (other listeners, or the process's crash).
  if (mode === 'capture' || process.listenerCount('uncaughtException') === 0) {
    process.nextTick(() => {
      throw e;
    });
  }
}

function uninstallTrap(): void {
  if (installed === 'capture') process.setUncaughtExceptionCaptureCallback(null);
  if (installed === 'listener') process.removeListener('uncaughtException', onUncaught);
  installed = undefined;
}

function trapAsyncPanics(): { panicked: Promise<never>; release(): void } {
  let reject!: (e: unknown) => void;
  const panicked = new Promise<never>((_, r) => {
    reject = r;
  });
  panicked.catch(() => {});
  activeTraps.add(reject);
  if (!installed) {
    if (process.hasUncaughtExceptionCaptureCallback()) {
      process.on('uncaughtException', onUncaught);
      installed = 'listener';
    } else {
      process.setUncaughtExceptionCaptureCallback(onUncaught);
      installed = 'capture';
    }
  }
  return {
    panicked,
    release() {
      activeTraps.delete(reject);
      if (activeTraps.size === 0) uninstallTrap();
    },
  };
}

function labelOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'database';
  }
}

export class WasmSchemaEngine implements SchemaEngine {
  readonly engineVersion: string;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly loaded: LoadedEngineModule,
    private engine: WasmEngine | undefined,
    private readonly connection: EngineConnection,
    private readonly jsErrors: ErrorRegistry,
    private readonly registry: PanicRegistry,
    private readonly progress: Progress,
    private readonly options: OpenEngineOptions,
    private readonly label: string,
    private readonly preparedSchema: SchemaFile[] | undefined,
    readonly stripped: readonly StrippedSetting[],
  ) {
    this.engineVersion = loaded.bindings.version();
  }

  /** One call at a time (the engine object is not re-entrant); every failure becomes a StagedbError. */
  private run<T>(operation: string, call: (engine: WasmEngine) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      const engine = this.engine;
      if (this.closed || !engine) {
        throw new StagedbError('internal', 'E_ENGINE_CLOSED', `${this.label}: the schema engine was ${this.closed ? 'closed' : 'discarded after a crash'} before ${operation}`);
      }
      if ('lastPanic' in this.registry) this.registry.lastPanic = undefined;
      const trap = trapAsyncPanics();
      try {
        // Prisma's own switch for exercising crash handling: every call panics instead.
        if (process.env.FORCE_PANIC_SCHEMA_ENGINE) engine.debugPanic();
        return await Promise.race([call(engine), trap.panicked]);
      } catch (e) {
        if (isWasmPanic(e)) this.discard();
        throw engineError(withJsCause(e, this.jsErrors), {
          operation,
          label: this.label,
          env: this.options.env,
          panicMessage: this.registry.get?.(),
          migration: operation === 'applyMigrations' ? this.progress.applying : undefined,
        });
      } finally {
        trap.release();
      }
    });
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * After a trap the instance must never be entered again, not even by `free()` or by the garbage
   * collector's finalizer (both would throw an uncatchable error later). Detach the handle in JS only
   * and mark the module so the next `openEngine` instantiates a new one.
   */
  private discard(): void {
    this.loaded.poisoned = true;
    const engine = this.engine as unknown as { __destroy_into_raw?: () => number } | undefined;
    engine?.__destroy_into_raw?.();
    this.engine = undefined;
  }

  private migrations(operation: string, dir?: string, only?: readonly string[]): MigrationList {
    const folder = dir ?? this.options.migrationsDir;
    if (!folder) {
      throw new StagedbError('internal', 'E_ENGINE_USAGE', `${this.label}: ${operation} needs the migrations folder, but the engine was opened without migrationsDir`);
    }
    return readMigrationList(folder, only);
  }

  private schema(operation: string, files?: readonly SchemaFile[]): SchemaFile[] {
    if (files) return prepare(files).files;
    if (!this.preparedSchema) {
      throw new StagedbError('internal', 'E_ENGINE_USAGE', `${this.label}: ${operation} needs the Prisma schema, but the engine was opened without one`);
    }
    return this.preparedSchema;
  }

  private target(source: DiffSource, operation: string): DiffTarget {
    switch (source.kind) {
      case 'empty':
        return { tag: 'empty' };
      case 'schema':
        return { tag: 'schemaDatamodel', files: this.schema(operation, source.files) };
      case 'database': {
        // The connection comes from the adapter; the files only contribute the datasource's settings
        // (provider, schemas, extensions). A `{ tag: 'url' }` target is refused by this engine.
        const files = this.preparedSchema ?? [MINIMAL_DATASOURCE];
        const configDir = typeof this.options.schema === 'string' ? dirOf(this.options.schema) : process.cwd();
        return { tag: 'schemaDatasource', files, configDir };
      }
      case 'migrations': {
        const list = this.migrations(operation, source.dir, source.only);
        // The engine takes the provider of a migrations side from its lock file and refuses a folder
        // without one; a folder stagedb compares is PostgreSQL by definition (local.ts refuses others).
        if (list.lockfile.content === null) list.lockfile = { ...list.lockfile, content: migrationLockToml() };
        return { tag: 'migrations', ...list };
      }
    }
  }

  applyMigrations(): Promise<{ applied: string[] }> {
    return this.run('applyMigrations', async (e) => {
      this.progress.applying = undefined;
      const out = await e.applyMigrations({ migrationsList: this.migrations('applyMigrations'), filters: NO_FILTER });
      return { applied: out.appliedMigrationNames };
    });
  }

  async diagnoseMigrationHistory(options: { drift?: boolean } = {}): Promise<HistoryDiagnosis> {
    const out = await this.run('diagnoseMigrationHistory', (e) =>
      e.diagnoseMigrationHistory({ migrationsList: this.migrations('diagnoseMigrationHistory'), optInToShadowDatabase: false, filters: NO_FILTER }),
    );
    const h = out.history;
    const diagnosis: HistoryDiagnosis = {
      hasMigrationsTable: out.hasMigrationsTable,
      failed: out.failedMigrationNames,
      edited: out.editedMigrationNames,
      unapplied: h && 'unappliedMigrationNames' in h ? h.unappliedMigrationNames : [],
      unpersisted: h && 'unpersistedMigrationNames' in h ? h.unpersistedMigrationNames : [],
      ...(h?.diagnostic === 'historiesDiverge' ? { lastCommon: h.lastCommonMigrationName } : {}),
      upToDate: false,
    };
    if (options.drift) {
      const d = await this.diff({ kind: 'migrations' }, { kind: 'database' });
      diagnosis.drift = d.empty ? '' : d.script;
    }
    diagnosis.upToDate =
      diagnosis.failed.length + diagnosis.edited.length + diagnosis.unapplied.length + diagnosis.unpersisted.length === 0 && !diagnosis.drift;
    return diagnosis;
  }

  createMigration(options: { name: string; draft?: boolean; schema?: readonly SchemaFile[] }): Promise<CreatedMigration> {
    return this.run('createMigration', async (e) => {
      const list = () => this.migrations('createMigration');
      // Prisma's `migrate dev` order, and the only one this engine supports: its createMigration cannot
      // open a shadow database ("PostgreSQL shadow DB must be provided through an external factory");
      // it reads the history's schema from a cache keyed by the migrations applied to the database,
      // which devDiagnostic fills by replaying them on a shadow database from the adapter factory.
      // So: diagnose, apply what is pending, diagnose again (measured: needed after an apply), create.
      const diagnose = async () => {
        const { action } = await e.devDiagnostic({ migrationsList: list(), filters: NO_FILTER });
        if (action.tag === 'reset') {
          throw new StagedbError('history', 'E_DEV_DATABASE_RESET_NEEDED', `${this.label}: the development database does not match the migrations folder, so a new migration cannot be generated from it`, {
            details: action.reason.trim().split('\n'),
            fix: 'reset the development database (it holds only development data): stagedb migrate reset, then retry',
          });
        }
      };
      await diagnose();
      const { appliedMigrationNames } = await e.applyMigrations({ migrationsList: list(), filters: NO_FILTER });
      if (appliedMigrationNames.length > 0) await diagnose();
      const out = await e.createMigration({
        draft: options.draft ?? false,
        migrationName: options.name,
        migrationsList: list(),
        schema: { files: this.schema('createMigration', options.schema) },
        filters: NO_FILTER,
      });
      return {
        appliedFirst: appliedMigrationNames,
        ...(out.migrationScript === null ? {} : { migration: { directoryName: out.generatedMigrationName, script: out.migrationScript } }),
      };
    });
  }

  markMigrationApplied(name: string): Promise<void> {
    return this.run('markMigrationApplied', async (e) => {
      await e.markMigrationApplied({ migrationName: name, migrationsList: this.migrations('markMigrationApplied') });
    });
  }

  markMigrationRolledBack(name: string): Promise<void> {
    return this.run('markMigrationRolledBack', async (e) => {
      await e.markMigrationRolledBack({ migrationName: name });
    });
  }

  diff(from: DiffSource, to: DiffSource): Promise<DiffResult> {
    return this.run('diff', async (e) => {
      const out = await e.diff({ from: this.target(from, 'diff'), to: this.target(to, 'diff'), script: true, exitCode: true, filters: NO_FILTER });
      return { script: out.stdout ?? '', empty: out.exitCode === 0 };
    });
  }

  push(options: { force: boolean; schema?: readonly SchemaFile[] }): Promise<PushOutcome> {
    return this.run('schemaPush', async (e) => {
      try {
        const out = await e.schemaPush({ force: options.force, schema: { files: this.schema('schemaPush', options.schema) }, filters: NO_FILTER });
        return { executedSteps: out.executedSteps, warnings: out.warnings, unexecutable: out.unexecutable };
      } catch (err) {
        // A dry run: the engine checked, found nothing to warn about, and began to apply (schema_push.rs
        // applies only when there are no warnings and no unexecutable steps, or with force).
        if (this.options.readOnly && isReadOnlyRefusal(err, this.jsErrors)) return { executedSteps: 0, warnings: [], unexecutable: [] };
        throw err;
      }
    });
  }

  checkDevDatabase(): Promise<DevDatabaseCheck> {
    return this.run('devDiagnostic', async (e) => {
      const { action } = await e.devDiagnostic({ migrationsList: this.migrations('devDiagnostic'), filters: NO_FILTER });
      return action.tag === 'reset' ? { resetNeeded: true, reason: action.reason } : { resetNeeded: false };
    });
  }

  evaluateDataLoss(options: { schema?: readonly SchemaFile[] } = {}): Promise<DataLossEvaluation> {
    return this.run('evaluateDataLoss', (e) =>
      this.withHistorySchema(e, async () => {
        const out = await e.evaluateDataLoss({ migrationsList: this.migrations('evaluateDataLoss'), schema: { files: this.schema('evaluateDataLoss', options.schema) }, filters: NO_FILTER });
        return { steps: out.migrationSteps, warnings: out.warnings.map((w) => w.message), unexecutable: out.unexecutableSteps.map((u) => u.message) };
      }),
    );
  }

  generateMigration(options: { name: string; draft?: boolean; schema?: readonly SchemaFile[] }): Promise<GeneratedMigration | undefined> {
    return this.run('createMigration', (e) =>
      this.withHistorySchema(e, async () => {
        const out = await e.createMigration({
          draft: options.draft ?? false,
          migrationName: options.name,
          migrationsList: this.migrations('createMigration'),
          schema: { files: this.schema('createMigration', options.schema) },
          filters: NO_FILTER,
        });
        return out.migrationScript === null ? undefined : { directoryName: out.generatedMigrationName, script: out.migrationScript };
      }),
    );
  }

  /**
   * createMigration and evaluateDataLoss cannot open a shadow database in this engine ("PostgreSQL
   * shadow DB must be provided through an external factory"): they read the history's schema from a
   * cache keyed by the migrations list, which devDiagnostic fills (replaying the history on a shadow
   * database from the adapter factory) when every migration is applied. So: try; on that error,
   * run devDiagnostic once and retry. A database that needs a reset never fills it: say so.
   */
  private async withHistorySchema<T>(e: WasmEngine, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (first) {
      if (!/shadow DB must be provided through an external factory/.test((first as Error)?.message ?? '')) throw first;
      const { action } = await e.devDiagnostic({ migrationsList: this.migrations('devDiagnostic'), filters: NO_FILTER });
      if (action.tag === 'reset') {
        throw new StagedbError('history', 'E_DEV_DATABASE_RESET_NEEDED', `${this.label}: the development database does not match the migrations folder, so a new migration cannot be generated from it`, {
          details: action.reason.trim().split('\n'),
          fix: 'reset the development database (it holds only development data): stagedb migrate reset, then retry',
        });
      }
      try {
        return await call();
      } catch (again) {
        if (!/shadow DB must be provided through an external factory/.test((again as Error)?.message ?? '')) throw again;
        throw new StagedbError('internal', 'E_ENGINE_USAGE', `${this.label}: the schema engine can generate a migration only when every migration of the folder is applied to the database: apply the pending ones first`, { cause: again });
      }
    }
  }

  /** Makes the engine panic (its own test hook), to exercise crash handling. Not part of SchemaEngine. */
  debugPanic(): Promise<never> {
    return this.run('debugPanic', async (e) => {
      e.debugPanic();
      throw new StagedbError('internal', 'E_ENGINE', `${this.label}: debugPanic returned without panicking`);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    try {
      this.engine?.free();
    } finally {
      this.engine = undefined;
      await this.connection.end().catch(() => {});
    }
  }
}

function dirOf(schemaPath: string): string {
  return existsSync(schemaPath) && statSync(schemaPath).isDirectory() ? schemaPath : dirname(schemaPath);
}
