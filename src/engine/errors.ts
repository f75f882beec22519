import { StagedbError, type ErrorKind } from '../errors.js';
import { shellQuote } from '../shell-quote.js';

/** What the engine throws: `SchemaConnectorError` (with a Prisma `code` when it has one), or a `RuntimeError` for a Rust panic. */
interface EngineThrown {
  name?: string;
  message?: string;
  code?: string;
}

/** Where an engine call came from, for the message and the fix. */
export interface EngineCallContext {
  /** The engine method, e.g. `applyMigrations`. */
  operation: string;
  /** Shown at the start of the message, e.g. the environment name. */
  label: string;
  /** The environment, for the `--env` of a suggested command. */
  env?: string;
  /** For panics: the message the engine's panic hook left (see the loader). */
  panicMessage?: string;
  /** The migration the engine was applying when it failed (from its log). */
  migration?: string;
}

/** True for a WebAssembly trap: a Rust panic inside the engine. The instance is unusable afterwards. */
export function isWasmPanic(e: unknown): boolean {
  return (e as EngineThrown | undefined)?.name === 'RuntimeError';
}

/**
 * The engine's message without its Rust span trace ("   0: sql_schema_connector::… at …rs:113"),
 * which says where in the engine, not what to do. The full text stays in `cause`.
 */
export function userFacingLines(message: string): string[] {
  const lines = message.replace(/\r\n/g, '\n').split('\n');
  const trace = lines.findIndex((l) => /^\s+\d+: [\w:]+/.test(l));
  return (trace < 0 ? lines : lines.slice(0, trace)).map((l) => l.trimEnd()).filter((l, i, all) => l !== '' || (i > 0 && all[i - 1] !== ''));
}

/** Prisma error codes the engine raises, mapped to stagedb's own codes where stagedb has the same check. */
const KNOWN: Record<string, { kind: ErrorKind; code: string }> = {
  P1000: { kind: 'connection', code: 'E_AUTH' },
  P1001: { kind: 'connection', code: 'E_CONN_REFUSED' },
  P1002: { kind: 'guard', code: 'E_LOCKED' },
  P1003: { kind: 'connection', code: 'E_DB_MISSING' },
  P1012: { kind: 'config', code: 'E_SCHEMA_INVALID' },
  P3005: { kind: 'history', code: 'E_NOT_BASELINED' },
  P3006: { kind: 'migration', code: 'E_MIGRATION_FAILED' },
  P3008: { kind: 'history', code: 'E_ALREADY_APPLIED' },
  P3009: { kind: 'history', code: 'E_FAILED_MIGRATION' },
  P3011: { kind: 'history', code: 'E_NEVER_APPLIED' },
  P3012: { kind: 'history', code: 'E_NOT_FAILED' },
  P3017: { kind: 'usage', code: 'E_MIGRATION_UNKNOWN' },
  P3018: { kind: 'migration', code: 'E_MIGRATION_FAILED' },
};

/** Turns anything the engine threw into a StagedbError that names the operation and says what to do. */
export function engineError(e: unknown, ctx: EngineCallContext): StagedbError {
  if (e instanceof StagedbError) return e;
  const err = (e ?? {}) as EngineThrown;
  const envFlag = ctx.env ? ` --env ${ctx.env}` : '';
  if (isWasmPanic(e)) {
    const panic = userFacingLines((ctx.panicMessage || err.message || 'unknown panic').replace(/^RuntimeError: /, '')).join(' ');
    // Some panics quote a whole result row: the headline stays one readable line, the rest goes below.
    const long = panic.length > 300;
    return new StagedbError('internal', 'E_ENGINE_PANIC', `${ctx.label}: Prisma's schema engine crashed (a Rust panic) during ${ctx.operation}: ${long ? `${panic.slice(0, 300)}…` : panic}`, {
      details: ['the engine instance was discarded; the next call loads a fresh one', ...(long ? [`the whole panic message: ${panic}`] : [])],
      fix: 'this is a bug in the schema engine or in how stagedb calls it: report it with the message above (https://github.com/prisma/prisma/issues), then retry',
      cause: e,
    });
  }
  const lines = userFacingLines(err.message ?? String(e));
  const headline = (lines[0] ?? 'unknown error').replace(/^error: /, '');
  const details = lines.slice(1).filter((l) => l.trim() !== '');
  const known = err.code ? KNOWN[err.code] : undefined;
  const prismaCode = err.code ? ` (Prisma ${err.code})` : '';
  if (known) {
    // P3009 in stagedb's words (as its own deploy says it), with the migration Prisma names below its headline.
    const failed = err.code === 'P3009' ? details.map((l) => /^The `([^`]+)` migration started at (.+) failed$/.exec(l.trim())).find(Boolean) : undefined;
    // P1012 lists every schema error as "error: <what>" followed by "-->  file:line" and the lines
    // around it; the first is the headline, the others stay in the details as the engine wrote them.
    const more = err.code === 'P1012' ? details.filter((l) => l.startsWith('error: ')).length : 0;
    const message = failed
      ? `${ctx.label}: migration ${failed[1]} failed (started ${failed[2]}) and blocks new deploys${prismaCode}`
      : `${ctx.label}: ${headline}${more > 0 ? ` (and ${more} more schema error${more > 1 ? 's' : ''}, below)` : ''}${prismaCode}`;
    if (err.code === 'P3006') {
      // A migration of the folder fails on an empty database: the file is broken, not the database.
      const name = /Migration `([^`]+)` failed to apply cleanly/.exec(headline)?.[1] ?? '<name>';
      return new StagedbError(known.kind, known.code, message, {
        details: details.filter((l) => !/^(Error:|external connector error)$/.test(l.trim())),
        fix: `fix ${name}/migration.sql: it fails even on an empty database (the shadow database), so resetting yours would not help; then run the command again`,
        cause: e,
      });
    }
    return new StagedbError(known.kind, known.code, message, { details: failed ? [] : details, fix: fixFor(known.code, details, envFlag), cause: e });
  }
  if (ctx.operation === 'schemaPush' && !err.code) {
    // A statement of the push failed on the data (e.g. an enum value still in use): the engine applies
    // a push step by step, each on its own, so the steps before it stay applied.
    const reason = lines.filter((l) => l.trim() !== '' && l !== 'external connector error').join(': ').replace(/^ERROR: /, '');
    return new StagedbError('migration', 'E_PUSH_FAILED', `${ctx.label}: the push failed: ${reason}`, {
      details: ['the schema engine applies a push step by step: the steps before the failing one were applied'],
      fix: `change the data the failing step trips on (or schema.prisma), then push again (stagedb push${envFlag} shows what is left)`,
      cause: e,
    });
  }
  if (ctx.operation === 'applyMigrations') {
    // The engine reports a failed migration script as a bare connector error, without a code, and
    // commits the statements before the failing one (it runs them one by one).
    const what = ctx.migration ? `migration ${ctx.migration}` : 'a migration';
    const reason = lines.filter((l) => l.trim() !== '' && l !== 'external connector error').join(': ');
    return new StagedbError('migration', 'E_MIGRATION_FAILED', `${ctx.label}: ${what} failed while the schema engine applied it: ${reason}`, {
      details: ['committed: the schema engine runs a migration statement by statement, so the statements before the failing one were committed'],
      fix: `undo those statements and fix migration.sql, then: stagedb migrate resolve --rolled-back ${ctx.migration ? shellQuote(ctx.migration) : '<name>'}${envFlag}   (or, if you complete it by hand: stagedb migrate resolve --applied ${ctx.migration ? shellQuote(ctx.migration) : '<name>'}${envFlag})`,
      cause: e,
    });
  }
  return new StagedbError('internal', err.code ? `E_PRISMA_${err.code}` : 'E_ENGINE', `${ctx.label}: the schema engine's ${ctx.operation} failed: ${headline}${prismaCode}`, {
    details,
    fix: err.code ? `look up ${err.code} in https://www.prisma.io/docs/orm/reference/error-reference` : undefined,
    cause: e,
  });
}

function fixFor(code: string, details: string[], envFlag: string): string | undefined {
  const failed = details.map((l) => /The `([^`]+)` migration started at .* failed/.exec(l)?.[1]).find(Boolean);
  switch (code) {
    case 'E_SCHEMA_INVALID':
      return 'fix the schema where shown (stagedb already removed the datasource url/directUrl and the preview features this engine does not know)';
    case 'E_FAILED_MIGRATION':
      return `after undoing its partial changes and fixing the file: stagedb migrate resolve --rolled-back ${failed ? shellQuote(failed) : '<name>'}${envFlag}; if you finished it by hand instead: stagedb migrate resolve --applied ${failed ? shellQuote(failed) : '<name>'}${envFlag}`;
    case 'E_NOT_BASELINED':
      return `baseline it: stagedb migrate resolve --applied <first-migration>${envFlag}   (for each migration already reflected in the database), then deploy again`;
    case 'E_LOCKED':
      return 'another migration run holds Prisma\'s advisory lock (72707369): wait for it to finish and retry';
    case 'E_ALREADY_APPLIED':
    case 'E_NEVER_APPLIED':
    case 'E_NOT_FAILED':
      return `see the history: stagedb status${envFlag}`;
    case 'E_MIGRATION_UNKNOWN':
      return 'use a directory name from the migrations folder';
    default:
      return undefined;
  }
}
