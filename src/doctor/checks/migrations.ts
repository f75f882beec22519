import { StagedbError } from '../../errors.js';
import { readLocalHistory } from '../../history/local.js';
import { compareHistory } from '../../history/state.js';
import { listRows, tableRef } from '../../history/table.js';
import type { DoctorCheck } from '../types.js';
import { shellQuote } from '../../shell-quote.js';

/** DOC013: `_prisma_migrations` has no failed row (a failed row blocks every deploy until it is resolved). */
export const migrations: DoctorCheck = {
  code: 'DOC013',
  name: 'migrations',
  requires: ['DOC008'],
  async run(s) {
    const env = s.env!;
    const schema = env.directInfo.schema;
    const exists = await s.client!.query<{ t: boolean }>('SELECT to_regclass($1) IS NOT NULL AS t', [tableRef(schema)]);
    if (!exists.rows[0]!.t) return { status: 'ok', detail: `no _prisma_migrations in schema ${schema} yet: nothing applied` };
    const rows = await listRows(s.client!, schema);
    let local: ReturnType<typeof readLocalHistory>['migrations'] = [];
    let localNote = '';
    try {
      local = readLocalHistory(s.config.migrationsDir, s.config.root).migrations;
    } catch (e) {
      if (!(e instanceof StagedbError)) throw e;
      localNote = ` (migrations folder not read: ${e.message})`;
    }
    const h = compareHistory(local, rows);
    if (h.failed.length > 0) {
      const names = h.failed.map((f) => f.name);
      const fix = names
        .map((n) => `stagedb migrate resolve --rolled-back ${shellQuote(n)} --env ${env.name}   (after undoing its partial changes; or --applied ${shellQuote(n)} if you finished it by hand)`)
        .join('; ');
      return { status: 'fail', detail: `${names.length} failed migration${names.length === 1 ? '' : 's'} block deploys: ${names.join(', ')}`, fix };
    }
    if (h.modified.length > 0 || h.missingLocally.length > 0) {
      const parts = [
        ...h.modified.map((m) => `${m.name} changed after it was applied`),
        ...h.missingLocally.map((m) => `${m.name} applied here but not in the migrations folder`),
      ];
      return { status: 'warn', detail: parts.join('; ') + localNote, fix: `restore the files from git (see stagedb status --env ${env.name})` };
    }
    // A failed attempt that provably committed nothing does not block: deploy runs the migration again.
    const retry = h.retrying.length > 0 ? ` (${h.retrying.map((e) => e.name).join(', ')}: an attempt failed with nothing committed; deploy runs it again)` : '';
    return { status: 'ok', detail: `${h.applied} applied, ${h.pending} pending${retry}, none failed${localNote}` };
  },
};
