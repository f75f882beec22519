import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

/**
 * What AWS does with a request's `Authorization: AWS4-HMAC-SHA256 …` header, for the loopback
 * stand-ins: parse it, then re-derive the signature from the request (method, path, query, the
 * headers it names, the body) with the known secret key and compare. A request the real SDK signed
 * for another service, region, key or body fails here the way AWS fails it. Returns the AWS error
 * (code and message) or undefined when the signature holds.
 */
export interface SigV4Expectation {
  service: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SigV4Failure {
  code: 'IncompleteSignature' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch';
  message: string;
}

export async function checkSigV4(
  req: { method?: string; url?: string; headers: IncomingHttpHeaders },
  body: string,
  want: SigV4Expectation,
): Promise<SigV4Failure | undefined> {
  const authorization = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!m) return { code: 'IncompleteSignature', message: `Authorization header requires a valid SigV4 signature for service ${want.service}` };
  const [, key, day, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (service !== want.service) return { code: 'SignatureDoesNotMatch', message: `Credential should be scoped to correct service: '${want.service}', not '${service}'` };
  if (region !== want.region) return { code: 'SignatureDoesNotMatch', message: `Credential should be scoped to a valid region, not '${region}'` };
  const names = signedHeaders.split(';');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!names.includes('host') || !names.includes('x-amz-date') || !/^\d{8}T\d{6}Z$/.test(amzDate)) return { code: 'IncompleteSignature', message: 'host and x-amz-date must be signed' };
  if (amzDate.slice(0, 8) !== day) return { code: 'SignatureDoesNotMatch', message: 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP' };
  if (key !== want.accessKeyId) return { code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };

  const url = new URL(req.url ?? '/', 'http://placeholder');
  const headers: Record<string, string> = {};
  for (const n of names) {
    const v = req.headers[n];
    if (v === undefined) return { code: 'IncompleteSignature', message: `signed header ${n} is missing` };
    headers[n] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const have = query[k];
    query[k] = have === undefined ? v : Array.isArray(have) ? [...have, v] : [have, v];
  }
  const signer = new SignatureV4({ service, region, credentials: { accessKeyId: key, secretAccessKey: want.secretAccessKey }, sha256: Sha256, applyChecksum: false });
  const host = headers.host!;
  const [hostname, port] = host.split(':');
  const signed = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: hostname!, port: port ? Number(port) : undefined, path: url.pathname, query, headers, body },
    { signingDate: new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`), signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1] ?? '';
  if (expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' };
  }
  return undefined;
}

/**
 * Re-derives an RDS IAM token (what `@aws-sdk/rds-signer` makes: a presigned `GET /?Action=connect&
 * DBUser=<user>` for service `rds-db`, scheme dropped) from its own X-Amz-Date and the known secret
 * key, as RDS checks it. Returns why it is refused, or undefined when it holds.
 */
export async function checkIamToken(token: string, want: { hostname: string; port: number; username: string; region: string; accessKeyId: string; secretAccessKey: string; now?: Date }): Promise<string | undefined> {
  const u = new URL(`https://${token}`);
  const q = u.searchParams;
  if (u.hostname !== want.hostname || Number(u.port) !== want.port) return `token is for ${u.host}, not ${want.hostname}:${want.port}`;
  if (q.get('Action') !== 'connect' || q.get('DBUser') !== want.username) return `token is for action ${q.get('Action')} user ${q.get('DBUser')}`;
  const cred = q.get('X-Amz-Credential') ?? '';
  if (cred.split('/')[0] !== want.accessKeyId || cred.split('/')[2] !== want.region || cred.split('/')[3] !== 'rds-db') return `token credential scope ${cred}`;
  const amzDate = q.get('X-Amz-Date') ?? '';
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const expires = Number(q.get('X-Amz-Expires'));
  if (want.now && want.now.getTime() > signingDate.getTime() + expires * 1000) return 'token expired';
  const signer = new SignatureV4({ service: 'rds-db', region: want.region, credentials: { accessKeyId: want.accessKeyId, secretAccessKey: want.secretAccessKey }, sha256: Sha256 });
  const signed = await signer.presign(
    { method: 'GET', protocol: 'https:', hostname: want.hostname, port: want.port, path: '/', query: { Action: 'connect', DBUser: want.username }, headers: { host: `${want.hostname}:${want.port}` } },
    { expiresIn: expires, signingDate },
  );
  return signed.query?.['X-Amz-Signature'] === q.get('X-Amz-Signature') ? undefined : 'signature does not match';
}

/** The Checksum shape @smithy/signature-v4 wants, over node:crypto. */
export class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {}
}

function bytes(d: SourceData): string | Uint8Array {
  return typeof d === 'string' ? d : d instanceof Uint8Array ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
}
