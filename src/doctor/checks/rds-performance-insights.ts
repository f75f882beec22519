import { NO_RDS, isProduction, modifyCommand, rdsPosture } from '../rds.js';
import type { DoctorCheck } from '../types.js';

/** DOC023: Performance Insights is on for a production-level instance (which queries load it, kept 7 days for free). */
export const rdsPerformanceInsights: DoctorCheck = {
  code: 'DOC023',
  name: 'rds-perf-insights',
  requires: ['DOC018'],
  async run(s) {
    const pending = rdsPosture(s);
    if (!pending) return NO_RDS;
    const p = await pending;
    if (p.performanceInsights) return { status: 'ok', detail: `Performance Insights is on for ${p.instance}` };
    if (!isProduction(s)) return { status: 'ok', detail: `Performance Insights is off for ${p.instance} (fine for a ${s.env!.protection}-level environment)` };
    return {
      status: 'warn',
      detail: `Performance Insights is off for ${p.instance}: when production slows down, nothing says which queries loaded it`,
      fix: `${modifyCommand(p, '--enable-performance-insights --apply-immediately')}   (7 days of history are free; no restart)`,
    };
  },
};
