/**
 * Drift without replaying the history every time (`status --drift`, `plan`, the deploy gate, the dashboard).
 *
 * A drift check is a function of its inputs: the content of the migrations the database has applied,
 * schema.prisma (its datasource settings and models), the engine's version, the server (its version,
 * and where the shadow database is made) and the live database's schema. The first four are read
 * from disk or one query; the last one is what the engine describes, which we stand in for with a
 * fingerprint: a sha256 of one catalog query (tables, columns with types/defaults/identity/collation,
 * constraints, index definitions, enums, domains, sequences, views, functions, triggers, policies,
 * extensions, comments) over the schemas the check covers. The fingerprint reads at least everything
 * the engine compares, so equal fingerprints mean the engine would give the same answer; it reads some
 * things the engine ignores (triggers, policies, comments, column order), which can only cause a miss,
 * never a wrong hit. `_prisma_migrations` is left out, as the engine leaves it out.
 *
 * So an entry is `sha256(all inputs) → the report`, one file each under `.stagedb/drift-cache/`. An
 * edited migration changes its content hash (never size or mtime), a new migration changes the
 * applied list, a change to the database changes the fingerprint: each is a miss, replayed and stored.
 * An entry is stored only when the fingerprint read before the replay equals the one read after it (a
 * database changed in the middle is not recorded under either state). Errors are never stored.
 *
 * The fingerprint query costs the server ~40 ms on a 100-table schema (it deparses every default,
 * index and constraint), more than the rest of a repeated check together. So each check first reads a
 * quick fingerprint (QUICK_SQL, below): the version (xmin, ctid) of every row of the catalogs
 * the full query reads, counted and summed, plus the settings that change how it deparses, the
 * database's oid and the server's start time. PostgreSQL writes a new row version (a new xmin) for every
 * transactional catalog change, so an equal quick fingerprint means the same catalog rows, hence the
 * same full fingerprint. The in-place updates that keep xmin (VACUUM and ANALYZE statistics,
 * relfrozenxid, relhasindex) touch no column the full query reads. Transaction ids go back only when a
 * server is restored from a physical backup, which restarts it: the start time is part of the key. A
 * quick fingerprint seen together with a full one (read in one statement, one snapshot) is stored as a
 * second name for the same entry; any other change (a TRUNCATE gives a table a new file, so a new
 * pg_class row) costs one full fingerprint, never a wrong answer.
 *
 * A miss replays the applied migrations itself (drift-replay.ts) while the engine diffs the database
 * with schema.prisma; the engine replays the history only when the replayed schema's fingerprint
 * differs from the live one (there is drift to describe) or the fast replay could not run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { schemaFiles } from '../config/prisma-project.js';
import { ENGINE_PACKAGE_VERSION } from '../engine/package.js';
import { readLocalHistory, type LocalMigration } from '../history/local.js';
import { connect } from '../pg/connect.js';
import { appliedForDrift, driftHalfFromEngine, type DriftReport } from './diff.js';
import { releaseShadows, reserveShadow, shadowFingerprint, type ShadowReplay } from './drift-replay.js';
import { resetSchemas } from './shared.js';

/** Bump when the key or the fingerprint query changes: older entries are then never read. */
const FORMAT = 3;
/** Entries kept; the oldest (by write time) go first. */
const KEEP = 400;

export interface DriftCheckOptions {
  env: ResolvedEnvironment;
  schemaPath: string;
  migrationsDir: string;
  /** The project root: the cache lives in `<root>/.stagedb/drift-cache/`. */
  root: string;
  /** The migrations folder as the caller has just read it (status has): saves reading it once per environment. */
  local?: LocalMigration[];
  /**
   * The folder's migrations the database records as finished (see `appliedForDrift`), when the caller
   * has just read `_prisma_migrations` (status has): saves reading it again.
   */
  applied?: string[];
}

/** Where the entries live. */
export function driftCacheDir(root: string): string {
  return join(root, '.stagedb', 'drift-cache');
}

/**
 * An environment's drift, from the cache when its inputs are unchanged, else replayed (and stored).
 * Same answer as `detectDrift`, plus `cache: 'hit' | 'miss'`.
 */
export async function detectDriftCached(o: DriftCheckOptions): Promise<DriftReport> {
  // An empty cache (a fresh checkout, as in CI) can answer nothing: no quick fingerprint to look up
  // first — the full read below takes it in the same statement, for the check after the replay. Three
  // environments' quick fingerprints (~30 ms of the server's CPU each) would compete with the replay.
  const s = await openInputs(o, { quick: !cacheEmpty(o.root) });
  try {
    const quick = s.quickName === undefined ? undefined : readEntry(o.root, s.quickName);
    if (quick) return { ...quick, env: o.env.name, cache: 'hit' };
    // Nothing stored for these migrations, schema.prisma and server yet, whatever the database: the full
    // fingerprint cannot find an entry, so the shadow replay starts now, while it is read.
    const early = hasBase(o.root, s.baseId) ? undefined : shadowReplay(o, s);
    // Whatever happens next, the temporary database is dropped before this returns or throws.
    const before = await s.read().catch(async (e: unknown) => {
      await early?.then((r) => r.dropped);
      throw e;
    });
    const hit = readEntry(o.root, before.name);
    if (hit) {
      writeEntry(o.root, before.quickName, hit);
      await early?.then((r) => r.dropped).catch(() => {});
      return { ...hit, env: o.env.name, cache: 'hit' };
    }
    // `status --drift --env all` checks environments concurrently: those with the same inputs (same
    // applied history, same schema, same server) share one check instead of each making its own.
    const running = inflight.get(before.name);
    if (running) return { ...(await running), env: o.env.name, cache: 'miss' };
    const check = (async () => {
      const { report, dropped } = await replayDrift(o, s, before.hash, early ?? shadowReplay(o, s));
      // Store only what was checked against one state of the database: read it again after the check
      // (the quick fingerprint says whether the full one can have changed), while the temporary database is dropped.
      const [quickAfter] = await Promise.all([s.quick(), dropped]);
      const after = quickAfter === before.quick ? before : await s.read();
      if (after.name === before.name) {
        writeEntry(o.root, before.name, report);
        for (const q of new Set([before.quickName, after.quickName])) writeEntry(o.root, q, report);
      }
      return report;
    })();
    inflight.set(before.name, check);
    try {
      return { ...(await check), env: o.env.name, cache: 'miss' };
    } finally {
      inflight.delete(before.name);
    }
  } finally {
    await s.close();
  }
}

/**
 * For a caller about to check several environments (`status --drift`) while it first does other work:
 * with an empty cache (a fresh checkout, as in CI) every check replays, so the temporary database each
 * server needs is made while that work runs. Returns what to call with each environment as it is
 * resolved, and what to call once the checks are done (drops what no check took); undefined when the
 * cache has entries (most checks will hit: nothing is made ahead).
 */
export function shadowsAhead(root: string): { reserve: (env: ResolvedEnvironment) => void; release: () => Promise<void> } | undefined {
  return cacheEmpty(root) ? { reserve: reserveShadow, release: releaseShadows } : undefined;
}

/** No entry stored at all (a fresh checkout, or never checked): every check will replay. */
function cacheEmpty(root: string): boolean {
  return !cacheFiles(root).some((f) => f.endsWith('.json'));
}

/** The names in the cache's folder; none when it is missing or unreadable. */
function cacheFiles(root: string): string[] {
  try {
    return readdirSync(driftCacheDir(root));
  } catch {
    return [];
  }
}

const inflight = new Map<string, Promise<DriftReport>>();
const schemaDiffs = new Map<string, Promise<string>>();
const shadowReplays = new Map<string, Promise<ShadowReplay>>();

/**
 * The cached answer only, never a replay (the dashboard's first paint): `undefined` when the cache has
 * no entry for the database as it is now.
 */
export async function cachedDrift(o: DriftCheckOptions): Promise<DriftReport | undefined> {
  const s = await openInputs(o, { quick: true });
  try {
    const quick = readEntry(o.root, s.quickName!);
    if (quick) return { ...quick, env: o.env.name, cache: 'hit' };
    const { name } = await s.read();
    const hit = readEntry(o.root, name);
    return hit ? { ...hit, env: o.env.name, cache: 'hit' } : undefined;
  } finally {
    await s.close();
  }
}

/**
 * The applied migrations replayed on a shadow database, fingerprinted: one per set of inputs in a
 * process (it does not depend on the live database, so environments at the same point of the history
 * share it even when one has drifted).
 */
function shadowReplay(o: DriftCheckOptions, s: Inputs): Promise<ShadowReplay> {
  let p = shadowReplays.get(s.baseId);
  if (!p) {
    const byName = new Map<string, LocalMigration>(s.local.map((m) => [m.name, m]));
    p = shadowFingerprint({ env: o.env, migrations: s.applied.map((n) => byName.get(n)!), schemas: s.schemas, fingerprint: schemaFingerprint });
    shadowReplays.set(s.baseId, p);
    // A replay that could not run is not remembered: the next check tries again.
    void p.then((r) => r.hash === undefined && shadowReplays.delete(s.baseId));
  }
  return p;
}

/** A miss: the engine diffs the database with schema.prisma while the history is replayed here; the engine replays it only when that cannot settle it. */
async function replayDrift(o: DriftCheckOptions, s: Inputs, liveHash: string, shadow: Promise<ShadowReplay>): Promise<{ report: DriftReport; dropped: Promise<void> }> {
  const schemaHalf = (() => {
    // Environments whose databases have the same schema (and the same schema.prisma, server, engine) share one engine diff.
    const key = `${s.schemaKey}:${liveHash}`;
    let p = schemaDiffs.get(key);
    if (!p) {
      p = driftHalfFromEngine(o, s.applied, 'schema');
      schemaDiffs.set(key, p);
      p.catch(() => schemaDiffs.delete(key));
    }
    return p;
  })();
  schemaHalf.catch(() => {});
  const replayed = await shadow;
  try {
    const [migrationsToDatabase, databaseToSchema] = await Promise.all([replayed.hash === liveHash ? '' : driftHalfFromEngine(o, s.applied, 'history'), schemaHalf]);
    // The caller waits for `dropped` before it answers: a CLI exits right after.
    return { report: { env: o.env.name, migrationsToDatabase, databaseToSchema, drifted: migrationsToDatabase !== '', appliedMigrations: s.applied }, dropped: replayed.dropped };
  } catch (e) {
    // The temporary database is gone before the engine's error is.
    await replayed.dropped;
    throw e;
  }
}

interface Inputs {
  local: LocalMigration[];
  applied: string[];
  schemas: string[];
  /** sha256 of every input but the database: the first half of every entry's file name. */
  baseId: string;
  /** The quick fingerprint read when the inputs were opened (not read for an empty cache). */
  quickName?: string;
  /** schema.prisma, the schemas, the server and the engine: what the database → schema.prisma half depends on besides the database. */
  schemaKey: string;
  /** Reads the full fingerprint (and the quick one, in the same snapshot): the entry's file name. */
  read(): Promise<{ name: string; quickName: string; quick: string; hash: string }>;
  /** Reads the quick fingerprint again. */
  quick(): Promise<string>;
  close(): Promise<void>;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Everything a drift answer depends on but the database's full fingerprint, read now: one connection
 * (kept for the full fingerprint, if needed), `_prisma_migrations` unless the caller has read it, and
 * the quick fingerprint.
 */
async function openInputs(o: DriftCheckOptions, want: { quick: boolean }): Promise<Inputs> {
  const { env } = o;
  const local = o.local ?? (existsSync(o.migrationsDir) ? readLocalHistory(o.migrationsDir).migrations : []);
  const schemas = resetSchemas(env, existsSync(o.schemaPath) ? o.schemaPath : undefined);
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'drift' });
  try {
    // The deparsing functions qualify names by the search path: every name qualified, whatever the role's setting.
    const settled = client.query('SET search_path = pg_catalog');
    const applied = o.applied ?? (await appliedForDrift(client, env, local));
    await settled;
    const first = (await client.query<{ v: number; quick?: string }>(`SELECT current_setting('server_version_num')::int AS v${want.quick ? `, ${QUICK_SQL} AS quick` : ''}`)).rows[0]!;
    const byName = new Map<string, LocalMigration>(local.map((m) => [m.name, m]));
    // Where the replay runs (its server's extensions, collations and version shape the result), without
    // credentials: host, port and database only.
    const shadow = env.shadowDatabaseUrl
      ? (() => {
          const u = new URL(env.shadowDatabaseUrl!);
          return `${u.hostname}:${u.port}${u.pathname}`;
        })()
      : `created on ${env.directInfo.host}:${env.directInfo.port}`;
    const schemaPrisma = schemaFiles(o.schemaPath).map((f) => [f, sha(readFileSync(f, 'utf8'))]);
    const base = {
      format: FORMAT,
      engine: ENGINE_PACKAGE_VERSION,
      // The content of each applied migration (its checksum, a sha256): an edit of the same size and mtime still changes it.
      applied: applied.map((name) => [name, byName.get(name)!.checksum]),
      schemaPrisma,
      schemas,
      server: first.v,
      shadow,
    };
    // The quick fingerprint says nothing across databases: it is only ever compared with this database's own.
    const database = `${env.directInfo.host}:${env.directInfo.port}/${env.directInfo.database}`;
    const baseId = sha(JSON.stringify(base));
    const quickName = (quick: string) => `${baseId}-q${sha(JSON.stringify({ database, quick }))}`;
    return {
      local,
      applied,
      schemas,
      baseId,
      quickName: first.quick === undefined ? undefined : quickName(first.quick),
      schemaKey: sha(JSON.stringify({ format: FORMAT, engine: ENGINE_PACKAGE_VERSION, schemaPrisma, schemas, server: first.v })),
      async read() {
        const { rows } = await client.query<{ quick: string; hash: string }>(`SELECT ${QUICK_SQL} AS quick, ${FULL_SQL} AS hash`, [schemas]);
        const r = rows[0]!;
        return { name: `${baseId}-${sha(r.hash)}`, quickName: quickName(r.quick), quick: r.quick, hash: r.hash };
      },
      quick: async () => (await client.query<{ quick: string }>(`SELECT ${QUICK_SQL} AS quick`)).rows[0]!.quick,
      close: () => client.end().catch(() => {}),
    };
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
}

/**
 * The catalogs the full fingerprint reads, directly or through the deparsing functions
 * (pg_get_indexdef names operator classes and collations, pg_get_expr functions, operators and types,
 * pg_get_viewdef the rewrite rules, regconfig constants text search configurations).
 */
const QUICK_CATALOGS = [
  'pg_namespace', 'pg_class', 'pg_attribute', 'pg_attrdef', 'pg_constraint', 'pg_index', 'pg_type', 'pg_enum', 'pg_range', 'pg_proc',
  'pg_language', 'pg_trigger', 'pg_policy', 'pg_extension', 'pg_depend', 'pg_description', 'pg_inherits', 'pg_sequence', 'pg_rewrite',
  'pg_collation', 'pg_am', 'pg_opclass', 'pg_operator', 'pg_partitioned_table', 'pg_ts_config', 'pg_ts_dict',
];
/** The settings that change what the deparsing functions print (constants in defaults and predicates, identifier quoting). */
const QUICK_SETTINGS = ['search_path', 'DateStyle', 'IntervalStyle', 'TimeZone', 'extra_float_digits', 'bytea_output', 'standard_conforming_strings', 'quote_all_identifiers', 'lc_monetary'];

/** The quick fingerprint, as a SQL expression; see the top of this file for why it stands in for the full one. */
const QUICK_SQL = `md5(concat_ws('|', pg_postmaster_start_time(), (SELECT oid FROM pg_database WHERE datname = current_database()),
  ${QUICK_SETTINGS.map((g) => `current_setting('${g}')`).join(', ')},
  ${QUICK_CATALOGS.map(
    (c) =>
      // pg_index: its validity flags too, in case an older server sets them in place (CREATE INDEX CONCURRENTLY).
      `(SELECT count(*) || ',' || coalesce(sum(xmin::text::bigint), 0) || ',' || coalesce(sum(hashtext(ctid::text || xmin::text${c === 'pg_index' ? ' || indisvalid::text || indisready::text || indislive::text' : ''})), 0) FROM pg_catalog.${c})`,
  ).join(',\n  ')}))`;

/**
 * The live schema, as one canonical JSON value hashed (sha256, by the server). Names, definitions and order, never OIDs,
 * owners or grants (those differ between two databases with the same schema, and the engine ignores them).
 */
export async function schemaFingerprint(client: Client, schemas: string[]): Promise<{ hash: string; serverVersion: number }> {
  // The deparsing functions qualify names by the search path: every name qualified, whatever the role's
  // setting, and the caller's own setting put back afterwards.
  const previous = client.query<{ p: string }>(`SELECT current_setting('search_path') AS p`);
  const pinned = client.query('SET search_path = pg_catalog');
  const p = (await previous).rows[0]!.p;
  try {
    await pinned;
    // Hashed by the server: a 64-character answer instead of the whole catalog over the wire and through JSON.parse.
    const { rows } = await client.query<{ v: number; hash: string }>(`SELECT current_setting('server_version_num')::int AS v, ${FULL_SQL} AS hash`, [schemas]);
    return { hash: rows[0]!.hash, serverVersion: rows[0]!.v };
  } finally {
    await client.query(`SELECT set_config('search_path', $1, false)`, [p]).catch(() => {});
  }
}

/** The full fingerprint, as a scalar subquery over the schemas in `$1`. */
const FULL_SQL = `(
WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1::text[])),
rels AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c', 'i', 'I')
    -- Prisma's history table (and its index) is not part of the schema the engine compares, and a
    -- shadow database where the history is replayed has none.
    AND c.relname <> '_prisma_migrations'
    AND NOT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid WHERE x.indexrelid = c.oid AND t.relname = '_prisma_migrations')
)
SELECT encode(sha256(convert_to(json_build_object(
  'schemas', (SELECT json_agg(nspname ORDER BY nspname) FROM ns),
  'relations', (SELECT json_agg(json_build_array(r.nspname, r.relname, r.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
      c.relispartition, pg_get_expr(c.relpartbound, c.oid), CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, c.reloptions,
      obj_description(c.oid, 'pg_class'), CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, am.amname,
      (SELECT array_agg(pn.nspname || '.' || p.relname ORDER BY pn.nspname, p.relname) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid))
    ORDER BY r.nspname, r.relname)
    FROM rels r JOIN pg_class c ON c.oid = r.oid LEFT JOIN pg_am am ON am.oid = c.relam),
  'columns', (SELECT json_agg(json_build_array(r.nspname, r.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
      pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, cn.nspname || '.' || co.collname, col_description(a.attrelid, a.attnum),
      tn.nspname || '.' || t.typname, t.typtype)
    ORDER BY r.nspname, r.relname, a.attnum)
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace),
  'indexes', (SELECT json_agg(json_build_array(r.nspname, r.relname, ic.relname, pg_get_indexdef(x.indexrelid), x.indisprimary, x.indisunique,
      x.indisvalid, x.indisclustered, ic.reloptions)
    ORDER BY r.nspname, r.relname, ic.relname)
    FROM rels r JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class ic ON ic.oid = x.indexrelid),
  'constraints', (SELECT json_agg(json_build_array(r.nspname, r.relname, k.conname, k.contype, pg_get_constraintdef(k.oid, true), k.condeferrable,
      k.condeferred, k.convalidated)
    ORDER BY r.nspname, r.relname, k.conname, k.contype)
    FROM rels r JOIN pg_constraint k ON k.conrelid = r.oid),
  'types', (SELECT json_agg(json_build_array(n.nspname, t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
      (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
      (SELECT array_agg(k.conname || ' ' || pg_get_constraintdef(k.oid, true) ORDER BY k.conname) FROM pg_constraint k WHERE k.contypid = t.oid),
      obj_description(t.oid, 'pg_type'))
    ORDER BY n.nspname, t.typname)
    FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')),
  'sequences', (SELECT json_agg(json_build_array(r.nspname, r.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
      s.seqcache, s.seqcycle,
      (SELECT tc.relname || '.' || dep.refobjsubid FROM pg_depend dep JOIN pg_class tc ON tc.oid = dep.refobjid
        WHERE dep.classid = 'pg_class'::regclass AND dep.objid = s.seqrelid AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i') LIMIT 1))
    ORDER BY r.nspname, r.relname)
    FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid),
  'functions', (SELECT json_agg(json_build_array(n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind,
      pg_get_function_result(p.oid), md5(coalesce(p.prosrc, '')), p.provolatile, l.lanname)
    ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
    FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang),
  'triggers', (SELECT json_agg(json_build_array(r.nspname, r.relname, g.tgname, pg_get_triggerdef(g.oid, true), g.tgenabled)
    ORDER BY r.nspname, r.relname, g.tgname)
    FROM rels r JOIN pg_trigger g ON g.tgrelid = r.oid AND NOT g.tgisinternal),
  'policies', (SELECT json_agg(json_build_array(r.nspname, r.relname, po.polname, po.polcmd, po.polpermissive, pg_get_expr(po.polqual, po.polrelid),
      pg_get_expr(po.polwithcheck, po.polrelid))
    ORDER BY r.nspname, r.relname, po.polname)
    FROM rels r JOIN pg_policy po ON po.polrelid = r.oid),
  'extensions', (SELECT json_agg(json_build_array(e.extname, e.extversion, n.nspname) ORDER BY e.extname)
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace)
)::text, 'UTF8')), 'hex'))`;

interface Entry {
  format: number;
  storedAt: string;
  report: DriftReport;
}

/** Whether any entry was stored for these inputs (whatever the database). */
function hasBase(root: string, baseId: string): boolean {
  return cacheFiles(root).some((f) => f.startsWith(baseId));
}

function readEntry(root: string, key: string): DriftReport | undefined {
  const file = join(driftCacheDir(root), `${key}.json`);
  try {
    const e = JSON.parse(readFileSync(file, 'utf8')) as Entry;
    if (e.format !== FORMAT || typeof e.report?.migrationsToDatabase !== 'string' || typeof e.report.databaseToSchema !== 'string') return undefined;
    return e.report;
  } catch {
    // Missing or unreadable (a half-written file cannot exist: entries are renamed into place): a miss.
    return undefined;
  }
}

/** Written to a temporary name and renamed into place: a reader never sees half an entry. A cache that cannot be written is only slower. */
function writeEntry(root: string, key: string, report: DriftReport): void {
  const dir = driftCacheDir(root);
  try {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '.gitignore'), '# stagedb drift cache: rebuilt when missing, never commit it\n*\n');
    }
    const entry: Entry = { format: FORMAT, storedAt: new Date().toISOString(), report: { ...report, cache: undefined } };
    const tmp = join(dir, `.${key}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(entry)}\n`);
    renameSync(tmp, join(dir, `${key}.json`));
    prune(dir);
  } catch {
    /* read-only checkout, full disk: the next check replays again */
  }
}

function prune(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length <= KEEP) return;
  const aged = files.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { f } of aged.slice(0, files.length - KEEP)) rmSync(join(dir, f), { force: true });
}
