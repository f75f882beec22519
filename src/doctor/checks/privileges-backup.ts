import { listSome, unreadableRelations } from '../unreadable.js';
import type { DoctorCheck } from '../types.js';

/** DOC010: pg_dump can read everything: it stops at the first table or sequence it may not SELECT. */
export const privilegesBackup: DoctorCheck = {
  code: 'DOC010',
  name: 'privileges-backup',
  requires: ['DOC008'],
  async run(s) {
    const who = s.env!.directInfo.user;
    const { total, unreadable } = await unreadableRelations(s.client!);
    if (total === 0) return { status: 'ok', detail: 'no tables yet: nothing for pg_dump to read' };
    if (unreadable.length > 0) {
      return {
        status: 'fail',
        detail: `pg_dump would fail: role ${who} cannot SELECT ${unreadable.length} of ${total} relations (${listSome(unreadable)})`,
        fix: `back up with the owner's URL, or as the owner: GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO "${who}"; GRANT SELECT ON ALL SEQUENCES IN SCHEMA <schema> TO "${who}";`,
      };
    }
    return { status: 'ok', detail: `role ${who} can read all ${total} tables, views and sequences (pg_dump-able)` };
  },
};
