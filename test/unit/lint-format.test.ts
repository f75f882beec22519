import { describe, expect, it } from 'vitest';
import { formatGithub, formatText, summaryLine } from '../../src/lint/format.js';
import { lintFiles } from '../../src/lint/run.js';

const SQL = '-- CreateIndex\nCREATE INDEX "Post_authorId_idx" ON "Post"("authorId");\n\n-- DropIndex\nDROP INDEX "Post_old_idx";\n';
// Configured as an error: without a database a size-bound hazard is otherwise a warning.
const ERROR = { severities: { SDB001: 'error' as const } };

describe('lint output', () => {
  it('text: grouped by file, with the run mode, lock, why and safe alternative', async () => {
    const r = await lintFiles([{ path: 'prisma/migrations/20240118093000_post_indexes/migration.sql', sql: SQL }], ERROR);
    expect(formatText(r)).toMatchInlineSnapshot(`
      "prisma/migrations/20240118093000_post_indexes/migration.sql (stagedb deploy: one transaction)
        prisma/migrations/20240118093000_post_indexes/migration.sql:2:1  error  SDB001 create-index-concurrently
          CREATE INDEX "Post_authorId_idx" on live table "Post" without CONCURRENTLY
          │ CREATE INDEX "Post_authorId_idx" ON "Post"("authorId")
          lock: SHARE on "Post" (blocks INSERT, UPDATE and DELETE; reads go on) for the whole build
          why:  Every INSERT, UPDATE and DELETE on "Post" waits until the index is built, which takes as long as reading and sorting the whole table.
          safe alternative:
            -- in a migration of its own (stagedb runs a file with CONCURRENTLY statement by statement, outside a transaction):
            CREATE INDEX CONCURRENTLY "Post_authorId_idx" ON "Post"("authorId");
            -- if it fails, it leaves an INVALID index behind: DROP INDEX CONCURRENTLY IF EXISTS "Post_authorId_idx";

        prisma/migrations/20240118093000_post_indexes/migration.sql:5:1  warning  SDB002 drop-index-concurrently
          DROP INDEX "Post_old_idx" without CONCURRENTLY
          │ DROP INDEX "Post_old_idx"
          lock: ACCESS EXCLUSIVE on the table of "Post_old_idx" and on "Post_old_idx" (blocks every read and write) until the drop commits
          why:  The drop itself is quick, but it waits for every running query on the table of "Post_old_idx" to finish, and every new query, reads included, queues behind it.
          safe alternative:
            -- in a migration of its own (stagedb runs a file with CONCURRENTLY statement by statement, outside a transaction):
            DROP INDEX CONCURRENTLY "Post_old_idx";

      1 error, 1 warning in 1 file."
    `);
  });
  it('text: colour only when asked', async () => {
    const r = await lintFiles([{ path: 'm.sql', sql: SQL }], ERROR);
    expect(formatText(r)).not.toContain('\x1b[');
    expect(formatText(r, { color: true })).toContain('\x1b[31merror\x1b[0m');
  });
  it('github: one workflow command per finding, escaped', async () => {
    const r = await lintFiles([{ path: 'prisma/migrations/a,b/migration.sql', sql: SQL }], ERROR);
    const lines = formatGithub(r).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]!.startsWith('::error file=prisma/migrations/a%2Cb/migration.sql,line=2,endLine=2,col=1,title=SDB001 create-index-concurrently::CREATE INDEX "Post_authorId_idx" on live table "Post" without CONCURRENTLY%0ALock: SHARE on "Post"')).toBe(true);
    expect(lines[0]).toContain('%0ASafe alternative:%0A-- in a migration of its own');
    expect(lines[1]).toMatch(/^::warning file=/);
    expect(lines[2]).toBe('1 error, 1 warning in 1 file.');
  });
  it('summaries', async () => {
    expect(summaryLine(await lintFiles([{ path: 'm.sql', sql: 'SELECT 1;' }]))).toBe('no hazards in 1 file.');
    const r = await lintFiles([{ path: 'm.sql', sql: '-- stagedb-lint-disable-next-statement SDB001: empty table\nCREATE INDEX "i" ON "Post"("x");' }]);
    expect(summaryLine(r)).toBe('no hazards in 1 file (1 suppressed).');
    expect(formatText(r)).toContain('suppressed SDB001 at m.sql:2: empty table');
  });
});
