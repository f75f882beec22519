import { constants, existsSync } from 'node:fs';
import { access, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { readLocalHistory } from '../history/local.js';
import { connect } from '../pg/connect.js';
import { execCapture } from '../pg/exec.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { corrupt } from './errors.js';
import { fetchArchive, type FetchedArchive } from './fetch.js';
import { toolConnectionFor } from './libpq.js';
import { CUSTOM_FILE, DIRECTORY_NAME, type BackupManifest } from './manifest.js';
import { TableProgress, eta, feedVerbose, type Progress } from './progress.js';
import { runTool } from './run-tool.js';
import { copyProgress, readHistory } from './source.js';
import type { BackupStorage } from './storage.js';
import { installHint, probeTools, type FindToolOptions, type PgToolInfo } from './tools.js';

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

/**
 * Every schema the archive holds something in: those it creates, and those its entries live in
 * (`public` has entries but, as pg_dump assumes it exists, usually no SCHEMA entry).
 */
export function tocNamespaces(toc: string[]): string[] {
  const out = new Set(tocSchemas(toc));
  for (const line of toc) {
    const m = /^\d+; \d+ \d+ (?:[A-Z]+ )+(\S+) \S/.exec(line);
    if (m && m[1] !== '-') out.add(m[1]!);
  }
  return [...out];
}

/** The list with every entry of one schema commented out (pg_restore -L skips `;` lines). */
export function withoutSchema(toc: string[], schema: string): string[] {
  const entry = new RegExp(`^\\d+; \\d+ \\d+ (?:[A-Z]+ )+(?:- (?:SCHEMA )?)?${schema.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `);
  return toc.map((l) => (entry.test(l) ? `;${l}` : l));
}

export interface RestoreEvent {
  type: 'plan' | 'warning' | 'restored';
  message: string;
}

export interface ApplyRestoreOptions {
  /**
   * The schemas to replace: the datasource's (the URL's `?schema=`, or every one a multiSchema
   * datasource names in `schemas = [...]`). Nothing in any other schema is touched, and the backup's
   * other schemas are not restored. Default: every schema the backup holds, and `public`.
   */
  schemas?: readonly string[];
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
  /** The schemas replaced, in the order given. */
  schemas: string[];
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
 * Replaces the target's schemas with the backup's, in ONE transaction: the schemas are dropped, the
 * archive is replayed (`pg_restore --file=-` piped into psql on one connection), the restored
 * `_prisma_migrations` is compared with the manifest, and only then is COMMIT sent. Whatever fails
 * — an archive pg_restore cannot read to the end, a missing role or extension, a full disk, a lock,
 * a killed stagedb — the transaction is rolled back and the target is exactly as it was.
 *
 * Why one transaction, and not the alternatives (measured on 2 cores, bench/RESULTS.md):
 * - restoring into a scratch database and swapping by RENAME needs CREATEDB and no other connection
 *   to the target (an RDS application role has neither), and loses what belongs to the database itself
 *   (its settings, grants, the protection marker) unless all of it is copied across;
 * - restoring beside the target's schemas and swapping them by ALTER SCHEMA … RENAME cannot work with
 *   pg_dump's archives: every object in them is written with its schema's name, so pg_restore can only
 *   create it under that name, and an extension living in a renamed schema is not re-created;
 * - one transaction works with the owner's rights alone and keeps the database's settings, grants and
 *   marker. Its price is parallelism: one session, so no `pg_restore -j`. Measured into a fresh
 *   database on this 2-core machine while it was shared (load 16–19), two runs each: 1.1 GB (one
 *   table), `pg_restore -j2` 25.5/29.5 s, serial 26.0/26.0 s, `pg_restore --single-transaction`
 *   22.8/27.0 s, `pg_restore --file=- | psql` in one transaction 21.1/25.3 s; 180 MB: 6.1/7.2, 5.0/7.0,
 *   5.8/6.7, 4.5/6.6 s. On a quiet machine `-j2` had restored 1 GB in 0.79× a serial pg_restore's
 *   time: that is what is traded for never losing the target.
 * The clearing runs in the same transaction as the restore: a failed restore never clears anything.
 * While it runs, the application waits on the replaced tables' locks instead of reading half a restore.
 */
export async function applyRestore(p: PreparedRestore, target: ResolvedEnvironment, o: ApplyRestoreOptions = {}): Promise<RestoreResult> {
  const m = p.manifest;
  const t0 = Date.now();
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    o.onEvent?.({ type: 'warning', message });
  };
  const psql = await psqlBeside(p.pgRestore);
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
    const archived = tocNamespaces(p.toc);
    const replace = o.schemas ? [...new Set(o.schemas)].filter((s) => s !== AUDIT_SCHEMA) : [...new Set([...archived.filter((s) => s !== AUDIT_SCHEMA), 'public'])];
    // The target's audit trail stays: its history is the target's. A target without one (a new
    // database after a disaster) gets the backup's audit_log, and nothing else of the backup's
    // stagedb schema: whatever else stagedb keeps there describes the backed-up database (its
    // protection marker, should it live there), not this one.
    const keptAuditTrail = info.audit;
    let toc = p.toc;
    for (const s of archived) if (s !== AUDIT_SCHEMA && !replace.includes(s)) toc = withoutSchema(toc, s);
    if (archived.includes(AUDIT_SCHEMA)) toc = keptAuditTrail ? withoutSchema(toc, AUDIT_SCHEMA) : auditTrailOnly(toc);
    const ours = o.schemas ? 'one the datasource names' : 'in the backup';
    for (const s of info.existing) if (s !== AUDIT_SCHEMA && !replace.includes(s)) warn(`${target.name}: schema ${s} is not ${ours}: left as it is`);
    if (o.schemas) for (const s of archived) if (s !== AUDIT_SCHEMA && !replace.includes(s)) warn(`backup ${m.id} also holds schema ${s}, which the datasource does not name: not restored`);
    await refuseOutsideDependents(client, target, replace.filter((s) => info.existing.includes(s)));
    o.onEvent?.({ type: 'plan', message: `${target.name}: replacing ${schemaList(replace)} of ${info.db}, in one transaction` });

    listFile = join(tmpdir(), `stagedb-restore-${process.pid}-${Date.now()}.list`);
    await writeFile(listFile, toc.join('\n'), { mode: 0o600 });
    const head = clearSql(info, replace, tocSchemas(toc));
    const r = await restoreInOneTransaction({
      pgRestore: p.pgRestore,
      psql,
      archive: p.archive.path,
      url: target.directUrl,
      appName: `stagedb restore ${m.id}`.slice(0, 63),
      listFile,
      withPrivileges: o.withPrivileges ?? false,
      manifest: m,
      head,
      tail: historyCheckSql(target.directInfo.schema, m.migrations.applied.map((x) => x.name)),
      watch: client,
      processEnv: o.processEnv,
      onProgress: o.onProgress,
      progressIntervalMs: o.progressIntervalMs,
    });
    if (!r.ok) throw restoreFailed(r, target, info.db, m, head.split('\n').length);

    // psql's session commits asynchronously (see RESTORE_SETTINGS): one synchronous commit here
    // flushes the WAL up to it, and so the restore's commit, before the restore is reported done.
    await client.query('BEGIN; SELECT txid_current(); COMMIT');
    // Checked inside the transaction already (historyCheckSql); read again for the report.
    const history = await readHistory(client, target.directInfo.schema);
    const got = history.applied.map((x) => x.name);
    let pending: string[] = [];
    if (o.migrationsDir && existsSync(o.migrationsDir)) {
      const applied = new Set(got);
      pending = readLocalHistory(o.migrationsDir).migrations.map((x) => x.name).filter((n) => !applied.has(n));
    }
    const tables = m.tables.filter((t) => replace.includes(t.schema)).length;
    o.onEvent?.({ type: 'restored', message: `${target.name}: restored ${tables} table${tables === 1 ? '' : 's'}` });
    return {
      id: m.id,
      from: m.environment,
      to: target.name,
      database: info.db,
      durationMs: Date.now() - t0,
      schemas: replace,
      tables,
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

/** `schema "public"`, `schemas "public", "auth"`: for messages. */
export function schemaList(schemas: readonly string[]): string {
  return `schema${schemas.length === 1 ? '' : 's'} ${schemas.map((s) => `"${s}"`).join(', ')}`;
}

/** The list with every entry of stagedb's schema but its audit_log (and what belongs to it) commented out. */
export function auditTrailOnly(toc: string[]): string[] {
  const entry = new RegExp(`^\\d+; \\d+ \\d+ (?:[A-Z]+ )+${AUDIT_SCHEMA} (\\S+) `);
  return toc.map((l) => {
    const m = entry.exec(l);
    return m && !m[1]!.startsWith('audit_log') ? `;${l}` : l;
  });
}

/** The psql that belongs to this pg_restore (same directory, same version): it replays pg_restore's script. */
async function psqlBeside(pgRestore: PgToolInfo): Promise<string> {
  const path = join(dirname(pgRestore.path), process.platform === 'win32' ? 'psql.exe' : 'psql');
  if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  throw new StagedbError('config', 'E_PG_TOOL_MISSING', `psql was not found beside ${pgRestore.path}; stagedb restores in one transaction through the psql of the same PostgreSQL client tools`, {
    fix: installHint(pgRestore.major),
  });
}

interface TargetInfo {
  vn: string;
  db: string;
  audit: boolean;
  existing: string[];
  public_owner: string | null;
  public_grants: Array<{ grantee: string; privilege: string; grantable: boolean }>;
}

/**
 * Objects in other schemas that depend on what the restore drops (a foreign key from an unrelated
 * schema's table, a view over a replaced table, a column of a replaced enum type): DROP SCHEMA …
 * CASCADE would drop them too, silently touching a schema the restore does not own. Refused instead.
 */
async function refuseOutsideDependents(client: Client, target: ResolvedEnvironment, schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  const r = await client.query<{ what: string }>(
    `WITH s AS (SELECT oid FROM pg_namespace WHERE nspname = ANY($1::text[])),
          ref AS (SELECT 'pg_class'::regclass AS cls, oid FROM pg_class WHERE relnamespace IN (SELECT oid FROM s)
                  UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type WHERE typnamespace IN (SELECT oid FROM s)
                  UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc WHERE pronamespace IN (SELECT oid FROM s)),
          dep AS (SELECT d.classid, d.objid,
                         CASE d.classid
                           WHEN 'pg_constraint'::regclass THEN (SELECT coalesce(r.relnamespace, t.typnamespace) FROM pg_constraint k LEFT JOIN pg_class r ON r.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid WHERE k.oid = d.objid)
                           WHEN 'pg_rewrite'::regclass THEN (SELECT r.relnamespace FROM pg_rewrite w JOIN pg_class r ON r.oid = w.ev_class WHERE w.oid = d.objid)
                           WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.objid)
                           WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.objid)
                           WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.objid)
                           WHEN 'pg_trigger'::regclass THEN (SELECT r.relnamespace FROM pg_trigger g JOIN pg_class r ON r.oid = g.tgrelid WHERE g.oid = d.objid)
                         END AS nsp
                    FROM pg_depend d JOIN ref ON d.refclassid = ref.cls AND d.refobjid = ref.oid
                   WHERE d.deptype = 'n')
     SELECT DISTINCT pg_describe_object(classid, objid, 0) AS what FROM dep
      WHERE nsp IS NOT NULL AND nsp NOT IN (SELECT oid FROM s) AND nsp <> (SELECT oid FROM pg_namespace WHERE nspname = $2)
      ORDER BY 1 LIMIT 20`,
    [schemas, AUDIT_SCHEMA],
  );
  if (r.rows.length === 0) return;
  throw new StagedbError('backup', 'E_RESTORE_DEPENDENTS', `${target.name}: restoring ${schemaList(schemas)} would also drop ${r.rows.length === 20 ? 'at least 20 objects' : `${r.rows.length} object${r.rows.length === 1 ? '' : 's'}`} in other schemas that depend on ${schemas.length === 1 ? 'it' : 'them'}; nothing was changed`, {
    details: r.rows.map((x) => x.what),
    fix: `name those schemas in the datasource too (schemas = [...] in schema.prisma), so they are restored with it, or drop what depends on ${schemaList(schemas)} first`,
  });
}

/**
 * The start of the restore's transaction: drop the schemas it replaces and re-create `public` with
 * its owner and privileges (pg_dump assumes it exists and never writes it). One statement a line, so
 * psql's line number says whether an error came from here.
 */
function clearSql(info: TargetInfo, replace: string[], created: string[]): string {
  const sql = ['BEGIN;', "SET LOCAL lock_timeout = '10s';"];
  for (const s of replace) if (info.existing.includes(s)) sql.push(`DROP SCHEMA ${quoteIdent(s)} CASCADE;`);
  // An archive of a database whose public schema was re-created by hand creates it itself.
  if (replace.includes('public') && !created.includes('public')) {
    sql.push('CREATE SCHEMA public;');
    if (info.public_owner !== null) {
      sql.push(`ALTER SCHEMA public OWNER TO ${info.public_owner};`);
      for (const g of info.public_grants) sql.push(`GRANT ${g.privilege} ON SCHEMA public TO ${g.grantee}${g.grantable ? ' WITH GRANT OPTION' : ''};`);
    }
  }
  // Large objects belong to no schema: the backup's replace the target's.
  sql.push('SELECT count(lo_unlink(oid)) FROM pg_largeobject_metadata;', "SET LOCAL lock_timeout = '0';");
  return `${sql.join('\n')}\n`;
}

const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
const HISTORY_MISMATCH = 'stagedb: the restored _prisma_migrations does not match the manifest';

/**
 * The end of the restore's transaction, before COMMIT: the restored `_prisma_migrations` must list
 * exactly the manifest's migrations, or the whole restore is rolled back (a `?schema=` that differs
 * from the backup's would otherwise commit a database whose history is elsewhere). Names are
 * qualified: pg_restore's script has emptied search_path.
 */
export function historyCheckSql(schema: string, names: string[]): string {
  const table = `${quoteIdent(schema)}."_prisma_migrations"`;
  const want = names.length === 0 ? `'{}'::text[]` : `ARRAY[${names.map(sqlLiteral).join(', ')}]::text[]`;
  return `
DO $stagedb_check$
DECLARE want text[] := ${want}; got text[] := '{}'; missing text[]; extra text[];
BEGIN
  IF pg_catalog.to_regclass(${sqlLiteral(table)}) IS NOT NULL THEN
    SELECT coalesce(pg_catalog.array_agg(migration_name::text), '{}') INTO got FROM ${table} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL;
  END IF;
  missing := ARRAY(SELECT pg_catalog.unnest(want) EXCEPT SELECT pg_catalog.unnest(got) ORDER BY 1);
  extra := ARRAY(SELECT pg_catalog.unnest(got) EXCEPT SELECT pg_catalog.unnest(want) ORDER BY 1);
  IF pg_catalog.cardinality(missing) > 0 OR pg_catalog.cardinality(extra) > 0 THEN
    RAISE EXCEPTION ${sqlLiteral(HISTORY_MISMATCH)} USING DETAIL = pg_catalog.json_build_object('missing', missing, 'extra', extra)::text;
  END IF;
END
$stagedb_check$;
COMMIT;
`;
}

interface OneTransactionResult {
  ok: boolean;
  /** pg_restore's exit code (it reads the archive). */
  readCode: number | null;
  /** What pg_restore said went wrong reading the archive. */
  readErrors: string[];
  /** psql's exit code (it runs the SQL: 3 for an SQL error, 2 for a lost connection). */
  runCode: number | null;
  /** psql's error lines, its `psql:<stdin>:N:` prefix and the LOCATION lines removed; `line` is N of the first. */
  runErrors: string[];
  line?: number;
}

/**
 * pg_restore writes the archive as SQL to its stdout; this process passes it on to psql's stdin,
 * after the clearing (`head`). `--single-transaction` makes pg_restore write one BEGIN … COMMIT
 * around everything (without it, its script commits large objects in a transaction of their own,
 * which would commit the clearing with them); its BEGIN inside ours only warns. The last bytes of
 * the script, which hold its COMMIT, are held back: only once pg_restore has exited 0 is that COMMIT
 * replaced by the history check and a COMMIT (`tail`) and sent. If pg_restore fails, psql is killed
 * before it ever sees a COMMIT, and the server rolls the transaction back when the connection goes
 * (psql's own --single-transaction would commit what it read of a truncated script: it reaches the
 * end of its input and sends COMMIT). If psql fails (ON_ERROR_STOP), it exits and pg_restore is stopped.
 */
async function restoreInOneTransaction(i: Omit<PgRestoreInput, 'jobs'> & { psql: string; head: string; tail: string }): Promise<OneTransactionResult> {
  const conn = await toolConnectionFor(i.url, i.appName, i.processEnv, RESTORE_SETTINGS);
  const tables = new TableProgress(i.manifest.tables.map((t) => ({ schema: t.schema, name: t.name, bytes: t.bytes, rows: t.rows ?? t.estimatedRows, exact: t.rows !== undefined })));
  const run = runTool('psql', i.psql, ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--set=VERBOSITY=verbose', `--dbname=${conn.dbname}`], conn.env, { stdin: 'pipe' });
  const stdin = run.child.stdin!;
  stdin.on('error', () => {}); // psql has exited: its exit code and stderr say why
  stdin.write(i.head);
  const read = runTool(
    'pg_restore',
    i.pgRestore.path,
    ['--file=-', '--single-transaction', '--no-owner', ...(i.withPrivileges ? [] : ['--no-acl']), ...(i.listFile ? [`--use-list=${i.listFile}`] : []), '--verbose', i.archive],
    readerEnv(conn.env),
    { stdout: 'pipe', onLine: (l) => feedVerbose(tables, l, false) },
  );
  const held = new HoldBack(TAIL_HELD);
  read.child.stdout!.pipe(held).pipe(stdin, { end: false });
  const heldAll = new Promise<void>((resolve) => held.once('end', resolve));
  void run.done.then(() => {
    if (read.child.exitCode === null && read.child.signalCode === null) read.child.kill('SIGTERM');
  });
  const stopProgress = i.onProgress ? watchProgress(i, tables) : undefined;
  try {
    const r = await read.done;
    if (r.spawnError) throw new StagedbError('config', 'E_PG_TOOL_MISSING', `cannot run ${i.pgRestore.path}: ${r.spawnError.message}`, { fix: 'check STAGEDB_PG_BIN, or reinstall the PostgreSQL client tools' });
    let unexpected: string | undefined;
    if (r.code === 0 && run.child.exitCode === null) {
      await Promise.race([heldAll, run.done]);
    }
    if (r.code === 0 && run.child.exitCode === null) {
      const last = withTail(held.rest(), i.tail);
      if (last === undefined) unexpected = "pg_restore's script did not end with the COMMIT of its --single-transaction";
      else stdin.end(last);
    }
    if (r.code !== 0 || unexpected) run.child.kill('SIGTERM'); // never a COMMIT: the transaction dies with psql's connection
    const q = await run.done;
    if (q.spawnError) throw new StagedbError('config', 'E_PG_TOOL_MISSING', `cannot run ${i.psql}: ${q.spawnError.message}`, { fix: 'check STAGEDB_PG_BIN, or reinstall the PostgreSQL client tools' });
    const ok = r.code === 0 && !unexpected && q.code === 0;
    if (ok) tables.allDone();
    const first = q.errors.map((l) => /^psql:<stdin>:(\d+): /.exec(l)).find((x) => x);
    return {
      ok,
      readCode: r.code === 0 && unexpected ? 1 : r.code,
      readErrors: unexpected ? [unexpected] : r.errors,
      runCode: q.code,
      runErrors: q.errors.filter((l) => !/^LOCATION:|there is already a transaction in progress/.test(l)).map((l) => l.replace(/^psql:<stdin>:\d+: /, '')),
      line: first ? Number(first[1]) : undefined,
    };
  } finally {
    await stopProgress?.();
  }
}

/** What is held back of pg_restore's script: its end (COMMIT, a comment, \unrestrict) is a few hundred bytes. */
const TAIL_HELD = 64 * 1024;

/** Passes everything on except the last `keep` bytes, which `rest()` returns once the input has ended. */
class HoldBack extends Transform {
  private held: Buffer[] = [];
  private size = 0;
  constructor(private readonly keep: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.held.push(chunk);
    this.size += chunk.length;
    while (this.held.length > 1 && this.size - this.held[0]!.length >= this.keep) {
      const out = this.held.shift()!;
      this.size -= out.length;
      this.push(out);
    }
    cb();
  }
  override _flush(cb: TransformCallback): void {
    cb(); // the held bytes stay held: rest() hands them out
  }
  rest(): Buffer {
    return Buffer.concat(this.held);
  }
}

/** The end of pg_restore's script with its final COMMIT replaced by `tail` (which ends in COMMIT); undefined without one. */
export function withTail(end: Buffer, tail: string): Buffer | undefined {
  const text = end.toString('latin1'); // byte for byte, whatever the encoding
  const at = text.lastIndexOf('\nCOMMIT;\n');
  if (at < 0) return undefined;
  return Buffer.concat([end.subarray(0, at + 1), Buffer.from(tail), end.subarray(at + '\nCOMMIT;\n'.length)]);
}

/** pg_restore --file connects nowhere: it gets no password. */
function readerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { PGPASSWORD: _, ...rest } = env;
  return rest;
}

function watchProgress(i: Omit<PgRestoreInput, 'jobs'>, tables: TableProgress): () => Promise<void> {
  const t0 = Date.now();
  let watchFailed = !i.watch;
  let ticking: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
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
  return async () => {
    clearInterval(timer);
    await ticking;
  };
}

/** The error for a restore that was rolled back: which part failed, and that nothing was changed. */
function restoreFailed(r: OneTransactionResult, target: ResolvedEnvironment, db: string, m: BackupManifest, headLines: number): StagedbError {
  const kept = `${db} was left as it was (the restore runs in one transaction)`;
  const sqlError = r.runErrors.find((l) => /^(ERROR|FATAL):/.test(l));
  const code = sqlError ? /^(?:ERROR|FATAL):\s+([0-9A-Z]{5}): /.exec(sqlError)?.[1] : undefined;
  const again = `then run the same restore again`;
  if (!sqlError && r.readCode !== 0) {
    // psql was fine: pg_restore could not read the archive to the end.
    return new StagedbError('backup', 'E_RESTORE_FAILED', `${target.name}: pg_restore failed${r.readCode === null ? '' : ` (exit ${r.readCode})`}; ${kept}`, {
      details: r.readErrors,
      fix: `backup ${m.id} cannot be read to the end although its checksums match (damaged before it was recorded, or by another pg_restore): restore an older backup (stagedb backup list), and take a new one`,
    });
  }
  const text = r.runErrors.join('\n');
  if (code === '55P03' && r.line !== undefined && r.line <= headLines) {
    return new StagedbError('backup', 'E_RESTORE_LOCKED', `${target.name}: another session holds a lock on a table the restore replaces; nothing was changed`, {
      details: r.runErrors,
      fix: `stop the application's connections to ${target.name} (or wait for the long transaction), ${again}`,
    });
  }
  if (code === '42501') {
    return new StagedbError('backup', 'E_RESTORE_PRIVILEGES', `${target.name}: the database user may not replace the database's contents; nothing was changed`, {
      details: r.runErrors,
      fix: `restore with the database owner's credentials in ${target.name}'s directUrl`,
    });
  }
  if (text.includes(HISTORY_MISMATCH)) {
    const detail = /^DETAIL:\s+(\{.*\})$/m.exec(text)?.[1];
    const d = detail ? (JSON.parse(detail) as { missing: string[] | null; extra: string[] | null }) : { missing: [], extra: [] };
    return new StagedbError('backup', 'E_RESTORE_HISTORY', `${target.name}: the restored _prisma_migrations does not match backup ${m.id}'s manifest; nothing was changed`, {
      details: [...(d.missing ?? []).map((n) => `missing: ${n}`), ...(d.extra ?? []).map((n) => `not in the backup: ${n}`)],
      fix: `check the schema of ${target.name}'s URL (?schema=${target.directInfo.schema}) against the backup's (${m.database.schema}), then restore again`,
    });
  }
  if (/No space left on device|could not extend file/i.test(text)) {
    return new StagedbError('backup', 'E_RESTORE_DISK_FULL', `${target.name}: the database server ran out of disk space during the restore; ${kept}`, {
      details: r.runErrors,
      fix: `free space on the server (or grow the RDS volume), ${again}`,
    });
  }
  return new StagedbError('backup', 'E_RESTORE_FAILED', `${target.name}: the restore failed${r.runCode === 2 ? ': the connection to the server was lost' : ''}; ${kept}`, {
    details: [...r.runErrors, ...r.readErrors.filter((l) => !/Broken pipe|could not write to output file/i.test(l))],
    fix: `fix what the lines above say (a missing role or extension, a full disk), ${again}`,
  });
}

/**
 * Settings for the restore's session (psql's) and verify's scratch restore (pg_restore's own).
 * synchronous_commit=off: a serial pg_restore commits every statement, and each commit waits for its
 * WAL flush (on a networked volume, a millisecond or more, hundreds of times); the one-transaction
 * restore commits once, and its commit need not wait either. Nothing is reported done before one
 * synchronous commit afterwards has flushed it all (applyRestore).
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
  const conn = await toolConnectionFor(i.url, i.appName, i.processEnv, RESTORE_SETTINGS);
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
  const tables = new TableProgress(i.manifest.tables.map((t) => ({ schema: t.schema, name: t.name, bytes: t.bytes, rows: t.rows ?? t.estimatedRows, exact: t.rows !== undefined })));
  const run = runTool('pg_restore', i.pgRestore.path, args, conn.env, { onLine: (l) => feedVerbose(tables, l, i.jobs > 1) });
  const stopProgress = i.onProgress ? watchProgress(i, tables) : undefined;
  try {
    const r = await run.done;
    if (r.spawnError) throw new StagedbError('config', 'E_PG_TOOL_MISSING', `cannot run ${i.pgRestore.path}: ${r.spawnError.message}`, { fix: 'check STAGEDB_PG_BIN, or reinstall the PostgreSQL client tools' });
    if (r.code === 0) tables.allDone();
    return { ok: r.code === 0, code: r.code, errors: r.errors };
  } finally {
    await stopProgress?.();
  }
}

