import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EnvironmentConfig } from '../../src/config/define.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../../src/config/environments.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { createTableSql } from '../../src/history/table.js';

/**
 * A database with something of everything a backup must carry: many tables, enums, jsonb, arrays,
 * bytea, timestamptz, numeric, intervals, floats with NaN and infinities, text with newlines and
 * backslashes, NULLs, a second schema with a foreign key, identity and serial columns, a standalone
 * sequence moved by setval, a partitioned table, a materialized view, large objects, and a
 * Prisma-style `_prisma_migrations` with two applied migrations.
 */
export async function fillRichDatabase(url: string, opts: { rows?: number; tables?: number } = {}): Promise<void> {
  const rows = opts.rows ?? 2000;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`
      CREATE TYPE "Role" AS ENUM ('USER', 'EDITOR', 'ADMIN');
      CREATE TABLE "User" (
        id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, role "Role" NOT NULL DEFAULT 'USER',
        tags TEXT[], scores INT[], meta JSONB, avatar BYTEA, "createdAt" TIMESTAMPTZ NOT NULL DEFAULT now(),
        balance NUMERIC(12, 2), ratio DOUBLE PRECISION, wait INTERVAL, note TEXT
      );
      INSERT INTO "User" (email, role, tags, scores, meta, avatar, "createdAt", balance, ratio, wait, note)
      SELECT 'user' || g || '@example.com',
             (ARRAY['USER','EDITOR','ADMIN'])[1 + g % 3]::"Role",
             ARRAY['t' || g % 7, 'tag with space', NULL],
             ARRAY[g, g * 2],
             jsonb_build_object('n', g, 'nested', jsonb_build_object('ok', g % 2 = 0), 'list', jsonb_build_array(1, 'two', null)),
             decode(md5(g::text) || md5((g + 1)::text), 'hex'),
             timestamptz '2024-01-01 00:00:00+00' + g * interval '37 minutes',
             (g * 1.25)::numeric(12, 2),
             CASE g % 50 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN 'Infinity'::float8 WHEN 2 THEN '-Infinity'::float8 ELSE g / 7.0 END,
             g * interval '1 second',
             CASE WHEN g % 10 = 0 THEN NULL ELSE E'line one\\nline two\\ttab \\\\ backslash ü ' || g END
        FROM generate_series(1, ${rows}) g;
      CREATE SCHEMA billing;
      CREATE TABLE billing.invoice (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "userId" INT NOT NULL REFERENCES "User"(id), total NUMERIC NOT NULL, paid BOOLEAN);
      INSERT INTO billing.invoice ("userId", total, paid) SELECT 1 + g % ${rows}, g * 3.5, g % 3 = 0 FROM generate_series(1, ${Math.max(10, Math.floor(rows / 2))}) g;
      CREATE SEQUENCE billing.ticket_seq START 1000;
      SELECT setval('billing.ticket_seq', 4242);
      CREATE TABLE event (id INT NOT NULL, at DATE NOT NULL, payload JSONB) PARTITION BY RANGE (at);
      CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
      CREATE TABLE event_2025 PARTITION OF event FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
      INSERT INTO event SELECT g, date '2024-06-01' + g, jsonb_build_object('g', g) FROM generate_series(1, 400) g;
      CREATE MATERIALIZED VIEW user_roles AS SELECT role, count(*) AS n FROM "User" GROUP BY role;
      CREATE VIEW paid_invoices AS SELECT * FROM billing.invoice WHERE paid;
      SELECT lo_from_bytea(0, convert_to(repeat('large object ', 1000), 'UTF8'));
      SELECT lo_from_bytea(0, decode(repeat('00ff', 5000), 'hex'));
    `);
    for (let i = 1; i <= (opts.tables ?? 25); i++) {
      const t = `"t_${String(i).padStart(2, '0')}"`;
      await c.query(`CREATE TABLE ${t} (id SERIAL PRIMARY KEY, v TEXT, at TIMESTAMPTZ DEFAULT now()); INSERT INTO ${t} (v) SELECT md5(g::text) FROM generate_series(1, ${i * 3}) g`);
    }
    await c.query(createTableSql('public'));
    await c.query(`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES
      ('00000000-0000-0000-0000-000000000001', repeat('a', 64), now() - interval '1 day', '20240101000000_init', 1),
      ('00000000-0000-0000-0000-000000000002', repeat('b', 64), now(), '20240102000000_billing', 1)`);
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

/**
 * What a database holds, independent of the code under test: every table's rows as sorted text and
 * hashed, every sequence's state, every large object, every enum's labels in order.
 */
export async function contentsOf(url: string): Promise<Record<string, string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("SET TimeZone = 'UTC'; SET extra_float_digits = 3");
    const out: Record<string, string> = {};
    const tables = await c.query<{ s: string; t: string }>(
      `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'stagedb') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2`,
    );
    for (const { s, t } of tables.rows) {
      const r = await c.query<{ n: string; h: string }>(`SELECT count(*)::text AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ONLY "${s}"."${t}" AS x`);
      out[`table ${s}.${t}`] = `${r.rows[0]!.n} rows ${r.rows[0]!.h}`;
    }
    const seqs = await c.query<{ s: string; n: string }>(`SELECT schemaname AS s, sequencename AS n FROM pg_sequences WHERE schemaname <> 'stagedb' ORDER BY 1, 2`);
    for (const { s, n } of seqs.rows) {
      const r = await c.query<{ v: string; called: boolean }>(`SELECT last_value::text AS v, is_called AS called FROM "${s}"."${n}"`);
      out[`sequence ${s}.${n}`] = `${r.rows[0]!.v} ${r.rows[0]!.called}`;
    }
    const los = await c.query<{ oid: string; h: string }>(`SELECT oid::text, md5(lo_get(oid)) AS h FROM pg_largeobject_metadata ORDER BY oid`);
    out['large objects'] = los.rows.map((r) => `${r.oid}:${r.h}`).join(',');
    const enums = await c.query<{ labels: string }>(`SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) AS labels FROM pg_enum WHERE enumtypid = '"Role"'::regtype`);
    out['enum Role'] = enums.rows[0]!.labels;
    return out;
  } finally {
    await c.end();
  }
}

/** A resolved environment with a backup configuration, as a command would get it from a config file. */
export function backupEnv(url: string, name: string, env: Omit<EnvironmentConfig, 'url'> = {}, opts: { root?: string; processEnv?: NodeJS.ProcessEnv } = {}): ResolvedEnvironment {
  const root = opts.root ?? join(tmpdir(), 'stagedb-no-project');
  const config: ResolvedConfig = {
    root,
    schemaPath: join(root, 'prisma', 'schema.prisma'),
    migrationsDir: join(root, 'prisma', 'migrations'),
    environments: { [name]: { url, protection: 'none', ...env } },
    warnings: [],
  };
  return resolveEnvironment(config, name, { processEnv: opts.processEnv ?? {} });
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = 'stagedb-backups-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real S3-compatible server (s3rver) on a random loopback port, with one bucket. */
export async function startS3(bucket = 'backups'): Promise<{ endpoint: string; port: number; dir: string; close(): Promise<void> }> {
  // @ts-expect-error s3rver ships no type declarations
  const { default: S3rver } = (await import('s3rver')) as unknown as { default: new (o: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> } };
  const t = tempDir('stagedb-s3-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: t.dir, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dir: t.dir,
    close: async () => {
      await server.close();
      t.remove();
    },
  };
}

export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
