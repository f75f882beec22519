import type { Client } from 'pg';
import type { SchemaChange } from '../types.js';
import { fieldsOfColumns, modelOfTable, type PrismaModelMap } from '../prisma-models.js';

/** `schema.table`, or `table` in public: how advice names a table. */
export const qualified = (schema: string, table: string): string => (schema === 'public' ? table : `${schema}.${table}`);

/** One index of a user table, as the checks compare them. */
export interface IndexInfo {
  schema: string;
  table: string;
  name: string;
  /** Key columns in order; empty when any key is an expression. */
  columns: string[];
  unique: boolean;
  primary: boolean;
  /** Backs a constraint (primary key, unique, exclusion): dropping it means dropping the constraint. */
  constraint: boolean;
  partial: boolean;
  valid: boolean;
  method: string;
  bytes: number;
}

/** Every index of the given schemas, one query. */
export async function readIndexes(client: Client, schemas: string[]): Promise<IndexInfo[]> {
  // As IndexInfo, but for an expression index's columns (NULL) and the size (bigint, as text).
  const { rows } = await client.query<Omit<IndexInfo, 'columns' | 'bytes'> & { columns: string[] | null; bytes: string }>(
    `SELECT n.nspname AS schema, t.relname AS table, ic.relname AS name,
            CASE WHEN i.indexprs IS NULL THEN
              (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(string_to_array(i.indkey::text, ' ')::int2[]) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                WHERE k.ord <= i.indnkeyatts)
            END AS columns,
            i.indisunique AS unique, i.indisprimary AS primary,
            EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) AS constraint,
            i.indpred IS NOT NULL AS partial, i.indisvalid AS valid, am.amname AS method,
            pg_relation_size(i.indexrelid)::text AS bytes
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = ic.relam
      WHERE n.nspname = ANY($1)`,
    [schemas],
  );
  return rows.map((r) => ({ ...r, columns: r.columns ?? [], bytes: Number(r.bytes) }));
}

/** An index whose leading columns are exactly `columns` (in any order) serves lookups by them. */
export function covers(index: IndexInfo, columns: string[]): boolean {
  if (index.partial || !index.valid || index.columns.length < columns.length || index.method !== 'btree') return false;
  const lead = new Set(index.columns.slice(0, columns.length));
  return columns.every((c) => lead.has(c));
}

/** The schema.prisma line for an index on `columns` of a table, in its model's field names. */
export function indexChange(models: PrismaModelMap, schema: string, table: string, columns: string[], how: 'add' | 'remove'): SchemaChange | undefined {
  const model = modelOfTable(models, table, schema);
  if (!model) return undefined;
  const line = `@@index([${fieldsOfColumns(model, columns).join(', ')}])`;
  return how === 'add' ? { model: model.name, add: line } : { model: model.name, remove: line };
}

/** "model Post: add @@index([authorId])". */
export function describeChange(c: SchemaChange): string {
  return c.add ? `add \`${c.add}\` to model ${c.model} in schema.prisma` : `remove \`${c.remove}\` from model ${c.model} in schema.prisma`;
}

export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export { formatBytes as bytes } from '../../backup/manifest.js';

/** A query's time: 0.42 ms, 38 ms, 4.2 s, 9 min (sub-millisecond means matter for frequent queries). */
export function duration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** A statement on one line, cut at `max` characters; a text the role may not see says so. */
export function oneLine(q: string | null, max = 120): string {
  if (!q) return '(hidden from this role)';
  const s = q.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 3)}…` : s;
}
