import type { DoctorCheck } from '../types.js';

const OWN = new Set(['E_URL_MALFORMED', 'E_URL_PROTOCOL', 'E_SSL_REQUIRED']);

/** DOC002: the URL(s) parse, and which kind each one is (Accelerate, a pooler, or the server itself). */
export const url: DoctorCheck = {
  code: 'DOC002',
  name: 'url',
  requires: ['DOC001'],
  async run(s) {
    const e = s.resolveError;
    if (e && OWN.has(e.code)) return { status: 'fail', detail: e.message, fix: e.fix };
    const env = s.env;
    if (!env) return { status: 'ok', detail: 'the URL parses' };
    const d = env.directInfo;
    const direct = `${d.host}:${d.port}/${d.database} as ${d.user || '(default user)'}, schema ${d.schema}`;
    const app = env.urlInfo && env.url !== env.directUrl ? `; url is ${env.urlInfo.kind} (${env.urlInfo.reason})` : '';
    return { status: 'ok', detail: `direct: ${direct}${app}` };
  },
};
