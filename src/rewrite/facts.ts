/**
 * What an expand/contract plan needs to know about a column it moves, and the migration's SQL does
 * not say: whether it is NOT NULL, its default, and the indexes that must exist again on the new
 * column. Read from the database the migration was generated against (`migrate dev`: the
 * development database, at the state the migrations before it leave).
 */
import type pg from 'pg';
import type { ColumnFacts, ColumnTarget } from './types.js';

type Queryable = Pick<pg.Client, 'query'>;

/**
 * One round trip for every target. A column the plan cannot move on its own is given a `blocker`:
 * the table is partitioned, a constraint uses it (primary key, foreign key either way, unique or check constraint — the plan
 * would have to move them, and their dependants, too), a view or rule reads it, it is an identity or
 * generated column, or an index on it has an expression, a predicate, a non-default operator class
 * or collation (its definition cannot be carried over by name). A target that does not exist is left out.
 */
export async function readColumnFacts(client: Queryable, targets: readonly ColumnTarget[]): Promise<ColumnFacts[]> {
  if (targets.length === 0) return [];
  const r = await client.query<{ schema: string; table: string; column: string; kind: string; quoted: string; notnull: boolean; def: string | null; ident: string; gen: string; coll: boolean; cons: string[] | null; views: number; indexes: Array<{ name: string; def: string; simple: boolean; constraint: boolean }> | null }>(
    `WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS t(s, tb, col))
     SELECT n.nspname AS schema, c.relname AS "table", a.attname AS "column", c.relkind::text AS kind, quote_ident(a.attname) AS quoted, a.attnotnull AS notnull,
            pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity::text AS ident, a.attgenerated::text AS gen,
            (a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)) AS coll,
            (SELECT array_agg(k.conname::text ORDER BY k.conname) FROM pg_constraint k
              WHERE (k.conrelid = c.oid AND a.attnum = ANY (k.conkey) AND k.contype <> 'n') OR (k.confrelid = c.oid AND a.attnum = ANY (k.confkey))) AS cons,
            (SELECT count(*)::int FROM pg_depend dep WHERE dep.classid = 'pg_rewrite'::regclass AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum) AS views,
            (SELECT json_agg(json_build_object(
                      'name', ic.relname,
                      'def', pg_get_indexdef(i.indexrelid),
                      'simple', i.indexprs IS NULL AND i.indpred IS NULL
                                AND NOT EXISTS (SELECT 1 FROM unnest(i.indclass::oid[]) oc JOIN pg_opclass o ON o.oid = oc WHERE NOT o.opcdefault)
                                AND NOT EXISTS (SELECT 1 FROM unnest(i.indcollation::oid[]) ol WHERE ol <> 0 AND ol <> 100 AND ol <> a.attcollation),
                      'constraint', EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)) ORDER BY ic.relname)
               FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
              WHERE i.indrelid = c.oid
                AND EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_class'::regclass AND dep.objid = i.indexrelid AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum)) AS indexes
       FROM t
       JOIN pg_namespace n ON n.nspname = t.s
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tb AND c.relkind IN ('r', 'p')
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = t.col AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum`,
    [targets.map((t) => t.schema), targets.map((t) => t.table), targets.map((t) => t.column)],
  );
  return r.rows.map((row) => {
    const indexes: ColumnFacts['indexes'] = [];
    let blocker: string | undefined;
    if (row.kind === 'p') blocker = 'the table is partitioned (a backfill by physical position, and CONCURRENTLY, work per partition)';
    else if (row.cons?.length) blocker = `the constraint${row.cons.length > 1 ? 's' : ''} ${row.cons.map((x) => `"${x}"`).join(', ')} use${row.cons.length > 1 ? '' : 's'} it`;
    else if (row.views > 0) blocker = 'a view or rule reads it';
    else if (row.ident || row.gen) blocker = `it is ${row.ident ? 'an identity' : 'a generated'} column`;
    else if (row.coll) blocker = 'it has a collation of its own';
    for (const i of row.indexes ?? []) {
      const using = / USING (.*)$/s.exec(i.def)?.[1];
      if (!i.simple || i.constraint || !using) {
        blocker ??= `its index "${i.name}" cannot be built again by name (an expression, a predicate, an operator class or a constraint)`;
        continue;
      }
      indexes.push({ name: i.name, unique: /^CREATE UNIQUE /.test(i.def), using });
    }
    return { schema: row.schema, table: row.table, column: row.column, quoted: row.quoted, notNull: row.notnull, ...(row.def !== null ? { default: row.def } : {}), indexes, ...(blocker ? { blocker } : {}) };
  });
}
