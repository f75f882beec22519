import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError, usageError } from '../errors.js';
import { readLocalHistory } from '../history/local.js';
import { connect } from '../pg/connect.js';
import { execCapture } from '../pg/exec.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { corrupt } from './errors.js';
import { fetchArchive, type FetchedArchive } from './fetch.js';
import { toolConnection } from './libpq.js';
import { CUSTOM_FILE, DIRECTORY_NAME, type BackupManifest } from './manifest.js';
import { TableProgress, eta, feedVerbose, type Progress } from './progress.js';
import { runTool } from './run-tool.js';
import { copyProgress, readHistory } from './source.js';
import type { BackupStorage } from './storage.js';
import { probeTools, type FindToolOptions, type PgToolInfo } from './tools.js';

/** The schema of stagedb's audit trail: a target keeps its own (see `applyRestore`). */
const AUDIT_SCHEMA = 'stagedb';

export interface PrepareRestoreOptions {
  storage: BackupStorage;
  manifest: BackupManifest;
  /** The project's migrations folder: a backup whose history has migrations it does not know comes from another database. */
  migrationsDir?: string;
  /** Restore even so. */
  allowForeign?: boolean;
  /** Where an S3 backup is downloaded to (default the OS temp directory). */
  workDir?: string;
  processEnv?: NodeJS.ProcessEnv;
  toolSearch?: FindToolOptions['searchDirs'];
  onProgress?: (p: Progress) => void;
}

/** A backup checked and ready to restore: nothing has touched the target yet. */
export interface PreparedRestore {
  manifest: BackupManifest;
  archive: FetchedArchive;
  pgRestore: PgToolInfo;
  /** `pg_restore --list` of the archive. */
  toc: string[];
  cleanup(): Promise<void>;
}

/**
 * Everything that can be checked before the target is touched: the backup's files against its
 * manifest (size, sha256), its table of contents with a pg_restore that can read it, and that it
 * belongs to this project. A corrupt, truncated or foreign backup is refused here.
 */
export async function prepareRestore(o: PrepareRestoreOptions): Promise<PreparedRestore> {
  const m = o.manifest;
  if (!o.allowForeign && o.migrationsDir && existsSync(o.migrationsDir)) {
    const local = new Set(readLocalHistory(o.migrationsDir).migrations.map((x) => x.name));
    const unknown = m.migrations.applied.map((x) => x.name).filter((n) => !local.has(n));
    if (unknown.length > 0) {
      throw new StagedbError(
        'guard',
        'E_BACKUP_FOREIGN',
        `backup ${m.id} comes from another database: its history has ${unknown.length} migration${unknown.length === 1 ? '' : 's'} this project does not know (${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''})`,
        { fix: 'check that you picked the right backup (stagedb backup list); if it is right, restore it anyway with --allow-foreign' },
      );
    }
  }
  const major = Math.floor(Number(m.pgDump.version.split('.')[0]));
  // Finding pg_restore and reading the table of contents (a few processes) overlap with hashing the
  // archive; a local archive is read in place, so its table of contents can be read at once. The
  // table of contents is only used once every checksum has matched.
  const toolP = probeTools('pg_restore', { env: o.processEnv, searchDirs: o.toolSearch })(major, `backup ${m.id}`);
  const inPlace = o.storage.localPath(m.id, m.dump.format === 'custom' ? CUSTOM_FILE : DIRECTORY_NAME);
  const earlyToc = inPlace ? toolP.then((t) => listToc(t, inPlace)) : undefined;
  earlyToc?.catch(() => {});
  const [tool, fetched] = await Promise.allSettled([toolP, fetchArchive(o.storage, m, { workDir: o.workDir, onProgress: o.onProgress })]);
  if (fetched.status === 'rejected') throw fetched.reason;
  const archive = fetched.value;
  try {
    if (tool.status === 'rejected') throw tool.reason;
    const pgRestore = tool.value;
    if (archive.problems.length > 0) throw corrupt(m.id, archive.problems.join('; '));
    const toc = await (earlyToc ?? listToc(pgRestore, archive.path));
    if (!toc.ok) throw corrupt(m.id, `pg_restore cannot read its table of contents: ${toc.error}`);
    return { manifest: m, archive, pgRestore, toc: toc.lines, cleanup: () => archive.cleanup() };
  } catch (e) {
    await archive.cleanup();
    throw e;
  }
}

export async function listToc(pgRestore: PgToolInfo, archive: string): Promise<{ ok: true; lines: string[] } | { ok: false; error: string }> {
  const r = await execCapture(pgRestore.path, ['--list', archive], { env: { ...process.env, LC_ALL: 'C' }, timeoutMs: 300_000 });
  if (r.code !== 0) return { ok: false, error: r.stderr.trim().split('\n').slice(0, 3).join(' ') || `exit ${r.code}` };
  return { ok: true, lines: r.stdout.split('\n') };
}

/** The schemas the archive creates (`SCHEMA - name owner` entries). */
export function tocSchemas(toc: string[]): string[] {
  const out: string[] = [];
  for (const line of toc) {
    const m = /^\d+; \d+ \d+ SCHEMA - (\S+) /.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** The list with every entry of one schema commented out (pg_restore -L skips `;` lines). */
export function withoutSchema(toc: string[], schema: string): string[] {
  const entry = new RegExp(`^\\d+; \\d+ \\d+ (?:[A-Z]+ )+(?:- (?:SCHEMA )?)?${schema.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `);
  return toc.map((l) => (entry.test(l) ? `;${l}` : l));
}

export interface RestoreEvent {
  type: 'cleared' | 'warning' | 'restored';
  message: string;
}

export interface ApplyRestoreOptions {
  /** pg_restore -j (default: the CPU count, at most 4; 1 for a backup of little data). */
  jobs?: number;
  /**
   * A connection to the target to use (the caller's, e.g. the guard's, which has already logged in:
   * a login is much of a small restore's cost); left open. Default: one is opened here, and closed.
   */
  client?: Client;
  /** Restore GRANTs too (default: not: roles usually differ between environments). */
  withPrivileges?: boolean;
  /** The project's migrations folder, to say what is pending after the restore. */
  migrationsDir?: string;
  processEnv?: NodeJS.ProcessEnv;
  onEvent?: (e: RestoreEvent) => void;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
}

export interface RestoreResult {
  id: string;
  from: string;
  to: string;
  database: string;
  durationMs: number;
  jobs: number;
  tables: number;
  /** The restored `_prisma_migrations`: as many as the manifest lists, the newest last. */
  migrations: { applied: number; last?: string };
  /** Migrations in the project's folder the restored database has not applied: `deploy` applies them. */
  pending: string[];
  /** The target's own audit trail (schema stagedb) was kept rather than replaced by the backup's. */
  keptAuditTrail: boolean;
  warnings: string[];
}

/**
 * Replaces the target database's contents with the backup: the schemas the backup holds (and
 * `public`) are dropped and re-created in one transaction, large objects removed, then pg_restore
 * runs with parallel jobs. The target's own audit trail and protection marker stay the target's.
 * Afterwards the restored `_prisma_migrations` must list exactly the manifest's migrations.
 *
 * Not atomic: a pg_restore that fails midway (a missing extension, a full disk on the server) leaves
 * the target partly restored, and the error says so and how to run it again.
 */
export async function applyRestore(p: PreparedRestore, target: ResolvedEnvironment, o: ApplyRestoreOptions = {}): Promise<RestoreResult> {
  const m = p.manifest;
  const t0 = Date.now();
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    o.onEvent?.({ type: 'warning', message });
  };
  const jobs = checkedJobs(o.jobs, m);
  const client = o.client ?? (await connect(target.directUrl, { label: `${target.name} (${target.directSource})`, purpose: 'restore' }));
  let listFile: string | undefined;
  try {
    // One round trip for everything the clearing needs to know.
    const info = (await client.query<TargetInfo>(
      `SELECT current_setting('server_version_num') AS vn, current_database() AS db, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS audit,
              ARRAY(SELECT nspname::text FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%') AS existing,
              (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public') AS public_owner,
              (SELECT coalesce(json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, 'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
                 FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' AND a.grantee <> n.nspowner) AS public_grants`,
      [AUDIT_SCHEMA],
    )).rows[0]!;
    if (Number(info.vn) < Math.floor(m.server.versionNum / 10000) * 10000) {
      warn(`${target.name} runs PostgreSQL ${Math.floor(Number(info.vn) / 10000)}, older than the backup's ${m.server.version}: statements a newer server wrote may fail`);
    }
    // The target's audit trail stays: its history is the target's. A target without one (a new
    // database after a disaster) gets the backup's.
    const keptAuditTrail = info.audit;
    const toc = keptAuditTrail && tocSchemas(p.toc).includes(AUDIT_SCHEMA) ? withoutSchema(p.toc, AUDIT_SCHEMA) : p.toc;
    listFile = join(tmpdir(), `stagedb-restore-${process.pid}-${Date.now()}.list`);
    await writeFile(listFile, toc.join('\n'), { mode: 0o600 });

    await clearTarget(client, target, info, tocSchemas(toc).filter((s) => s !== AUDIT_SCHEMA || !keptAuditTrail), warn);
    o.onEvent?.({ type: 'cleared', message: `${target.name}: cleared ${info.db} for the restore` });

    const appName = `stagedb restore ${m.id}`.slice(0, 63);
    const r = await pgRestore({
      pgRestore: p.pgRestore,
      archive: p.archive.path,
      url: target.directUrl,
      appName,
      jobs,
      listFile,
      withPrivileges: o.withPrivileges ?? false,
      manifest: m,
      watch: client,
      processEnv: o.processEnv,
      onProgress: o.onProgress,
      progressIntervalMs: o.progressIntervalMs,
    });
    if (!r.ok) {
      const text = r.errors.join('\n');
      if (/No space left on device|could not extend file/i.test(text)) {
        throw new StagedbError('backup', 'E_RESTORE_DISK_FULL', `${target.name}: the database server ran out of disk space during the restore; ${info.db} is partly restored`, {
          details: r.errors,
          fix: `free space on the server (or grow the RDS volume), then run the same restore again: it clears ${target.name} first`,
        });
      }
      throw new StagedbError('backup', 'E_RESTORE_FAILED', `${target.name}: pg_restore failed${r.code === null ? '' : ` (exit ${r.code})`}; ${info.db} is partly restored`, {
        details: r.errors,
        fix: `fix what the lines above say (a missing role or extension, a full disk), then run the same restore again: it clears ${target.name} first`,
      });
    }

    // pg_restore's sessions commit asynchronously (see RESTORE_SETTINGS): one synchronous commit
    // here flushes the WAL up to it, and so every commit before it, before the restore is reported done.
    await client.query('BEGIN; SELECT txid_current(); COMMIT');
    // The restored history must be the manifest's, migration for migration.
    const history = await readHistory(client, target.directInfo.schema);
    const want = m.migrations.applied.map((x) => x.name);
    const got = history.applied.map((x) => x.name);
    const missing = want.filter((n) => !got.includes(n));
    const extra = got.filter((n) => !want.includes(n));
    if (missing.length > 0 || extra.length > 0) {
      throw new StagedbError('backup', 'E_RESTORE_HISTORY', `${target.name}: after the restore, _prisma_migrations does not match backup ${m.id}'s manifest`, {
        details: [...missing.map((n) => `missing: ${n}`), ...extra.map((n) => `not in the backup: ${n}`)],
        fix: `check the schema of ${target.name}'s URL (?schema=${target.directInfo.schema}) against the backup's (${m.database.schema}), then restore again`,
      });
    }
    let pending: string[] = [];
    if (o.migrationsDir && existsSync(o.migrationsDir)) {
      const applied = new Set(got);
      pending = readLocalHistory(o.migrationsDir).migrations.map((x) => x.name).filter((n) => !applied.has(n));
    }
    o.onEvent?.({ type: 'restored', message: `${target.name}: restored ${m.tables.length} tables` });
    return {
      id: m.id,
      from: m.environment,
      to: target.name,
      database: info.db,
      durationMs: Date.now() - t0,
      jobs,
      tables: m.tables.length,
      migrations: { applied: got.length, last: got[got.length - 1] },
      pending,
      keptAuditTrail,
      warnings,
    };
  } finally {
    if (listFile) await rm(listFile, { force: true }).catch(() => {});
    if (!o.client) await client.end().catch(() => {});
  }
}

/**
 * Below this much table data, pg_restore's parallel workers (each a process with its own login)
 * cost more than they save. Measured on 2 cores: 5 MB of tables, -j2 ≈ serial; 38 MB of tables
 * (a 46 MB database), -j2 0.25 s vs serial 0.33 s. Table data, not archive size: an archive may be
 * compressed ten to one or not at all.
 */
const PARALLEL_RESTORE_MIN_BYTES = 16 * 1024 ** 2;

/** What the restore's jobs default to (exported for tests). */
export function checkedJobs(jobs: number | undefined, m: Pick<BackupManifest, 'tables' | 'size'>, cores = availableParallelism()): number {
  const data = m.tables.length > 0 ? m.tables.reduce((n, t) => n + t.bytes, 0) : m.size;
  if (jobs === undefined) return data < PARALLEL_RESTORE_MIN_BYTES ? 1 : Math.max(1, Math.min(cores, 4));
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw usageError('E_USAGE', `--jobs must be a whole number from 1 to 64, not ${jobs}`, 'e.g. --jobs 4');
  return jobs;
}

/**
 * Drops what the restore re-creates, in one transaction (all or nothing): the archive's schemas,
 * and `public`, re-created at once with its owner and privileges (pg_dump assumes it exists and
 * never writes it). Schemas the backup does not have are left alone, with a warning.
 */
interface TargetInfo {
  vn: string;
  db: string;
  audit: boolean;
  existing: string[];
  public_owner: string | null;
  public_grants: Array<{ grantee: string; privilege: string; grantable: boolean }>;
}

async function clearTarget(client: Client, target: ResolvedEnvironment, info: TargetInfo, schemas: string[], warn: (m: string) => void): Promise<void> {
  const existing = info.existing;
  const replace = new Set([...schemas, 'public']);
  for (const s of existing) if (!replace.has(s) && s !== AUDIT_SCHEMA) warn(`${target.name}: schema ${s} is not in the backup: left as it is`);
  const pub = info.public_owner === null ? undefined : { owner: info.public_owner };
  const grants = pub ? info.public_grants : [];
  const sql = ['BEGIN', "SET LOCAL lock_timeout = '10s'"];
  for (const s of replace) if (existing.includes(s)) sql.push(`DROP SCHEMA ${quoteIdent(s)} CASCADE`);
  // An archive of a database whose public schema was re-created by hand creates it itself.
  if (!schemas.includes('public')) sql.push('CREATE SCHEMA public');
  if (pub && !schemas.includes('public')) {
    sql.push(`ALTER SCHEMA public OWNER TO ${pub.owner}`);
    for (const g of grants) sql.push(`GRANT ${g.privilege} ON SCHEMA public TO ${g.grantee}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
  sql.push('SELECT lo_unlink(oid) FROM pg_largeobject_metadata', 'COMMIT');
  try {
    await client.query(sql.join(';\n'));
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    const err = e as { code?: string; message?: string };
    if (err.code === '55P03') {
      throw new StagedbError('backup', 'E_RESTORE_LOCKED', `${target.name}: another session holds a lock on a table the restore replaces; nothing was changed`, {
        fix: `stop the application's connections to ${target.name} (or wait for the long transaction), then restore again`,
        cause: e,
      });
    }
    if (err.code === '42501') {
      throw new StagedbError('backup', 'E_RESTORE_PRIVILEGES', `${target.name}: the database user may not replace the database's contents (${err.message}); nothing was changed`, {
        fix: `restore with the database owner's credentials in ${target.name}'s directUrl`,
        cause: e,
      });
    }
    throw new StagedbError('backup', 'E_RESTORE_FAILED', `${target.name}: could not clear the database for the restore (${err.message}); nothing was changed`, { cause: e });
  }
}

/**
 * Settings for pg_restore's own sessions. synchronous_commit=off: a serial pg_restore commits every
 * statement, and each commit waits for its WAL flush (on a networked volume, a millisecond or more,
 * hundreds of times); asynchronous commit risks only the last few hundred milliseconds of commits if
 * the server crashes, and a restore cut short by a crash is restored again anyway. Nothing is
 * reported done before one synchronous commit afterwards has flushed it all (applyRestore).
 * maintenance_work_mem is left alone: raising it bought nothing measurable here (a 177 MB restore
 * with -j2: 1.47 s as is, 1.39 s at 256 MB, 1.44 s at 1 GB: noise), and every parallel worker may use
 * that much for its index builds, on a server sized by someone else (a small RDS instance has 1 GB).
 */
const RESTORE_SETTINGS = { synchronous_commit: 'off' };

interface PgRestoreInput {
  pgRestore: PgToolInfo;
  archive: string;
  url: string;
  appName: string;
  jobs: number;
  listFile?: string;
  withPrivileges: boolean;
  manifest: BackupManifest;
  /** A connection to the target, for progress (pg_stat_progress_copy). */
  watch?: Client;
  processEnv?: NodeJS.ProcessEnv;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
}

/** Runs pg_restore into a database; never throws for pg_restore's own failure (see `ok`). */
export async function pgRestore(i: PgRestoreInput): Promise<{ ok: boolean; code: number | null; errors: string[] }> {
  const conn = toolConnection(i.url, i.appName, i.processEnv, RESTORE_SETTINGS);
  const args = [
    `--dbname=${conn.dbname}`,
    '--no-owner',
    ...(i.withPrivileges ? [] : ['--no-acl']),
    '--exit-on-error',
    `--jobs=${i.jobs}`,
    ...(i.listFile ? [`--use-list=${i.listFile}`] : []),
    '--verbose',
    '--no-password',
    i.archive,
  ];
  const tables = new TableProgress(i.manifest.tables.map((t) => ({ schema: t.schema, name: t.name, bytes: t.bytes, rows: t.rows ?? t.estimatedRows })));
  const run = runTool('pg_restore', i.pgRestore.path, args, conn.env, { onLine: (l) => feedVerbose(tables, l, i.jobs > 1) });
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  if (i.onProgress) {
    let watchFailed = !i.watch;
    timer = setInterval(() => {
      ticking = ticking.then(async () => {
        if (!watchFailed) {
          try {
            tables.live(await copyProgress(i.watch!, i.appName));
          } catch {
            watchFailed = true;
          }
        }
        const elapsedMs = Date.now() - t0;
        const fraction = tables.fraction();
        i.onProgress?.({ phase: 'restore', elapsedMs, fraction, etaMs: eta(elapsedMs, fraction), tables: tables.counts() });
      });
    }, i.progressIntervalMs ?? 1000);
  }
  try {
    const r = await run.done;
    if (r.spawnError) throw new StagedbError('config', 'E_PG_TOOL_MISSING', `cannot run ${i.pgRestore.path}: ${r.spawnError.message}`, { fix: 'check STAGEDB_PG_BIN, or reinstall the PostgreSQL client tools' });
    if (r.code === 0) tables.allDone();
    return { ok: r.code === 0, code: r.code, errors: r.errors };
  } finally {
    if (timer) clearInterval(timer);
    await ticking;
  }
}

