/**
 * Drift without replaying the history every time (`status --drift`, the dashboard).
 *
 * A drift check is a function of its inputs: the content of the migrations the database has applied,
 * schema.prisma (its datasource settings and models), the engine's version, the server (its version,
 * and where the shadow database is made) and the live database's schema. The first four are read
 * from disk or one query; the last one is what the engine describes, which we stand in for with a
 * fingerprint: a sha256 of one catalog query (tables, columns with types/defaults/identity/collation,
 * constraints, index definitions, enums, domains, sequences, views, functions, triggers, policies,
 * extensions, comments) over the schemas the check covers. The fingerprint reads at least everything
 * the engine compares, so equal fingerprints mean the engine would give the same answer; it reads some
 * things the engine ignores (triggers, policies, comments), which can only cause a miss, never a wrong hit.
 *
 * So an entry is `sha256(all inputs) → the report`, one file each under `.stagedb/drift-cache/`. An
 * edited migration changes its content hash (never size or mtime), a new migration changes the
 * applied list, a change to the database changes the fingerprint: each is a miss, replayed and stored.
 * An entry is stored only when the fingerprint read before the replay equals the one read after it (a
 * database changed in the middle is not recorded under either state). Errors are never stored.
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
import { appliedForDrift, driftFromEngine, type DriftReport } from './diff.js';
import { resetSchemas } from './shared.js';

/** Bump when the key or the fingerprint query changes: older entries are then never read. */
const FORMAT = 2;
/** Entries kept; the oldest (by write time) go first. */
const KEEP = 200;

export interface DriftCheckOptions {
  env: ResolvedEnvironment;
  schemaPath: string;
  migrationsDir: string;
  /** The project root: the cache lives in `<root>/.stagedb/drift-cache/`. */
  root: string;
  /** The migrations folder as the caller has just read it (status has): saves reading it once per environment. */
  local?: LocalMigration[];
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
  const before = await readInputs(o);
  const hit = readEntry(o.root, before.key);
  if (hit) return { ...hit, env: o.env.name, cache: 'hit' };
  // `status --drift --env all` checks environments concurrently: those with the same inputs (same
  // applied history, same schema, same server) share one replay instead of each making its own.
  const running = inflight.get(before.key);
  if (running) return { ...(await running), env: o.env.name, cache: 'miss' };
  const replay = (async () => {
    const report = await driftFromEngine(o, before.applied);
    // Store only what was checked against one state of the database: re-read it after the replay.
    const after = await readInputs(o);
    if (after.key === before.key) writeEntry(o.root, before.key, report);
    return report;
  })();
  inflight.set(before.key, replay);
  try {
    return { ...(await replay), env: o.env.name, cache: 'miss' };
  } finally {
    inflight.delete(before.key);
  }
}

const inflight = new Map<string, Promise<DriftReport>>();

/**
 * The cached answer only, never a replay (the dashboard's first paint): `undefined` when the cache has
 * no entry for the database as it is now.
 */
export async function cachedDrift(o: DriftCheckOptions): Promise<DriftReport | undefined> {
  const { key } = await readInputs(o);
  const hit = readEntry(o.root, key);
  return hit ? { ...hit, env: o.env.name, cache: 'hit' } : undefined;
}

interface Inputs {
  key: string;
  applied: string[];
}

/** Everything a drift answer depends on, read now: one connection, three catalog queries. */
async function readInputs(o: DriftCheckOptions): Promise<Inputs> {
  const { env } = o;
  const local = o.local ?? (existsSync(o.migrationsDir) ? readLocalHistory(o.migrationsDir).migrations : []);
  const schemas = resetSchemas(env, existsSync(o.schemaPath) ? o.schemaPath : undefined);
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'drift' });
  try {
    const applied = await appliedForDrift(client, env, local);
    const fingerprint = await schemaFingerprint(client, schemas);
    const byName = new Map<string, LocalMigration>(local.map((m) => [m.name, m]));
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    // Where the replay runs (its server's extensions, collations and version shape the result), without
    // credentials: host, port and database only.
    const shadow = env.shadowDatabaseUrl
      ? (() => {
          const u = new URL(env.shadowDatabaseUrl!);
          return `${u.hostname}:${u.port}${u.pathname}`;
        })()
      : `created on ${env.directInfo.host}:${env.directInfo.port}`;
    const key = sha(
      JSON.stringify({
        format: FORMAT,
        engine: ENGINE_PACKAGE_VERSION,
        // The content of each applied migration, hashed: an edit of the same size and mtime still changes it.
        applied: applied.map((name) => [name, sha(byName.get(name)!.script)]),
        schemaPrisma: schemaFiles(o.schemaPath).map((f) => [f, sha(readFileSync(f, 'utf8'))]),
        schemas,
        server: fingerprint.serverVersion,
        shadow,
        database: fingerprint.hash,
      }),
    );
    return { key, applied };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The live schema, as one canonical JSON value hashed (sha256, by the server). Names, definitions and order, never OIDs,
 * owners or grants (those differ between two databases with the same schema, and the engine ignores them).
 */
export async function schemaFingerprint(client: Client, schemas: string[]): Promise<{ hash: string; serverVersion: number }> {
  // Hashed by the server: a 64-character answer instead of the whole catalog over the wire and through JSON.parse.
  const { rows } = await client.query<{ v: number; hash: string }>(FINGERPRINT_SQL, [schemas]);
  return { hash: rows[0]!.hash, serverVersion: rows[0]!.v };
}

const FINGERPRINT_SQL = `
WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1::text[])),
rels AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c', 'i', 'I')
)
SELECT current_setting('server_version_num')::int AS v, encode(sha256(convert_to(json_build_object(
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
)::text, 'UTF8')), 'hex') AS hash`;

interface Entry {
  format: number;
  storedAt: string;
  report: DriftReport;
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
