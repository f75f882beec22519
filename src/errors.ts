/**
 * The small set of typed errors stagedb raises. The CLI maps each kind to a documented exit code
 * (see `exitCodeFor` and the README); the library never exits or prints.
 *
 * Every error carries one line that says what happened and, where one exists, the exact command
 * that fixes it (`fix`). Messages pass through `redact` when they are rendered, never before, so a
 * library caller still gets the original text of a driver error in `cause`.
 */
export type ErrorKind =
  | 'usage' // bad flags or arguments
  | 'config' // config file, environment selection, env vars, URLs
  | 'connection' // cannot reach or authenticate to the database
  | 'history' // migrations folder or _prisma_migrations in a state that blocks the operation
  | 'migration' // a migration failed while being applied
  | 'backup' // a backup, verification or restore failed (pg_dump/pg_restore, checksum, storage, disk full)
  | 'guard' // refused by a protection rule
  | 'aborted' // the user said no
  | 'internal'; // a bug in stagedb

export class StagedbError extends Error {
  readonly kind: ErrorKind;
  /** A stable code such as `E_ENV_UNKNOWN`, for scripts and tests. */
  readonly code: string;
  /** The exact command (or action) that fixes the problem, when there is one. */
  readonly fix?: string;
  /** Extra lines shown under the message (e.g. every config problem). */
  readonly details: string[];

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    options: { fix?: string; details?: string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StagedbError';
    this.kind = kind;
    this.code = code;
    this.fix = options.fix;
    this.details = options.details ?? [];
  }
}

export const usageError = (code: string, message: string, fix?: string) =>
  new StagedbError('usage', code, message, { fix });

export const configError = (code: string, message: string, opts: { fix?: string; details?: string[] } = {}) =>
  new StagedbError('config', code, message, opts);
