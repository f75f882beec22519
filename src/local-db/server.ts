import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterStatus, createDatabase, startCluster, stopCluster, type ClusterStatus, type RunningCluster } from '../pg/cluster.js';

/**
 * The project-local development server (`stagedb dev up|down|status`): a real PostgreSQL cluster
 * under `<root>/.stagedb/pg/`, started from the machine's PostgreSQL binaries.
 */
export function devDataDir(root: string): string {
  return join(root, '.stagedb', 'pg', 'data');
}

export interface DevUpResult {
  host: string;
  port: number;
  user: string;
  version: string;
  dataDir: string;
  created: string[];
  existing: string[];
  /** URL per database, password included: for the caller to store, never to print unredacted. */
  urls: Record<string, string>;
}

export async function devUp(root: string, options: { port?: number; databases?: string[] } = {}): Promise<DevUpResult & { cluster: RunningCluster }> {
  const cluster = await startCluster({ dataDir: devDataDir(root), port: options.port });
  const created: string[] = [];
  const existing: string[] = [];
  const urls: Record<string, string> = {};
  if (options.databases?.length) {
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: cluster.url('postgres'), application_name: 'stagedb dev' });
    await admin.connect();
    try {
      for (const db of options.databases) {
        const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
        if (r.rowCount) existing.push(db);
        else {
          await createDatabase(cluster, db);
          created.push(db);
        }
        urls[db] = cluster.url(db);
      }
    } finally {
      await admin.end();
    }
  }
  return { cluster, host: cluster.host, port: cluster.port, user: cluster.user, version: cluster.version, dataDir: cluster.dataDir, created, existing, urls };
}

export async function devDown(root: string): Promise<{ wasRunning: boolean }> {
  const before = await clusterStatus(devDataDir(root));
  await stopCluster(devDataDir(root));
  return { wasRunning: before.running };
}

export async function devStatus(root: string): Promise<ClusterStatus & { dataDir: string }> {
  const dataDir = devDataDir(root);
  return { ...(await clusterStatus(dataDir)), dataDir };
}

/**
 * Sets `KEY=value` in a dotenv file, replacing an existing line for the key and keeping every other
 * line as it was. Written whole, so a crash cannot leave half a file.
 */
export function upsertEnvVar(file: string, key: string, value: string): 'added' | 'updated' | 'unchanged' {
  const line = `${key}="${value}"`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${key}\\s*=`).test(l));
  if (i >= 0 && lines[i] === line) return 'unchanged';
  if (i >= 0) lines[i] = line;
  else {
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.push(line, '');
  }
  const tmp = `${file}.stagedb-tmp`;
  writeFileSync(tmp, lines.join('\n'), { mode: 0o600 });
  renameSync(tmp, file);
  return i >= 0 ? 'updated' : 'added';
}
