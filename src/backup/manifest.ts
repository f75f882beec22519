import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StagedbError } from '../errors.js';
import { actor } from '../guard/audit.js';

/**
 * A backup is a dump (one file, or pg_dump's directory format) plus this manifest, written last: a
 * backup without a readable manifest is never listed as restorable. No URL, user or password is
 * ever part of it.
 */
export const MANIFEST_FORMAT = 'stagedb-backup/1';
export const MANIFEST_FILE = 'manifest.json';
/** The result of the last `backup verify`, stored beside the manifest (the manifest itself never changes). */
export const VERIFY_FILE = 'verify.json';
/** The custom-format archive's name; a directory-format dump is the folder `dump/`. */
export const CUSTOM_FILE = 'dump.pgdump';
export const DIRECTORY_NAME = 'dump';

/** One stored file of the dump, with its size and sha256 (hex). */
export interface BackupFile {
  name: string;
  size: number;
  sha256: string;
}

/** A table at backup time. `rows` and `checksum` are exact, read in the dump's own snapshot, when checksums were on. */
export interface TableStat {
  schema: string;
  name: string;
  /** pg_table_size at backup time: the weight of this table in progress estimates. */
  bytes: number;
  /** The planner's estimate (pg_class.reltuples), for progress. */
  estimatedRows: number;
  rows?: number;
  /** Sum of a 64-bit hash of every row's text (columns in name order); order-independent. */
  checksum?: string;
}

export interface SequenceStat {
  schema: string;
  name: string;
  /** null: never used (or not readable). Sequences are not transactional: a busy database's may move during the dump. */
  lastValue: string | null;
}

export interface AppliedMigrationRecord {
  name: string;
  checksum: string;
  finishedAt: string;
}

/** Who made a backup (never a password or URL). */
export interface BackupActor {
  osUser: string;
  host: string;
  gitAuthor?: string;
  ci?: string;
}

/** Who is acting, as the audit trail records it (no password, no URL). */
export function backupActor(root: string, processEnv: NodeJS.ProcessEnv): BackupActor {
  const a = actor(root, processEnv);
  return { osUser: a.osUser, host: a.host, ...(a.gitAuthor ? { gitAuthor: a.gitAuthor } : {}), ...(a.ci ? { ci: a.ci } : {}) };
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  environment: string;
  /** Where it came from: enough to recognise the database, nothing to log in with. */
  database: { name: string; host: string; port: number; schema: string };
  server: { version: string; versionNum: number };
  pgDump: { version: string };
  dump: { format: 'custom' | 'directory'; compression: number; jobs: number; files: BackupFile[] };
  /** Bytes stored (all files). */
  size: number;
  /** custom: the archive's sha256; directory: sha256 of the "sha256  name" lines of every file, sorted by name. */
  sha256: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** `_prisma_migrations` at backup time, in the dump's snapshot: finished, not rolled back, oldest first. */
  migrations: { table: boolean; applied: AppliedMigrationRecord[] };
  tables: TableStat[];
  sequences: SequenceStat[];
  largeObjects: { count: number; checksum?: string };
  /** Present when rows and checksums were recorded: the hash function, so a verification uses the same. */
  checksums?: { algorithm: ChecksumAlgorithm };
  reason: 'manual' | 'before-deploy';
  stagedbVersion: string;
  createdBy: BackupActor;
}

export type ChecksumAlgorithm = 'hashtextextended' | 'md5';

/** What `backup verify` found, kept as verify.json beside the manifest. */
export interface VerifyRecord {
  at: string;
  ok: boolean;
  deep: boolean;
  summary: string;
}

/** `production-20261127T130817Z-3f2a`: sorts by time within an environment; the suffix keeps two backups of one second apart. */
export function newBackupId(environment: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${environment}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** A safe backup id: what `newBackupId` makes (no slashes, no dots first), so it can never name a path outside the storage. */
export function isBackupId(id: string): boolean {
  return /^[a-z][a-z0-9_-]*-\d{8}T\d{6}Z-[0-9a-f]{4}$/.test(id);
}

/** When the id says (its timestamp), for incomplete backups that have no manifest. */
export function timeOfId(id: string): Date | undefined {
  const m = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{4}$/.exec(id);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

/** Parses and checks a manifest; anything else is a damaged backup, reported as such. */
export function parseManifest(text: string, where: string): BackupManifest {
  let m: Partial<BackupManifest>;
  try {
    m = JSON.parse(text) as Partial<BackupManifest>;
  } catch (e) {
    throw damaged(where, `its manifest is not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== MANIFEST_FORMAT) throw damaged(where, `its manifest has format ${JSON.stringify(m.format)}, not ${MANIFEST_FORMAT}`);
  const ok =
    typeof m.id === 'string' &&
    typeof m.environment === 'string' &&
    typeof m.sha256 === 'string' &&
    typeof m.size === 'number' &&
    !!m.dump &&
    Array.isArray(m.dump.files) &&
    m.dump.files.every((f) => typeof f.name === 'string' && typeof f.size === 'number' && typeof f.sha256 === 'string' && safeFileName(f.name)) &&
    !!m.migrations &&
    Array.isArray(m.migrations.applied) &&
    Array.isArray(m.tables);
  if (!ok) throw damaged(where, 'its manifest lacks required fields');
  return m as BackupManifest;
}

/** A stored file's name: relative, no `..`, so a tampered manifest cannot point outside its backup. */
function safeFileName(name: string): boolean {
  return name.length > 0 && !name.startsWith('/') && !name.split('/').some((p) => p === '..' || p === '' || p === '.');
}

function damaged(where: string, what: string): StagedbError {
  return new StagedbError('backup', 'E_BACKUP_DAMAGED', `backup ${where} is damaged: ${what}`, {
    fix: 'use another backup (stagedb backup list); this one cannot be trusted',
  });
}

let cachedVersion: string | undefined;
/** stagedb's own version, for the manifest. */
export function stagedbVersion(): string {
  if (cachedVersion) return cachedVersion;
  try {
    cachedVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    cachedVersion = 'unknown';
  }
  return cachedVersion;
}

/** The one byte and duration formatter (src/format.ts), where backup's modules have always found it. */
export { formatBytes, formatDuration } from '../format.js';
