import { describe, expect, it } from 'vitest';
import { chooseMode, planUnits } from '../../src/history/mode.js';
import { describeProgress, humanLogs, nothingCommitted, progressLogs, readProgress } from '../../src/history/progress.js';
import { splitStatements } from '../../src/history/split.js';

describe('planUnits: the steps a file that is not one transaction runs in', () => {
  const units = (sql: string) => planUnits(chooseMode(sql, 150000), 150000)?.map((u) => `${u.kind}${u.ownBegin ? '+own' : ''}:${u.from}-${u.to}`);

  it('statement by statement: one step each, CONCURRENTLY and VACUUM outside a transaction', () => {
    expect(units('CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY i ON a (id);\nVACUUM a;\nINSERT INTO a VALUES (1);\n')).toEqual(['tx:0-1', 'bare:1-2', 'bare:2-3', 'tx:3-4']);
  });

  it('its own BEGIN … COMMIT: each block one step, with the statements before it; the tail one more', () => {
    expect(units('CREATE TYPE e AS ENUM (\'a\');\nBEGIN;\nALTER TYPE e RENAME TO f;\nCOMMIT;\nCREATE TABLE t (id int);\n')).toEqual(['tx+own:0-4', 'tx:4-5']);
  });

  it('transaction control it does not take apart: the file runs whole (undefined)', () => {
    expect(units('BEGIN;\nCREATE TABLE t (id int);\nROLLBACK;\n')).toBeUndefined();
    expect(units('BEGIN;\nCREATE TABLE t (id int);\n')).toBeUndefined();
    expect(units('COMMIT;\nCREATE TABLE t (id int);\n')).toBeUndefined();
    expect(units('BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (id);\n')).toBeUndefined();
  });

  it('one transaction: no steps', () => {
    expect(units('CREATE TABLE t (id int);\n')).toBeUndefined();
  });
});

describe('the progress record in _prisma_migrations.logs', () => {
  const sql = 'CREATE TABLE p (id int);\nSELECT 1;\n\nCREATE INDEX CONCURRENTLY p_idx ON p (id);\n';
  const st = splitStatements(sql);

  it('round-trips after a failure text, and only "nothing committed" lets deploy run it again', () => {
    const logs = progressLogs({ mode: 'statements', statements: 3, committed: 0 }, st, sql, 'Database error:\nERROR: boom');
    expect(logs).toMatchInlineSnapshot(`
      "Database error:
      ERROR: boom

      stagedb: none of its 3 statements was committed
      stagedb-progress: {"v":1,"mode":"statements","statements":3,"committed":0}"
    `);
    expect(readProgress(logs)).toEqual({ mode: 'statements', statements: 3, committed: 0 });
    expect(nothingCommitted(readProgress(logs))).toBe(true);
    expect(humanLogs(logs)).not.toContain('stagedb-progress');
    expect(nothingCommitted(readProgress(progressLogs({ mode: 'statements', statements: 3, committed: 1 })))).toBe(false);
    expect(nothingCommitted(readProgress(progressLogs({ mode: 'statements', statements: 3, committed: 0, uncertain: 0 })))).toBe(false);
    expect(nothingCommitted(readProgress(progressLogs({ mode: 'file-managed', statements: 3, committed: 0, unknown: true })))).toBe(false);
  });

  it('a row without the record (Prisma\'s, an older stagedb\'s) or with a forged-looking one is not read as "nothing committed"', () => {
    expect(readProgress(null)).toBeUndefined();
    expect(readProgress('Database error code: 42P01\n\nERROR: relation "x" does not exist')).toBeUndefined();
    expect(readProgress('ERROR: stagedb-progress: {"v":1,"mode":"statements","statements":1,"committed":0}')).toBeUndefined();
    expect(readProgress('stagedb-progress: {"v":2,"mode":"statements","statements":1,"committed":0}')).toBeUndefined();
    expect(readProgress('stagedb-progress: not json')).toBeUndefined();
  });

  it('names the statements, with their lines while the file is the same', () => {
    expect(describeProgress({ mode: 'statements', statements: 3, committed: 1, uncertain: 2 }, st, sql)).toMatchInlineSnapshot(
      `"statement 1 of 3 (line 1) was committed; statement 3 (line 4): CREATE INDEX CONCURRENTLY p_idx ON p (id) may have been committed (it runs outside a transaction and was cut off)"`,
    );
    expect(describeProgress({ mode: 'statements', statements: 5, committed: 2 }, st, sql)).toBe('statements 1–2 of 5 were committed; statements 3–5 were not');
  });
});
