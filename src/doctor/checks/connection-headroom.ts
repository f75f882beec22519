import type { DoctorCheck } from '../types.js';

/** DOC014: room for more connections: max_connections minus the reserved slots, against what is in use. */
export const connectionHeadroom: DoctorCheck = {
  code: 'DOC014',
  name: 'connection-headroom',
  requires: ['DOC008'],
  async run(s) {
    // reserved_connections exists from PostgreSQL 16 (slots for pg_use_reserved_connections).
    const reservedExtra = (s.serverVersionNum ?? 0) >= 160000 ? `current_setting('reserved_connections')::int` : '0';
    const r = await s.client!.query<{ max: number; su: number; extra: number; used: number }>(
      `SELECT current_setting('max_connections')::int AS max,
              current_setting('superuser_reserved_connections')::int AS su,
              ${reservedExtra} AS extra,
              (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used`,
    );
    const { max, su, extra, used } = r.rows[0]!;
    const usable = max - su - extra;
    const free = usable - used;
    const detail = `${used} of ${usable} usable connections in use (max_connections ${max}, ${su} reserved for superusers${extra ? `, ${extra} reserved_connections` : ''}); ${Math.max(free, 0)} free`;
    const fix = 'lower the application pool size (connection_limit in its URL) or use a pooler / Accelerate for the application; or raise max_connections (RDS: the parameter group; it scales with instance memory)';
    if (free <= 0) return { status: 'fail', detail, fix };
    if (free < Math.max(3, usable * 0.2)) return { status: 'warn', detail, fix };
    return { status: 'ok', detail };
  },
};
