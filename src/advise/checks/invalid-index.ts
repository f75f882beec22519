import type { AdviceCheck } from '../types.js';
import { bytes, qualified, readIndexes } from './shared.js';

/**
 * ADV004: an invalid index, left by a `CREATE INDEX CONCURRENTLY` that was interrupted or failed (a
 * duplicate key for a unique one). Queries never use it, yet every write still updates it; a unique one
 * still rejects duplicates. `stagedb migrate deploy` drops and rebuilds one it built itself.
 */
export const invalidIndex: AdviceCheck = {
  code: 'ADV004',
  name: 'invalid-index',
  async run(ctx) {
    const indexes = await readIndexes(ctx.client, ctx.schemas);
    return indexes
      .filter((i) => !i.valid)
      .map((i) => ({
        code: this.code,
        name: this.name,
        severity: 'warn' as const,
        object: qualified(i.schema, i.table),
        title: `index ${i.name} on ${qualified(i.schema, i.table)} is invalid: a concurrent build did not finish`,
        evidence: [`pg_index.indisvalid = false`, `${bytes(i.bytes)}`],
        cost: `no query can use it, yet every write to ${qualified(i.schema, i.table)} updates it${i.unique ? ', and it still rejects duplicate keys' : ''}`,
        fix: `DROP INDEX CONCURRENTLY ${i.schema === 'public' ? '' : `"${i.schema}".`}"${i.name}"; then run the migration that builds it again (\`stagedb migrate deploy\` does both for a migration it runs)`,
      }));
  },
};
