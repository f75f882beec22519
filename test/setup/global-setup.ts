import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startCluster, stopCluster } from '../../src/pg/cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the shared throwaway cluster (database `postgres`). */
    pgAdminUrl: string;
    /** Data directory of that cluster (its self-signed `server.crt`, CN=localhost, when openssl exists). */
    pgDataDir: string;
  }
}

/**
 * Starts one throwaway PostgreSQL cluster for the whole test run and hands its superuser URL to the
 * test files (`inject('pgAdminUrl')`). Tests make their own databases on it (`test/helpers/db.ts`).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'stagedb-test-'));
  // mkdtemp makes it 0700; when the tests run as root the server runs as `postgres`, which must be
  // able to reach the data directory below it.
  await chmod(root, 0o755);
  const dataDir = join(root, 'pg', 'data');
  const teardown = async () => {
    try {
      await stopCluster(dataDir);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
  try {
    const cluster = await startCluster({ dataDir, fast: true });
    project.provide('pgAdminUrl', cluster.url('postgres'));
    project.provide('pgDataDir', cluster.dataDir);
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
  return teardown;
}
