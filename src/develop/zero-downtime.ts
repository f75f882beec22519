/**
 * The step `migrate dev` takes between "the engine generated the migration" and "write the folder":
 * the zero-downtime rewrite (src/rewrite, docs/zero-downtime.md). Its own module so the command's
 * flow stays one call, and the SQL parser is loaded only when there is SQL to rewrite.
 */
import type { ResolvedEnvironment } from '../config/environments.js';
import type { GeneratedMigration } from '../engine/index.js';
import type { ColumnTarget, RewriteChange, UnsafeChange } from '../rewrite/index.js';

export interface ZeroDowntimeMigrations {
  /** The folders to write, in order: the engine's migration alone when nothing needed a rewrite (or it is off). */
  migrations: GeneratedMigration[];
  changes: RewriteChange[];
  unsafe: UnsafeChange[];
}

/**
 * The engine's migration as zero-downtime steps: each a normal Prisma migration folder, named so
 * they sort in order right after `migration` (whose name already sorts after the folder's latest).
 * `enabled: false` (config `zeroDowntime: false`, `--prisma-sql`) returns it untouched.
 */
export async function zeroDowntimeMigrations(migration: GeneratedMigration, enabled: boolean, env?: ResolvedEnvironment): Promise<ZeroDowntimeMigrations> {
  if (!enabled || migration.script.trim() === '') return { migrations: [migration], changes: [], unsafe: [] };
  const { rewriteMigration, stepDirectoryNames } = await import('../rewrite/index.js');
  // A type change or an enum recreate becomes expand/contract migrations only with what the development
  // database says about the column (NOT NULL, default, indexes): it is at the state the migrations before this one leave.
  const describeColumns = env
    ? async (targets: ColumnTarget[]) => {
        const [{ connect }, { readColumnFacts }] = await Promise.all([import('../pg/connect.js'), import('../rewrite/facts.js')]);
        // Unreadable, the change is left as Prisma wrote it and printed with its plan: never a reason to fail migrate dev.
        const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'migrate-dev' }).catch(() => undefined);
        if (!client) return [];
        try {
          return await readColumnFacts(client, targets).catch(() => []);
        } finally {
          await client.end().catch(() => {});
        }
      }
    : undefined;
  const r = await rewriteMigration(migration.script, { ...(env ? { defaultSchema: env.directInfo.schema } : {}), ...(describeColumns ? { describeColumns } : {}) });
  if (!r.changed) return { migrations: [migration], changes: [], unsafe: r.unsafe };
  const names = stepDirectoryNames(migration.directoryName, r.steps);
  return { migrations: r.steps.map((s, i) => ({ directoryName: names[i]!, script: s.script })), changes: r.changes, unsafe: r.unsafe };
}
