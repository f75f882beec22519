import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import type { TokenSigner } from '../../src/aws/iam-token.js';

/**
 * What `@aws-sdk/rds-signer`'s `getAuthToken()` does, built on the SigV4 signer that IS installed
 * (@smithy/signature-v4, a dependency of @aws-sdk/client-rds): presign `GET https://host:port/
 * ?Action=connect&DBUser=<user>` for service `rds-db`, valid 900 s, and drop the scheme. RDS checks
 * the signature; these tests cannot (no AWS), so the database role's password is set to the token.
 */
export function presignSigner(credentials: { accessKeyId: string; secretAccessKey: string }, now: () => Date = () => new Date()): TokenSigner {
  return async ({ hostname, port, username, region }) => {
    const signer = new SignatureV4({ service: 'rds-db', region, credentials, sha256: Sha256 });
    const signed = await signer.presign(
      { method: 'GET', protocol: 'https:', hostname, port, path: '/', query: { Action: 'connect', DBUser: username }, headers: { host: `${hostname}:${port}` } },
      { expiresIn: 900, signingDate: now() },
    );
    const q = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');
    return `${hostname}:${port}/?${q}`;
  };
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
