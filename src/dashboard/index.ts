/**
 * `stagedb dashboard`: every environment side by side on one local, read-only page. The library
 * starts the server and renders; the command prints the address and waits for Ctrl-C.
 */
import type { ResolvedConfig } from '../config/load.js';
import { collectDashboard, type DashboardData } from './collect.js';
import { renderDashboard } from './render.js';
import { startDashboard, type DashboardServer } from './server.js';

export { collectDashboard, type DashboardData, type EnvironmentView } from './collect.js';
export { renderDashboard } from './render.js';
export { startDashboard, DASHBOARD_HOST, type DashboardServer } from './server.js';

export interface OpenDashboardOptions {
  config: ResolvedConfig;
  names: string[];
  processEnv: NodeJS.ProcessEnv;
  cwd: string;
  port?: number;
  /** Called after every page served (for the CLI's log line). */
  onPage?: (d: DashboardData) => void;
}

/** Starts the server; each request (the first load, Refresh, a reload) re-reads every environment. */
export async function openDashboard(o: OpenDashboardOptions): Promise<DashboardServer> {
  // Load what every page needs now, while the address is being printed, not on the first request
  // (the schema engine and the SQL parser stay unloaded: only a drift replay or pending migrations need them).
  await Promise.all([
    import('../history/status.js'),
    import('../develop/drift-cache.js'),
    import('../backup/list.js'),
    import('../guard/audit.js'),
    import('../lint/pending.js'),
    import('../advise/index.js'),
    import('../pg/connect.js').then((m) => m.loadPg()),
  ]);
  return startDashboard({
    ...(o.port !== undefined ? { port: o.port } : {}),
    page: async (request, token) => {
      const data = await collectDashboard({ config: o.config, names: o.names, processEnv: o.processEnv, cwd: o.cwd, checkDrift: request.checkDrift });
      o.onPage?.(data);
      return renderDashboard(data, { token });
    },
  });
}
