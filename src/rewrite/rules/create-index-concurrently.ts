import type { IndexStmt } from 'libpg-query';
import { as, relOf } from '../../lint/sql.js';
import { ident, relSql } from '../names.js';
import type { StatementRewrite } from '../types.js';

const HEAD = /^CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?/i;

/**
 * ZDT001: `CREATE [UNIQUE] INDEX` on a table that exists → `CREATE … INDEX CONCURRENTLY IF NOT EXISTS`,
 * alone in a folder of its own (CONCURRENTLY cannot run in a transaction block, and `prisma migrate
 * deploy` sends a whole file as one). Rerunnable: stagedb's deploy drops an invalid leftover of an
 * interrupted build before it runs the statement again.
 */
const rewrite: StatementRewrite = {
  code: 'ZDT001',
  name: 'create-index-concurrently',
  summary: 'CREATE INDEX on an existing table is built CONCURRENTLY, alone in its migration',
  kinds: ['IndexStmt'],
  rewrite(s, ctx) {
    const i = as<IndexStmt>(s.node, 'IndexStmt')!;
    const rel = relOf(i.relation);
    if (!rel || i.concurrent || ctx.isNew(rel) || !HEAD.test(s.text)) return undefined;
    const head = `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${i.idxname ? 'IF NOT EXISTS ' : ''}`;
    const sql = `${s.text.replace(HEAD, head)};`;
    const name = i.idxname ?? `${rel.name}_index`;
    return {
      aloneBefore: [{ label: `index_${name}`, sql }],
      change: {
        message: `${i.idxname ? ident(i.idxname) : 'the index'} is built CONCURRENTLY, in a migration of its own`,
        why: `a plain CREATE INDEX holds SHARE on ${relSql(rel)} for the whole build: every write to it waits`,
      },
    };
  },
};

export default rewrite;
