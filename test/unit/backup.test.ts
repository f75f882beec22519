import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { choosePlan } from '../../src/backup/create.js';
import { toolConnection } from '../../src/backup/libpq.js';
import { isBackupId, newBackupId, parseManifest } from '../../src/backup/manifest.js';
import { TableProgress, eta, feedVerbose, type CopyCount } from '../../src/backup/progress.js';
import { planPrune } from '../../src/backup/prune.js';
import { auditTrailOnly, historyCheckSql, tocNamespaces, tocSchemas, withTail, withoutSchema } from '../../src/backup/restore.js';
import type { StoredBackup } from '../../src/backup/storage.js';
import { chooseTool } from '../../src/backup/tools.js';
import { resolveEnvironment } from '../../src/config/environments.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { redact } from '../../src/redact.js';

describe('which pg_dump / pg_restore', () => {
  const tools = [13, 15, 17].map((major) => ({ path: `/usr/lib/postgresql/${major}/bin/pg_dump`, version: `${major}.2`, major }));
  it('the same major when there is one, else the oldest newer one, never an older one', () => {
    expect(chooseTool(tools, 15)?.major).toBe(15);
    expect(chooseTool(tools, 14)?.major).toBe(15);
    expect(chooseTool(tools, 16)?.major).toBe(17);
    expect(chooseTool(tools, 12)?.major).toBe(13);
    expect(chooseTool(tools, 18)).toBeUndefined();
  });
});

describe('dump format', () => {
  const mb = 1024 ** 2;
  const tables = (sizes: number[]) => sizes.map((bytes, i) => ({ schema: 'public', name: `t${i}`, bytes, estimatedRows: 0 }));
  it('custom for small databases, S3, one core or one dominant table; directory with jobs when the work spreads', () => {
    expect(choosePlan({ sizeBytes: 100 * mb, tables: tables([50 * mb, 50 * mb]) }, 'local', 'auto', undefined, 4)).toEqual({ format: 'custom', jobs: 1, compression: 1 });
    expect(choosePlan({ sizeBytes: 2000 * mb, tables: tables([900 * mb, 900 * mb]) }, 'local', 'auto', undefined, 4)).toEqual({ format: 'directory', jobs: 4, compression: 1 });
    expect(choosePlan({ sizeBytes: 2000 * mb, tables: tables([900 * mb, 900 * mb]) }, 's3', 'auto', undefined, 4)).toEqual({ format: 'custom', jobs: 1, compression: 1 });
    expect(choosePlan({ sizeBytes: 2000 * mb, tables: tables([900 * mb, 900 * mb]) }, 'local', 'auto', undefined, 1)).toEqual({ format: 'custom', jobs: 1, compression: 1 });
    expect(choosePlan({ sizeBytes: 2000 * mb, tables: tables([1900 * mb, 10 * mb]) }, 'local', 'auto', undefined, 4)).toEqual({ format: 'custom', jobs: 1, compression: 1 });
    expect(choosePlan({ sizeBytes: 200 * mb, tables: tables([90 * mb, 90 * mb]) }, 'local', 'auto', undefined, 2)).toEqual({ format: 'directory', jobs: 2, compression: 1 });
    expect(choosePlan({ sizeBytes: 10 * mb, tables: [] }, 'local', 'directory', 3)).toEqual({ format: 'directory', jobs: 3, compression: 1 });
    expect(() => choosePlan({ sizeBytes: 10 * mb, tables: [] }, 's3', 'directory')).toThrow('the directory format needs local backup storage');
  });
});

describe("restore: what is restored of stagedb's own schema, and the history check", () => {
  it("a target without an audit trail gets the backup's audit_log and nothing else of schema stagedb", () => {
    const toc = [
      '5; 2615 16390 SCHEMA - stagedb postgres',
      '220; 1259 16391 TABLE stagedb audit_log postgres',
      '221; 1259 16398 SEQUENCE stagedb audit_log_id_seq postgres',
      '3400; 0 16391 TABLE DATA stagedb audit_log postgres',
      '222; 1259 16400 TABLE stagedb marker postgres',
      '3401; 0 16400 TABLE DATA stagedb marker postgres',
      '223; 1259 16410 TABLE public User postgres',
    ];
    expect(auditTrailOnly(toc)).toEqual([
      '5; 2615 16390 SCHEMA - stagedb postgres',
      '220; 1259 16391 TABLE stagedb audit_log postgres',
      '221; 1259 16398 SEQUENCE stagedb audit_log_id_seq postgres',
      '3400; 0 16391 TABLE DATA stagedb audit_log postgres',
      ';222; 1259 16400 TABLE stagedb marker postgres',
      ';3401; 0 16400 TABLE DATA stagedb marker postgres',
      '223; 1259 16410 TABLE public User postgres',
    ]);
  });

  it('finds every schema the archive holds something in, public included (pg_dump writes no SCHEMA entry for it)', () => {
    expect(tocNamespaces([
      ';',
      '5; 2615 16390 SCHEMA - auth postgres',
      '6; 3079 16400 EXTENSION - pgcrypto ',
      '220; 1259 16391 TABLE public User postgres',
      '3400; 0 16391 TABLE DATA public User postgres',
      '3401; 2606 16500 FK CONSTRAINT billing invoice invoice_userId_fkey postgres',
      '3402; 2613 16403 BLOB - 16403 postgres',
    ]).sort()).toEqual(['auth', 'billing', 'public']);
  });

  it("pg_restore's final COMMIT is replaced by the history check and a COMMIT; without one, nothing is sent", () => {
    const end = Buffer.from('COPY t FROM stdin;\nCOMMIT;\n\\.\nCREATE INDEX i ON t (x);\nCOMMIT;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict KEY\n\n');
    expect(withTail(end, '\nCHECK;\nCOMMIT;\n')?.toString()).toBe('COPY t FROM stdin;\nCOMMIT;\n\\.\nCREATE INDEX i ON t (x);\n\nCHECK;\nCOMMIT;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict KEY\n\n');
    expect(withTail(Buffer.from('CREATE TABLE t (x int);\n'), 'COMMIT;\n')).toBeUndefined();
  });

  it('the history check quotes names and the schema, qualifies everything (search_path is empty), and ends with COMMIT', () => {
    const sql = historyCheckSql('my "app"', ["20240101000000_it's"]);
    expect(sql).toContain(`want text[] := ARRAY['20240101000000_it''s']::text[]`);
    expect(sql).toContain(`pg_catalog.to_regclass('"my ""app"""."_prisma_migrations"')`);
    expect(sql.trimEnd().endsWith('COMMIT;')).toBe(true);
    expect(historyCheckSql('public', [])).toContain(`want text[] := '{}'::text[]`);
  });
});

describe('retention', () => {
  const at = (iso: string, id: string, ok?: boolean): StoredBackup =>
    ({ id, manifest: { startedAt: iso } as StoredBackup['manifest'], verification: ok === undefined ? undefined : { at: iso, ok, deep: false, summary: '' } }) as StoredBackup;
  const now = new Date('2026-03-10T12:00:00Z');
  const backups = [
    at('2026-03-10T11:00:00Z', 'p-10b'),
    at('2026-03-10T01:00:00Z', 'p-10a'),
    at('2026-03-09T23:00:00Z', 'p-09b', false),
    at('2026-03-09T10:00:00Z', 'p-09a'),
    at('2026-03-08T10:00:00Z', 'p-08'),
    at('2026-03-01T10:00:00Z', 'p-01', true),
    at('2026-02-01T10:00:00Z', 'p-feb'),
  ];
  it('keeps the newest N, the newest of each of the last D days (UTC) and the newest verified; a failed verification does not count', () => {
    const plan = planPrune(backups, [], { keepLast: 2, dailyDays: 3 }, now);
    expect(plan.keep.map((k) => [k.id, k.keptBecause])).toEqual([
      ['p-10b', ['one of the newest 2', 'newest of 2026-03-10']],
      ['p-10a', ['one of the newest 2']],
      ['p-09b', ['newest of 2026-03-09']],
      ['p-08', ['newest of 2026-03-08']],
      ['p-01', ['newest verified']],
    ]);
    expect(plan.remove.map((r) => r.id)).toEqual(['p-09a', 'p-feb']);
  });
  it('never removes the newest backup, whatever the policy says', () => {
    expect(planPrune(backups, [], { keepLast: 0, dailyDays: 0 }, now).keep.map((k) => k.id)).toEqual(['p-10b', 'p-01']);
  });
  it('leftovers of interrupted runs go when their process is gone or after a day, never while being written', () => {
    const plan = planPrune([], [
      { id: 'live', since: new Date('2026-03-10T11:59:00Z'), active: true },
      { id: 'gone', since: new Date('2026-03-10T11:59:00Z'), active: false, processGone: true },
      { id: 's3-recent', since: new Date('2026-03-10T08:00:00Z'), active: false },
      { id: 's3-old', since: new Date('2026-03-08T08:00:00Z'), active: false },
    ], { keepLast: 1, dailyDays: 0 }, now);
    expect(plan.leftovers.map((l) => l.id)).toEqual(['gone', 's3-old']);
  });
});

describe('the archive table of contents', () => {
  const toc = [
    ';',
    '; Archive created at 2026-11-27 13:08:17 UTC',
    '3; 2615 16390 SCHEMA - billing postgres',
    '4; 2615 16400 SCHEMA - stagedb postgres',
    '3400; 0 0 ACL - SCHEMA stagedb postgres',
    '214; 1259 16385 TABLE public User postgres',
    '215; 1259 16401 TABLE stagedb audit_log postgres',
    '216; 1259 16402 SEQUENCE stagedb audit_log_id_seq postgres',
    '217; 1259 16403 TABLE public stagedb postgres',
    '3355; 0 16385 TABLE DATA public User postgres',
    '3356; 0 16401 TABLE DATA stagedb audit_log postgres',
    '3357; 0 16401 SEQUENCE SET stagedb audit_log_id_seq postgres',
  ];
  it('finds the schemas it creates, and can leave one out (every entry of it, nothing else)', () => {
    expect(tocSchemas(toc)).toEqual(['billing', 'stagedb']);
    expect(withoutSchema(toc, 'stagedb').filter((l) => l.startsWith(';') && l.length > 1 && !l.startsWith('; '))).toEqual([
      ';4; 2615 16400 SCHEMA - stagedb postgres',
      ';3400; 0 0 ACL - SCHEMA stagedb postgres',
      ';215; 1259 16401 TABLE stagedb audit_log postgres',
      ';216; 1259 16402 SEQUENCE stagedb audit_log_id_seq postgres',
      ';3356; 0 16401 TABLE DATA stagedb audit_log postgres',
      ';3357; 0 16401 SEQUENCE SET stagedb audit_log_id_seq postgres',
    ]);
  });
});

describe('progress from --verbose lines', () => {
  it('serial: a table is done when the next one starts; parallel: when pg_dump says it finished', () => {
    const t = () => new TableProgress([{ schema: 'public', name: 'a', bytes: 300, rows: 3 }, { schema: 'public', name: 'b', bytes: 100_000, rows: 1000 }]);
    const serial = t();
    expect(feedVerbose(serial, 'pg_dump: dumping contents of table "public.b"', false)).toBe(true);
    expect(serial.counts()).toEqual({ done: 0, total: 2 });
    feedVerbose(serial, 'pg_dump: dumping contents of table "public.a"', false);
    expect(serial.counts()).toEqual({ done: 1, total: 2 });
    const parallel = t();
    feedVerbose(parallel, 'pg_dump: dumping contents of table "public.b"', true);
    feedVerbose(parallel, 'pg_dump: dumping contents of table "public.a"', true);
    parallel.live(new Map([['public.b', { rows: 500, bytes: 50_000 }]]));
    expect(parallel.fraction()).toBeCloseTo((100_000 * 0.5) / (100_000 + 8192), 5);
    feedVerbose(parallel, 'pg_dump: finished item 3356 TABLE DATA b', true);
    expect(parallel.counts()).toEqual({ done: 1, total: 2 });
    expect(feedVerbose(parallel, 'pg_dump: reading extensions', true)).toBe(false);
  });
});

describe('progress of a table being copied (issue 13.8)', () => {
  // Eight tables; the first holds nearly all the data and was never analyzed (no row estimate): the
  // shape that printed "98 %, 1/8 tables, ETA 11 ms" halfway through its dump.
  const mb = 1024 ** 2;
  const tables = (exact = false) => [
    { schema: 'public', name: 'big', bytes: 980 * mb, rows: exact ? 7_000_000 : 0, exact },
    ...Array.from({ length: 7 }, (_, i) => ({ schema: 'public', name: `small${i}`, bytes: 2 * mb, rows: 1000, exact })),
  ];
  const halfway = (p: TableProgress, copied: CopyCount) => {
    for (let i = 0; i < 7; i++) feedVerbose(p, `pg_dump: dumping contents of table "public.small${i}"`, false);
    feedVerbose(p, 'pg_dump: dumping contents of table "public.big"', false);
    p.live(new Map([['public.big', copied]]));
    return { fraction: p.fraction()!, tables: p.counts(), eta: eta(20_000, p.fraction()) };
  };

  it('a table without a row estimate counts by the bytes copied, not as done after its first row', () => {
    const r = halfway(new TableProgress(tables()), { rows: 3_500_000, bytes: 490 * mb });
    expect(r.tables).toEqual({ done: 7, total: 8 });
    expect(r.fraction).toBeCloseTo((14 + 490) / (14 + 980), 3);
    expect(r.eta).toBeGreaterThan(15_000);
  });

  it('an estimate far too low (the table grew since it was analyzed) is capped by the bytes', () => {
    const stale = tables().map((t) => (t.name === 'big' ? { ...t, rows: 100_000 } : t));
    const r = halfway(new TableProgress(stale), { rows: 3_500_000, bytes: 490 * mb });
    expect(r.fraction).toBeCloseTo((14 + 490) / (14 + 980), 3);
  });

  it('without bytes (a server that does not report them), an estimate counts for nothing; exact counts do', () => {
    expect(halfway(new TableProgress(tables()), { rows: 3_500_000 }).fraction).toBeCloseTo(14 / (14 + 980), 3);
    expect(halfway(new TableProgress(tables(true)), { rows: 3_500_000 }).fraction).toBeCloseTo((14 + 490) / (14 + 980), 3);
    // A table being copied is never reported done before the tool says so.
    expect(halfway(new TableProgress(tables(true)), { rows: 9_000_000 }).fraction).toBeLessThan(1);
  });
});

describe('how pg_dump is pointed at the database', () => {
  it('no password on the command line, none of Prisma\'s parameters, libpq\'s kept, a readable application_name', () => {
    const c = toolConnection('postgresql://app:s3cr%40t@db.example.com:6543/shop?schema=app&sslmode=require&connection_limit=5&sslrootcert=/etc/rds.pem', 'stagedb backup production-x', { PATH: '/bin', PGHOST: 'elsewhere' });
    expect(c.dbname).toBe('postgresql://app@db.example.com:6543/shop?sslmode=require&sslrootcert=%2Fetc%2Frds.pem&application_name=stagedb%20backup%20production-x&connect_timeout=10');
    expect(c.env).toMatchObject({ PGPASSWORD: 's3cr@t', PATH: '/bin', LC_ALL: 'C' });
    expect(c.env.PGHOST).toBeUndefined();
  });
  it('session settings for the tool go into libpq\'s options, after the URL\'s own', () => {
    const plain = toolConnection('postgresql://app@db/shop', 'stagedb restore x', {}, { synchronous_commit: 'off' });
    expect(new URL(plain.dbname).searchParams.get('options')).toBe('-c synchronous_commit=off');
    expect(plain.dbname).toContain('options=-c%20synchronous_commit%3Doff');
    const own = toolConnection('postgresql://app@db/shop?options=-c%20search_path%3Dapp', 'stagedb restore x', {}, { synchronous_commit: 'off' });
    expect(new URL(own.dbname).searchParams.get('options')).toBe('-c search_path=app -c synchronous_commit=off');
  });
});

describe('backup ids', () => {
  it('sort by time, name their environment, and can never name a path', () => {
    const id = newBackupId('production', new Date('2026-11-27T13:08:17.123Z'));
    expect(id).toMatch(/^production-20261127T130817Z-[0-9a-f]{4}$/);
    expect(isBackupId(id)).toBe(true);
    for (const bad of ['../etc', '.production-20261127T130817Z-abcd', 'production-20261127T130817Z-abcd/x', 'latest']) expect(isBackupId(bad)).toBe(false);
  });
  it('a manifest that names a file outside its backup is damaged', () => {
    const m = { format: 'stagedb-backup/1', id: 'x', environment: 'p', sha256: 'a', size: 1, dump: { files: [{ name: '../../etc/passwd', size: 1, sha256: 'a' }] }, migrations: { applied: [] }, tables: [] };
    expect(() => parseManifest(JSON.stringify(m), 'x')).toThrow('backup x is damaged: its manifest lacks required fields');
  });
});

describe('backup config', () => {
  const base = (environments: Record<string, unknown>) => ({ environments });
  it('validates storage, retention and backupBeforeDeploy, every problem at once', () => {
    const r = validateConfig(
      base({
        production: {
          url: 'postgresql://h/db',
          backup: { storage: { dir: 'x', s3: { bucket: 'b' } }, retention: { keepLast: 0, dailyDays: -1 }, checksums: 'yes' },
          backupBeforeDeploy: 'always',
        },
        staging: { url: 'postgresql://h/db', backup: { storage: { s3: { prefix: 'p', sse: 'DES', color: 'red' } } } },
      }),
    );
    expect(r.errors).toEqual([
      'environments.production.backup.storage: give either dir: \'<directory>\' or s3: { bucket: … }',
      'environments.production.backup.retention.keepLast: must be at least 1 (the newest backup is always kept)',
      'environments.production.backup.retention.dailyDays: must be 0 or more',
      'environments.production.backup.checksums: expected boolean, got string',
      "environments.production.backupBeforeDeploy: must be true, false, 'pg_dump', 'snapshot' or 'pitr'",
      'environments.staging.backup.storage.s3.bucket: is required',
      'environments.staging.backup.storage.s3.sse: must be one of "AES256", "aws:kms"',
      'environments.staging.backup.storage.s3.color: unknown key',
    ]);
  });

  const config = (environments: ResolvedConfig['environments']): ResolvedConfig => ({ root: '/app', schemaPath: '/app/prisma/schema.prisma', migrationsDir: '/app/prisma/migrations', environments, warnings: [] });
  it('defaults: local .stagedb/backups/<env>, keep 10 and 7 days, backup before deploy for production-level environments only', () => {
    const c = config({ production: { url: 'postgresql://h/db?sslmode=require' }, staging: { url: 'postgresql://h/db' }, qa: { url: 'postgresql://h/db', protection: 'production', ssl: 'disable' } });
    const p = resolveEnvironment(c, 'production', { processEnv: {} });
    expect(p.backup).toEqual({ storage: { kind: 'local', dir: join('/app', '.stagedb', 'backups', 'production') }, retention: { keepLast: 10, dailyDays: 7 }, checksums: undefined, beforeDeploy: true, beforeDeployMode: 'pg_dump', beforeDeployDumpLimit: 20 * 1024 ** 3 });
    expect(resolveEnvironment(c, 'staging', { processEnv: {} }).backup.beforeDeploy).toBe(false);
    expect(resolveEnvironment(c, 'qa', { processEnv: {} }).backup.beforeDeploy).toBe(true);
  });
  it('S3: values from env(), credentials from the env files or the shell, and the secret key is never shown', () => {
    const c = config({
      production: {
        url: 'postgresql://h/db?sslmode=require',
        backupBeforeDeploy: false,
        backup: { storage: { s3: { bucket: { $env: 'BACKUP_BUCKET' }, prefix: '/db/prod/', endpoint: 'http://127.0.0.1:9000', sse: 'aws:kms', kmsKeyId: 'alias/backups' } } },
      },
    });
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const p = resolveEnvironment(c, 'production', { processEnv: { BACKUP_BUCKET: 'acme-backups', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: secret, AWS_REGION: 'eu-west-1' } });
    expect(p.backup.beforeDeploy).toBe(false);
    expect(p.backup.storage).toEqual({
      kind: 's3',
      bucket: 'acme-backups',
      bucketProblem: undefined,
      prefix: 'db/prod',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      sse: 'aws:kms',
      kmsKeyId: 'alias/backups',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: secret, sessionToken: undefined },
    });
    expect(redact(`signing with ${secret} failed`)).toBe('signing with **** failed');
  });
});
