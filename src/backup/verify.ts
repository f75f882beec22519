import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { StagedbError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { redact } from '../redact.js';
import { fetchArchive } from './fetch.js';
import { formatBytes } from '../format.js';
import type { BackupManifest } from './manifest.js';
import type { Progress } from './progress.js';
import { listToc, pgRestore } from './restore.js';
import { tableStats } from './source.js';
import type { BackupStorage } from './storage.js';
import { findTool, type FindToolOptions } from './tools.js';

export interface VerifyOptions {
  storage: BackupStorage;
  manifest: BackupManifest;
  /** The environment whose storage this is: a backup of another one stored here is reported. */
  environment: string;
  /** Also restore it into a scratch database and compare every table with the manifest. */
  deep?: boolean;
  /**
   * For `deep`: a PostgreSQL URL on whose server a scratch database may be created and dropped
   * (needs CREATEDB). Default: a throwaway local cluster (PostgreSQL's server binaries on this machine).
   */
  scratchUrl?: string;
  workDir?: string;
  processEnv?: NodeJS.ProcessEnv;
  toolSearch?: FindToolOptions['searchDirs'];
  /** Store the result beside the backup (verify.json), for `list` and `prune` (default true). */
  record?: boolean;
  onProgress?: (p: Progress) => void;
  onStep?: (line: string) => void;
}

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface TableComparison {
  table: string;
  rows: number;
  expectedRows?: number;
  checksumOk?: boolean;
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  deep: boolean;
  checks: VerifyCheck[];
  /** deep: every table as restored, against the manifest. */
  tables?: TableComparison[];
  /** deep: notes that do not fail the verification (e.g. a busy database's sequences moved during the dump). */
  notes: string[];
  recorded: boolean;
}

/**
 * Proves a backup can be trusted: every file's size and sha256 against the manifest, the archive's
 * table of contents read by pg_restore, and with `deep` a real restore into a scratch database
 * whose every table must have the row count and content checksum recorded at backup time.
 */
export async function verifyBackup(o: VerifyOptions): Promise<VerifyResult> {
  const m = o.manifest;
  const checks: VerifyCheck[] = [];
  const notes: string[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    o.onStep?.(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  };
  check(
    'environment',
    m.environment === o.environment,
    m.environment === o.environment ? `a backup of ${m.environment} (database ${m.database.name})` : `a backup of ${m.environment} (database ${m.database.name} on ${m.database.host}), stored among ${o.environment}'s backups: from another database`,
  );
  const archive = await fetchArchive(o.storage, m, { workDir: o.workDir, onProgress: o.onProgress });
  let tables: TableComparison[] | undefined;
  try {
    check('checksum', archive.problems.length === 0, archive.problems.length === 0 ? `${m.dump.files.length} file${m.dump.files.length === 1 ? '' : 's'}, ${formatBytes(m.size)}, sha256 ${m.sha256.slice(0, 12)}… as recorded` : archive.problems.join('; '));
    const major = Math.floor(Number(m.pgDump.version.split('.')[0]));
    const tool = await findTool('pg_restore', major, `backup ${m.id}`, { env: o.processEnv, searchDirs: o.toolSearch });
    const toc = archive.problems.length === 0 ? await listToc(tool, archive.path) : undefined;
    if (toc) {
      const data = toc.ok ? toc.lines.filter((l) => / TABLE DATA /.test(l)).length : 0;
      check('pg_restore --list', toc.ok, toc.ok ? `${tool.path} ${tool.version} reads its table of contents (${data} table${data === 1 ? '' : 's'} of data)` : toc.error);
    }
    if (o.deep && checks.every((c) => c.ok)) {
      tables = await deepVerify(o, archive.path, tool, check, notes);
    }
  } finally {
    await archive.cleanup();
  }
  const ok = checks.every((c) => c.ok);
  let recorded = false;
  if (o.record ?? true) {
    const summary = ok ? `${o.deep ? 'deep: restored and compared' : 'checksum and table of contents'} ok` : checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ');
    try {
      await o.storage.writeVerification(m.id, { at: new Date().toISOString(), ok, deep: Boolean(o.deep), summary: redact(summary) });
      recorded = true;
    } catch (e) {
      notes.push(`could not record the result beside the backup: ${(e as Error).message}`);
    }
  }
  return { id: m.id, ok, deep: Boolean(o.deep), checks, tables, notes, recorded };
}

type Check = (name: string, ok: boolean, detail: string) => void;

async function deepVerify(o: VerifyOptions, archive: string, tool: Awaited<ReturnType<typeof findTool>>, check: Check, notes: string[]): Promise<TableComparison[]> {
  const m = o.manifest;
  const scratch = await openScratch(o);
  try {
    o.onStep?.(`restoring into a scratch database (${scratch.describe})…`);
    const r = await pgRestore({
      pgRestore: tool,
      archive,
      url: scratch.url,
      appName: `stagedb verify ${m.id}`,
      jobs: Math.max(1, Math.min(availableParallelism(), 4)),
      withPrivileges: false,
      manifest: m,
      processEnv: o.processEnv,
      onProgress: o.onProgress,
    });
    check('restore', r.ok, r.ok ? `restored into ${scratch.describe}` : `pg_restore failed: ${r.errors.slice(0, 5).join(' | ')}`);
    if (!r.ok) return [];
    const client = await connect(scratch.url, { label: 'scratch database', purpose: 'verify' });
    try {
      return await compare(client, m, check, notes);
    } finally {
      await client.end().catch(() => {});
    }
  } finally {
    await scratch.dispose();
  }
}

async function compare(client: Client, m: BackupManifest, check: Check, notes: string[]): Promise<TableComparison[]> {
  const out: TableComparison[] = [];
  const algorithm = m.checksums?.algorithm;
  const got = await tableStats(client, m.tables, algorithm);
  const counted = m.tables.every((t) => t.rows !== undefined);
  const bad: string[] = [];
  for (const t of m.tables) {
    const name = `${t.schema}.${t.name}`;
    const g = got.tables.get(name);
    const checksumOk = algorithm ? g !== undefined && g.checksum === t.checksum : undefined;
    out.push({ table: name, rows: g?.rows ?? 0, ...(t.rows === undefined ? {} : { expectedRows: t.rows }), ...(checksumOk === undefined ? {} : { checksumOk }) });
    if (!g) bad.push(`${name} is missing`);
    else if (t.rows !== undefined && g.rows !== t.rows) bad.push(`${name} has ${g.rows} rows, ${t.rows} at backup time`);
    else if (checksumOk === false) bad.push(`${name}: same ${g.rows} rows, different content`);
  }
  const rows = out.reduce((s, t) => s + t.rows, 0);
  const what = algorithm ? 'every row count and content checksum as at backup time' : counted ? 'every row count as at backup time' : 'restored';
  check('tables', bad.length === 0, bad.length === 0 ? `${m.tables.length} tables, ${rows} rows: ${what}` : bad.join('; '));
  if (!counted) notes.push('this backup recorded no row counts: the deep verification proves it restores, not that it holds every row');
  else if (!algorithm) notes.push('row counts compared; content checksums were not recorded (stagedb backup --checksums, or backup.checksums: true, records them)');
  const lo = got.largeObjects;
  const loOk = lo.count === m.largeObjects.count && (m.largeObjects.checksum === undefined || lo.checksum === m.largeObjects.checksum);
  if (m.largeObjects.count > 0 || lo.count > 0) check('large objects', loOk, loOk ? `${lo.count}${m.largeObjects.checksum ? ', content as at backup time' : ''}` : `${lo.count} restored, ${m.largeObjects.count} at backup time${lo.count === m.largeObjects.count ? ', different content' : ''}`);
  const seq = await client.query<{ schema: string; name: string; v: string | null }>(`SELECT schemaname AS schema, sequencename AS name, last_value::text AS v FROM pg_sequences`);
  const now = new Map(seq.rows.map((s) => [`${s.schema}.${s.name}`, s.v]));
  const moved = m.sequences.filter((s) => now.get(`${s.schema}.${s.name}`) !== s.lastValue);
  if (moved.length > 0) {
    notes.push(`sequences are not transactional, so a busy database's may move while it is dumped: ${moved.map((s) => `${s.schema}.${s.name} ${now.get(`${s.schema}.${s.name}`) ?? 'missing'} (recorded ${s.lastValue ?? 'unused'})`).join(', ')}`);
  }
  return out;
}

interface Scratch {
  url: string;
  describe: string;
  dispose(): Promise<void>;
}

/** A database to restore into and throw away: on `scratchUrl`'s server, or on a throwaway local cluster. */
async function openScratch(o: VerifyOptions): Promise<Scratch> {
  const name = `stagedb_verify_${randomBytes(4).toString('hex')}`;
  const { createDatabase, dropDatabase } = await import('../pg/cluster.js');
  if (o.scratchUrl) {
    // Administration (CREATE/DROP DATABASE) goes through the URL as given; the restore, to the scratch database.
    const target = { url: (db = 'postgres') => (db === 'postgres' ? o.scratchUrl! : withDatabase(o.scratchUrl!, db)) };
    const admin = await connect(o.scratchUrl, { label: '--scratch-url', purpose: 'verify' });
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (e) {
      throw new StagedbError('connection', 'E_SCRATCH', `cannot create a scratch database on --scratch-url's server: ${(e as Error).message}`, {
        fix: 'use a server where this user has CREATEDB, or leave --scratch-url out to use a throwaway local PostgreSQL',
        cause: e,
      });
    } finally {
      await admin.end().catch(() => {});
    }
    const u = new URL(o.scratchUrl);
    return { url: target.url(name), describe: `${name} on ${u.hostname}:${u.port || 5432}`, dispose: () => dropDatabase(target, name).catch(() => {}) };
  }
  const { startCluster, stopCluster } = await import('../pg/cluster.js');
  const dir = await mkdtemp(join(tmpdir(), 'stagedb-verify-'));
  // Under root the server runs as the postgres OS user, which must reach the data directory.
  await chmod(dir, 0o755);
  const dataDir = join(dir, 'pg', 'data');
  try {
    const cluster = await startCluster({ dataDir, fast: true });
    await createDatabase(cluster, name);
    return {
      url: cluster.url(name),
      describe: `a throwaway local PostgreSQL ${cluster.version}`,
      dispose: async () => {
        await stopCluster(dataDir).catch(() => {});
        await rm(dir, { recursive: true, force: true }).catch(() => {});
      },
    };
  } catch (e) {
    await stopCluster(dataDir).catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    if (e instanceof StagedbError && (e.code === 'E_PG_BINARIES_MISSING' || e.code === 'E_PG_BIN_INVALID')) {
      throw new StagedbError('config', 'E_SCRATCH', `backup verify --deep needs a scratch database: ${e.message}`, {
        fix: `${e.fix ?? 'install PostgreSQL\'s server binaries'}, or pass --scratch-url postgresql://USER:PASSWORD@HOST:5432/postgres (a server where a scratch database may be created and dropped)`,
      });
    }
    throw e;
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}
