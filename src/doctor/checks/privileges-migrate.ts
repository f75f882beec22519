import type { DoctorCheck } from '../types.js';

/** DOC009: the role may run migrations: CREATE on the schema (or on the database, to create the schema). */
export const privilegesMigrate: DoctorCheck = {
  code: 'DOC009',
  name: 'privileges-migrate',
  requires: ['DOC008'],
  async run(s) {
    const schema = s.env!.directInfo.schema;
    const r = await s.client!.query<{ exists: boolean; schema_create: boolean | null; db_create: boolean; history_write: boolean | null; super: boolean; who: string; db: string }>(
      `SELECT n.oid IS NOT NULL AS exists,
              CASE WHEN n.oid IS NULL THEN NULL ELSE has_schema_privilege(n.oid, 'CREATE') AND has_schema_privilege(n.oid, 'USAGE') END AS schema_create,
              has_database_privilege(current_database(), 'CREATE') AS db_create,
              CASE WHEN to_regclass($2) IS NULL THEN NULL ELSE has_table_privilege(to_regclass($2), 'SELECT,INSERT,UPDATE') END AS history_write,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super,
              current_user AS who, current_database() AS db
         FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = $1`,
      [schema, `"${schema.replace(/"/g, '""')}"."_prisma_migrations"`],
    );
    const row = r.rows[0]!;
    const grantSchema = `GRANT USAGE, CREATE ON SCHEMA "${schema}" TO "${row.who}";`;
    if (row.exists && !row.schema_create) {
      return { status: 'fail', detail: `role ${row.who} lacks CREATE (or USAGE) on schema ${schema}: migrations cannot create tables`, fix: `as the schema's owner: ${grantSchema}` };
    }
    if (!row.exists && !row.db_create) {
      return { status: 'fail', detail: `schema ${schema} does not exist and role ${row.who} may not create it (no CREATE on database ${row.db})`, fix: `as an admin: CREATE SCHEMA "${schema}" AUTHORIZATION "${row.who}";` };
    }
    if (row.history_write === false) {
      return { status: 'fail', detail: `role ${row.who} cannot write _prisma_migrations in schema ${schema}`, fix: `as its owner: GRANT SELECT, INSERT, UPDATE ON "${schema}"."_prisma_migrations" TO "${row.who}";` };
    }
    return { status: 'ok', detail: `role ${row.who}${row.super ? ' (superuser)' : ''} may create objects in ${row.exists ? `schema ${schema}` : `database ${row.db} (schema ${schema} is created by the first migration)`}` };
  },
};
