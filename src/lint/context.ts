import type { Client } from 'pg';
import type { References } from './run.js';
import type { DatabaseContext, Rel, TableStats } from './types.js';

/**
 * The target database's view of the tables the linted files touch, in one round trip: which exist,
 * their row estimate (pg_class.reltuples) and size (pg_total_relation_size; a partitioned table
 * counts its partitions) and foreign keys, the table of each index dropped by name (which is looked up
 * as a table too: dropping or reindexing the index locks it), and the current column types (with the
 * CHECK constraints reading each column, and every constraint name) where a type change, SET NOT NULL
 * or ADD CONSTRAINT is to be judged. Only catalog reads: nothing is locked, no table is scanned.
 */
export async function readDatabaseContext(client: Client, env: string, defaultSchema: string, refs: References): Promise<DatabaseContext> {
  const pairs = (rels: Rel[]) => [rels.map((r) => r.schema ?? defaultSchema), rels.map((r) => r.name)];
  const version = Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
  // pg_partition_tree is PostgreSQL 12+; before that a partitioned table counts as its parent alone.
  const sum = (expr: string) =>
    version >= 120000
      ? `CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(${expr.replace('$', 'p.relid')}), 0) FROM pg_partition_tree(c.oid) p) ELSE ${expr.replace('$', 'c.oid')} END`
      : expr.replace('$', 'c.oid');
  const rows = version >= 120000 ? `CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(greatest(pc.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) p JOIN pg_class pc ON pc.oid = p.relid WHERE pc.relkind = 'r') ELSE c.reltuples END` : 'c.reltuples';
  const [tn, tr] = pairs(refs.tables);
  const [in_, ir] = pairs(refs.indexes);
  const [cn, cr] = pairs(refs.columnsOf);
  const r = await client.query<{ constraints: Array<{ s: string; t: string; n: string }> | null; tables: Array<{ s: string; t: string; k: string; rows: number; bytes: string; heap: string; fks: Array<{ n: string; r: string }> | null; refby: string[] | null; parts: string[] | null }> | null; indexes: Array<{ s: string; i: string; ts: string; t: string }> | null; columns: Array<{ s: string; t: string; c: string; type: string; checks: Array<{ n: string; d: string }> | null }> | null }>(
    `SELECT
      (SELECT json_agg(json_build_object('s', n.nspname, 't', c.relname, 'k', c.relkind, 'rows', (${rows})::float8, 'bytes', (${sum('pg_total_relation_size($)')})::text, 'heap', (${sum('pg_relation_size($)')})::text,
                'fks', (SELECT json_agg(json_build_object('n', k.conname, 'r', rn.nspname || '.' || r.relname))
                          FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
                          WHERE k.conrelid = c.oid AND k.contype = 'f'),
                'parts', ${version >= 120000 ? `(SELECT json_agg(pn.nspname || '.' || pc.relname ORDER BY pc.relname) FROM pg_partition_tree(c.oid) p JOIN pg_class pc ON pc.oid = p.relid JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE p.relid <> c.oid AND c.relkind = 'p')` : 'NULL'},
                'refby', (SELECT json_agg(DISTINCT rn.nspname || '.' || r.relname)
                          FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
                          WHERE k.confrelid = c.oid AND k.contype = 'f' AND k.conrelid <> c.oid)))
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'm', 'f') AND c.oid IN (
           SELECT c2.oid FROM unnest($1::text[], $2::text[]) w(nsp, rel)
             JOIN pg_namespace n2 ON n2.nspname = w.nsp
             JOIN pg_class c2 ON c2.relnamespace = n2.oid AND c2.relname = w.rel
           -- the table behind an index dropped, reindexed or renamed by name is touched too (and locked)
           UNION SELECT x.indrelid FROM unnest($3::text[], $4::text[]) w(nsp, rel)
             JOIN pg_namespace n2 ON n2.nspname = w.nsp
             JOIN pg_class i ON i.relnamespace = n2.oid AND i.relname = w.rel AND i.relkind IN ('i', 'I')
             JOIN pg_index x ON x.indexrelid = i.oid)) AS tables,
      (SELECT json_agg(json_build_object('s', n.nspname, 'i', i.relname, 'ts', tn.nspname, 't', t.relname))
         FROM unnest($3::text[], $4::text[]) w(nsp, rel)
         JOIN pg_namespace n ON n.nspname = w.nsp
         JOIN pg_class i ON i.relnamespace = n.oid AND i.relname = w.rel AND i.relkind IN ('i', 'I')
         JOIN pg_index x ON x.indexrelid = i.oid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace tn ON tn.oid = t.relnamespace) AS indexes,
      (SELECT json_agg(json_build_object('s', n.nspname, 't', c.relname, 'c', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                'checks', (SELECT json_agg(json_build_object('n', k.conname, 'd', pg_get_constraintdef(k.oid)))
                             FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c' AND a.attnum = ANY(k.conkey))))
         FROM unnest($5::text[], $6::text[]) w(nsp, rel)
         JOIN pg_namespace n ON n.nspname = w.nsp
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.rel
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
      (SELECT json_agg(json_build_object('s', n.nspname, 't', c.relname, 'n', k.conname))
         FROM unnest($5::text[], $6::text[]) w(nsp, rel)
         JOIN pg_namespace n ON n.nspname = w.nsp
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.rel
         JOIN pg_constraint k ON k.conrelid = c.oid) AS constraints`,
    [tn, tr, in_, ir, cn, cr],
  );
  const row = r.rows[0]!;
  const tables = new Map<string, TableStats>();
  for (const t of row.tables ?? []) {
    tables.set(`${t.s}.${t.t}`, { rows: Number(t.rows), bytes: Number(t.bytes), heapBytes: Number(t.heap), kind: t.k, ...(t.fks?.length ? { foreignKeys: t.fks.map((f) => ({ name: f.n, references: f.r })) } : {}), ...(t.refby?.length ? { referencedBy: t.refby } : {}), ...(t.parts?.length ? { partitions: t.parts } : {}) });
  }
  for (const k of row.constraints ?? []) {
    const t = tables.get(`${k.s}.${k.t}`);
    if (t) (t.constraintNames ??= []).push(k.n);
  }
  for (const c of row.columns ?? []) {
    const t = tables.get(`${c.s}.${c.t}`);
    if (!t) continue;
    (t.columns ??= {})[c.c] = c.type;
    if (c.checks?.length) (t.checks ??= {})[c.c] = c.checks.map((k) => ({ name: k.n, def: k.d }));
  }
  const indexes = new Map<string, string>();
  for (const i of row.indexes ?? []) indexes.set(`${i.s}.${i.i}`, `${i.ts}.${i.t}`);
  return { env, serverVersionNum: version, defaultSchema, tables, indexes };
}
