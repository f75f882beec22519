import type { DropStmt, Node } from 'libpg-query';
import { as, strings } from '../../lint/sql.js';
import { ident } from '../names.js';
import type { StatementRewrite } from '../types.js';

/**
 * ZDT002: `DROP INDEX` → `DROP INDEX CONCURRENTLY IF EXISTS`, alone in a folder of its own (it cannot
 * run in a transaction block). A plain DROP INDEX takes ACCESS EXCLUSIVE on the index's table, and
 * waiting for it queues every read behind it.
 *
 * The folder runs last, after everything else of the migration: a unique index Prisma drops because
 * its columns become the primary key (`@unique` → `@id`) keeps guarding them until the new key is
 * attached, so no duplicate can slip in while neither exists. Unless the migration creates an index
 * or constraint of the same name: then the old one must be gone first, and the drop stays where Prisma wrote it.
 */
const rewrite: StatementRewrite = {
  code: 'ZDT002',
  name: 'drop-index-concurrently',
  summary: 'DROP INDEX runs CONCURRENTLY, alone in its migration',
  kinds: ['DropStmt'],
  rewrite(s, ctx) {
    const d = as<DropStmt>(s.node, 'DropStmt')!;
    if (d.removeType !== 'OBJECT_INDEX' || d.concurrent || d.behavior === 'DROP_CASCADE' || d.objects?.length !== 1) return undefined;
    const names = strings(as<{ items?: Node[] }>(d.objects[0], 'List')?.items);
    if (names.length === 0) return undefined;
    const name = names.map(ident).join('.');
    const step = { label: `drop_index_${names[names.length - 1]}`, sql: `DROP INDEX CONCURRENTLY IF EXISTS ${name};` };
    const reused = ctx.createdNames.has(ctx.key(names.length > 1 ? { schema: names[names.length - 2], name: names[names.length - 1]! } : { name: names[0]! }));
    return {
      ...(reused ? { aloneBefore: [step] } : { later: [{ ...step, phase: 'cleanup' as const }] }),
      change: {
        message: `${name} is dropped CONCURRENTLY, in a migration of its own`,
        why: 'a plain DROP INDEX takes ACCESS EXCLUSIVE on its table: while it waits for that lock, every query on the table queues behind it',
      },
    };
  },
};

export default rewrite;
