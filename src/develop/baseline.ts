import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { listOtherObjects, probe } from '../history/table.js';
import { connect } from '../pg/connect.js';

/**
 * Deploy's baseline check (Prisma's P3005), made before `migrate dev` writes its first migration: a
 * schema with objects of its own but no `_prisma_migrations` would take the new folder and then
 * refuse to apply it, leaving a migration on disk that no database has. Reads only. An extension's
 * objects (pg_stat_statements' views, …) do not count, as in Prisma's engine.
 */
export async function refuseUnbaselinedDevDatabase(env: ResolvedEnvironment): Promise<void> {
  const schema = env.directInfo.schema;
  const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'migrate-dev' });
  try {
    const p = await probe(client, schema);
    if (p.tableExists || p.otherObjects === 0) return;
    const named = await listOtherObjects(client, schema, 5);
    const shown = `${named.join(', ')}${p.otherObjects > named.length ? `, and ${p.otherObjects - named.length} more` : ''}`;
    throw new StagedbError(
      'history',
      'E_NOT_BASELINED',
      `${env.name}: schema "${schema}" already holds ${p.otherObjects} object${p.otherObjects === 1 ? '' : 's'} no migration created (${shown}) and has no _prisma_migrations table, so the first migration could not be applied there (Prisma P3005); nothing was written`,
      {
        fix: `this is a development database: drop ${p.otherObjects === 1 ? 'it' : 'them'} (stagedb migrate reset --env ${env.name} drops everything in "${schema}"), then run stagedb migrate dev again`,
      },
    );
  } finally {
    await client.end().catch(() => {});
  }
}
