import { relative } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { readLocalHistory, type LocalHistory, type LocalMigration } from '../history/local.js';
import { compareHistory } from '../history/state.js';
import { readStatus } from '../history/table.js';
import { readDatabaseContext } from './context.js';
import { lintFiles } from './run.js';
import type { LintInput, LintOptions, LintResult } from './types.js';

export interface PendingLintOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  /** Paths in findings are relative to this (default: the process's cwd). */
  cwd?: string;
  lint?: Omit<LintOptions, 'database'>;
  /** The migrations folder, when the caller has read it already. */
  local?: LocalHistory;
}

export interface PendingLint {
  env: string;
  /** The migrations not yet applied there, in order: what was linted. */
  pending: string[];
  result: LintResult;
  /** server_version_num there. */
  serverVersionNum: number;
}

const EMPTY: LintResult = { files: [], findings: [], suppressed: [], counts: { error: 0, warning: 0, info: 0 } };

/**
 * Lints an environment's pending migrations, together and in order, with the sizes of the tables they
 * touch there: `stagedb lint --env <env>` and the deploy gate. One connection, catalog reads only;
 * with nothing pending, the parser is never loaded.
 */
export async function lintPending(options: PendingLintOptions): Promise<PendingLint> {
  const { env } = options;
  const cwd = options.cwd ?? process.cwd();
  const local = options.local ?? readLocalHistory(options.migrationsDir, cwd);
  const { connect } = await import('../pg/connect.js');
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'lint' });
  try {
    const schema = env.directInfo.schema;
    // One round trip: only the columns compareHistory reads; no rows when the table is missing.
    const read = await readStatus(client, schema);
    const rows = read.rows ?? [];
    const pending = compareHistory(local.migrations, rows)
      .entries.filter((e) => e.state === 'pending' && e.local)
      .map((e) => e.local!);
    if (pending.length === 0) return { env: env.name, pending: [], result: EMPTY, serverVersionNum: read.serverVersionNum };
    const result = await lintFiles(pending.map((m) => input(m, cwd)), {
      ...options.lint,
      context: (refs) => readDatabaseContext(client, env.name, schema, refs),
    });
    return { env: env.name, pending: pending.map((m) => m.name), result, serverVersionNum: read.serverVersionNum };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Lints files as migrations deploying together onto an environment, with the sizes of the tables they
 * touch there (`stagedb lint <paths…> --env <env>`). One connection, catalog reads only.
 */
export async function lintAgainst(env: ResolvedEnvironment, inputs: LintInput[], options: Omit<LintOptions, 'database'> = {}): Promise<LintResult> {
  const { connect } = await import('../pg/connect.js');
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'lint' });
  try {
    return await lintFiles(inputs, { ...options, context: (refs) => readDatabaseContext(client, env.name, env.directInfo.schema, refs) });
  } finally {
    await client.end().catch(() => {});
  }
}

export function input(m: LocalMigration, cwd: string): { path: string; migration: string; sql: string } {
  return { path: relative(cwd, m.path) || m.path, migration: m.name, sql: m.script };
}
