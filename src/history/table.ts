import type { Client } from 'pg';
import { quoteIdent } from '../pg/quote-ident.js';

/** A row of `_prisma_migrations`, exactly Prisma's columns. */
export interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

export const TABLE = '_prisma_migrations';

export function tableRef(schema: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(TABLE)}`;
}

/** Prisma's own DDL for the history table, so the Prisma CLI and stagedb can take turns on one database. */
export function createTableSql(schema: string): string {
  return `CREATE TABLE ${tableRef(schema)} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;
}

export interface SchemaProbe {
  schemaExists: boolean;
  tableExists: boolean;
  /**
   * Relations and types in the schema other than _prisma_migrations (for the baseline check, Prisma's
   * P3005). An extension's own objects do not count (the views of pg_stat_statements, PostGIS's
   * spatial_ref_sys, …): as in Prisma's engine, a schema holding only those is empty.
   */
  otherObjects: number;
  serverVersion: string;
  serverVersionNum: number;
}

/** Relations and types that make a schema non-empty for the baseline check; `$1` is the schema, `$3` the history table. */
const OWN_RELATIONS = `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relname <> $3 AND c.relkind IN ('r','p','v','m','f','S')
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;
const OWN_TYPES = `FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE n.nspname = $1 AND t.typtype IN ('e','d','c') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')`;

/** One round trip: does the schema and history table exist, is the schema otherwise empty, which server. */
export async function probe(client: Client, schema: string): Promise<SchemaProbe> {
  const r = await client.query<{ schema_exists: boolean; table_exists: boolean; other: string; v: string; vn: string }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists,
            to_regclass($2) IS NOT NULL AS table_exists,
            (SELECT count(*) ${OWN_RELATIONS}) + (SELECT count(*) ${OWN_TYPES}) AS other,
            current_setting('server_version') AS v, current_setting('server_version_num') AS vn`,
    [schema, tableRef(schema), TABLE],
  );
  const row = r.rows[0]!;
  return {
    schemaExists: row.schema_exists,
    tableExists: row.table_exists,
    otherObjects: Number(row.other),
    serverVersion: row.v,
    serverVersionNum: Number(row.vn),
  };
}

/** The objects `probe` counts in `otherObjects`, named (`view "v"`, `table "legacy"`), at most `limit`. */
export async function listOtherObjects(client: Client, schema: string, limit = 10): Promise<string[]> {
  const r = await client.query<{ what: string }>(
    `SELECT what FROM (
       SELECT (CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' ELSE 'table' END) || ' ' || quote_ident(c.relname) AS what ${OWN_RELATIONS}
       UNION ALL
       SELECT (CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'type' END) || ' ' || quote_ident(t.typname) ${OWN_TYPES}
     ) o ORDER BY what LIMIT $2`,
    [schema, limit, TABLE],
  );
  return r.rows.map((row) => row.what);
}

/** The columns of a `_prisma_migrations` row that comparing histories reads (`compareHistory`). */
/** The columns status compares; `id` is read only for unfinished rows (an automatic retry marks them), '' otherwise. */
export type HistoryRow = Pick<MigrationRow, 'id' | 'migration_name' | 'checksum' | 'finished_at' | 'rolled_back_at' | 'started_at' | 'logs'>;

/** What `readStatus` found: the server, and the history's rows; `rows` undefined when the table is missing. */
export interface StatusRead {
  serverVersion: string;
  serverVersionNum: number;
  rows?: HistoryRow[];
  /** What is in the schema, when the history table is missing. */
  probe?: SchemaProbe;
}

/**
 * One round trip for `status`: the server's version and the history's rows, only the columns status
 * reads, as ONE json value (one string to parse instead of a row object and six parsed values per
 * migration: on an 800-migration history the driver's per-row parsing, its timestamp parser above all,
 * cost more than the query). Times travel as epoch milliseconds, truncated as the driver's own parser
 * truncates microseconds; `logs` only where they are shown (unfinished, not rolled back).
 * When the table does not exist the query fails (42P01): `rows` is then undefined and `probe` says
 * what is there, a second round trip only on a database never deployed to.
 */
export async function readStatus(client: Client, schema: string): Promise<StatusRead> {
  const ms = (c: string) => `floor(extract(epoch FROM ${c}) * 1000)`;
  try {
    const r = await client.query<{ v: string; vn: string; rows: string }>(
      `SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS vn,
              (SELECT coalesce(json_agg(json_build_array(migration_name, checksum, ${ms('finished_at')}, rolled_back_at IS NOT NULL, ${ms('started_at')},
                                        CASE WHEN finished_at IS NULL AND rolled_back_at IS NULL THEN logs END,
                                        CASE WHEN finished_at IS NULL AND rolled_back_at IS NULL THEN id END)
                                        ORDER BY started_at, migration_name), '[]')::text
                 FROM ${tableRef(schema)}) AS rows`,
    );
    const row = r.rows[0]!;
    const parsed = JSON.parse(row.rows) as Array<[string, string, number | null, boolean, number, string | null, string | null]>;
    // Indexed, not destructured: a destructured array parameter walks the array's iterator, element by
    // element, in code that runs once per migration and is never optimised (~2 ms of 3 × 800 rows).
    const rows: HistoryRow[] = new Array(parsed.length);
    for (let i = 0; i < parsed.length; i++) {
      const p = parsed[i]!;
      const finished = p[2];
      rows[i] = {
        id: p[6] ?? '',
        migration_name: p[0],
        checksum: p[1],
        finished_at: finished === null ? null : new Date(finished),
        // compareHistory only asks whether it is set; the time itself is never shown by status.
        rolled_back_at: p[3] ? new Date(0) : null,
        started_at: new Date(p[4]),
        logs: p[5],
      };
    }
    return { serverVersion: row.v, serverVersionNum: Number(row.vn), rows };
  } catch (e) {
    if ((e as { code?: string }).code !== '42P01') throw e;
    const p = await probe(client, schema);
    return { serverVersion: p.serverVersion, serverVersionNum: p.serverVersionNum, probe: p };
  }
}

export async function listRows(client: Client, schema: string): Promise<MigrationRow[]> {
  const r = await client.query<MigrationRow>(`SELECT * FROM ${tableRef(schema)} ORDER BY started_at ASC, migration_name ASC`);
  return r.rows;
}
