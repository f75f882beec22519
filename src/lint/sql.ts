import type { Node, RangeVar, TypeName } from 'libpg-query';
import type { Rel } from './input-model.js';

/**
 * Small helpers over the parser's JSON tree: names, types and SQL text for the safe alternatives.
 * Identifiers in generated SQL are always double-quoted, as Prisma writes them.
 */

/** The node inside a `{ Kind: {...} }` wrapper, when it is of that kind. */
export function as<T>(node: Node | undefined, kind: string): T | undefined {
  return node ? ((node as Record<string, unknown>)[kind] as T | undefined) : undefined;
}

/** `String` nodes of a list, e.g. a qualified name. */
export function strings(list: Node[] | undefined): string[] {
  const out: string[] = [];
  for (const n of list ?? []) {
    const s = as<{ sval?: string }>(n, 'String');
    if (s) out.push(s.sval ?? '');
  }
  return out;
}

export function relOf(rv: RangeVar | undefined): Rel | undefined {
  if (!rv?.relname) return undefined;
  return rv.schemaname ? { schema: rv.schemaname, name: rv.relname } : { name: rv.relname };
}

/** A qualified name given as a list (`DROP INDEX "s"."i"`, type names). */
export function relOfNames(names: string[]): Rel | undefined {
  if (names.length === 0) return undefined;
  const name = names[names.length - 1]!;
  return names.length > 1 ? { schema: names[names.length - 2]!, name } : { name };
}

export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The relation as SQL, qualified only when the migration qualified it. */
export function relSql(rel: Rel): string {
  return rel.schema ? `${ident(rel.schema)}.${ident(rel.name)}` : ident(rel.name);
}

export function relKey(rel: Rel, defaultSchema: string): string {
  return `${rel.schema ?? defaultSchema}.${rel.name}`;
}

/** Integer value of an `A_Const` (type modifiers). */
function constInt(n: Node): number | undefined {
  const c = as<{ ival?: { ival?: number } }>(n, 'A_Const');
  if (c) return c.ival?.ival ?? 0;
  return undefined;
}

const SQL_NAMES: Record<string, string> = {
  int2: 'SMALLINT',
  int4: 'INTEGER',
  int8: 'BIGINT',
  float4: 'REAL',
  float8: 'DOUBLE PRECISION',
  bool: 'BOOLEAN',
  varchar: 'VARCHAR',
  bpchar: 'CHAR',
  numeric: 'DECIMAL',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
  time: 'TIME',
  timetz: 'TIMETZ',
  interval: 'INTERVAL',
};

/** The type as SQL, in Prisma's spelling where it has one: `VARCHAR(200)`, `BIGINT`, `"Role"`, `TEXT[]`. */
export function typeSql(t: TypeName | undefined): string {
  if (!t) return '?';
  const names = strings(t.names);
  const catalog = names.length === 2 && names[0] === 'pg_catalog';
  const base = names[names.length - 1] ?? '?';
  let out = catalog ? (SQL_NAMES[base] ?? base.toUpperCase()) : /^[a-z_][a-z0-9_]*$/.test(base) && names.length === 1 ? base.toUpperCase() : names.map(ident).join('.');
  const mods = (t.typmods ?? []).map(constInt).filter((v): v is number => v !== undefined);
  if (mods.length) out += `(${mods.join(',')})`;
  if (t.arrayBounds?.length) out += '[]'.repeat(t.arrayBounds.length);
  return out;
}

/** Canonical names, as `format_type()` prints them, so a new type compares with the database's. */
const CANONICAL: Record<string, string> = {
  int2: 'smallint',
  smallint: 'smallint',
  int4: 'integer',
  int: 'integer',
  integer: 'integer',
  int8: 'bigint',
  bigint: 'bigint',
  float4: 'real',
  real: 'real',
  float8: 'double precision',
  bool: 'boolean',
  boolean: 'boolean',
  varchar: 'character varying',
  bpchar: 'character',
  char: 'character',
  numeric: 'numeric',
  decimal: 'numeric',
  text: 'text',
  jsonb: 'jsonb',
  json: 'json',
  uuid: 'uuid',
  bytea: 'bytea',
  date: 'date',
  inet: 'inet',
  cidr: 'cidr',
  serial: 'integer',
  serial4: 'integer',
  bigserial: 'bigint',
  serial8: 'bigint',
  smallserial: 'smallint',
  serial2: 'smallint',
};

/** `format_type()`'s spelling of a parsed type: `character varying(200)`, `timestamp(3) without time zone`, `"Role"`. */
export function formatType(t: TypeName | undefined): string {
  if (!t) return '?';
  const names = strings(t.names);
  const base = names[names.length - 1] ?? '?';
  const builtin = names.length === 1 || names[0] === 'pg_catalog';
  const mods = (t.typmods ?? []).map(constInt).filter((v): v is number => v !== undefined);
  const m = mods.length ? `(${mods.join(',')})` : '';
  let out: string;
  if (builtin && (base === 'timestamp' || base === 'timestamptz' || base === 'time' || base === 'timetz')) {
    const word = base.startsWith('timestamp') ? 'timestamp' : 'time';
    out = `${word}${m} ${base.endsWith('tz') ? 'with' : 'without'} time zone`;
  } else if (builtin && CANONICAL[base]) {
    out = CANONICAL[base] + m;
  } else {
    out = (/^[a-z_][a-z0-9_$]*$/.test(base) ? base : ident(base)) + m;
  }
  return out + '[]'.repeat(t.arrayBounds?.length ?? 0);
}

/** Type name without modifiers, lower-case (`varchar`, `int4`, `serial`, `Role`). */
export function baseType(t: TypeName | undefined): string {
  const names = strings(t?.names);
  return names[names.length - 1] ?? '';
}

const WORD_END = /^(NOT|NULL|CONSTRAINT|PRIMARY|UNIQUE|REFERENCES|CHECK|COLLATE|GENERATED|DEFAULT)\b/i;

/**
 * Source text from `from` up to the first `,` `;` or unmatched `)` outside parentheses and quotes — and,
 * with `stopAtConstraint`, before a column-constraint keyword. The parser gives where a node starts,
 * not where it ends.
 */
function scanText(sql: string, from: number, stopAtConstraint: boolean): string {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const e = sql.indexOf(c, i + 1);
      i = e < 0 ? sql.length : e + 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && (c === ',' || c === ';')) break;
    else if (stopAtConstraint && depth === 0 && i > from && /\s/.test(sql[i - 1]!) && WORD_END.test(sql.slice(i, i + 12))) break;
    i++;
  }
  return sql.slice(from, i).trim();
}

/** The source text of an expression that starts at `from` in `sql` (it ends before a column-constraint keyword). */
export function exprText(sql: string, from: number): string {
  return scanText(sql, from, true);
}

/** Functions whose value changes per row: a column default calling one rewrites the table. */
export const VOLATILE_FUNCTIONS = new Set([
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'uuidv4',
  'uuidv7',
  'random',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'txid_current',
  'random_normal',
  'gen_random_bytes',
]);

/** The volatile function an expression calls, if any (a default such as `gen_random_uuid()`). */
export function volatileCall(node: Node | undefined): string | undefined {
  let found: string | undefined;
  walk(node, (n) => {
    const f = as<{ funcname?: Node[] }>(n, 'FuncCall');
    if (f) {
      const name = strings(f.funcname).pop()?.toLowerCase() ?? '';
      if (VOLATILE_FUNCTIONS.has(name)) found ??= name;
    }
  });
  return found;
}

/** Visits every node of a tree (depth first). */
export function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(x, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  visit(node as Node);
  for (const k in node as Record<string, unknown>) {
    const v = (node as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') walk(v, visit);
  }
}

/** The source text of a clause starting at `from`: up to the first `,` or `;` outside parentheses and quotes. */
export function clauseText(sql: string, from: number): string {
  return scanText(sql, from, false);
}
