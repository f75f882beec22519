import { isNotNullCheck, type FileContext } from '../file-context.js';
import { held } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Hit, Rel, Rule } from '../types.js';
import { alterSql, alterTable } from './util.js';

/**
 * A validated `CHECK (col IS NOT NULL)` on the column (in the target database, or added and validated
 * by the linted files, and not dropped since): PostgreSQL 12+ then sets NOT NULL without reading a row
 * ("existing constraints … are sufficient to prove that it does not contain nulls", at DEBUG1).
 */
export function provenNotNull(ctx: FileContext, rel: Rel, column: string): boolean {
  return ctx.serverVersionNum >= 120000 && ctx.checksOn(rel, column).some((c) => c.valid && isNotNullCheck(c.def, column));
}

/**
 * The name for the fix's CHECK: one no constraint of the table has (else ADD CONSTRAINT fails, 42710),
 * and not `<table>_<column>_not_null`, the name PostgreSQL 18 gives the NOT NULL constraint that SET
 * NOT NULL then creates (42710 again, at step 2, while the CHECK still exists).
 */
function freeName(ctx: FileContext, rel: Rel, column: string): string {
  const base = `${rel.name}_${column}_nn_check`;
  for (let i = 0; ; i++) {
    const suffix = i === 0 ? '' : `_${i}`;
    const name = `${base.slice(0, 63 - suffix.length)}${suffix}`;
    if (!ctx.constraintTaken(rel, name)) return name;
  }
}

/** R07: `ALTER COLUMN … SET NOT NULL` on a live table — Prisma's optional → required. */
const rule: Rule = {
  code: 'SDB007',
  name: 'set-not-null',
  summary: 'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (and fails on NULLs), unless a validated CHECK (col IS NOT NULL) proves it',
  defaultSeverity: 'error',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_SetNotNull'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel)) return;
    const hits: Hit[] = [];
    for (const cmd of a.cmds) {
      if (cmd.subtype !== 'AT_SetNotNull' || !cmd.name) continue;
      // A column added by an earlier statement of the linted files is new: its rows were all just written.
      if (ctx.newColumns.has(`${ctx.key(a.rel)}.${cmd.name}`)) continue;
      if (provenNotNull(ctx, a.rel, cmd.name)) continue;
      const col = ident(cmd.name);
      const t = alterSql(a.rel);
      // Step 1 already applied (a NOT VALID CHECK (col IS NOT NULL) exists): the fix goes on from step 2.
      const pending = ctx.checksOn(a.rel, cmd.name).find((c) => !c.valid && isNotNullCheck(c.def, cmd.name!));
      const check = ident(pending?.name ?? freeName(ctx, a.rel, cmd.name));
      hits.push({
        message: `makes ${relSql(a.rel)}.${col} NOT NULL on a live table`,
        ...held([{ on: a.rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'while it reads every row', scans: true }),
        why: `PostgreSQL reads the whole of ${relSql(a.rel)} to prove there is no NULL, and nothing can read or write it meanwhile; it fails at the end if a NULL exists.`,
        fix: [
          ...(pending
            ? [`-- ${check} (CHECK (${col} IS NOT NULL) NOT VALID) is already there: validate it first, in this migration:`]
            : [
                `-- 1. backfill first, in batches: UPDATE ${relSql(a.rel)} SET ${col} = … WHERE ${col} IS NULL …;`,
                `${t} ADD CONSTRAINT ${check} CHECK (${col} IS NOT NULL) NOT VALID;`,
                '-- 2. in the next migration: VALIDATE scans without blocking writes, and PostgreSQL 12+ then sets NOT NULL without a scan',
              ]),
          `${t} VALIDATE CONSTRAINT ${check};`,
          `${t} ALTER COLUMN ${col} SET NOT NULL;`,
          `${t} DROP CONSTRAINT ${check};`,
        ].join('\n'),
        table: a.rel,
      });
    }
    return hits;
  },
};

export default rule;
