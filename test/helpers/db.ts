import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase, dropDatabase, type ClusterTarget } from '../../src/pg/cluster.js';

/** Superuser URL of the shared test cluster, connected to the `postgres` database. */
export function adminUrl(): string {
  return inject('pgAdminUrl');
}

/** The shared cluster, seen as something that can name a URL for any of its databases. */
function sharedCluster(): ClusterTarget {
  const base = adminUrl();
  return {
    url(database = 'postgres') {
      const u = new URL(base);
      u.pathname = `/${encodeURIComponent(database)}`;
      return u.toString();
    },
  };
}

/** A database of its own on the shared cluster: unique name, created now, dropped by `drop()`. */
export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Create a uniquely named, empty database on the shared test cluster. Call `drop()` in `afterAll`;
 * forgetting it only leaves a database behind in a cluster that is thrown away after the run.
 */
export async function freshDatabase(prefix = 't'): Promise<FreshDatabase> {
  const cluster = sharedCluster();
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase();
  await createDatabase(cluster, name);
  return { name, url: cluster.url(name), drop: () => dropDatabase(cluster, name) };
}

/** Runs one query on its own connection and returns the rows: for checking what a test did to a database. */
export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
