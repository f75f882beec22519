import { checkMarker, markerWritable, readMarker, unstoredError } from '../../guard/marker.js';
import type { CheckOutcome, DoctorCheck } from '../types.js';

/**
 * DOC017: the database's protection marker (docs/protection.md, "The marker") agrees with the
 * environment, and a guarded or production environment's database either carries it or can be given
 * it by this role: otherwise the next production deploy is refused (E_MARKER_UNSTORED). Reads only.
 */
export const marker: DoctorCheck = {
  code: 'DOC017',
  name: 'marker',
  requires: ['DOC008'],
  async run(s): Promise<CheckOutcome> {
    const env = s.env!;
    const client = s.client!;
    const m = await readMarker(client);
    try {
      checkMarker(m, env);
    } catch (e) {
      return { status: 'fail', detail: (e as Error).message, fix: (e as { fix?: string }).fix };
    }
    const said = m.protection ? `marked "${m.protection}"${m.environment ? ` (environment ${m.environment})` : ''}${m.table ? '' : ' by the old database setting'}` : 'not marked';
    if (env.protection === 'none') return { status: 'ok', detail: `${said}; ${env.name} has protection none, which is never marked` };
    if (m.table?.protection === env.protection && m.table.environment === env.name) return { status: 'ok', detail: `${said}, as the config says` };
    const can = await markerWritable(client);
    if (can.ok) return { status: 'ok', detail: `${said}; the next ${env.name} deploy marks it (or now: stagedb marker set --env ${env.name})` };
    const err = await unstoredError(client, env, new Error(can.reason));
    return {
      status: env.protection === 'production' ? 'fail' : 'warn',
      detail: `${said}, and role ${env.directInfo.user || '(default user)'} may not store the marker (${can.reason}): ${env.protection === 'production' ? `deploys to ${env.name} are refused until it is stored` : 'a wrong URL pointing here would not be refused'}`,
      fix: err.fix,
    };
  },
};
