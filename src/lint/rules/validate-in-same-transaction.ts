import { blocksApplication, held, tableLocks } from '../locks.js';
import { ident, relSql } from '../sql.js';
import type { Rule } from '../types.js';
import { alterSql, alterTable, constraintOf } from './util.js';

/** R06: VALIDATE CONSTRAINT in the same transaction as its NOT VALID add, or after other locking DDL on the table. */
const rule: Rule = {
  code: 'SDB006',
  name: 'validate-in-same-transaction',
  summary: 'VALIDATE CONSTRAINT in the same transaction as a strong lock on the table keeps that lock through the scan',
  defaultSeverity: 'warning',
  kinds: ['AlterTableStmt'],
  subtypes: ['AT_ValidateConstraint'],
  sizeBound: true,
  check(s, ctx) {
    const a = alterTable(s);
    if (!a || !ctx.live(a.rel) || !ctx.inTransaction(s)) return;
    const validate = a.cmds.find((c) => c.subtype === 'AT_ValidateConstraint');
    if (!validate) return;
    const key = ctx.key(a.rel);
    const before = ctx.sameTransaction(s).filter((o) => o.index < s.index);
    const locker = before.find((o) => tableLocks(o, ctx).some((l) => ctx.key(l.rel) === key && blocksApplication(l.mode)));
    if (!locker) return;
    const addedHere = before.some((o) => alterTable(o)?.cmds.some((c) => c.subtype === 'AT_AddConstraint' && constraintOf(c)?.conname === validate.name));
    const lock = tableLocks(locker, ctx).find((l) => ctx.key(l.rel) === key)!;
    return {
      message: `validates ${ident(validate.name ?? '?')} in the same transaction as ${addedHere ? 'its NOT VALID add' : `an earlier statement (line ${locker.line}) that locks ${relSql(a.rel)}`}`,
      ...held([{ on: a.rel, mode: lock.mode }], { how: `(taken at line ${locker.line}) held through the whole scan`, scans: true }),
      why: `NOT VALID + VALIDATE avoids a long lock only when VALIDATE runs in a later transaction; here the lock taken at line ${locker.line} is still held while every row is checked.`,
      fix: `-- move it to the next migration (stagedb runs each migration in its own transaction):\n${alterSql(a.rel)} VALIDATE CONSTRAINT ${ident(validate.name ?? '?')};`,
      table: a.rel,
    };
  },
};

export default rule;
