import type { Client } from 'pg';
import { quoteIdent } from '../pg/quote-ident.js';
import type { AppliedMigrationRecord, ChecksumAlgorithm, SequenceStat, TableStat } from './manifest.js';
import type { CopyCount } from './progress.js';

/**
 * What a backup records about its database, read in one REPEATABLE READ transaction whose snapshot
 * pg_dump imports (`--snapshot`): the applied migrations, row counts and checksums describe exactly
 * the data in the dump, even while the application keeps writing.
 */
export interface DatabaseFacts {
  serverVersion: string;
  serverVersionNum: number;
  database: string;
  sizeBytes: number;
  tables: TableStat[];
  sequences: SequenceStat[];
  largeObjects: number;
  migrations: { table: boolean; applied: AppliedMigrationRecord[] };
}

/** Session settings that make a row's text the same on every server: the checksums depend on it. */
export const STABLE_TEXT = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, MDY'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 3',
  "SET bytea_output = 'hex'",
  "SET lc_monetary = 'C'",
].join('; ');

/** Which tables hold data: ordinary tables and materialized views outside the system schemas, not an extension's own. */
const USER_RELATIONS = `
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

export async function readFacts(client: Client, historySchema: string): Promise<DatabaseFacts> {
  const head = await client.query<{ v: string; vn: string; db: string; size: string; lo: string }>(
    `SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS vn, current_database() AS db,
            pg_database_size(current_database())::text AS size, (SELECT count(*) FROM pg_largeobject_metadata)::text AS lo`,
  );
  const tables = await client.query<{ schema: string; name: string; bytes: string; est: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, pg_table_size(c.oid)::text AS bytes, greatest(c.reltuples, 0)::bigint::text AS est ${USER_RELATIONS}
     ORDER BY 1, 2`,
  );
  const sequences = await client.query<{ schema: string; name: string; last_value: string | null }>(
    `SELECT schemaname AS schema, sequencename AS name, last_value::text FROM pg_sequences
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  const history = await readHistory(client, historySchema);
  const h = head.rows[0]!;
  return {
    serverVersion: h.v.split(' ')[0]!,
    serverVersionNum: Number(h.vn),
    database: h.db,
    sizeBytes: Number(h.size),
    tables: tables.rows.map((t) => ({ schema: t.schema, name: t.name, bytes: Number(t.bytes), estimatedRows: Number(t.est) })),
    sequences: sequences.rows.map((s) => ({ schema: s.schema, name: s.name, lastValue: s.last_value })),
    largeObjects: Number(h.lo),
    migrations: history,
  };
}

/** `_prisma_migrations` as Prisma counts it: finished, not rolled back; oldest first. */
export async function readHistory(client: Client, schema: string): Promise<DatabaseFacts['migrations']> {
  const table = `${quoteIdent(schema)}."_prisma_migrations"`;
  const exists = (await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0]!.ok;
  if (!exists) return { table: false, applied: [] };
  const r = await client.query<{ name: string; checksum: string; finished_at: Date }>(
    `SELECT migration_name AS name, checksum, finished_at FROM ${table}
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY finished_at, migration_name`,
  );
  return { table: true, applied: r.rows.map((m) => ({ name: m.name, checksum: m.checksum, finishedAt: m.finished_at.toISOString() })) };
}

export function checksumAlgorithm(serverVersionNum: number): ChecksumAlgorithm {
  // hashtextextended (PostgreSQL 11+) must stay stable across versions (hash partitions survive
  // pg_upgrade with it), and is ~5x cheaper than md5 here.
  return serverVersionNum >= 110000 ? 'hashtextextended' : 'md5';
}

function hashExpr(algorithm: ChecksumAlgorithm, text: string): string {
  return algorithm === 'hashtextextended' ? `hashtextextended(${text}, 0)` : `('x' || substr(md5(${text}), 1, 16))::bit(64)::bigint`;
}

/** Tables per query: one round trip for many small tables, without one statement holding every table's locks at once. */
const BATCH = 50;

/**
 * Exact row counts of every table and, with an `algorithm`, an order-independent content checksum:
 * the sum of a 64-bit hash of each row's text, its columns taken in name order so a restored table
 * whose columns come back in another order still matches. The same for the large objects (their
 * OIDs included: pg_dump and pg_restore keep them). Run in the dump's snapshot, or on a restored copy.
 */
export async function tableStats(
  client: Client,
  tables: Array<{ schema: string; name: string }>,
  algorithm?: ChecksumAlgorithm,
): Promise<{ tables: Map<string, { rows: number; checksum?: string }>; largeObjects: { count: number; checksum?: string } }> {
  await client.query(STABLE_TEXT);
  const columnsOf = new Map<string, string[]>();
  if (algorithm) {
    const cols = await client.query<{ schema: string; name: string; cols: string[] }>(
      `SELECT n.nspname AS schema, c.relname AS name,
              coalesce(array_agg(a.attname::text ORDER BY a.attname) FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped), '{}') AS cols
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relkind IN ('r', 'm') GROUP BY 1, 2`,
    );
    for (const r of cols.rows) columnsOf.set(`${r.schema}.${r.name}`, r.cols);
  }
  const out = new Map<string, { rows: number; checksum?: string }>();
  for (let i = 0; i < tables.length; i += BATCH) {
    const batch = tables.slice(i, i + BATCH);
    const parts = batch.map((t, j) => {
      const from = `FROM ONLY ${quoteIdent(t.schema)}.${quoteIdent(t.name)} AS t`;
      if (!algorithm) return `SELECT ${j} AS i, count(*)::text AS n, NULL::text AS h ${from}`;
      const row = `ROW(${(columnsOf.get(`${t.schema}.${t.name}`) ?? []).map((c) => `t.${quoteIdent(c)}`).join(', ')})::text`;
      return `SELECT ${j} AS i, count(*)::text AS n, coalesce(sum(${hashExpr(algorithm, row)}), 0)::text AS h ${from}`;
    });
    const r = await client.query<{ i: number; n: string; h: string | null }>(parts.join('\nUNION ALL\n'));
    for (const x of r.rows) {
      const t = batch[x.i]!;
      out.set(`${t.schema}.${t.name}`, { rows: Number(x.n), ...(x.h === null ? {} : { checksum: x.h }) });
    }
  }
  const lo = await client.query<{ n: string; h: string | null }>(
    `SELECT count(*)::text AS n, ${algorithm ? `coalesce(sum(${hashExpr(algorithm, "oid::text || ':' || md5(lo_get(oid))")}), 0)::text` : 'NULL::text'} AS h FROM pg_largeobject_metadata`,
  );
  const h = lo.rows[0]!.h;
  return { tables: out, largeObjects: { count: Number(lo.rows[0]!.n), ...(h === null ? {} : { checksum: h }) } };
}

/** Rows and bytes copied so far by the COPYs of sessions with this application_name (PostgreSQL 14+; empty before). */
export async function copyProgress(client: Client, applicationName: string): Promise<Map<string, CopyCount>> {
  const r = await client.query<{ schema: string; name: string; n: string; b: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, p.tuples_processed::text AS n, p.bytes_processed::text AS b
       FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid
       JOIN pg_class c ON c.oid = p.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.application_name = $1`,
    [applicationName],
  );
  return new Map(r.rows.map((x) => [`${x.schema}.${x.name}`, { rows: Number(x.n), bytes: Number(x.b) }]));
}
