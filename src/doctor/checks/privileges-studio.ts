import { listSome, unreadableRelations } from '../unreadable.js';
import type { DoctorCheck } from '../types.js';

/** DOC011: Prisma Studio can browse the schema's tables (SELECT on each). */
export const privilegesStudio: DoctorCheck = {
  code: 'DOC011',
  name: 'privileges-studio',
  requires: ['DOC008'],
  async run(s) {
    const { user, schema } = s.env!.directInfo;
    const { total, unreadable } = await unreadableRelations(s.client!, schema);
    if (unreadable.length > 0) {
      return {
        status: 'warn',
        detail: `Studio cannot show ${unreadable.length} of ${total} relations in schema ${schema} (no SELECT: ${listSome(unreadable)})`,
        fix: `as the owner: GRANT USAGE ON SCHEMA "${schema}" TO "${user}"; GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO "${user}";`,
      };
    }
    return { status: 'ok', detail: total === 0 ? `schema ${schema} has no tables yet` : `role ${user} can SELECT all ${total} relations in schema ${schema}` };
  },
};
