import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { freshDatabase, type FreshDatabase } from './db.js';
import { readDatabaseContext } from '../../src/lint/context.js';
import { RANK } from '../../src/lint/locks.js';
import { lintFiles } from '../../src/lint/run.js';
import type { Claim, Finding, LintResult, LockMode, Runner, SeveritySetting } from '../../src/lint/types.js';

/** The lock modes' order, from the lint itself: an ordering, not a claim the oracle checks. */
export { RANK };

/**
 * The lock oracle: runs a migration's statements on real tables and reads what PostgreSQL did — the
 * locks it held (pg_locks), whether the table got new storage (relfilenode), whether it read every
 * row (pg_stat_xact_user_tables.seq_scan, DEBUG1 "verifying table" / "rewriting table" / "building
 * index"), and whether a plain SELECT or a DELETE from another session had to wait — so that lint's
 * claims (Finding.claim) can be compared with it. Statements that cannot run in a transaction block
 * (CONCURRENTLY, VACUUM) are run while another session holds the table, and the mode they wait for is
 * read instead.
 */

const MODE: Record<string, LockMode> = {
  AccessShareLock: 'ACCESS SHARE',
  RowShareLock: 'ROW SHARE',
  RowExclusiveLock: 'ROW EXCLUSIVE',
  ShareUpdateExclusiveLock: 'SHARE UPDATE EXCLUSIVE',
  ShareLock: 'SHARE',
  ShareRowExclusiveLock: 'SHARE ROW EXCLUSIVE',
  ExclusiveLock: 'EXCLUSIVE',
  AccessExclusiveLock: 'ACCESS EXCLUSIVE',
};

/** Every table of the fixture: what each oracle case starts from, in a schema of its own. */
export const FIXTURE = `
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
CREATE DOMAIN "Email" AS text;
CREATE TABLE "User" (id serial PRIMARY KEY, email text NOT NULL, name text, role "Role" NOT NULL DEFAULT 'USER');
CREATE TABLE "Post" (id serial PRIMARY KEY, title varchar(100) NOT NULL, body text, views int, slug text, "authorId" int NOT NULL, during tsrange,
  CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"(id));
CREATE INDEX "Post_title_idx" ON "Post"(title);
CREATE TABLE "Comment" (id serial PRIMARY KEY, "postId" int NOT NULL, body text, CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"(id));
CREATE TABLE "Contact" (id serial PRIMARY KEY, email "Email");
CREATE TABLE "Tagging" ("postId" int NOT NULL, tag text NOT NULL);
CREATE TABLE "Log" (id serial PRIMARY KEY, msg text);
CREATE TABLE "Event" (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE "Event_2020" PARTITION OF "Event" FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE "Event_2021" PARTITION OF "Event" FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
CREATE FUNCTION "touch"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
INSERT INTO "User"(email, name) SELECT 'u' || g || '@example.com', 'n' || g FROM generate_series(1, 100) g;
INSERT INTO "Post"(title, body, views, slug, "authorId") SELECT 't' || g, 'b' || g, g, 's' || g, 1 + g % 100 FROM generate_series(1, 1000) g;
INSERT INTO "Comment"("postId", body) SELECT 1 + g % 1000, 'c' FROM generate_series(1, 1000) g;
INSERT INTO "Contact"(email) SELECT 'e' || g FROM generate_series(1, 100) g;
INSERT INTO "Tagging" SELECT g, 't' || g FROM generate_series(1, 500) g;
INSERT INTO "Log"(msg) SELECT 'm' || g FROM generate_series(1, 500) g;
INSERT INTO "Event" SELECT g, date '2020-01-01' + g FROM generate_series(1, 600) g;
`;

export interface Observed {
  /** SQLSTATE when it failed. */
  error?: string;
  errorMessage?: string;
  /** Strongest mode per relation name (tables and indexes of the schema, new ones included). */
  locks: Map<string, LockMode>;
  /** Tables (not indexes) of the schema that existed before the statement. */
  tables: Set<string>;
  /** Index names per table, before the statement. */
  indexesOf: Map<string, string[]>;
  rewritten: Set<string>;
  scanned: Set<string>;
  readsBlocked: Set<string>;
  writesBlocked: Set<string>;
}

export interface Waited {
  rel: string;
  mode: LockMode;
  error?: string;
  /** The held table got new storage once the statement finished. */
  rewritten: boolean;
}

/**
 * One oracle on a fresh database for a test file: opened before its tests (then `prepare`), closed and
 * dropped after. `o()` is the oracle; `schema()` names a new schema for a case that needs its own.
 */
export function oracleFor(database: string, prepare?: (oracle: Oracle) => Promise<void>): { o: () => Oracle; schema: () => string } {
  let db: FreshDatabase | undefined;
  let oracle: Oracle | undefined;
  let n = 0;
  beforeAll(async () => {
    db = await freshDatabase(database);
    oracle = new Oracle(db.url);
    await oracle.open();
    await prepare?.(oracle);
  });
  afterAll(async () => {
    await oracle?.close();
    await db?.drop();
  });
  return { o: () => oracle!, schema: () => `c${++n}` };
}

/** Two sessions on one database: `a` runs migrations, `b` probes and blocks. Both live in one schema at a time. */
export class Oracle {
  a!: pg.Client;
  b!: pg.Client;
  private aPid = 0;
  schema = 'public';
  private notices: string[] = [];

  constructor(private readonly url: string) {}

  async open(): Promise<void> {
    this.a = new pg.Client({ connectionString: this.url });
    this.b = new pg.Client({ connectionString: this.url });
    await this.a.connect();
    await this.b.connect();
    this.a.on('notice', (n) => this.notices.push(n.message ?? ''));
    this.aPid = (await this.a.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
  }

  async close(): Promise<void> {
    await this.a?.end().catch(() => {});
    await this.b?.end().catch(() => {});
  }

  /** A schema of its own with the fixture (and `extra`), set as both sessions' search_path. */
  async fresh(name: string, extra = ''): Promise<void> {
    this.schema = name;
    await this.a.query(`CREATE SCHEMA "${name}"`);
    await this.use(name);
    await this.a.query(FIXTURE + extra);
  }

  async use(name: string): Promise<void> {
    this.schema = name;
    await this.a.query(`SET search_path = "${name}"`);
    await this.b.query(`SET search_path = "${name}"`);
  }

  /** `stagedb lint --env` of these files against this schema (every existing table judged large: the worst case). */
  async lint(files: string[], opts: { runner?: Runner; severities?: Record<string, SeveritySetting>; serverVersionNum?: number } = {}): Promise<LintResult> {
    return lintFiles(
      files.map((sql, i) => ({ path: `m${i + 1}.sql`, sql })),
      {
        runner: opts.runner,
        severities: opts.severities,
        smallTableBytes: 0,
        largeTableBytes: 1,
        context: async (refs) => {
          const db = await readDatabaseContext(this.a, 'oracle', this.schema, refs);
          return opts.serverVersionNum ? { ...db, serverVersionNum: opts.serverVersionNum } : db;
        },
      },
    );
  }

  private async relations(): Promise<Array<{ oid: number; name: string; kind: string; table: string | null; filenode: number }>> {
    return (
      await this.a.query(
        `SELECT c.oid::int AS oid, c.relname AS name, c.relkind AS kind, t.relname AS table, c.relfilenode::int AS filenode
           FROM pg_class c LEFT JOIN pg_index x ON x.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = x.indrelid
          WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p', 'i', 'I')`,
        [this.schema],
      )
    ).rows;
  }

  private async seqScans(): Promise<Map<string, number>> {
    const r = await this.a.query<{ relname: string; n: string }>(`SELECT relname, seq_scan::text AS n FROM pg_stat_xact_user_tables WHERE schemaname = $1`, [this.schema]);
    return new Map(r.rows.map((x) => [x.relname, Number(x.n)]));
  }

  /** Whether a plain read / a write of `table` from the other session waits for the open transaction. */
  private async blocked(sql: string): Promise<boolean> {
    await this.b.query(`SET lock_timeout = '50ms'`);
    try {
      await this.b.query(sql);
      return false;
    } catch (e) {
      if ((e as { code?: string }).code === '55P03') return true;
      // Renamed away (a step of a swap): nothing to wait for under that name.
      if ((e as { code?: string }).code === '42P01') return false;
      throw e;
    } finally {
      await this.b.query('RESET lock_timeout');
    }
  }

  /**
   * Runs `sql` (one file, as one multi-statement query) in a transaction that is rolled back, and
   * reports what PostgreSQL did; `probe` names the tables whose reads and writes are tried meanwhile.
   * With `commit`, the transaction is committed instead (a step of a safe alternative).
   */
  async observe(sql: string, probe: string[], commit = false): Promise<Observed> {
    await this.a.query('BEGIN');
    try {
      return await this.observeIn(sql, probe, commit);
    } catch (e) {
      // Never leave the session in a transaction for the next case.
      await this.a.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  private async observeIn(sql: string, probe: string[], commit: boolean): Promise<Observed> {
    const before = await this.relations();
    const scans = await this.seqScans();
    await this.a.query('SET LOCAL client_min_messages = debug2');
    this.notices = [];
    const obs: Observed = { locks: new Map(), tables: new Set(), indexesOf: new Map(), rewritten: new Set(), scanned: new Set(), readsBlocked: new Set(), writesBlocked: new Set() };
    for (const r of before) {
      if (r.kind === 'r' || r.kind === 'p') obs.tables.add(r.name);
      else if (r.table) obs.indexesOf.set(r.table, [...(obs.indexesOf.get(r.table) ?? []), r.name]);
    }
    try {
      await this.a.query(sql);
    } catch (e) {
      await this.a.query('ROLLBACK');
      return { ...obs, error: (e as { code?: string }).code, errorMessage: (e as Error).message };
    }
    const notices = this.notices;
    await this.a.query('SET LOCAL client_min_messages = notice');
    const after = await this.relations();
    // By the name the statement found it under (a RENAME gives it a new one).
    const names = new Map<number, string>([...after, ...before].map((r) => [r.oid, r.name]));
    const locks = await this.a.query<{ oid: number; mode: string }>(`SELECT relation::int AS oid, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    for (const l of locks.rows) {
      const name = names.get(l.oid);
      const mode = MODE[l.mode];
      if (!name || !mode) continue;
      const prev = obs.locks.get(name);
      if (!prev || RANK[mode] > RANK[prev]) obs.locks.set(name, mode);
    }
    const scansAfter = await this.seqScans();
    for (const r of before) {
      if (r.kind !== 'r' && r.kind !== 'p') continue;
      const now = after.find((x) => x.oid === r.oid);
      if (now && now.filenode !== r.filenode) obs.rewritten.add(r.name);
      const q = r.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // With new storage, the old rows were read only if PostgreSQL says it rewrote (or clustered) them: the
      // index builds on TRUNCATE's empty storage count as scans too, and read nothing.
      const seq = (scansAfter.get(r.name) ?? 0) > (scans.get(r.name) ?? 0);
      const debug = obs.rewritten.has(r.name) ? new RegExp(`^rewriting table "${q}"|^clustering "(?:[^"]*\.)?${q}"`) : new RegExp(`^verifying table "${q}"|^building index .* on table "${q}"`);
      if ((seq && !obs.rewritten.has(r.name)) || notices.some((n) => debug.test(n))) obs.scanned.add(r.name);
    }
    for (const t of probe) {
      if (await this.blocked(`SELECT 1 FROM "${t}" LIMIT 1`)) obs.readsBlocked.add(t);
      if (await this.blocked(`DELETE FROM "${t}" WHERE false`)) obs.writesBlocked.add(t);
    }
    await this.a.query(commit ? 'COMMIT' : 'ROLLBACK');
    return obs;
  }

  /**
   * For a statement that cannot run in a transaction block: the other session holds `hold` in
   * `holdMode` (a plain read holds ACCESS SHARE), the statement runs, and the first lock it has to wait
   * for is read from pg_locks; then the other session lets go and the statement finishes.
   */
  async waitMode(sql: string, hold: string, holdSql = `LOCK TABLE "${hold}" IN ACCESS EXCLUSIVE MODE`): Promise<Waited> {
    const filenode = async () => (await this.b.query<{ f: number }>(`SELECT relfilenode::int AS f FROM pg_class WHERE oid = $1::regclass`, [`"${this.schema}"."${hold}"`])).rows[0]?.f;
    const before = await filenode();
    await this.b.query('BEGIN');
    await this.b.query(holdSql);
    const run = this.a.query(sql).then(
      () => undefined,
      (e: { code?: string }) => e.code ?? 'error',
    );
    let waited: { rel: string; mode: LockMode } | undefined;
    for (let i = 0; i < 200 && !waited; i++) {
      const r = await this.b.query<{ name: string; mode: string }>(
        `SELECT c.relname AS name, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = $1 AND NOT l.granted`,
        [this.aPid],
      );
      if (r.rows[0]) waited = { rel: r.rows[0].name, mode: MODE[r.rows[0].mode]! };
      else await new Promise((res) => setTimeout(res, 25));
    }
    await this.b.query('ROLLBACK');
    const error = await run;
    if (!waited) throw new Error(`no wait seen for: ${sql}${error ? ` (failed: ${error})` : ''}`);
    return { ...waited, rewritten: (await filenode()) !== before, ...(error ? { error } : {}) };
  }
}

/** A relation as a claim names it (`"Post"`, `"s"."Post"`) → its name. */
export const claimName = (on: string): string => /"((?:[^"]|"")*)"$/.exec(on)?.[1]?.replaceAll('""', '"') ?? on;

/**
 * Where lint's claim and PostgreSQL disagree, as readable lines (empty: they agree). `main` is the
 * table the finding is about (rewrite, scan and blocked reads/writes are judged there); `alias` maps
 * a claim's description (`every table with a column of domain "Email"`) to the table it means.
 */
export function disagreements(claim: Claim, obs: Observed, main: string, alias: Record<string, string> = {}): string[] {
  const out: string[] = [];
  const claimed = new Set<string>();
  for (const l of claim.locks) {
    const table = alias[l.on] ?? claimName(l.on);
    const rels = l.indexes ? (obs.indexesOf.get(table) ?? []) : [table];
    if (l.indexes && rels.length === 0) out.push(`claims the indexes of ${table}, which has none`);
    for (const r of rels) {
      claimed.add(r);
      const seen = obs.locks.get(r);
      if (seen !== l.mode) out.push(`claims ${l.mode} on ${r}; PostgreSQL held ${seen ?? 'nothing'}`);
    }
  }
  // A table locked against the application but not named: the claim leaves out a table that waits.
  for (const [rel, mode] of obs.locks) {
    if (obs.tables.has(rel) && RANK[mode] >= RANK.SHARE && !claimed.has(rel)) out.push(`PostgreSQL held ${mode} on ${rel}, which the claim does not name`);
  }
  if (obs.tables.has(main)) {
    if (claim.rewrites !== obs.rewritten.has(main)) out.push(`claims rewrites=${claim.rewrites}; the relfilenode of ${main} ${obs.rewritten.has(main) ? 'changed' : 'did not change'}`);
    if (claim.scans !== obs.scanned.has(main)) out.push(`claims scans=${claim.scans}; PostgreSQL ${obs.scanned.has(main) ? 'read' : 'did not read'} ${main}`);
    if (claim.blocksReads !== obs.readsBlocked.has(main)) out.push(`claims blocksReads=${claim.blocksReads}; a SELECT on ${main} ${obs.readsBlocked.has(main) ? 'waited' : 'did not wait'}`);
    if (claim.blocksWrites !== obs.writesBlocked.has(main)) out.push(`claims blocksWrites=${claim.blocksWrites}; a DELETE on ${main} ${obs.writesBlocked.has(main) ? 'waited' : 'did not wait'}`);
  }
  return out;
}

/**
 * A rule's printed safe alternative as runnable steps: its alternatives (split at `-- or` lines), each
 * a list of statements with the comments above them (a suppression directive stays with its statement).
 * A statement with a placeholder (`…`, `<partition>`) is not runnable: the alternative is words.
 */
export function fixSteps(fix: string): { alternatives: string[][]; words: boolean } {
  const alternatives: string[][] = [[]];
  let pending: string[] = [];
  let words = false;
  for (const line of fix.split('\n')) {
    const t = line.trim();
    if (/^--\s*or\b/i.test(t) && (alternatives[alternatives.length - 1]!.length > 0)) {
      alternatives.push([]);
      pending = [];
      continue;
    }
    if (t.startsWith('--') || t === '') {
      pending.push(line);
      continue;
    }
    pending.push(line);
    if (/;\s*(--.*)?$/.test(t)) {
      const stmt = pending.join('\n');
      if (/…|<[a-z][^>]*>/.test(stmt.split('\n').filter((l) => !l.trim().startsWith('--')).join('\n'))) words = true;
      alternatives[alternatives.length - 1]!.push(stmt);
      pending = [];
    }
  }
  return { alternatives: alternatives.filter((a) => a.length > 0), words };
}

/** A statement that must run outside a transaction block. */
export const outsideTransaction = (sql: string): boolean => /\bCONCURRENTLY\b/i.test(sql.replace(/--.*$/gm, '')) || /^\s*VACUUM\b/im.test(sql.replace(/--.*$/gm, ''));

export const atError = (fs: Finding[]) => fs.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.file}:${f.line} ${f.message}`);
