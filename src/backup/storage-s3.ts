import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ResolvedBackupStorage } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { MANIFEST_FILE, VERIFY_FILE, isBackupId, parseManifest, timeOfId, type BackupManifest, type VerifyRecord } from './manifest.js';
import { notFound, type BackupListing, type BackupStorage, type IncompleteBackup, type PendingBackup, type StoredBackup } from './storage-types.js';
import { shellQuote } from '../shell-quote.js';

type S3Settings = Extract<ResolvedBackupStorage, { kind: 's3' }> & { bucket: string };
type Sdk = typeof import('@aws-sdk/client-s3');

/**
 * Backups in S3 (or an S3-compatible store), under `<prefix>/<id>/`: the dump is streamed in with a
 * multipart upload while stagedb hashes it, and `manifest.json` is put last, so a listing that
 * finds no manifest under an id has found an interrupted backup, never a restorable one. Parts of
 * a killed upload can stay behind in the bucket as an incomplete multipart upload: a bucket
 * lifecycle rule (AbortIncompleteMultipartUpload) removes them; `backup prune` removes stray objects.
 *
 * The AWS SDK is imported only by this module, which is imported only when S3 is configured.
 */
export class S3Storage implements BackupStorage {
  readonly kind = 's3' as const;
  private sdk?: Sdk;
  private client?: S3Client;

  constructor(private readonly s: S3Settings) {}

  get location(): string {
    return `s3://${this.s.bucket}/${this.s.prefix}${this.s.endpoint ? ` (${this.s.endpoint})` : ''}`;
  }

  private key(id: string, file: string): string {
    return `${this.s.prefix ? `${this.s.prefix}/` : ''}${id}/${file}`;
  }

  private get root(): string {
    return this.s.prefix ? `${this.s.prefix}/` : '';
  }

  private async connect(): Promise<{ sdk: Sdk; client: S3Client }> {
    if (this.sdk && this.client) return { sdk: this.sdk, client: this.client };
    // The SDK's notice that its future releases need Node 22 is nothing a user can act on mid-backup.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const sdk = await import('@aws-sdk/client-s3');
    this.sdk = sdk;
    this.client = new sdk.S3Client({
      region: this.s.region,
      endpoint: this.s.endpoint,
      forcePathStyle: this.s.forcePathStyle,
      credentials: this.s.credentials,
      // S3-compatible servers do not all understand the SDK's newer default (aws-chunked uploads with
      // trailing CRC32 checksums); stagedb checks every byte with its own sha256 anyway.
      ...(this.s.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
      requestHandler: { connectionTimeout: 10_000 },
      maxAttempts: 3,
    });
    return { sdk, client: this.client };
  }

  private sse(): { ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string } {
    return this.s.sse ? { ServerSideEncryption: this.s.sse, ...(this.s.kmsKeyId ? { SSEKMSKeyId: this.s.kmsKeyId } : {}) } : {};
  }

  /** Runs one request, turning the SDK's failures into one clear error. */
  private async call<T>(doing: string, fn: (sdk: Sdk, client: S3Client) => Promise<T>): Promise<T> {
    const { sdk, client } = await this.connect();
    try {
      return await fn(sdk, client);
    } catch (e) {
      throw s3Error(e, doing, this.s);
    }
  }

  async check(): Promise<void> {
    await this.call('list', (sdk, c) => c.send(new sdk.ListObjectsV2Command({ Bucket: this.s.bucket, Prefix: this.root, MaxKeys: 1 })));
  }

  async begin(id: string): Promise<PendingBackup> {
    await this.check();
    const uploads = new Set<{ abort(): Promise<void> }>();
    const written = new Set<string>();
    const self = this;
    return {
      async write(name: string, body: Readable) {
        const { client } = await self.connect();
        const { Upload } = await import('@aws-sdk/lib-storage');
        const upload = new Upload({
          client,
          params: { Bucket: self.s.bucket, Key: self.key(id, name), Body: body, ...self.sse() },
          partSize: 16 * 1024 * 1024,
          queueSize: 4,
          leavePartsOnError: false,
        });
        uploads.add(upload);
        written.add(name);
        try {
          await upload.done();
        } catch (e) {
          throw s3Error(e, 'upload to', self.s);
        } finally {
          uploads.delete(upload);
        }
      },
      async commit(manifest: BackupManifest, gate?: Promise<void>) {
        await gate;
        await self.call('upload to', (sdk, c) =>
          c.send(new sdk.PutObjectCommand({ Bucket: self.s.bucket, Key: self.key(id, MANIFEST_FILE), Body: `${JSON.stringify(manifest, null, 2)}\n`, ContentType: 'application/json', ...self.sse() })),
        );
      },
      async abort() {
        for (const u of uploads) await u.abort().catch(() => {});
        await self.deleteKeys([...written].map((n) => self.key(id, n))).catch(() => {});
      },
    };
  }

  private async listKeys(prefix: string): Promise<Array<{ key: string; modified?: Date }>> {
    const out: Array<{ key: string; modified?: Date }> = [];
    let token: string | undefined;
    do {
      const r = await this.call('list', (sdk, c) => c.send(new sdk.ListObjectsV2Command({ Bucket: this.s.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key, modified: o.LastModified });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async list(): Promise<BackupListing> {
    const keys = await this.listKeys(this.root);
    const byId = new Map<string, { files: Set<string>; modified?: Date }>();
    for (const { key, modified } of keys) {
      const rest = key.slice(this.root.length);
      const slash = rest.indexOf('/');
      if (slash < 0) continue;
      const id = rest.slice(0, slash);
      if (!isBackupId(id)) continue;
      const entry = byId.get(id) ?? { files: new Set<string>() };
      entry.files.add(rest.slice(slash + 1));
      if (modified && (!entry.modified || modified > entry.modified)) entry.modified = modified;
      byId.set(id, entry);
    }
    const backups: StoredBackup[] = [];
    const incomplete: IncompleteBackup[] = [];
    const damaged: BackupListing['damaged'] = [];
    const complete = [...byId].filter(([id, e]) => {
      if (e.files.has(MANIFEST_FILE)) return true;
      incomplete.push({ id, since: e.modified ?? timeOfId(id), active: false });
      return false;
    });
    // Manifests are small: a few at a time.
    for (let i = 0; i < complete.length; i += 8) {
      await Promise.all(
        complete.slice(i, i + 8).map(async ([id, e]) => {
          try {
            const manifest = await this.readManifest(id);
            const verification = e.files.has(VERIFY_FILE) ? ((await this.readJson(id, VERIFY_FILE).catch(() => undefined)) as VerifyRecord | undefined) : undefined;
            backups.push({ id, manifest, verification });
          } catch (err) {
            damaged.push({ id, problem: (err as Error).message });
          }
        }),
      );
    }
    backups.sort((a, b) => (a.manifest.startedAt < b.manifest.startedAt ? 1 : a.manifest.startedAt > b.manifest.startedAt ? -1 : b.id.localeCompare(a.id)));
    return { backups, incomplete, damaged };
  }

  private async readText(id: string, file: string): Promise<string> {
    const r = await this.call('read', (sdk, c) => c.send(new sdk.GetObjectCommand({ Bucket: this.s.bucket, Key: this.key(id, file) })));
    return (await r.Body?.transformToString('utf8')) ?? '';
  }

  private async readJson(id: string, file: string): Promise<unknown> {
    return JSON.parse(await this.readText(id, file));
  }

  async readManifest(id: string): Promise<BackupManifest> {
    if (!isBackupId(id)) throw notFound(id, this.location);
    let text: string;
    try {
      text = await this.readText(id, MANIFEST_FILE);
    } catch (e) {
      if ((e as StagedbError).code === 'E_STORAGE_NOT_FOUND') throw notFound(id, this.location);
      throw e;
    }
    return parseManifest(text, id);
  }

  async read(id: string, file: string): Promise<Readable> {
    const r = await this.call('read', (sdk, c) => c.send(new sdk.GetObjectCommand({ Bucket: this.s.bucket, Key: this.key(id, file) })));
    if (!(r.Body instanceof Readable)) throw new StagedbError('internal', 'E_INTERNAL', 'the S3 client returned no stream');
    return r.Body;
  }

  localPath(): undefined {
    return undefined;
  }

  async writeVerification(id: string, record: VerifyRecord): Promise<void> {
    await this.call('upload to', (sdk, c) =>
      c.send(new sdk.PutObjectCommand({ Bucket: this.s.bucket, Key: this.key(id, VERIFY_FILE), Body: `${JSON.stringify(record, null, 2)}\n`, ContentType: 'application/json', ...this.sse() })),
    );
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      if (batch.length === 0) continue;
      await this.call('delete from', (sdk, c) => c.send(new sdk.DeleteObjectsCommand({ Bucket: this.s.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
    }
  }

  async remove(id: string): Promise<void> {
    if (!isBackupId(id)) throw notFound(id, this.location);
    // The manifest first: from then on the rest is an invisible leftover, never a restorable backup.
    await this.deleteKeys([this.key(id, MANIFEST_FILE)]);
    const rest = (await this.listKeys(`${this.root}${id}/`)).map((k) => k.key);
    await this.deleteKeys(rest);
  }

  async removeIncomplete(item: IncompleteBackup): Promise<void> {
    const keys = (await this.listKeys(`${this.root}${item.id}/`)).map((k) => k.key);
    await this.deleteKeys(keys);
  }
}

/** One message per way S3 fails: unreachable, refused credentials, no bucket, no object. */
function s3Error(e: unknown, doing: string, s: S3Settings): StagedbError {
  if (e instanceof StagedbError) return e;
  const err = e as { name?: string; code?: string; message?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? err.Code ?? '';
  const where = `s3://${s.bucket}/${s.prefix}${s.endpoint ? ` at ${s.endpoint}` : ''}`;
  const status = err.$metadata?.httpStatusCode;
  if (name === 'NoSuchBucket') {
    return new StagedbError('config', 'E_STORAGE_BUCKET', `the bucket ${s.bucket} does not exist${s.endpoint ? ` at ${s.endpoint}` : ` in ${s.region}`}`, {
      fix: `create it (aws s3 mb ${shellQuote(`s3://${s.bucket}`)}), or fix backup.storage.s3.bucket / region in the config`,
      cause: e,
    });
  }
  if (name === 'NoSuchKey' || status === 404) {
    return new StagedbError('usage', 'E_STORAGE_NOT_FOUND', `not found in ${where}`, { cause: e });
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken', 'InvalidToken', 'CredentialsProviderError', 'AuthorizationHeaderMalformed'].includes(name) || status === 401 || status === 403) {
    return new StagedbError('connection', 'E_STORAGE_AUTH', `${where} refused the credentials (${name || `HTTP ${status}`}): cannot ${doing} the backups`, {
      fix: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (shell or the environment\'s env file), AWS_PROFILE, or the role\'s permissions: s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject on the prefix',
      cause: e,
    });
  }
  const net = err.code ?? name;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError', 'EPIPE'].includes(net)) {
    return new StagedbError('connection', 'E_STORAGE_UNREACHABLE', `cannot reach ${where} (${net}): cannot ${doing} the backups`, {
      fix: s.endpoint ? `check that the S3 endpoint ${s.endpoint} runs and is reachable from here` : 'check the network (a proxy, the VPC endpoint, a firewall) and the region',
      cause: e,
    });
  }
  return new StagedbError('backup', 'E_STORAGE', `${where}: cannot ${doing} the backups: ${err.message ?? name}`, { cause: e });
}
