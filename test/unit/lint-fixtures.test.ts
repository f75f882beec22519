import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintFiles } from '../../src/lint/run.js';

/** Real `prisma migrate dev` output: the fixture history and the guide app's. */
const ROOTS = ['test/fixtures/prisma-history/prisma/migrations', 'examples/guide-app/prisma/migrations'];
const history = (root: string) =>
  readdirSync(root)
    .filter((d) => !d.includes('.'))
    .sort()
    .map((d) => ({ path: `${d}/migration.sql`, migration: d, sql: readFileSync(join(root, d, 'migration.sql'), 'utf8') }));

describe("Prisma's generated migrations", () => {
  it('no false alarm on an init migration that only creates tables with their indexes and foreign keys', async () => {
    for (const root of ROOTS) {
      const init = history(root)[0]!;
      expect(init.migration).toMatch(/_init$/);
      for (const runner of ['stagedb', 'prisma'] as const) {
        const r = await lintFiles([init], { runner });
        expect(r.findings).toEqual([]);
      }
      // With every rule at its loudest except the hints, still nothing.
      expect((await lintFiles([init], { severities: { 'drop-not-null': 'error', 'drop-constraint': 'error' } })).findings).toEqual([]);
    }
  });
  it('no false alarm on a later migration that creates a table with indexes and foreign keys to live tables', async () => {
    const comments = history(ROOTS[0]!)[1]!;
    expect(comments.migration).toBe('20240116093000_comments_and_tags');
    expect((await lintFiles([comments])).findings).toEqual([]);
  });
  it('a whole history deploying together onto an empty database has nothing live to hurt', async () => {
    for (const root of ROOTS) expect((await lintFiles(history(root))).findings).toEqual([]);
  });
  it('each migration judged on its own: the hazards Prisma generated', async () => {
    const r = await lintFiles(history(ROOTS[0]!), { separately: true });
    expect(r.findings.map((f) => `${f.migration}:${f.line} ${f.code} ${f.severity}`)).toMatchInlineSnapshot(`
      [
        "20240117093000_remove_editor_role:11 SDB019 warning",
        "20240118093000_post_indexes:8 SDB001 warning",
        "20240118093000_post_indexes:11 SDB001 warning",
        "20240118093000_post_indexes:14 SDB001 warning",
        "20240119093000_column_types:10 SDB011 warning",
        "20240119093000_column_types:11 SDB011 warning",
        "20240119093000_column_types:14 SDB007 warning",
        "20240119093000_column_types:16 SDB011 warning",
      ]
    `);
    const guide = await lintFiles(history(ROOTS[1]!), { separately: true });
    expect(guide.findings.map((f) => `${f.migration}:${f.line} ${f.code}`)).toEqual(['20250302090000_comments_and_publishing:19 SDB001']);
  });
});
