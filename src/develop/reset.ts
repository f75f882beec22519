/**
 * `stagedb migrate reset` (the guide's db:migrate:reset): drop the environment's schemas (the URL's,
 * and a multiSchema datasource's others), recreate them as they were (owner, grants, comment), apply
 * every migration. The CLI runs the seed afterwards.
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
import { refuseResetUnlessUnprotected, resetSchemas, schemaList, type DevelopEvent } from './shared.js';

/** What a reset would destroy in one schema. */
export interface LossReport {
  schema: string;
  /** Every table of the schema except `_prisma_migrations`, largest first. */
  tables: Array<{
    name: string;
    rows: number;
    /** The count took longer than the time allowed: `rows` is PostgreSQL's estimate (pg_class.reltuples). */
    estimated?: boolean;
  }>;
  /** Views, sequences not owned by a column, types, functions and procedures that go too (an extension's own not counted). */
  otherObjects: number;
  /** Extensions installed in the schema: DROP SCHEMA … CASCADE drops them too (a migration may create them again). */
  extensions: string[];
}

/** Time allowed for all exact counts together; beyond it the rest are estimates. */
const COUNT_BUDGET_MS = 3_000;

/**
 * What `resetDatabase` would drop, schema by schema (the ones {@link resetSchemas} names: the URL's,
 * then the datasource's `schemas`): every table with its row count, and how many other objects.
 * A schema that does not exist yet comes back with nothing in it.
 */
export async function describeLoss(env: ResolvedEnvironment, options: { schemaPath?: string } = {}): Promise<LossReport[]> {
  const schemas = resetSchemas(env, options.schemaPath);
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'reset' });
  try {
    const deadline = Date.now() + COUNT_BUDGET_MS;
    const reports: LossReport[] = [];
    for (const schema of schemas) reports.push(await describeSchemaLoss(client, schema, deadline));
    return reports;
  } finally {
    await client.end().catch(() => {});
  }
}

async function describeSchemaLoss(client: Client, schema: string, deadline: number): Promise<LossReport> {
  const tables = (
    await client.query<{ name: string; estimate: string }>(
      `SELECT c.relname AS name, greatest(c.reltuples, 0)::bigint::text AS estimate
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND NOT c.relispartition
        ORDER BY c.relname`,
      [schema, TABLE],
    )
  ).rows;
  const other = await client.query<{ n: string; extensions: string[] }>(
    `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND (c.relkind IN ('v', 'm', 'f')
                 OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))))
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
          + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'c', 'r', 'm') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c')
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'))
          + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')) AS n,
            ARRAY(SELECT e.extname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname = $1 ORDER BY 1) AS extensions`,
    [schema],
  );
  const counted: LossReport['tables'] = [];
  for (const t of tables) {
    const left = deadline - Date.now();
    const exact = left > 0 ? await countRows(client, schema, t.name, left) : undefined;
    counted.push(exact === undefined ? { name: t.name, rows: Number(t.estimate), estimated: true } : { name: t.name, rows: exact });
  }
  counted.sort((a, b) => b.rows - a.rows || a.name.localeCompare(b.name));
  return { schema, tables: counted, otherObjects: Number(other.rows[0]?.n ?? 0), extensions: other.rows[0]?.extensions ?? [] };
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
  /**
   * The Prisma schema (file or folder). A multiSchema datasource's `schemas = [...]` are reset too,
   * beside the URL's schema; without it, only the URL's schema is.
   */
  schemaPath?: string;
  /** `reset` ({ schema, schemas }) once the schemas are recreated, then deploy's own events for each migration. */
  onEvent?: (e: DevelopEvent) => void;
}

/**
 * Drops the environment's schemas (the URL's, e.g. `public`, and every one a multiSchema datasource
 * names; no other) with everything in them, recreates them with the same owner, grants and comment,
 * then applies every migration with stagedb's deploy. Refused unless the environment's protection is 'none'.
 */
export async function resetDatabase(o: ResetOptions): Promise<{ applied: string[]; schemas: string[] }> {
  const schemas = resetSchemas(o.env, o.schemaPath);
  refuseResetUnlessUnprotected(o.env, 'migrate reset', [], schemas);
  // Read the folder first: a broken history is refused before anything is dropped.
  const hasMigrations = existsSync(o.migrationsDir) && readLocalHistory(o.migrationsDir).migrations.length > 0;
  await recreateSchemas(o.env, schemas);
  o.onEvent?.({ type: 'reset', env: o.env.name, schema: schemas[0], schemas });
  if (!hasMigrations) return { applied: [], schemas };
  const r = await deploy({ env: o.env, migrationsDir: o.migrationsDir, onEvent: o.onEvent });
  return { applied: r.applied.map((a) => a.name), schemas };
}

interface SchemaIdentity {
  schema: string;
  /** Absent when the schema does not exist. */
  owner?: string;
  comment: string | null;
  grants: Array<{ grantee: string | null; privilege: string; grantable: boolean }>;
}

/**
 * DROP SCHEMA … CASCADE and CREATE SCHEMA for each of `schemas` (default: the URL's), in one
 * transaction under stagedb's workflow lock, putting back what Prisma's own reset loses: the owner
 * (PostgreSQL 15's `public` belongs to pg_database_owner), the grants (`USAGE` to PUBLIC on `public`)
 * and the comment. The URL's schema (the first) is created when missing; another missing one is left
 * to the migrations (Prisma writes `CREATE SCHEMA IF NOT EXISTS` for it). Default privileges set with
 * ALTER DEFAULT PRIVILEGES IN SCHEMA are not restored (PostgreSQL drops them with the schema).
 */
export async function recreateSchemas(env: ResolvedEnvironment, schemas: readonly string[] = [env.directInfo.schema]): Promise<void> {
  refuseResetUnlessUnprotected(env, 'migrate reset', [], schemas);
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'reset' });
  let locked = false;
  try {
    await acquireWorkflowLock(client, { timeoutMs: 30_000, label: env.name });
    locked = true;
    const identities: SchemaIdentity[] = [];
    for (const schema of schemas) identities.push(await schemaIdentity(client, schema));
    const existing = identities.filter((i) => i.owner !== undefined);
    await client.query('BEGIN');
    try {
      // One statement: CASCADE then also takes objects that depend across the schemas (a foreign key from public to auth).
      if (existing.length > 0) await client.query(`DROP SCHEMA ${existing.map((i) => quoteIdent(i.schema)).join(', ')} CASCADE`);
      for (const [n, i] of identities.entries()) {
        const s = quoteIdent(i.schema);
        if (i.owner === undefined) {
          if (n === 0) await client.query(`CREATE SCHEMA ${s}`);
          continue;
        }
        await client.query(`CREATE SCHEMA ${s} AUTHORIZATION ${quoteIdent(i.owner)}`);
        for (const g of i.grants) {
          await client.query(`GRANT ${g.privilege} ON SCHEMA ${s} TO ${g.grantee === null ? 'PUBLIC' : quoteIdent(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
        }
        if (i.comment != null) await client.query(`COMMENT ON SCHEMA ${s} IS ${client.escapeLiteral(i.comment)}`);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      const err = e as { code?: string; message?: string };
      if (err.code === '42501') {
        // pg_database_owner (PostgreSQL 15's owner of public) stands for whoever owns the database.
        const owners = existing.map((i) => `${i.schema}: ${i.owner === 'pg_database_owner' ? "the database's owner" : i.owner}`);
        throw new StagedbError('config', 'E_RESET_PERMISSION', `${env.name}: cannot reset ${schemaList(schemas)}: ${err.message}; nothing was dropped`, {
          fix: `connect as a role that owns ${schemas.length === 1 ? 'it' : 'each of them'}${owners.length > 0 ? ` (${owners.join('; ')})` : ''}, or as a superuser`,
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

async function schemaIdentity(client: Client, schema: string): Promise<SchemaIdentity> {
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
  const row = before.rows[0];
  return { schema, ...(row ? { owner: row.owner } : {}), comment: row?.comment ?? null, grants };
}
