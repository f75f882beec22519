/**
 * A project-local (or throwaway) PostgreSQL cluster: `initdb` on first use, `pg_ctl start` on a
 * loopback port, state remembered next to the data directory so a later process finds it again.
 *
 * Layout for `dataDir = /x/.stagedb/pg/data`:
 *   /x/.stagedb/pg/data           the cluster (mode 0700, owned by the server's OS user)
 *   /x/.stagedb/pg/cluster.json   port, superuser, password, binaries (mode 0600)
 *   /x/.stagedb/pg/postgres.log   server log
 *
 * PostgreSQL refuses to run as root. When stagedb runs as root, initdb/pg_ctl run as the `postgres`
 * OS user instead, the data directory is handed to that user, and every directory above it must be
 * searchable by that user (checked up front, with the exact `chmod` that fixes it).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { appendFile, chmod, chown, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import pg from 'pg';
import { StagedbError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { execCapture, type ExecOptions } from './exec.js';
import { findPgBinDir, majorOf, type PgBinaries } from './find-binaries.js';
import { quoteIdent } from './quote-ident.js';
import { shellQuote } from '../shell-quote.js';

/** How to find or create a cluster. */
export interface ClusterOptions {
  /** The data directory, e.g. `.stagedb/pg/data`. Created and initialised when missing or empty. */
  dataDir: string;
  /**
   * Loopback port to listen on. `0` or undefined: reuse the port of the last start when it is free,
   * otherwise pick a free one. Ignored when the cluster is already running (its port is returned).
   */
  port?: number;
  /** Superuser created by initdb (default `postgres`). Must match an existing cluster's. */
  superuser?: string;
  /** Superuser password; default: random, generated at initdb and kept in `cluster.json`. */
  password?: string;
  /**
   * Trade durability for speed (`fsync`, `synchronous_commit`, `full_page_writes` off). For test
   * clusters only: a crash of the machine can corrupt the data. Applied on each start.
   */
  fast?: boolean;
}

/** A cluster that is accepting connections on 127.0.0.1. */
export interface RunningCluster {
  host: string;
  port: number;
  user: string;
  password: string;
  dataDir: string;
  binDir: string;
  /** Server version of the binaries, e.g. `15.18`. */
  version: string;
  /** `postgresql://user:pass@127.0.0.1:port/<database>` (default database `postgres`). */
  url(database?: string): string;
  stop(): Promise<void>;
}

/** What {@link clusterStatus} can tell without connecting. */
export interface ClusterStatus {
  /** The data directory holds a cluster (`PG_VERSION` exists). */
  initialized: boolean;
  /** A postmaster owns the data directory (its `postmaster.pid` names a live process). */
  running: boolean;
  port?: number;
  pid?: number;
  /** Major version the data directory was created with (`PG_VERSION`), e.g. `15`. */
  version?: string;
}

/** Anything that can produce a connection URL for a database on a cluster, e.g. a {@link RunningCluster}. */
export interface ClusterTarget {
  url(database?: string): string;
}

/** Contents of `cluster.json`. */
interface ClusterState {
  format: 1;
  port: number;
  user: string;
  password: string;
  binDir: string;
  version: string;
}

/** The OS user the server runs as when stagedb itself runs as root. */
interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

const HOST = '127.0.0.1';
const SERVER_OS_USER = 'postgres';
const START_ATTEMPTS = 5;
const PG_CTL_TIMEOUT_S = '60';
const CONF_FILE = 'stagedb.conf';

interface Layout {
  dataDir: string;
  base: string;
  stateFile: string;
  logFile: string;
}

function layoutOf(dataDir: string): Layout {
  const abs = resolve(dataDir);
  const base = dirname(abs);
  return { dataDir: abs, base, stateFile: join(base, 'cluster.json'), logFile: join(base, 'postgres.log') };
}

const isErrno = (e: unknown, code: string): boolean =>
  typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;

/** Read a file, `undefined` when it does not exist; any other failure becomes a typed error. */
async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw new StagedbError('config', 'E_PG_DATADIR_UNREADABLE', `Cannot read ${file}: ${(e as Error).message}`, {
      fix: 'run stagedb as the OS user that created the cluster (or as root)',
      cause: e,
    });
  }
}

function lastLines(text: string, n = 20): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-n);
}

// ---------------------------------------------------------------------------------------------------
// OS user and processes

async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = (await readIfExists('/etc/passwd')) ?? '';
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === SERVER_OS_USER && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new StagedbError(
    'config',
    'E_PG_OS_USER_MISSING',
    `PostgreSQL refuses to run as root, and there is no \`${SERVER_OS_USER}\` OS user to run it as.`,
    { fix: `useradd --system --user-group --home-dir /var/lib/postgresql ${SERVER_OS_USER}   (or run stagedb as a non-root user)` },
  );
}

/** Environment for the server tools: no inherited PG* variables (a stray PGPORT or PGDATA must not
 * redirect them) and the C locale, so log messages are in English and can be recognised. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  env.LANG = 'C';
  return env;
}

function execAs(user: ServerUser | undefined, cwd: string): ExecOptions {
  return { cwd, env: serverEnv(), uid: user?.uid, gid: user?.gid };
}

async function giveTo(user: ServerUser | undefined, file: string): Promise<void> {
  if (user) await chown(file, user.uid, user.gid);
}

/** As root: make sure the server's OS user can reach `dir`, naming the first directory that blocks it. */
async function assertReachable(user: ServerUser | undefined, dir: string): Promise<void> {
  if (!user) return;
  const searchable = async (d: string) =>
    (await execCapture('/bin/sh', ['-c', 'test -x "$1"', 'sh', d], execAs(user, '/'))).code === 0;
  if (await searchable(dir)) return;
  let blocker = dir;
  const parts = dir.split(sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const d = sep + parts.slice(0, i).join(sep);
    if (!(await searchable(d))) {
      blocker = d;
      break;
    }
  }
  throw new StagedbError(
    'config',
    'E_PG_DIR_NOT_REACHABLE',
    `PostgreSQL runs as the OS user ${user.name} (stagedb runs as root), and that user cannot reach ${dir}: ${blocker} is not searchable by it.`,
    { fix: `chmod o+x ${shellQuote(blocker)}   (or keep the cluster under a directory ${user.name} can reach)` },
  );
}

// ---------------------------------------------------------------------------------------------------
// State and ports

async function readState(l: Layout): Promise<ClusterState | undefined> {
  const text = await readIfExists(l.stateFile);
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as Partial<ClusterState>;
    if (typeof s.user === 'string' && typeof s.password === 'string' && typeof s.port === 'number') {
      return {
        format: 1,
        port: s.port,
        user: s.user,
        password: s.password,
        binDir: String(s.binDir ?? ''),
        version: String(s.version ?? ''),
      };
    }
  } catch {
    /* fall through: treated as missing */
  }
  return undefined;
}

async function writeState(l: Layout, state: ClusterState): Promise<void> {
  // Write then rename, so a reader never sees half a file; 0600 because it holds the password.
  const tmp = `${l.stateFile}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(tmp, l.stateFile);
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: HOST, port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : port;
      srv.close(() => resolvePort(got));
    });
  });
}

/** A port that was free a moment ago. Another process may take it before the server binds it; the
 * start loop retries on "address in use". */
const freePort = (): Promise<number> => listenOnce(0);

const isPortFree = (port: number): Promise<boolean> => listenOnce(port).then(
  () => true,
  () => false,
);

// ---------------------------------------------------------------------------------------------------
// Status

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM'); // exists, but belongs to another user
  }
}

/**
 * A stale postmaster.pid (server killed, machine or container restarted) can name a pid that now
 * belongs to another program (containers reuse low pids all the time), or a killed postmaster that
 * nobody has reaped yet (a zombie still answers `kill(pid, 0)`). Where /proc exists it settles both.
 */
async function isPostgresProcess(pid: number): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true; // no /proc (macOS) or not readable: trust the pid file, as pg_ctl does
  }
  // "<pid> (<comm>) <state> ...": comm may itself contain spaces and parentheses.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  const state = stat.slice(close + 2, close + 3);
  return (comm === 'postgres' || comm === 'postmaster') && state !== 'Z' && state !== 'X';
}

/**
 * Whether `dataDir` holds a cluster and whether a server is running on it, from the files in the
 * data directory alone (no connection, no binaries needed).
 */
export async function clusterStatus(dataDir: string): Promise<ClusterStatus> {
  const l = layoutOf(dataDir);
  const version = (await readIfExists(join(l.dataDir, 'PG_VERSION')))?.trim();
  if (version === undefined) return { initialized: false, running: false };
  // postmaster.pid lines: pid, data dir, start time, port, socket dir, listen address, shm key, status.
  const pidFile = await readIfExists(join(l.dataDir, 'postmaster.pid'));
  const lines = pidFile?.split('\n') ?? [];
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !(await isPostgresProcess(pid))) {
    return { initialized: true, running: false, version };
  }
  const port = Number.parseInt(lines[3] ?? '', 10);
  return { initialized: true, running: true, pid, port: Number.isInteger(port) ? port : undefined, version };
}

// ---------------------------------------------------------------------------------------------------
// initdb and pg_ctl

async function serverBinaries(dataMajor: string | undefined): Promise<PgBinaries> {
  if (dataMajor === undefined) return findPgBinDir();
  const major = Number.parseInt(dataMajor, 10);
  const bins = await findPgBinDir({ major });
  if (majorOf(bins.version) !== major) {
    throw new StagedbError(
      'config',
      'E_PG_VERSION_MISMATCH',
      `The cluster was created by PostgreSQL ${dataMajor}, but only PostgreSQL ${bins.version} binaries were found (${bins.binDir}).`,
      { fix: `apt-get install postgresql-${dataMajor}   (or set STAGEDB_PG_BIN to its bin directory)` },
    );
  }
  return bins;
}

async function initCluster(l: Layout, bins: PgBinaries, state: ClusterState, user: ServerUser | undefined): Promise<void> {
  await mkdir(l.dataDir, { recursive: true, mode: 0o700 });
  await chmod(l.dataDir, 0o700);
  await giveTo(user, l.dataDir);
  // initdb reads the password from a file; it lives only for the duration of initdb.
  const pwfile = join(l.base, `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${state.password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await giveTo(user, pwfile);
    const r = await execCapture(
      join(bins.binDir, 'initdb'),
      [
        '--pgdata', l.dataDir,
        '--username', state.user,
        '--pwfile', pwfile,
        '--auth', 'scram-sha-256',
        '--encoding', 'UTF8',
        '--locale', 'C',
        // A freshly created cluster holds nothing yet: not fsyncing it saves seconds on every test run.
        '--no-sync',
      ],
      execAs(user, l.base),
    );
    if (r.code !== 0) {
      throw new StagedbError('config', 'E_PG_INITDB_FAILED', `initdb failed for ${l.dataDir} (exit ${r.code ?? r.signal}).`, {
        details: lastLines(`${r.stdout}\n${r.stderr}`),
        fix: `fix the cause above, then empty ${l.dataDir} and start again`,
      });
    }
  } finally {
    await rm(pwfile, { force: true });
  }
  await makeSelfSignedCertificate(l, user);
  await appendFile(
    join(l.dataDir, 'postgresql.conf'),
    `\n# Added by stagedb: listen address, port and speed settings, rewritten on every start.\ninclude_if_exists = '${CONF_FILE}'\n`,
  );
}

/**
 * A self-signed certificate (CN=localhost) in the data directory, so the local server speaks TLS like
 * RDS does and a `sslmode=require` URL — what production-level environments demand — works against
 * it too. Without `openssl` on the machine the server simply runs without TLS.
 */
async function makeSelfSignedCertificate(l: Layout, user: ServerUser | undefined): Promise<void> {
  const crt = join(l.dataDir, 'server.crt');
  const key = join(l.dataDir, 'server.key');
  const r = await execCapture(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/CN=localhost', '-keyout', key, '-out', crt],
    { cwd: l.base },
  ).catch(() => undefined);
  if (!r || r.code !== 0) {
    await rm(crt, { force: true });
    await rm(key, { force: true });
    return;
  }
  await chmod(key, 0o600);
  await giveTo(user, key);
  await giveTo(user, crt);
}

async function writeServerConf(l: Layout, port: number, fast: boolean, user: ServerUser | undefined): Promise<void> {
  const lines = [
    '# Written by stagedb on every start; put your own settings in postgresql.conf.',
    `listen_addresses = '${HOST}'`,
    `port = ${port}`,
    // TCP only: no socket file to collide with a system cluster in /var/run/postgresql or /tmp.
    "unix_socket_directories = ''",
  ];
  if (fast) lines.push('fsync = off', 'synchronous_commit = off', 'full_page_writes = off');
  if ((await readIfExists(join(l.dataDir, 'server.key'))) !== undefined) lines.push('ssl = on');
  const file = join(l.dataDir, CONF_FILE);
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  await giveTo(user, file);
}

/** The log file must exist before pg_ctl opens it: as root, the server's user cannot create files in
 * the (root-owned) state directory. */
async function logOffset(l: Layout, user: ServerUser | undefined): Promise<number> {
  const fh = await open(l.logFile, 'a', 0o600);
  await fh.close();
  await giveTo(user, l.logFile);
  return (await stat(l.logFile)).size;
}

async function readLogFrom(file: string, offset: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.max(0, size - offset);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, offset);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A postmaster.pid whose pid now belongs to another program would make the server refuse to start
 * ("lock file already exists"); it is provably stale, so it goes. */
async function removeForeignPidFile(l: Layout): Promise<void> {
  const file = join(l.dataDir, 'postmaster.pid');
  const pid = Number.parseInt((await readIfExists(file))?.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && !(await isPostgresProcess(pid))) await rm(file, { force: true });
}

type LaunchResult = { ok: true } | { ok: false; addressInUse: boolean; output: string };

async function launch(l: Layout, bins: PgBinaries, port: number, fast: boolean, user: ServerUser | undefined): Promise<LaunchResult> {
  await writeServerConf(l, port, fast, user);
  const offset = await logOffset(l, user);
  const r = await execCapture(
    join(bins.binDir, 'pg_ctl'),
    ['start', '--wait', '--timeout', PG_CTL_TIMEOUT_S, '--pgdata', l.dataDir, '--log', l.logFile],
    execAs(user, l.base),
  );
  if (r.code === 0) return { ok: true };
  const output = `${r.stdout}\n${r.stderr}\n${await readLogFrom(l.logFile, offset)}`;
  const addressInUse = /address already in use|could not create any TCP\/IP sockets/i.test(output);
  return { ok: false, addressInUse, output };
}

function runningCluster(l: Layout, state: ClusterState, port: number, bins: PgBinaries): RunningCluster {
  registerSecret(state.password);
  const user = state.user;
  const password = state.password;
  return {
    host: HOST,
    port,
    user,
    password,
    dataDir: l.dataDir,
    binDir: bins.binDir,
    version: bins.version,
    url: (database = 'postgres') =>
      `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${port}/${encodeURIComponent(database)}`,
    stop: () => stopCluster(l.dataDir),
  };
}

function assertSameCredentials(l: Layout, state: ClusterState, opts: ClusterOptions): void {
  if (opts.superuser !== undefined && opts.superuser !== state.user) {
    throw new StagedbError(
      'config',
      'E_PG_CLUSTER_MISMATCH',
      `The cluster in ${l.dataDir} was created with superuser ${state.user}, not ${opts.superuser}.`,
      { fix: `use superuser ${state.user}, or empty ${l.dataDir} to re-create the cluster` },
    );
  }
  if (opts.password !== undefined && opts.password !== state.password) {
    throw new StagedbError(
      'config',
      'E_PG_CLUSTER_MISMATCH',
      `The cluster in ${l.dataDir} has a different superuser password than the one given (see ${l.stateFile}).`,
      { fix: `omit the password to use the one in ${l.stateFile}, or empty ${l.dataDir} to re-create the cluster` },
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Public API

/**
 * Start the cluster in `opts.dataDir`, creating it first when the directory is missing or empty.
 * Idempotent: when a server is already running on the data directory, it is returned as is.
 *
 * Not safe against two processes starting the same *new* cluster at the same moment; callers that
 * can race (test workers) start it once, up front.
 */
export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const l = layoutOf(opts.dataDir);
  const user = await serverUser();
  await mkdir(l.base, { recursive: true, mode: 0o755 });

  const status = await clusterStatus(l.dataDir);
  const bins = await serverBinaries(status.version);
  const saved = await readState(l);
  let state: ClusterState;

  if (status.initialized) {
    if (saved) {
      state = saved;
    } else if (opts.password !== undefined) {
      // The state file was lost but the caller knows the password: remember it again.
      state = { format: 1, port: status.port ?? 0, user: opts.superuser ?? 'postgres', password: opts.password, binDir: bins.binDir, version: bins.version };
      await writeState(l, state);
    } else {
      throw new StagedbError(
        'config',
        'E_PG_CLUSTER_STATE_MISSING',
        `The cluster in ${l.dataDir} exists but ${l.stateFile} is missing, so its superuser password is unknown.`,
        { fix: `rm -rf ${shellQuote(l.dataDir)}   (throws the local cluster away; it is re-created on the next start)` },
      );
    }
    assertSameCredentials(l, state, opts);
    if (status.running) return runningCluster(l, state, status.port ?? state.port, bins);
    await assertReachable(user, l.base);
  } else {
    const entries = await readdir(l.dataDir).catch((e: unknown) => {
      if (isErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    if (entries.length > 0) {
      throw new StagedbError(
        'config',
        'E_PG_DATADIR_NOT_EMPTY',
        `${l.dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); refusing to initialise over it.`,
        { fix: `point dataDir at an empty directory, or remove ${l.dataDir}` },
      );
    }
    await assertReachable(user, l.base);
    const superuser = opts.superuser ?? 'postgres';
    // A state file left behind by a deleted cluster keeps its password, so saved URLs stay valid.
    const password = opts.password ?? (saved?.user === superuser ? saved.password : randomBytes(18).toString('base64url'));
    state = { format: 1, port: saved?.port ?? 0, user: superuser, password, binDir: bins.binDir, version: bins.version };
    // Saved before initdb: once initdb has run, the password must not be lost.
    await writeState(l, state);
    await initCluster(l, bins, state, user);
  }

  await removeForeignPidFile(l);
  const explicitPort = opts.port !== undefined && opts.port > 0 ? opts.port : undefined;
  let lastOutput = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port =
      explicitPort ?? (attempt === 1 && state.port > 0 && (await isPortFree(state.port)) ? state.port : await freePort());
    const r = await launch(l, bins, port, opts.fast ?? false, user);
    if (r.ok) {
      await writeState(l, { ...state, port, binDir: bins.binDir, version: bins.version });
      return runningCluster(l, state, port, bins);
    }
    lastOutput = r.output;
    if (r.addressInUse && explicitPort !== undefined) {
      throw new StagedbError('config', 'E_PG_PORT_IN_USE', `Port ${explicitPort} on ${HOST} is already in use; the cluster cannot listen there.`, {
        fix: 'choose another port, or leave the port unset to pick a free one',
      });
    }
    if (!r.addressInUse) break;
  }
  // pg_ctl may give up waiting while the server is still coming up: do not leave it behind.
  await stopCluster(l.dataDir).catch(() => undefined);
  throw new StagedbError('connection', 'E_PG_START_FAILED', `PostgreSQL ${bins.version} did not start from ${l.dataDir}.`, {
    details: lastLines(lastOutput),
    fix: `tail -n 50 ${shellQuote(l.logFile)}`,
  });
}

/**
 * Stop the server running on `dataDir` (`pg_ctl stop -m fast`: open sessions are disconnected,
 * nothing is lost). A no-op when it is not running or the directory holds no cluster.
 */
export async function stopCluster(dataDir: string): Promise<void> {
  const l = layoutOf(dataDir);
  const status = await clusterStatus(l.dataDir);
  if (!status.running || status.pid === undefined) return;
  const user = await serverUser();
  let bins: PgBinaries | undefined;
  try {
    bins = await serverBinaries(status.version);
  } catch {
    bins = undefined;
  }
  if (bins) {
    const r = await execCapture(
      join(bins.binDir, 'pg_ctl'),
      ['stop', '--wait', '--timeout', PG_CTL_TIMEOUT_S, '--mode', 'fast', '--pgdata', l.dataDir],
      execAs(user, l.base),
    );
    if (r.code === 0 || !(await clusterStatus(l.dataDir)).running) return;
    throw new StagedbError('connection', 'E_PG_STOP_FAILED', `pg_ctl could not stop the server on ${l.dataDir}.`, {
      details: lastLines(`${r.stdout}\n${r.stderr}`),
      fix: `kill -INT ${status.pid}`,
    });
  }
  // No matching binaries (uninstalled since): do what pg_ctl does. SIGINT is the "fast" shutdown,
  // and the postmaster removes its pid file as the very last step.
  process.kill(status.pid, 'SIGINT');
  const deadline = Date.now() + Number(PG_CTL_TIMEOUT_S) * 1000;
  while ((await clusterStatus(l.dataDir)).running) {
    if (Date.now() > deadline) {
      throw new StagedbError('connection', 'E_PG_STOP_FAILED', `The server on ${l.dataDir} (pid ${status.pid}) did not stop within ${PG_CTL_TIMEOUT_S}s.`, {
        fix: `kill -QUIT ${status.pid}`,
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function withAdminClient(target: ClusterTarget, action: string, fn: (c: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({
    connectionString: target.url('postgres'),
    application_name: 'stagedb',
    connectionTimeoutMillis: 10_000,
  });
  // A connection dropped while idle is reported here instead of crashing the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await fn(client);
  } catch (e) {
    if (e instanceof StagedbError) throw e;
    const err = e as Error & { code?: string };
    const sqlstate = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? ` (SQLSTATE ${err.code})` : '';
    throw new StagedbError('connection', 'E_PG_ADMIN_FAILED', `Could not ${action}: ${err.message}${sqlstate}`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `CREATE DATABASE "<name>"` on the cluster, connected as its superuser to the `postgres` database. */
export async function createDatabase(cluster: ClusterTarget, name: string): Promise<void> {
  const ident = quoteIdent(name);
  await withAdminClient(cluster, `create database ${ident}`, async (c) => {
    await c.query(`CREATE DATABASE ${ident}`);
  });
}

/**
 * `DROP DATABASE IF EXISTS "<name>"`. With `force` (the default, for throwaway databases) sessions
 * still connected to it are terminated first (PostgreSQL 13+), so a leaked test connection cannot
 * block the drop.
 */
export async function dropDatabase(cluster: ClusterTarget, name: string, opts: { force?: boolean } = {}): Promise<void> {
  const ident = quoteIdent(name);
  await withAdminClient(cluster, `drop database ${ident}`, async (c) => {
    const { rows } = await c.query<{ server_version_num: string }>('SHOW server_version_num');
    const force = (opts.force ?? true) && Number(rows[0]?.server_version_num) >= 130000;
    await c.query(`DROP DATABASE IF EXISTS ${ident}${force ? ' WITH (FORCE)' : ''}`);
  });
}
