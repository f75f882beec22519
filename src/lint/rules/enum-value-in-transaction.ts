import type { AlterEnumStmt } from 'libpg-query';
import { held } from '../locks.js';
import { as, ident, strings, walk } from '../sql.js';
import type { Rule, Statement } from '../types.js';

/** Whether a statement mentions `value` as a string constant (e.g. a DEFAULT or an UPDATE … SET). */
function usesValue(s: Statement, value: string): boolean {
  let used = false;
  walk(s.node, (n) => {
    const c = as<{ sval?: { sval?: string } }>(n, 'A_Const');
    if (c?.sval?.sval === value) used = true;
  });
  return used;
}

/**
 * R23: `ALTER TYPE … ADD VALUE` — Prisma appends every new enum value this way. A new value cannot be
 * used in the transaction that added it (55P04), and before PostgreSQL 12 ADD VALUE cannot run in a
 * transaction at all. Only those two failures are reported.
 */
const rule: Rule = {
  code: 'SDB018',
  name: 'enum-value-in-transaction',
  summary: 'a new enum value used in the transaction that added it (or ADD VALUE in a transaction before PostgreSQL 12)',
  defaultSeverity: 'error',
  kinds: ['AlterEnumStmt'],
  check(s, ctx) {
    if (s.kind !== 'AlterEnumStmt') return;
    const e = as<AlterEnumStmt>(s.node, 'AlterEnumStmt')!;
    if (!e.newVal || e.oldVal) return;
    const type = strings(e.typeName).map(ident).join('.');
    if (!ctx.inTransaction(s)) return;
    if (ctx.serverVersionNum < 120000) {
      return {
        message: `ALTER TYPE ${type} ADD VALUE inside a transaction block on PostgreSQL < 12`,
        why: 'Before PostgreSQL 12, ADD VALUE cannot run inside a transaction block: the migration fails.',
        fix: `-- move it to a migration file of its own:\n${s.text};`,
        claim: held([], { fails: '25001' }).claim,
      };
    }
    const user = ctx.sameTransaction(s).find((o) => o.index > s.index && usesValue(o, e.newVal!));
    if (!user) return;
    return {
      message: `uses new enum value '${e.newVal}' (line ${user.line}) in the transaction that adds it`,
      why: `PostgreSQL refuses a new enum value until the transaction that added it commits (55P04: unsafe use of new value); the migration fails at line ${user.line}.`,
      fix: `-- keep the ADD VALUE here and move line ${user.line}'s statement to the next migration:\n${s.text};`,
      claim: held([], { fails: '55P04' }).claim,
    };
  },
};

export default rule;
