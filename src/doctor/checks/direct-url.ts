import type { DoctorCheck } from '../types.js';

/**
 * DOC003: DDL (migrations), status and backups need a direct connection. A pooler in transaction mode
 * breaks advisory locks and prepared statements; Accelerate is HTTP and cannot run DDL at all.
 */
export const directUrl: DoctorCheck = {
  code: 'DOC003',
  name: 'direct-url',
  requires: ['DOC002'],
  async run(s) {
    const e = s.resolveError;
    if (e?.code === 'E_DIRECT_URL_REQUIRED') {
      return {
        status: 'fail',
        detail: `${e.message}. directUrl is the second URL Prisma and stagedb use for DDL: the application keeps its pooled or Accelerate url`,
        fix: e.fix,
      };
    }
    if (e) return { status: 'fail', detail: e.message, fix: e.fix };
    const env = s.env!;
    if (env.urlInfo && env.urlInfo.kind !== 'direct') {
      return { status: 'ok', detail: `the application's url is ${env.urlInfo.kind}; migrations, status and backups use ${env.directSource}, a direct URL` };
    }
    return { status: 'ok', detail: `${env.directSource} is a direct PostgreSQL URL` };
  },
};
