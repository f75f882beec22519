import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../../src/backup/create.js';
import { listBackups } from '../../src/backup/list.js';
import { applyRestore, prepareRestore } from '../../src/backup/restore.js';
import { openStorage } from '../../src/backup/storage.js';
import { verifyBackup } from '../../src/backup/verify.js';
import type { S3StorageConfig } from '../../src/config/define.js';
import { S3_CREDENTIALS, backupEnv, contentsOf, fillRichDatabase, startS3 } from '../helpers/backup.js';
import { closedPort, normalize } from '../helpers/cli.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { rejection } from '../helpers/project.js';

/** Backups in S3, against a real S3-compatible server (s3rver) on loopback. */
let source: FreshDatabase;
let s3: Awaited<ReturnType<typeof startS3>>;
let before: Record<string, string>;
const drops: FreshDatabase[] = [];

beforeAll(async () => {
  [source, s3] = await Promise.all([freshDatabase('bk_s3'), startS3('backups')]);
  await fillRichDatabase(source.url, { rows: 1500, tables: 8 });
  before = await contentsOf(source.url);
});

afterAll(async () => {
  for (const d of [source, ...drops]) await d?.drop();
  await s3?.close();
});

const s3env = (over: Partial<S3StorageConfig> = {}, processEnv: NodeJS.ProcessEnv = S3_CREDENTIALS) =>
  backupEnv(source.url, 'production', { backup: { storage: { s3: { bucket: 'backups', endpoint: s3.endpoint, sse: 'AES256', ...over } } } }, { processEnv });

async function objects(prefix = ''): Promise<string[]> {
  const { S3Client, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const c = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const r = await c.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

describe('S3 storage', () => {
  it('streams the dump into the bucket, lists it, verifies it and restores it', async () => {
    const env = s3env();
    const r = await createBackup({ env });
    expect(r.storage).toBe('s3');
    expect(r.location).toBe(`s3://backups/stagedb/production (${s3.endpoint})`);
    expect(await objects(`stagedb/production/${r.id}/`)).toEqual([`stagedb/production/${r.id}/dump.pgdump`, `stagedb/production/${r.id}/manifest.json`]);

    const listed = await listBackups(env);
    expect(listed.backups.map((b) => b.id)).toContain(r.id);
    expect(listed.incomplete).toEqual([]);

    const storage = await openStorage(env.backup.storage, 'production');
    const v = await verifyBackup({ storage, manifest: r.manifest, environment: 'production' });
    expect(v.checks.map((c) => [c.name, c.ok])).toEqual([['environment', true], ['checksum', true], ['pg_restore --list', true]]);
    expect(await objects(`stagedb/production/${r.id}/verify.json`)).toHaveLength(1);

    const target = await freshDatabase('bk_s3_dst');
    drops.push(target);
    const prepared = await prepareRestore({ storage, manifest: r.manifest });
    try {
      await applyRestore(prepared, backupEnv(target.url, 'staging'));
    } finally {
      await prepared.cleanup();
    }
    expect(await contentsOf(target.url)).toEqual(before);
  });

  it('a corrupted or truncated object fails verify and is refused by restore before the target is touched', async () => {
    const env = s3env({ prefix: 'corrupt' });
    const r = await createBackup({ env });
    const { S3Client, GetObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const c = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const key = `corrupt/${r.id}/dump.pgdump`;
    const bytes = Buffer.from(await (await c.send(new GetObjectCommand({ Bucket: 'backups', Key: key }))).Body!.transformToByteArray());
    await c.send(new PutObjectCommand({ Bucket: 'backups', Key: key, Body: bytes.subarray(0, bytes.length - 1000) }));

    const storage = await openStorage(env.backup.storage, 'production');
    const v = await verifyBackup({ storage, manifest: r.manifest, environment: 'production' });
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => c.name === 'checksum')?.detail).toMatch(/^dump\.pgdump has .* \(\d+ bytes\), the manifest says \d+: truncated$/);
    expect((await listBackups(env)).backups.find((b) => b.id === r.id)?.verification).toMatchObject({ ok: false });

    const target = await freshDatabase('bk_s3_bad');
    drops.push(target);
    const e = await rejection(prepareRestore({ storage, manifest: r.manifest }));
    expect(e).toMatchObject({ kind: 'backup', code: 'E_BACKUP_CORRUPT' });
    expect(e.message).toMatch(new RegExp(`^backup ${r.id} is corrupt: dump\\.pgdump has .*: truncated$`));
  });

  it('wrong credentials, an unreachable endpoint and a missing bucket: one clear error each, before pg_dump runs, nothing stored', async () => {
    const keysBefore = await objects();
    const wrong = await rejection(createBackup({ env: s3env({}, { AWS_ACCESS_KEY_ID: 'nobody', AWS_SECRET_ACCESS_KEY: 'wrong-secret' }) }));
    expect(wrong).toMatchObject({ kind: 'connection', code: 'E_STORAGE_AUTH' });
    expect(normalize(wrong.message, { [s3.endpoint]: '<endpoint>' })).toBe('s3://backups/stagedb/production at <endpoint> refused the credentials (InvalidAccessKeyId): cannot list the backups');

    const port = await closedPort();
    const down = await rejection(createBackup({ env: s3env({ endpoint: `http://127.0.0.1:${port}` }) }));
    expect(down).toMatchObject({ kind: 'connection', code: 'E_STORAGE_UNREACHABLE' });
    expect(normalize(down.message, { [String(port)]: '<port>' })).toBe('cannot reach s3://backups/stagedb/production at http://127.0.0.1:<port> (ECONNREFUSED): cannot list the backups');
    expect(down.fix).toBe(`check that the S3 endpoint http://127.0.0.1:${port} runs and is reachable from here`);

    const nobucket = await rejection(createBackup({ env: s3env({ bucket: 'no-such-bucket' }) }));
    expect(nobucket).toMatchObject({ kind: 'config', code: 'E_STORAGE_BUCKET', fix: 'create it (aws s3 mb s3://no-such-bucket), or fix backup.storage.s3.bucket / region in the config' });
    expect(await objects()).toEqual(keysBefore);
  });

  it('an unset bucket variable is reported when backups are used, not when the environment resolves', async () => {
    const env = backupEnv(source.url, 'production', { backup: { storage: { s3: { bucket: { $env: 'BACKUP_BUCKET' } } } } });
    const e = await rejection(createBackup({ env }));
    expect(e).toMatchObject({ kind: 'config', code: 'E_BACKUP_BUCKET_MISSING', message: 'environments.production.backup.storage.s3.bucket: environment variable BACKUP_BUCKET is not set' });
  });
});
