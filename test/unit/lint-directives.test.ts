import { describe, expect, it } from 'vitest';
import { lintFiles } from '../../src/lint/run.js';

const lint = (sql: string) => lintFiles([{ path: 'm.sql', sql }]);

describe('suppression directives', () => {
  it('silence the next statement only, keeping the reason with the finding', async () => {
    const r = await lint('-- stagedb-lint-disable-next-statement SDB001: "Post" is empty until the import job runs\nCREATE INDEX "a" ON "Post"("x");\nCREATE INDEX "b" ON "Post"("y");');
    expect(r.findings.map((f) => [f.code, f.line])).toEqual([['SDB001', 3]]);
    expect(r.suppressed).toMatchObject([{ code: 'SDB001', line: 2, reason: '"Post" is empty until the import job runs' }]);
  });
  it('silence the whole file, by code or name, several at once', async () => {
    const r = await lint('DROP INDEX "a";\nALTER TABLE "User" DROP COLUMN "x";\n-- stagedb-lint-disable-file drop-index-concurrently, SDB015: legacy cleanup announced in #412');
    expect(r.findings).toEqual([]);
    expect(r.suppressed.map((s) => s.code)).toEqual(['SDB002', 'SDB015']);
  });
  it('`all` silences every rule for the statement', async () => {
    const r = await lint('-- stagedb-lint-disable-next-statement all: rebuilt in the maintenance window of 2024-05-01\nALTER TABLE "Post" ALTER COLUMN "views" SET DATA TYPE BIGINT, ALTER COLUMN "title" SET NOT NULL;');
    expect(r.findings).toEqual([]);
    expect(r.suppressed.map((s) => s.code)).toEqual(['SDB007', 'SDB011']);
  });
  it('without a reason, or naming an unknown rule, suppress nothing and are reported', async () => {
    const r = await lint('-- stagedb-lint-disable-next-statement SDB001\nCREATE INDEX "a" ON "Post"("x");\n-- stagedb-lint-disable-file SDB999: typo\n-- stagedb-lint-disable-line SDB001: no such directive');
    expect(r.findings.map((f) => [f.code, f.line, f.message])).toEqual([
      ['SDB090', 1, 'stagedb-lint-disable-next-statement SDB001 has no reason: add one after a colon, e.g. -- stagedb-lint-disable-next-statement SDB001: <why this is safe here>'],
      ['SDB090', 3, 'stagedb-lint-disable-file names unknown rule SDB999 (stagedb lint --rules lists them)'],
      ['SDB090', 4, 'unknown directive "stagedb-lint-disable-line": use stagedb-lint-disable-next-statement or stagedb-lint-disable-file'],
      ['SDB001', 2, 'CREATE INDEX "a" on live table "Post" without CONCURRENTLY'],
    ]);
  });
  it('a comment inside a statement is not a directive for the next one', async () => {
    const r = await lint('CREATE TABLE "x" (\n  -- stagedb-lint-disable-next-statement SDB001: not here\n  "id" INTEGER\n);\nCREATE INDEX "a" ON "Post"("x");');
    expect(r.findings.map((f) => f.code)).toEqual(['SDB001']);
  });
});
