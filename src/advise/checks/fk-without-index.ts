import { modelOfTable } from '../prisma-models.js';
import type { AdviceCheck, Finding } from '../types.js';
import { count, covers, describeChange, indexChange, qualified, readIndexes } from './shared.js';

/** Rows above which a missing index on a relation is a warning rather than a note. */
const WARN_ROWS = 10_000;

/**
 * ADV001: a relation whose foreign-key columns no index leads with. Prisma does not index relation
 * fields by itself (and with `relationMode = "prisma"` there are no foreign keys at all): every delete or
 * key update of the referenced row then scans the referencing table, and every join or `include` on the
 * relation reads it whole.
 */
export const fkWithoutIndex: AdviceCheck = {
  code: 'ADV001',
  name: 'fk-without-index',
  async run(ctx) {
    const indexes = await readIndexes(ctx.client, ctx.schemas);
    const relations: { schema: string; table: string; columns: string[]; referenced: string; via: string }[] = [];
    const fks = await ctx.client.query<{ schema: string; table: string; name: string; columns: string[]; referenced: string }>(
      `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, rc.relname AS referenced,
              (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS columns
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class rc ON rc.oid = con.confrelid
        WHERE con.contype = 'f' AND n.nspname = ANY($1)`,
      [ctx.schemas],
    );
    for (const fk of fks.rows) relations.push({ schema: fk.schema, table: fk.table, columns: fk.columns, referenced: fk.referenced, via: `foreign key ${fk.name}` });
    if (ctx.models.relationMode === 'prisma') {
      // No foreign keys in the database: the relations are schema.prisma's alone.
      for (const m of ctx.models.models) {
        for (const f of m.fields) {
          if (!f.relation) continue;
          const target = ctx.models.models.find((x) => x.name === f.type);
          const columns = f.relation.fields.map((name) => m.fields.find((x) => x.name === name)?.column ?? name);
          relations.push({ schema: m.schema ?? ctx.schemas[0]!, table: m.table, columns, referenced: target?.table ?? f.type, via: `relation ${m.name}.${f.name} (relationMode = "prisma")` });
        }
      }
    }
    if (relations.length === 0) return [];
    const sizes = new Map(
      (
        await ctx.client.query<{ schema: string; table: string; rows: string }>(
          `SELECT n.nspname AS schema, c.relname AS table, greatest(c.reltuples, 0)::bigint::text AS rows
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)`,
          [ctx.schemas],
        )
      ).rows.map((r) => [`${r.schema}.${r.table}`, Number(r.rows)]),
    );
    const findings: Finding[] = [];
    for (const r of relations) {
      const own = indexes.filter((i) => i.schema === r.schema && i.table === r.table);
      if (own.some((i) => covers(i, r.columns))) continue;
      const rows = sizes.get(`${r.schema}.${r.table}`);
      if (rows === undefined) continue; // a relation in schema.prisma whose table is not here (yet)
      const change = indexChange(ctx.models, r.schema, r.table, r.columns, 'add');
      const model = modelOfTable(ctx.models, r.table, r.schema);
      findings.push({
        code: this.code,
        name: this.name,
        severity: rows >= WARN_ROWS ? 'warn' : 'info',
        object: qualified(r.schema, r.table),
        title: `${qualified(r.schema, r.table)}(${r.columns.join(', ')}) references ${r.referenced} with no index that starts with ${r.columns.length === 1 ? 'it' : 'them'}`,
        evidence: [`${r.via}`, `${qualified(r.schema, r.table)} has about ${count(rows)} rows`, `indexes on ${qualified(r.schema, r.table)}: ${own.map((i) => `${i.name}(${i.columns.join(', ')})`).join(', ') || 'none'}`],
        cost: `deleting or changing the key of a ${r.referenced} row reads all of ${qualified(r.schema, r.table)} to find its references, and every include/join through this relation scans it`,
        fix: change
          ? `${describeChange(change)}, then \`stagedb migrate dev\` (it writes CREATE INDEX CONCURRENTLY for a table that exists)`
          : `CREATE INDEX CONCURRENTLY ON ${qualified(r.schema, r.table)} (${r.columns.join(', ')})${model ? '' : ' (no Prisma model maps this table)'}`,
        ...(change ? { schemaChange: change } : {}),
      });
    }
    return findings;
  },
};
