import { CLIENT_SESSIONS_SQL, computePoolSize } from '../../client/pool-size.js';
import type { AdviceCheck } from '../types.js';
import { count } from './shared.js';

/** Share of the ordinary roles' connections in use above which the server is near its limit. */
const WARN_SHARE = 0.8;

/**
 * ADV009: connections in use against `max_connections`, by application, with the pool size the runtime
 * client would compute for this environment. Near the limit, new connections are refused (53300).
 */
export const connections: AdviceCheck = {
  code: 'ADV009',
  name: 'connections',
  async run(ctx) {
    const { rows } = await ctx.client.query<{ max: number; reserved_su: number; reserved: number; app: string; state: string | null; n: number }>(
      `SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved_su,
              coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
              coalesce(nullif(application_name, ''), '(none)') AS app, state, count(*)::int AS n
         FROM pg_stat_activity WHERE ${CLIENT_SESSIONS_SQL} GROUP BY 4, 5 ORDER BY 6 DESC`,
    );
    const first = rows[0];
    if (!first) return [];
    const budget = first.max - first.reserved_su - first.reserved;
    const used = rows.reduce((s, r) => s + r.n, 0);
    const idle = rows.filter((r) => r.state === 'idle').reduce((s, r) => s + r.n, 0);
    const byApp = new Map<string, number>();
    for (const r of rows) byApp.set(r.app, (byApp.get(r.app) ?? 0) + r.n);
    const pool = computePoolSize({ maxConnections: first.max, superuserReserved: first.reserved_su, reserved: first.reserved }, { instances: ctx.env.pool.instances, poolsOnServer: 1 });
    if (used < budget * WARN_SHARE) return [];
    return [
      {
        code: this.code,
        name: this.name,
        severity: used >= budget ? 'critical' : 'warn',
        title: `${count(used)} of the ${count(budget)} connections ordinary roles may use are open (${Math.round((100 * used) / budget)} %)`,
        evidence: [
          `by application: ${[...byApp].slice(0, 6).map(([a, n]) => `${a} ${n}`).join(', ')}`,
          `${count(idle)} of them idle`,
          `the runtime client would size each pool at ${pool.max} per process: ${pool.explain}`,
        ],
        cost: 'when they run out, new connections are refused (53300 too many clients): deploys, backups and new application processes fail first',
        fix: `lower the pools (stagedb/client: set pool.instances to the number of processes; other clients: their pool size), close idle connections (idle_session_timeout), or put a pooler (RDS Proxy, PgBouncer) or Accelerate in front; raising max_connections costs memory on the server`,
      },
    ];
  },
};
