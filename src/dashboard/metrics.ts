/**
 * The numbers behind the dashboard's plots: table sizes, connections, query time by query. One
 * connection, a read-only transaction, catalog and statistics views only. What this role may not
 * see (pg_stat_statements not installed, other roles' sessions) is said, not failed.
 */
import type { ResolvedEnvironment } from '../config/environments.js';
import { connect } from '../pg/connect.js';
import { redact } from '../redact.js';

export interface Metrics {
  /** The largest tables of the environment's schema: bytes with indexes and TOAST, and estimated rows. */
  tables: Array<{ name: string; bytes: number; rows: number }>;
  /** Sessions on this database by state, and the server's limit. */
  connections: { byState: Array<{ state: string; count: number }>; total: number; serverTotal: number; max: number; reserved: number };
  /** Top statements by total execution time, or why there are none. */
  queries: { rows: Array<{ query: string; calls: number; totalMs: number; meanMs: number }> } | { unavailable: string };
}

const TOP = 10;

export async function readMetrics(env: ResolvedEnvironment): Promise<Metrics> {
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'dashboard', connectTimeoutMs: 5000 });
  try {
    await client.query('BEGIN READ ONLY');
    const tables = await client.query<{ name: string; bytes: string; rows: string }>(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes, greatest(c.reltuples, 0)::bigint AS rows
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
        ORDER BY 2 DESC, 1 LIMIT ${TOP}`,
      [env.directInfo.schema],
    );
    const conns = await client.query<{ state: string; count: number }>(
      `SELECT coalesce(state, 'other') AS state, count(*)::int AS count FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC, 1`,
    );
    const limits = (
      await client.query<{ max: number; reserved: number; server_total: number }>(
        `SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved,
                (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS server_total`,
      )
    ).rows[0]!;
    let queries: Metrics['queries'];
    const ext = (await client.query<{ schema: string }>(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`)).rows[0];
    if (!ext) queries = { unavailable: 'pg_stat_statements is not installed in this database (stagedb advise says how to enable it)' };
    else {
      await client.query('SAVEPOINT q');
      try {
        const ident = `"${ext.schema.replace(/"/g, '""')}"`;
        const r = await client.query<{ query: string; calls: string; total: number; mean: number }>(
          `SELECT query, calls, total_exec_time AS total, mean_exec_time AS mean FROM ${ident}.pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query <> '<insufficient privilege>'
            ORDER BY total_exec_time DESC LIMIT ${TOP}`,
        );
        queries = { rows: r.rows.map((q) => ({ query: redact(q.query.replace(/\s+/g, ' ').trim()), calls: Number(q.calls), totalMs: Number(q.total), meanMs: Number(q.mean) })) };
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT q');
        queries = { unavailable: redact(`pg_stat_statements is not readable: ${(e as Error).message}`) };
      }
    }
    await client.query('ROLLBACK');
    return {
      tables: tables.rows.map((t) => ({ name: t.name, bytes: Number(t.bytes), rows: Number(t.rows) })),
      connections: { byState: conns.rows, total: conns.rows.reduce((a, r) => a + r.count, 0), serverTotal: limits.server_total, max: limits.max, reserved: limits.reserved },
      queries,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
