import { describe, expect, it } from 'vitest';
import { lossLines } from '../../src/render/loss.js';

describe('lossLines (what the reset prompt lists)', () => {
  it('names every schema a reset drops, with its tables, other objects and extensions', () => {
    expect(
      lossLines('development', [
        { schema: 'public', tables: [{ name: 'Post', rows: 2 }, { name: 'Big', rows: 1_000_000, estimated: true }], otherObjects: 0, extensions: ['pg_stat_statements'] },
        { schema: 'auth', tables: [{ name: 'Account', rows: 1 }], otherObjects: 2, extensions: [] },
        { schema: 'audit', tables: [], otherObjects: 0, extensions: [] },
      ]).join('\n'),
    ).toMatchInlineSnapshot(`
      "development: a reset drops schema "public" with:
        Post: 2 rows
        Big: ~1000000 rows
        and extension pg_stat_statements (created again only if a migration does)
      development: a reset drops schema "auth" with:
        Account: 1 row
        and 2 other objects (views, sequences, types, functions)
      development: a reset drops schema "audit" with: nothing in it"
    `);
  });
});
