import type { Client } from 'pg';

/** Tables, views and sequences the current role cannot SELECT, in `schema` or (undefined) every user schema. */
export async function unreadableRelations(client: Client, schema?: string): Promise<{ total: number; unreadable: string[] }> {
  const r = await client.query<{ name: string; readable: boolean }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name,
            has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') AS readable
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'S', 'm', 'v')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        AND ($1::text IS NULL OR n.nspname = $1)
      ORDER BY 1`,
    [schema ?? null],
  );
  return { total: r.rows.length, unreadable: r.rows.filter((x) => !x.readable).map((x) => x.name) };
}

export const listSome = (names: string[], n = 5) => names.slice(0, n).join(', ') + (names.length > n ? ` and ${names.length - n} more` : '');
