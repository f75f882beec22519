/**
 * `stagedb migrate reset` (the guide's db:migrate:reset): drop the environment's schema, recreate it
 * as it was (owner, grants, comment), apply every migration. The CLI runs the seed afterwards.
 */
import { existsSync } from 'node:fs';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { acquireWorkflowLock, releaseWorkflowLock } from '../guard/lock.js';
import { deploy } from '../history/deploy.js';
import { readLocalHistory } from '../history/local.js';
import { TABLE } from '../history/table.js';
import { connect } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { refuseResetUnlessUnprotected, type DevelopEvent } from './shared.js';

/** What a reset would destroy. */
export interface LossReport {
  schema: string;
  /** Every table of the schema except `_prisma_migrations`, largest first. */
  tables: Array<{
    name: string;
    rows: number;
    /** The count took longer than the time allowed: `rows` is PostgreSQL's estimate (pg_class.reltuples). */
    estimated?: boolean;
  }>;
  /** Views, sequences not owned by a column, types, functions and procedures that go too. */
  otherObjects: number;
}

/** Time allowed for all exact counts together; beyond it the rest are estimates. */
const COUNT_BUDGET_MS = 3_000;

/** What `resetDatabase` would drop: every table with its row count, and how many other objects. */
export async function describeLoss(env: ResolvedEnvironment): Promise<LossReport> {
  const schema = env.directInfo.schema;
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'reset' });
  try {
    const tables = (
      await client.query<{ name: string; estimate: string }>(
        `SELECT c.relname AS name, greatest(c.reltuples, 0)::bigint::text AS estimate
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND NOT c.relispartition
          ORDER BY c.relname`,
        [schema, TABLE],
      )
    ).rows;
    const other = await client.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND (c.relkind IN ('v', 'm', 'f')
                   OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))))
            + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'c', 'r', 'm') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c'))
            + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')) AS n`,
      [schema],
    );
    const deadline = Date.now() + COUNT_BUDGET_MS;
    const counted: LossReport['tables'] = [];
    for (const t of tables) {
      const left = deadline - Date.now();
      const exact = left > 0 ? await countRows(client, schema, t.name, left) : undefined;
      counted.push(exact === undefined ? { name: t.name, rows: Number(t.estimate), estimated: true } : { name: t.name, rows: exact });
    }
    counted.sort((a, b) => b.rows - a.rows || a.name.localeCompare(b.name));
    return { schema, tables: counted, otherObjects: Number(other.rows[0]?.n ?? 0) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** count(*) within `ms`, or undefined when it takes longer (or the table cannot be read). */
async function countRows(client: Client, schema: string, table: string, ms: number): Promise<number | undefined> {
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ms))}`);
    const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
    return Number(r.rows[0]?.n ?? 0);
  } catch {
    return undefined;
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}

export interface ResetOptions {
  env: ResolvedEnvironment;
  migrationsDir: string;
  /** `reset` ({ schema }) once the schema is recreated, then deploy's own events for each migration. */
  onEvent?: (e: DevelopEvent) => void;
}

/**
 * Drops the environment's schema (only that one, e.g. `public`) with everything in it, recreates it
 * with the same owner, grants and comment, then applies every migration with stagedb's deploy.
 * Refused unless the environment's protection is 'none'.
 */
export async function resetDatabase(o: ResetOptions): Promise<{ applied: string[] }> {
  refuseResetUnlessUnprotected(o.env, 'migrate reset');
  // Read the folder first: a broken history is refused before anything is dropped.
  const hasMigrations = existsSync(o.migrationsDir) && readLocalHistory(o.migrationsDir).migrations.length > 0;
  await recreateSchema(o.env);
  o.onEvent?.({ type: 'reset', env: o.env.name, schema: o.env.directInfo.schema });
  if (!hasMigrations) return { applied: [] };
  const r = await deploy({ env: o.env, migrationsDir: o.migrationsDir, onEvent: o.onEvent });
  return { applied: r.applied.map((a) => a.name) };
}

/**
 * DROP SCHEMA … CASCADE and CREATE SCHEMA, in one transaction under stagedb's workflow lock, putting
 * back what Prisma's own reset loses: the owner (PostgreSQL 15's `public` belongs to
 * pg_database_owner), the grants (`USAGE` to PUBLIC on `public`) and the comment. Default privileges
 * set with ALTER DEFAULT PRIVILEGES IN SCHEMA are not restored (PostgreSQL drops them with the schema).
 */
export async function recreateSchema(env: ResolvedEnvironment): Promise<void> {
  refuseResetUnlessUnprotected(env, 'migrate reset');
  const schema = env.directInfo.schema;
  const s = quoteIdent(schema);
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'reset' });
  let locked = false;
  try {
    await acquireWorkflowLock(client, { timeoutMs: 30_000, label: env.name });
    locked = true;
    const before = await client.query<{ owner: string; comment: string | null }>(
      `SELECT pg_get_userbyid(n.nspowner) AS owner, obj_description(n.oid, 'pg_namespace') AS comment FROM pg_namespace n WHERE n.nspname = $1`,
      [schema],
    );
    const grants = (
      await client.query<{ grantee: string | null; privilege: string; grantable: boolean }>(
        `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
           FROM pg_namespace n, aclexplode(n.nspacl) a
          WHERE n.nspname = $1 AND a.grantee <> n.nspowner
          ORDER BY 1 NULLS FIRST, 2`,
        [schema],
      )
    ).rows;
    const existed = before.rows[0];
    await client.query('BEGIN');
    try {
      if (existed) await client.query(`DROP SCHEMA ${s} CASCADE`);
      await client.query(existed ? `CREATE SCHEMA ${s} AUTHORIZATION ${quoteIdent(existed.owner)}` : `CREATE SCHEMA ${s}`);
      for (const g of grants) {
        await client.query(`GRANT ${g.privilege} ON SCHEMA ${s} TO ${g.grantee === null ? 'PUBLIC' : quoteIdent(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
      }
      if (existed?.comment != null) await client.query(`COMMENT ON SCHEMA ${s} IS ${client.escapeLiteral(existed.comment)}`);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      const err = e as { code?: string; message?: string };
      if (err.code === '42501') {
        throw new StagedbError('config', 'E_RESET_PERMISSION', `${env.name}: cannot reset schema "${schema}": ${err.message}; nothing was dropped`, {
          fix: `connect as the owner of schema "${schema}"${existed ? ` (${existed.owner})` : ''} or of the database, or as a superuser`,
          cause: e,
        });
      }
      throw e;
    }
  } finally {
    if (locked) await releaseWorkflowLock(client).catch(() => {});
    await client.end().catch(() => {});
  }
}
