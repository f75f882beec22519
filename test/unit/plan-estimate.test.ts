/** The plan's rough durations (src/plan/estimate.ts): which statements, which basis, and the arithmetic. */
import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../src/history/split.js';
import type { Finding } from '../../src/lint/types.js';
import { estimate, estimateCandidates, formatEstimate, RATES } from '../../src/plan/estimate.js';

const finding = (line: number, statement: string, claim: Partial<NonNullable<Finding['claim']>>): Finding =>
  ({ code: 'X', rule: 'x', severity: 'warning', file: 'f', line, column: 1, endLine: line, statement, message: '', why: '', claim: { locks: [{ on: '"T"', mode: 'ACCESS EXCLUSIVE' }], rewrites: false, scans: false, blocksReads: true, blocksWrites: true, ...claim } }) as Finding;

describe('estimateCandidates', () => {
  const script = [
    'ALTER TABLE "T" ALTER COLUMN "a" TYPE BIGINT;',
    'ALTER TABLE "T" ADD CONSTRAINT "T_pkey" PRIMARY KEY ("id");',
    'ALTER TABLE "T" ADD CONSTRAINT "c" CHECK ("a" > 0);',
    'ALTER TABLE ONLY "app"."U" VALIDATE CONSTRAINT "u_fk";',
    'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "U_x" ON "U" ("x");',
    'ALTER TABLE "T" ADD COLUMN "b" TEXT;',
  ].join('\n');
  const statements = splitStatements(script);
  const findings = [
    finding(1, 'ALTER TABLE "T" ALTER COLUMN "a" TYPE BIGINT', { rewrites: true, scans: true }),
    finding(2, 'ALTER TABLE "T" ADD CONSTRAINT "T_pkey" PRIMARY KEY ("id")', { scans: true }),
    finding(3, 'ALTER TABLE "T" ADD CONSTRAINT "c" CHECK ("a" > 0)', { scans: true }),
    // A finding about a statement that neither rewrites nor scans: nothing to estimate.
    finding(6, 'ALTER TABLE "T" ADD COLUMN "b" TEXT', {}),
  ];

  it('reads the operation from the claim and the statement, and finds what no rule flags', () => {
    expect(estimateCandidates('m', script, statements, findings)).toEqual([
      { at: 'm:1', table: '"T"', operation: 'table rewrite' },
      { at: 'm:2', table: '"T"', operation: 'index build' },
      { at: 'm:3', table: '"T"', operation: 'validating scan' },
      { at: 'm:4', table: '"app"."U"', operation: 'validating scan' },
      { at: 'm:5', table: '"U"', operation: 'concurrent index build' },
    ]);
  });

  it('sizes them at the documented rates; a table that does not exist or holds nothing gives none', () => {
    const sizes = new Map([
      ['"T"', { bytes: 3e9, heapBytes: 2e9 }],
      ['"U"', { bytes: 8192, heapBytes: 0 }],
    ]);
    const e = estimate(estimateCandidates('m', script, statements, findings), sizes)!;
    expect(e.statements.map((s) => [s.operation, s.seconds, s.basis])).toEqual([
      ['table rewrite', 3e9 / 1e6 / RATES.rewrite, '3.0 GB with its indexes at 15 MB/s'],
      ['index build', 2e9 / 1e6 / RATES.index, '2.0 GB heap at 25 MB/s'],
      ['validating scan', 2e9 / 1e6 / RATES.scan, '2.0 GB heap at 100 MB/s'],
    ]);
    expect(e.seconds).toBeCloseTo(200 + 80 + 20, 6);
    expect(estimate([{ at: 'm:1', table: '"New"', operation: 'index build' }], sizes)).toBeUndefined();
  });
});

describe('formatEstimate', () => {
  it('never shows more precision than an estimate has', () => {
    expect([0.2, 12.4, 59.6, 61, 3599, 3600, 7800].map(formatEstimate)).toEqual(['< 1 s', '~12 s', '~60 s', '~1 min', '~60 min', '~1 h', '~2 h 10 min']);
  });
});
