import type { AlterEnumStmt } from 'libpg-query';
import { as, strings } from '../../lint/sql.js';
import { ident } from '../names.js';
import type { StatementRewrite } from '../types.js';

const HEAD = /^(ALTER\s+TYPE\s+(?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?\s+ADD\s+VALUE\s+)(?:IF\s+NOT\s+EXISTS\s+)?/i;

/**
 * ZDT007: `ALTER TYPE … ADD VALUE` that shares its file with other statements → alone in a folder of
 * its own, `IF NOT EXISTS`. A new enum value cannot be used in the transaction that added it (55P04),
 * and before PostgreSQL 12 cannot be added in a transaction block at all; alone, it works under every
 * runner and a rerun is harmless. Alone in Prisma's file already, it is left as it is.
 */
const rewrite: StatementRewrite = {
  code: 'ZDT007',
  name: 'enum-value-alone',
  summary: 'ALTER TYPE … ADD VALUE gets a migration of its own (IF NOT EXISTS)',
  kinds: ['AlterEnumStmt'],
  rewrite(s, ctx) {
    const e = as<AlterEnumStmt>(s.node, 'AlterEnumStmt')!;
    if (!e.newVal || e.oldVal || ctx.statementCount === 1 || !HEAD.test(s.text)) return undefined;
    const type = strings(e.typeName);
    return {
      aloneBefore: [{ label: `enum_${type[type.length - 1]}_${e.newVal}`, sql: `${s.text.replace(HEAD, '$1IF NOT EXISTS ')};` }],
      change: {
        message: `the new value '${e.newVal}' of ${type.map(ident).join('.')} is added in a migration of its own`,
        why: 'a value added in a transaction cannot be used until that transaction commits (and before PostgreSQL 12 cannot be added in one at all)',
      },
    };
  },
};

export default rewrite;
