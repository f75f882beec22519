/**
 * The drift check's own replay (drift-replay.ts) on real databases, as a role users have (CREATEDB,
 * owner of its database, not a superuser: an RDS master user): a history deployed by stagedb, replayed
 * on a temporary database, fingerprints the same as the live database, whatever mix of run modes the
 * history has; a change made by hand does not; the temporary database is always dropped; a role
 * without CREATEDB gets no answer here (the engine's replay then says why).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../../src/config/environments.js';
import { schemaFingerprint } from '../../src/develop/drift-cache.js';
import { shadowFingerprint } from '../../src/develop/drift-replay.js';
import { deploy } from '../../src/history/deploy.js';
import { readLocalHistory } from '../../src/history/local.js';
import { connect } from '../../src/pg/connect.js';
import { adminUrl, freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, withSchema, type TempProject } from '../helpers/project.js';

const owner = `driftreplay_${process.pid}`;
const plain = `driftreplay_plain_${process.pid}`;
let d: FreshDatabase;
let project: TempProject;

const MIGRATIONS = {
  '20260101000000_init': 'CREATE TYPE "Status" AS ENUM (\'A\');\nCREATE TABLE "Item" ("id" SERIAL PRIMARY KEY, "status" "Status" NOT NULL, "note" TEXT);\n',
  '20260102000000_value': 'ALTER TYPE "Status" ADD VALUE \'B\';\n',
  // Uses the value the previous file added: it must be committed before this one runs.
  '20260103000000_default': 'ALTER TABLE "Item" ALTER COLUMN "status" SET DEFAULT \'B\';\n-- a comment at the end, no newline',
  '20260104000000_data': 'INSERT INTO "Item" ("status") VALUES (\'A\'), (\'B\');\n',
  '20260105000000_concurrently': 'CREATE INDEX CONCURRENTLY "Item_status_idx" ON "Item"("status");\n',
  '20260106000000_own_tx': 'BEGIN;\nALTER TABLE "Item" ADD COLUMN "tags" TEXT[];\nCOMMIT;\n',
  '20260107000000_semicolons': 'CREATE FUNCTION "f"() RETURNS text LANGUAGE sql AS $$ SELECT \'a;b\' $$;\nCOMMENT ON TABLE "Item" IS \'one; two\';\n',
};

function as(role: string, url: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = 'dev-only';
  return u.toString();
}

async function liveHash(env: ResolvedEnvironment, schemas: string[]): Promise<string> {
  const c: Client = await connect(env.directUrl, { label: env.name });
  try {
    return (await schemaFingerprint(c, schemas)).hash;
  } finally {
    await c.end();
  }
}

const ownedShadows = async () =>
  (await query<{ n: number }>(adminUrl(), `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%' AND datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [owner]))[0]!.n;

beforeAll(async () => {
  await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`);
  await query(adminUrl(), `DROP ROLE IF EXISTS ${plain}`);
  await query(adminUrl(), `CREATE ROLE ${owner} LOGIN PASSWORD 'dev-only' CREATEDB`);
  await query(adminUrl(), `CREATE ROLE ${plain} LOGIN PASSWORD 'dev-only' NOCREATEDB`);
  d = await freshDatabase('driftreplay');
  await query(adminUrl(), `ALTER DATABASE ${d.name} OWNER TO ${owner}`);
  await query(d.url, `ALTER SCHEMA public OWNER TO ${owner}; CREATE SCHEMA app AUTHORIZATION ${owner}; GRANT USAGE ON SCHEMA public, app TO ${plain}`);
  project = createProject({ migrations: MIGRATIONS });
});

afterAll(async () => {
  await d?.drop();
  await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`);
  await query(adminUrl(), `DROP ROLE IF EXISTS ${plain}`);
  project?.remove();
});

describe('shadowFingerprint', () => {
  for (const schema of ['public', 'app']) {
    it(`replays a history of every run mode to the live database's fingerprint (schema ${schema}), then sees a change made by hand`, async () => {
      const url = schema === 'public' ? as(owner, d.url) : withSchema(as(owner, d.url), schema);
      const env = environmentFor(url, 'staging', project.dir);
      await deploy({ env, migrationsDir: project.migrationsDir });
      const migrations = readLocalHistory(project.migrationsDir).migrations;
      const replayed = await shadowFingerprint({ env, migrations, schemas: [schema], fingerprint: schemaFingerprint });
      await replayed.dropped;
      expect(replayed.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(replayed.hash).toBe(await liveHash(env, [schema]));
      expect(await ownedShadows()).toBe(0);

      const table = schema === 'public' ? '"Item"' : `"${schema}"."Item"`;
      await query(url, `ALTER TABLE ${table} ADD COLUMN "byHand" INT`);
      const again = await shadowFingerprint({ env, migrations, schemas: [schema], fingerprint: schemaFingerprint });
      await again.dropped;
      expect(again.hash).toBe(replayed.hash);
      expect(await liveHash(env, [schema])).not.toBe(again.hash);
      expect(await ownedShadows()).toBe(0);
    });
  }

  it('a migration that fails here gives no answer (the engine decides), and the temporary database is dropped', async () => {
    const env = environmentFor(as(owner, d.url), 'staging', project.dir);
    const migrations = [...readLocalHistory(project.migrationsDir).migrations, { name: '20260108000000_broken', script: 'ALTER TABLE "Nope" ADD COLUMN "x" INT;' }];
    const r = await shadowFingerprint({ env, migrations, schemas: ['public'], fingerprint: schemaFingerprint });
    await r.dropped;
    expect(r.hash).toBeUndefined();
    expect(await ownedShadows()).toBe(0);
  });

  it('a role without CREATEDB gets no answer, and nothing is left behind', async () => {
    const env = environmentFor(as(plain, d.url), 'staging', project.dir);
    const r = await shadowFingerprint({ env, migrations: readLocalHistory(project.migrationsDir).migrations, schemas: ['public'], fingerprint: schemaFingerprint });
    await r.dropped;
    expect(r.hash).toBeUndefined();
  });
});

describe('schemaFingerprint', () => {
  it("leaves the caller's connection as it found it (its search_path)", async () => {
    const c: Client = await connect(d.url, { label: 'fingerprint' });
    try {
      await c.query(`SET search_path TO app, public`);
      await schemaFingerprint(c, ['public']);
      expect((await c.query<{ p: string }>(`SELECT current_setting('search_path') AS p`)).rows[0]!.p).toBe('app, public');
    } finally {
      await c.end();
    }
  });
});
