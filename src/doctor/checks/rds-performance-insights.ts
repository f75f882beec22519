import { isProduction, modifyCommand, rdsCheck } from '../rds.js';

/** DOC023: Performance Insights is on for a production-level instance (which queries load it, kept 7 days for free). */
export const rdsPerformanceInsights = rdsCheck('DOC023', 'rds-perf-insights', async (p, s) => {
  if (p.performanceInsights) return { status: 'ok', detail: `Performance Insights is on for ${p.instance}` };
  if (!isProduction(s)) return { status: 'ok', detail: `Performance Insights is off for ${p.instance} (fine for a ${s.env!.protection}-level environment)` };
  return {
    status: 'warn',
    detail: `Performance Insights is off for ${p.instance}: when production slows down, nothing says which queries loaded it`,
    fix: `${modifyCommand(p, '--enable-performance-insights --apply-immediately')}   (7 days of history are free; no restart)`,
  };
});
