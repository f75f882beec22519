import { lintFiles, type LintRunOptions } from '../../src/lint/run.js';
import type { DatabaseContext, Finding, TableStats } from '../../src/lint/types.js';

/** Lints SQL files that deploy together (each string one file, named m1.sql, m2.sql, …) and returns the findings. */
export async function lint(sql: string | string[], options: LintRunOptions = {}): Promise<Finding[]> {
  const files = (Array.isArray(sql) ? sql : [sql]).map((s, i) => ({ path: `m${i + 1}.sql`, sql: s }));
  return (await lintFiles(files, options)).findings;
}
export const codes = (fs: Finding[]) => fs.map((f) => f.code);
export const only = (fs: Finding[], code: string) => fs.filter((f) => f.code === code);

/** A target database in which these tables exist, with these sizes (default 50 000 rows, 100 MB). */
export function db(tables: Record<string, Partial<TableStats>>, extra: Partial<DatabaseContext> = {}): DatabaseContext {
  const MB = 1024 * 1024;
  return {
    env: 'production',
    serverVersionNum: 170000,
    defaultSchema: 'public',
    tables: new Map(Object.entries(tables).map(([k, v]) => [k.includes('.') ? k : `public.${k}`, { rows: 50_000, bytes: 100 * MB, heapBytes: 80 * MB, kind: 'r', ...v }])),
    indexes: new Map(),
    ...extra,
  };
}
