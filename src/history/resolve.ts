import { randomUUID } from 'node:crypto';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { acquireWorkflowLock, releaseWorkflowLock } from '../guard/lock.js';
import { connect } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { fixCommand } from './fix.js';
import { readLocalHistory } from './local.js';
import { createTableSql, listRows, probe, tableRef } from './table.js';
import { shellQuote } from '../shell-quote.js';

export interface ResolveOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  name: string;
  as: 'applied' | 'rolled-back';
  /** How long to wait for another stagedb run's deploy lock (default 30 s); not PostgreSQL's `lock_timeout`. */
  deployLockWaitMs?: number;
}

export interface ResolveResult {
  env: string;
  name: string;
  as: 'applied' | 'rolled-back';
  /** Failed attempts that were marked rolled back on the way (for --applied). */
  rolledBackAttempts: number;
}

/**
 * `migrate resolve`, with Prisma's rules and rows: `--applied` records a migration as applied
 * without running it (baselining, or after finishing a failed one by hand) and retires its failed
 * attempts; `--rolled-back` marks a failed attempt so deploy will run the migration again.
 */
export async function resolveMigration(options: ResolveOptions): Promise<ResolveResult> {
  const { env, name } = options;
  const local = readLocalHistory(options.migrationsDir);
  const schema = env.directInfo.schema;
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'resolve' });
  let locked = false;
  try {
    await acquireWorkflowLock(client, { timeoutMs: options.deployLockWaitMs ?? 30_000, label: env.name });
    locked = true;
    const p = await probe(client, schema);
    const rows = p.tableExists ? await listRows(client, schema) : [];
    const mine = rows.filter((r) => r.migration_name === name);
    const failed = mine.filter((r) => r.finished_at === null && r.rolled_back_at === null);
    const table = tableRef(schema);
    if (options.as === 'applied') {
      const m = local.migrations.find((x) => x.name === name);
      if (!m) {
        throw new StagedbError('usage', 'E_MIGRATION_UNKNOWN', `${env.name}: there is no migration named ${name} in the migrations folder (Prisma P3017)`, {
          fix: `use a directory name from the folder, e.g. ${fixCommand(env, 'migrate', 'resolve', '--applied', local.migrations[0]?.name ?? '<name>')}`,
        });
      }
      if (mine.some((r) => r.finished_at !== null && r.rolled_back_at === null)) {
        throw new StagedbError('history', 'E_ALREADY_APPLIED', `${env.name}: migration ${name} is already recorded as applied (Prisma P3008)`, {
          fix: `nothing to do; see: stagedb status --env ${env.name}`,
        });
      }
      await client.query('BEGIN');
      if (!p.schemaExists) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      if (!p.tableExists) await client.query(createTableSql(schema));
      // logs = '' (not NULL), started_at = finished_at, 0 steps: the row Prisma's markMigrationApplied
      // writes (mark_migration_applied_impl), checked against the engine in test/integration/prisma-interop.
      await client.query(
        `INSERT INTO ${table} (id, checksum, started_at, finished_at, migration_name, logs, applied_steps_count) VALUES ($1, $2, now(), now(), $3, '', 0)`,
        [randomUUID(), m.checksum, name],
      );
      for (const f of failed) await client.query(`UPDATE ${table} SET rolled_back_at = now() WHERE id = $1`, [f.id]);
      await client.query('COMMIT');
      return { env: env.name, name, as: 'applied', rolledBackAttempts: failed.length };
    }
    if (failed.length === 0) {
      const applied = mine.some((r) => r.finished_at !== null && r.rolled_back_at === null);
      throw new StagedbError(
        'history',
        applied ? 'E_NOT_FAILED' : 'E_NEVER_APPLIED',
        applied
          ? `${env.name}: migration ${name} is applied, not failed: only a failed migration can be marked rolled back (Prisma P3012)`
          : `${env.name}: migration ${name} has no failed attempt to roll back (Prisma P3011)`,
        { fix: `see the history: stagedb status --env ${env.name}` },
      );
    }
    await client.query(`UPDATE ${table} SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [name]);
    return { env: env.name, name, as: 'rolled-back', rolledBackAttempts: failed.length };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    if (locked) await releaseWorkflowLock(client).catch(() => {});
    await client.end().catch(() => {});
  }
}
