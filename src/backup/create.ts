import { createHash } from 'node:crypto';
import { access, constants, open, readdir, stat } from 'node:fs/promises';
import { availableParallelism, hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError, usageError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { redact } from '../redact.js';
import { execCapture } from '../pg/exec.js';
import { corrupt, diskFull, fsError } from './errors.js';
import { toolConnectionFor } from './libpq.js';
import {
  CUSTOM_FILE,
  DIRECTORY_NAME,
  MANIFEST_FORMAT,
  newBackupId,
  stagedbVersion,
  type BackupActor,
  type BackupFile,
  type BackupManifest,
  type TableStat,
} from './manifest.js';
import { TableProgress, eta, feedVerbose, type Progress } from './progress.js';
import { runTool } from './run-tool.js';
import { checksumAlgorithm, copyProgress, readFacts, tableStats, type DatabaseFacts } from './source.js';
import { openStorage, type BackupStorage, type PendingBackup } from './storage.js';
import { probeTools, type FindToolOptions, type PgToolInfo } from './tools.js';

export type DumpFormat = 'custom' | 'directory';

export interface CreateBackupOptions {
  env: ResolvedEnvironment;
  /** `auto` (default): directory format with parallel jobs for a large database on local storage, else custom. */
  format?: 'auto' | DumpFormat;
  /** Parallel jobs for the directory format (default: the CPU count, at most 4). */
  jobs?: number;
  /**
   * Also record each table's content checksum (default: the environment's `backup.checksums`, else
   * off: it reads every row's text once more, beside the dump). Exact row counts are always recorded.
   */
  checksums?: boolean;
  reason?: BackupManifest['reason'];
  /**
   * A connection to the environment's database to use, e.g. the guard's, which has logged in already
   * (a login is a good part of a small backup's time); left open, outside a transaction. Default: one
   * is opened here, and closed.
   */
  client?: Client;
  /** Who is making it (default: the OS user and host). */
  createdBy?: BackupActor;
  /** Where STAGEDB_PG_BIN and PATH are read (default process.env). */
  processEnv?: NodeJS.ProcessEnv;
  /** Where pg_dump is looked for (tests). */
  toolSearch?: FindToolOptions['searchDirs'];
  onEvent?: (event: BackupEvent) => void;
  /**
   * Asked with the database's size, read in the first round trip, before pg_dump starts or anything is
   * stored: an error returned is thrown (the backup before deploy's `backup.beforeDeployDumpLimit`).
   */
  refuseSize?: (databaseBytes: number) => StagedbError | undefined;
  /** Called about once a second while the dump runs. */
  onProgress?: (progress: Progress) => void;
  progressIntervalMs?: number;
}

export type BackupEvent =
  | {
      type: 'plan';
      env: string;
      id: string;
      pgDump: PgToolInfo;
      serverVersion: string;
      databaseBytes: number;
      format: DumpFormat;
      jobs: number;
      compression: number;
      checksums: boolean;
      location: string;
    }
  | { type: 'dumped'; env: string; bytes: number; ms: number }
  | { type: 'warning'; env: string; message: string };

export interface CreateBackupResult {
  id: string;
  manifest: BackupManifest;
  location: string;
  storage: 'local' | 's3';
}

/**
 * gzip level 1: about twice as fast as pg_dump's default (6) for a few percent more bytes. Not 0, even
 * for a small database: pg_dump -Z0 alone is faster (46 MB: 0.23 s vs 0.29 s), but a whole backup is
 * not, because the archive, five times larger, must then be hashed and fsynced (46 MB, interleaved
 * A/B of the CLI: -Z1 0.40 s, -Z0 0.45 s; restores the same).
 */
const COMPRESSION = 1;
/**
 * From this size the directory format's parallel workers (each compressing its own tables) pay off:
 * on a 177 MB database, -Fd -j2 took 1.2 s where -Fc took 1.4 s (stagedb backup, 2 cores).
 */
const DIRECTORY_MIN_BYTES = 128 * 1024 ** 2;
/** pg_dump waits this long for a table lock (a migration holding ACCESS EXCLUSIVE) before giving up. */
const LOCK_WAIT = '60s';

/**
 * Takes a backup of an environment with PostgreSQL's own pg_dump, into its configured storage: a
 * pg_dump that can dump the server, in the database's snapshot (so the recorded migrations, row
 * counts and checksums describe exactly the dumped data), stored while hashed, and made visible
 * only when everything, manifest last, is stored. On any failure whatever was written is removed.
 */
export async function createBackup(options: CreateBackupOptions): Promise<CreateBackupResult> {
  const { env } = options;
  const started = new Date();
  const processEnv = options.processEnv ?? process.env;
  // Every copy of pg_dump is asked its version while this process connects (other processes, another core).
  const pickDump = probeTools('pg_dump', { env: processEnv, searchDirs: options.toolSearch });
  const storagePromise = openStorage(env.backup.storage, env.name).then(async (s) => {
    await s.check();
    return s;
  });
  const clientPromise = options.client ? Promise.resolve(options.client) : connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'backup' });
  const [storageResult, clientResult] = await Promise.allSettled([storagePromise, clientPromise]);
  if (clientResult.status === 'rejected') throw clientResult.reason;
  const client = clientResult.value;
  let pending: PendingBackup | undefined;
  let committed = false;
  let inTransaction = false;
  try {
    if (storageResult.status === 'rejected') throw storageResult.reason;
    const storage = storageResult.value;
    // Before the query: if its SELECT fails, the BEGIN has run and a borrowed connection must be rolled back.
    inTransaction = true;
    const head = await exportSnapshot(client);
    const snapshot = head.s;
    const versionNum = Number(head.vn);
    const sizeBytes = Number(head.size);
    const refused = options.refuseSize?.(sizeBytes);
    if (refused) throw refused;
    const format = options.format ?? 'auto';
    // Table sizes decide between the formats for a large database, and weigh the progress in a terminal.
    const early = (format === 'auto' && storage.kind === 'local' && sizeBytes >= DIRECTORY_MIN_BYTES) || options.onProgress !== undefined;
    const earlyFacts = early ? await readFacts(client, env.directInfo.schema) : undefined;
    const plan = choosePlan({ sizeBytes, tables: earlyFacts?.tables ?? [] }, storage.kind, format, options.jobs);
    const pgDump = await pickDump(Math.floor(versionNum / 10000), env.name);
    const checksums = options.checksums ?? env.backup.checksums ?? false;
    const id = newBackupId(env.name, started);
    options.onEvent?.({
      type: 'plan',
      env: env.name,
      id,
      pgDump,
      serverVersion: head.v.split(' ')[0]!,
      databaseBytes: sizeBytes,
      format: plan.format,
      jobs: plan.jobs,
      compression: plan.compression,
      checksums,
      location: storage.location,
    });
    pending = await storage.begin(id);
    const algorithm = checksumAlgorithm(versionNum);
    // Read on this connection while pg_dump runs (it has imported the snapshot by the time it reads
    // data; the transaction stays open until the end). Row counts (and checksums) run under a
    // savepoint: a table they cannot read costs the counts, never the backup.
    let besideDone = false;
    const beside = (async () => {
      const facts = earlyFacts ?? (await readFacts(client, env.directInfo.schema));
      return { facts, sums: await snapshotStats(client, facts, checksums ? algorithm : undefined) };
    })().finally(() => {
      besideDone = true;
    });
    beside.catch(() => {});
    let dumped: { files: BackupFile[]; check?: Promise<void> };
    try {
      dumped = await dump({ env, storage, pending, pgDump, plan, snapshot, tables: earlyFacts?.tables ?? [], versionNum, id, processEnv, options });
    } catch (e) {
      // The dump failed: the counts (a scan of every table, with --checksums a read of every row) are
      // of no use now, and waiting for them would hold the error — and an open snapshot that holds back
      // vacuum — for as long as they take. Cancel them, then roll back.
      // processID: node-postgres keeps the backend pid from BackendKeyData (not in its type definitions).
      if (!besideDone) await cancelBackend(env, (client as unknown as { processID?: number }).processID);
      await beside.catch(() => {});
      throw e;
    }
    options.onEvent?.({ type: 'dumped', env: env.name, bytes: dumped.files.reduce((s, f) => s + f.size, 0), ms: Date.now() - started.getTime() });
    const { facts, sums: sumResult } = await beside;
    if ('error' in sumResult) options.onEvent?.({ type: 'warning', env: env.name, message: `${env.name}: backup ${id} records no row counts: ${sumResult.error}` });
    const sum = 'error' in sumResult ? undefined : sumResult;
    // Read only, and pg_dump has its snapshot: a COMMIT that fails (the connection dropped after the
    // counts were read) loses nothing, so it does not fail the backup.
    await client.query('COMMIT').catch(() => {});
    inTransaction = false;
    const manifest = buildManifest({ env, id, facts, sum, plan, pgDump, files: dumped.files, started, checksums, algorithm, reason: options.reason, createdBy: options.createdBy });
    await pending.commit(manifest, dumped.check);
    committed = true;
    return { id, manifest, location: storage.location, storage: storage.kind };
  } finally {
    if (!committed) await pending?.abort();
    if (!options.client) await client.end().catch(() => {});
    else if (inTransaction) await client.query('ROLLBACK').catch(() => {});
  }
}

/** The manifest of a finished dump: what was dumped, from where, by whom, with the counts read in its snapshot. */
function buildManifest(o: {
  env: ResolvedEnvironment;
  id: string;
  facts: Awaited<ReturnType<typeof readFacts>>;
  sum: Exclude<Awaited<ReturnType<typeof snapshotStats>>, { error: string }> | undefined;
  plan: Plan;
  pgDump: PgToolInfo;
  files: BackupFile[];
  started: Date;
  checksums: boolean;
  algorithm: ReturnType<typeof checksumAlgorithm>;
  reason?: BackupManifest['reason'];
  createdBy?: BackupActor;
}): BackupManifest {
  const { env, id, facts, sum, plan, pgDump, files, started, checksums, algorithm } = o;
  const tables: TableStat[] = facts.tables.map((t) => {
    const s = sum?.tables.get(`${t.schema}.${t.name}`);
    return s ? { ...t, rows: s.rows, ...(s.checksum === undefined ? {} : { checksum: s.checksum }) } : t;
  });
  const finished = new Date();
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    id,
    environment: env.name,
    database: { name: facts.database, host: env.directInfo.host, port: env.directInfo.port, schema: env.directInfo.schema },
    server: { version: facts.serverVersion, versionNum: facts.serverVersionNum },
    pgDump: { version: pgDump.version },
    dump: { format: plan.format, compression: plan.compression, jobs: plan.jobs, files },
    size: files.reduce((s, f) => s + f.size, 0),
    sha256: plan.format === 'custom' ? files[0]!.sha256 : combinedSha256(files),
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    migrations: facts.migrations,
    tables,
    sequences: facts.sequences,
    largeObjects: sum ? sum.largeObjects : { count: facts.largeObjects },
    ...(sum && checksums ? { checksums: { algorithm } } : {}),
    reason: o.reason ?? 'manual',
    stagedbVersion: stagedbVersion(),
    createdBy: o.createdBy ?? defaultActor(),
  };
  return manifest;
}

/** Opens the read-only REPEATABLE READ transaction whose snapshot pg_dump imports, and exports it. */
async function exportSnapshot(client: Client): Promise<{ s: string; vn: string; v: string; size: string }> {
  // The snapshot pg_dump imports: everything recorded below is read in it. The first round trip
  // also brings what the plan needs for a database that is not large, so pg_dump starts at once and
  // the catalog, the history and the row counts are read beside it, in the same snapshot.
  // The transaction stays idle while pg_dump runs, for as long as the dump takes: a role's or server's
  // idle_in_transaction_session_timeout (often set on production) must not end it — and a finished
  // dump with it — halfway.
  const [, , exported] = (await client.query(
    `BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
     SET LOCAL idle_in_transaction_session_timeout = 0;
     SELECT pg_export_snapshot() AS s, current_setting('server_version_num') AS vn, current_setting('server_version') AS v,
            pg_database_size(current_database())::text AS size`,
  )) as unknown as [unknown, unknown, { rows: Array<{ s: string; vn: string; v: string; size: string }> }];
  return exported.rows[0]!;
}

/** Cancels the query running on backend `pid` from a connection of its own (best effort: never throws). */
async function cancelBackend(env: ResolvedEnvironment, pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const c = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'backup cancel', connectTimeoutMs: 5000 }).catch(() => undefined);
  if (!c) return;
  await c.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
  await c.end().catch(() => {});
}

/**
 * Row counts (and checksums) in the dump's snapshot, on the connection that exported it, under a
 * savepoint: an error (a table this user cannot read) is rolled back to it and returned, not thrown,
 * and the transaction, and with it the snapshot, stays good. (A second connection importing the
 * snapshot would do the same for the price of another login, which is most of a small backup's cost.)
 */
async function snapshotStats(client: Client, facts: DatabaseFacts, algorithm: ReturnType<typeof checksumAlgorithm> | undefined) {
  await client.query('SAVEPOINT stagedb_counts');
  try {
    const r = await tableStats(client, facts.tables, algorithm);
    await client.query('RELEASE SAVEPOINT stagedb_counts');
    return r;
  } catch (e) {
    await client.query('ROLLBACK TO SAVEPOINT stagedb_counts');
    return { error: redact((e as Error).message) };
  }
}

/** sha256 over the sorted "sha256  name" lines (sha256sum's format): one checksum for a directory-format dump. */
export function combinedSha256(files: BackupFile[]): string {
  const lines = [...files].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => `${f.sha256}  ${f.name}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

function defaultActor(): BackupActor {
  let osUser = process.env.USER ?? 'unknown';
  try {
    osUser = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return { osUser, host: hostname() };
}

interface Plan {
  format: DumpFormat;
  jobs: number;
  /** pg_dump --compress (gzip level; 0: none). */
  compression: number;
}

/**
 * Custom format unless the directory format's parallel jobs pay off: a large database, on local
 * storage (the directory format cannot be streamed), spread over tables so that several workers
 * have something to do (one huge table is dumped by one worker whatever -j says). Exported for tests.
 */
export function choosePlan(facts: Pick<DatabaseFacts, 'sizeBytes' | 'tables'>, storage: 'local' | 's3', format: 'auto' | DumpFormat, jobs?: number, cores = availableParallelism()): Plan {
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs >= 1 && jobs <= 64)) throw usageError('E_USAGE', `--jobs must be a whole number from 1 to 64, not ${jobs}`, 'e.g. --jobs 4');
  const parallel = jobs ?? Math.max(1, Math.min(cores, 4));
  const compression = COMPRESSION;
  if (format === 'directory') {
    if (storage !== 'local') throw usageError('E_USAGE', 'the directory format needs local backup storage: S3 backups are streamed in the custom format', 'drop --format directory');
    return { format, jobs: parallel, compression };
  }
  if (format === 'custom') return { format, jobs: 1, compression };
  if (storage !== 'local' || parallel < 2 || facts.sizeBytes < DIRECTORY_MIN_BYTES) return { format: 'custom', jobs: 1, compression };
  return parallelSpeedup(facts.tables.map((t) => t.bytes), parallel) >= 1.3 ? { format: 'directory', jobs: parallel, compression } : { format: 'custom', jobs: 1, compression };
}

/** Total work over the busiest worker's share, largest tables first to the least loaded worker. */
function parallelSpeedup(sizes: number[], workers: number): number {
  const load = new Array<number>(workers).fill(0);
  for (const s of [...sizes].sort((a, b) => b - a)) {
    let i = 0;
    for (let w = 1; w < workers; w++) if (load[w]! < load[i]!) i = w;
    load[i] = load[i]! + s;
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  const max = Math.max(...load);
  return max === 0 ? 1 : total / max;
}

interface DumpInput {
  env: ResolvedEnvironment;
  storage: BackupStorage;
  pending: PendingBackup;
  pgDump: PgToolInfo;
  plan: Plan;
  snapshot: string;
  /** Table sizes for the progress (empty when nobody watches it). */
  tables: TableStat[];
  versionNum: number;
  id: string;
  processEnv: NodeJS.ProcessEnv;
  options: CreateBackupOptions;
}

async function dump(d: DumpInput): Promise<{ files: BackupFile[]; check?: Promise<void> }> {
  const appName = `stagedb backup ${d.id}`.slice(0, 63);
  const conn = await toolConnectionFor(d.env.directUrl, appName, d.processEnv);
  const local = d.pending.dir;
  const target = local ? join(local, d.plan.format === 'custom' ? CUSTOM_FILE : DIRECTORY_NAME) : undefined;
  const args = [
    `--format=${d.plan.format}`,
    `--compress=${d.plan.compression}`,
    ...(d.plan.format === 'directory' ? [`--jobs=${d.plan.jobs}`] : []),
    ...(target ? [`--file=${target}`] : []),
    `--snapshot=${d.snapshot}`,
    `--lock-wait-timeout=${LOCK_WAIT}`,
    '--verbose',
    '--no-password',
    `--dbname=${conn.dbname}`,
  ];
  const tables = new TableProgress(d.tables.map((t) => ({ schema: t.schema, name: t.name, bytes: t.bytes, rows: t.estimatedRows })));
  const parallel = d.plan.jobs > 1;
  const run = runTool('pg_dump', d.pgDump.path, args, conn.env, { stdout: target ? 'ignore' : 'pipe', onLine: (l) => feedVerbose(tables, l, parallel) });

  // S3: pg_dump's stdout, hashed and counted on its way into the upload.
  let streamed: { hash: ReturnType<typeof createHash>; bytes: number } | undefined;
  let upload: Promise<void> | undefined;
  if (!target) {
    const s = { hash: createHash('sha256'), bytes: 0 };
    streamed = s;
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        s.hash.update(chunk);
        s.bytes += chunk.length;
        cb(null, chunk);
      },
    });
    const body = new PassThrough();
    run.child.stdout!.pipe(hasher).pipe(body);
    upload = d.pending.write(CUSTOM_FILE, body);
    // A failed upload must stop pg_dump, or it waits forever on a full pipe.
    upload.catch(() => run.child.kill('SIGTERM'));
  }

  const t0 = Date.now();
  const stopProgress = d.options.onProgress
    ? startProgress(d, appName, tables, t0, async () => (streamed ? streamed.bytes : target ? await sizeOf(target) : 0))
    : undefined;
  try {
    const r = await run.done;
    if (r.spawnError) throw new StagedbError('config', 'E_PG_TOOL_MISSING', `cannot run ${d.pgDump.path}: ${r.spawnError.message}`, { fix: 'check STAGEDB_PG_BIN, or reinstall the PostgreSQL client tools' });
    // The upload's own error (unreachable storage, refused credentials) explains a killed pg_dump best.
    if (upload) await upload;
    if (r.code !== 0) throw dumpFailed(d, r.code, r.signal, r.errors);
  } finally {
    await stopProgress?.();
  }
  tables.allDone();
  if (streamed) return { files: [{ name: CUSTOM_FILE, size: streamed.bytes, sha256: streamed.hash.digest('hex') }] };

  // Local: pg_dump wrote (and fsynced) the files itself; with a seekable file it also recorded where
  // each table's data starts, which lets `pg_restore -j` jump straight to it. Hash them now.
  // pg_restore reads the table of contents while the files are hashed and the manifest is written:
  // the backup becomes visible only once it has (the gate of commit).
  const check = checkToc(d, target!);
  check.catch(() => {});
  const files = await hashLocal(local!, d.plan.format, d.options.onProgress, t0).catch(async (e: unknown) => {
    await check.catch(() => {});
    throw e;
  });
  return { files, check };
}

function startProgress(d: DumpInput, appName: string, tables: TableProgress, t0: number, bytes: () => Promise<number>): () => Promise<void> {
  let stopped = false;
  let watcher: Client | undefined;
  let watcherFailed = d.versionNum < 140000;
  const tick = async () => {
    if (stopped) return;
    if (!watcherFailed) {
      try {
        watcher ??= await connect(d.env.directUrl, { label: d.env.name, purpose: 'backup progress' });
        tables.live(await copyProgress(watcher, appName));
      } catch {
        watcherFailed = true; // progress is a nicety: never a reason to fail a backup
      }
    }
    const b = await bytes().catch(() => 0);
    const elapsedMs = Date.now() - t0;
    const fraction = tables.fraction();
    if (!stopped) d.options.onProgress?.({ phase: 'dump', bytes: b, elapsedMs, bytesPerSecond: elapsedMs > 0 ? (b * 1000) / elapsedMs : 0, fraction, etaMs: eta(elapsedMs, fraction), tables: tables.counts() });
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(tick);
  }, d.options.progressIntervalMs ?? 1000);
  return async () => {
    clearInterval(timer);
    await running;
    stopped = true;
    await watcher?.end().catch(() => {});
  };
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += (await stat(join(path, name)).catch(() => undefined))?.size ?? 0;
  return total;
}

/**
 * sha256 of a file, read in 4 MB blocks into one buffer: several times faster than a stream's 64 KB
 * chunks (sha256 itself runs at GB/s with the CPU's SHA extensions; a 26 MB archive takes ~5 ms).
 */
export async function hashFile(path: string, onBytes?: (n: number) => void): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
      onBytes?.(size);
    }
  } finally {
    await fh.close();
  }
  return { size, sha256: hash.digest('hex') };
}

async function hashLocal(dir: string, format: DumpFormat, onProgress: CreateBackupOptions['onProgress'], t0: number): Promise<BackupFile[]> {
  const names = format === 'custom' ? [CUSTOM_FILE] : (await readdir(join(dir, DIRECTORY_NAME))).sort().map((n) => `${DIRECTORY_NAME}/${n}`);
  const files: BackupFile[] = [];
  let before = 0;
  try {
    for (const name of names) {
      const { size, sha256 } = await hashFile(join(dir, name));
      before += size;
      files.push({ name, size, sha256 });
    }
  } catch (e) {
    throw fsError(e, dir, 'read back');
  }
  onProgress?.({ phase: 'checksum', bytes: before, elapsedMs: Date.now() - t0, fraction: 1 });
  return files;
}

/** The archive's table of contents must read back with pg_restore before the backup becomes visible. */
async function checkToc(d: DumpInput, archive: string): Promise<void> {
  const pgRestore = join(dirname(d.pgDump.path), process.platform === 'win32' ? 'pg_restore.exe' : 'pg_restore');
  const usable = await access(pgRestore, constants.X_OK).then(() => true, () => false);
  if (!usable) return;
  const r = await execCapture(pgRestore, ['--list', archive], { env: { ...process.env, LC_ALL: 'C' }, timeoutMs: 120_000 });
  if (r.code !== 0) throw corrupt(d.id, `pg_restore cannot read the archive pg_dump just wrote: ${r.stderr.trim().split('\n')[0] ?? ''}`);
}

function dumpFailed(d: DumpInput, code: number | null, signal: NodeJS.Signals | null, errors: string[]): StagedbError {
  const text = errors.join('\n');
  const where = d.storage.location;
  if (/No space left on device|could not write to output file.*(space|quota)|Disk quota exceeded/i.test(text)) return diskFull(where);
  const env = d.env.name;
  if (/could not obtain lock|lock timeout/i.test(text)) {
    return new StagedbError('backup', 'E_PG_DUMP_LOCK', `${env}: pg_dump waited ${LOCK_WAIT} for a table lock and gave up: another session holds an exclusive lock (a migration, a VACUUM FULL, a LOCK TABLE)`, {
      details: errors,
      fix: `find it: SELECT pid, application_name, query FROM pg_stat_activity WHERE wait_event_type = 'Lock' OR state = 'idle in transaction'; then retry: stagedb backup --env ${env}`,
    });
  }
  if (/permission denied/i.test(text)) {
    return new StagedbError('config', 'E_PG_DUMP_PERMISSION', `${env}: the database user cannot read everything pg_dump needs`, {
      details: errors,
      fix: 'back up with the database owner\'s URL, or grant the user pg_read_all_data (PostgreSQL 14+)',
    });
  }
  if (/connection to server|could not connect|password authentication failed|no pg_hba.conf entry|SSL/i.test(text)) {
    return new StagedbError('connection', 'E_PG_DUMP_CONNECT', `${env}: pg_dump could not connect`, {
      details: errors,
      fix: 'stagedb status --env ' + env + ' checks the same connection; pg_dump also honours sslmode and sslrootcert from the URL',
    });
  }
  return new StagedbError('backup', 'E_PG_DUMP_FAILED', `${env}: pg_dump failed (${signal ? `killed by ${signal}` : `exit ${code}`}); nothing was kept`, {
    details: errors,
    fix: `retry: stagedb backup --env ${env}   (if it fails again, the lines above are pg_dump's own)`,
  });
}
