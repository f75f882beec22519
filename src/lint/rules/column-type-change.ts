import { held } from '../locks.js';
import { baseType, formatType, ident, relSql, typeSql } from '../sql.js';
import type { Hit, Rule } from '../types.js';
import { alterSql, alterTable, columnDef } from './util.js';

const VARCHAR = /^character varying(?:\((\d+)\))?$/;
const NUMERIC = /^numeric(?:\((\d+),(\d+)\))?$/;
const NUMERIC1 = /^numeric\((\d+)\)$/;

/**
 * Type changes PostgreSQL makes without a rewrite or a scan (binary-coercible, no narrower limit):
 * a longer or unlimited varchar, varchar → text, text → unlimited varchar, a wider numeric, cidr → inet.
 */
export function safeTypeChange(from: string, to: string): boolean {
  if (from === to) return true;
  const fv = VARCHAR.exec(from);
  const tv = VARCHAR.exec(to);
  if (fv && (to === 'text' || (tv && (tv[1] === undefined || (fv[1] !== undefined && Number(tv[1]) >= Number(fv[1])))))) return true;
  if (from === 'text' && tv && tv[1] === undefined) return true;
  const fn = NUMERIC.exec(from) ?? NUMERIC1.exec(from);
  const tn = NUMERIC.exec(to) ?? NUMERIC1.exec(to);
  if (fn && tn) {
    if (tn[1] === undefined) return true;
    if (fn[1] === undefined) return false;
    const fs = Number(fn[2] ?? 0);
    const ts = Number(tn[2] ?? 0);
    return fs === ts && Number(tn[1]) >= Number(fn[1]);
  }
  return from === 'cidr' && to === 'inet';
}

/** Without the database, a target that is safe from every type it is commonly widened from. */
export const likelyWidening = (to: string): boolean => to === 'text' || to === 'character varying' || to === 'numeric';

/** R12: `ALTER COLUMN … TYPE` that is not binary-coercible — Prisma's `SET DATA TYPE` (`Int` → `BigInt`, `String` → `@db.VarChar(n)`). */
const rule: Rule = {
  code: 'SDB011',
  name: 'column-type-change',
  summary: 'ALTER COLUMN TYPE that is not binary-coercible rewrites the table and its indexes',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_AlterColumnType'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      const col = cmd.subtype === 'AT_AlterColumnType' ? columnDef(cmd) : undefined;
      if (!col || !cmd.name) continue;
      // A type created by the same files: Prisma's enum recreate, SDB019.
      if (ctx.batch.types.has(ctx.key({ name: baseType(col.typeName) }))) continue;
      if (ctx.newColumns.has(`${ctx.key(a.rel)}.${cmd.name}`)) continue;
      const to = formatType(col.typeName);
      const from = ctx.stats(a.rel)?.columns?.[cmd.name];
      if (from !== undefined ? safeTypeChange(from, to) : likelyWidening(to)) continue;
      const name = ident(cmd.name);
      const type = typeSql(col.typeName);
      const t = alterSql(a.rel);
      const narrowing = /^character varying\((\d+)\)$/.exec(to);
      const limit = narrowing?.[1];
      const fix = limit
        ? [
            `-- keep the column's type and enforce the length with a constraint (no rewrite):`,
            `${t} ADD CONSTRAINT ${ident(`${a.rel.name}_${cmd.name}_length`)} CHECK (char_length(${name}) <= ${limit}) NOT VALID;`,
            `-- next migration: ${t} VALIDATE CONSTRAINT ${ident(`${a.rel.name}_${cmd.name}_length`)};`,
            `-- (in schema.prisma, keep the field without @db.VarChar(${limit}))`,
          ].join('\n')
        : [
            '-- expand and contract instead of rewriting in place:',
            `${t} ADD COLUMN ${ident(`${cmd.name}_new`)} ${type};`,
            `-- a trigger copies writes of ${name} into ${ident(`${cmd.name}_new`)}; backfill old rows in batches:`,
            `-- UPDATE ${relSql(a.rel)} SET ${ident(`${cmd.name}_new`)} = ${name} WHERE ctid IN (SELECT ctid FROM ${relSql(a.rel)} WHERE ${ident(`${cmd.name}_new`)} IS NULL AND ${name} IS NOT NULL LIMIT 10000);`,
            `-- then, in one short transaction: rename ${name} away and ${ident(`${cmd.name}_new`)} to ${name}; drop the old column in a later release`,
          ].join('\n');
      hits.push({
        at: col.location,
        message: `changes ${relSql(a.rel)}.${name} ${from ? `from ${from} ` : ''}to ${type}: a table rewrite`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'for a rewrite of the table and all its indexes', rewrites: true, scans: true }),
        why: `PostgreSQL rewrites every row of ${relSql(a.rel)} and rebuilds its indexes while nothing can read or write the table${limit ? `, and fails if a value is longer than ${limit}` : ''}; app versions still running may not expect the new type.`,
        fix,
        table: a.rel,
        note: from === undefined && (limit || /^numeric\(/.test(to)) ? "the column's current type is unknown without --env: if this only widens it, it is safe" : undefined,
      });
    }
    return hits;
  },
};

export default rule;
