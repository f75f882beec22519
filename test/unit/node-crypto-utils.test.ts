import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nodeCryptoUtils } from '../../src/pg/node-crypto-utils.js';

/**
 * loadPg (src/pg/connect.ts) puts nodeCryptoUtils() in place of node-postgres's lib/crypto/utils.js.
 * It must stay a drop-in: the same functions, the same bytes. An upgrade of pg that changes its module
 * fails here rather than at a login.
 */
const require = createRequire(import.meta.url);
const theirs = require(require.resolve('pg').replace(/index\.js$/, 'crypto/utils.js')) as Record<string, (...a: unknown[]) => unknown>;
const ours = nodeCryptoUtils() as unknown as Record<string, (...a: unknown[]) => unknown>;
const hex = async (p: unknown) => Buffer.from((await p) as ArrayBuffer).toString('hex');

describe("node-postgres's crypto utils on node:crypto", () => {
  it('exports exactly the functions pg calls', () => {
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  });

  it('gives the same results (SCRAM key derivation, HMAC, digests, MD5 passwords)', async () => {
    const salt = Buffer.from('0123456789abcdef');
    expect(await hex(ours.deriveKey!('pässword', salt, 4096))).toBe(await hex(theirs.deriveKey!('pässword', salt, 4096)));
    const key = await theirs.deriveKey!('pw', salt, 16);
    expect(await hex(ours.hmacSha256!(key, 'Client Key'))).toBe(await hex(theirs.hmacSha256!(key, 'Client Key')));
    expect(await hex(ours.hmacSha256!(Buffer.from(key as ArrayBuffer), 'Server Key'))).toBe(await hex(theirs.hmacSha256!(key, 'Server Key')));
    expect(await hex(ours.sha256!(key))).toBe(await hex(theirs.sha256!(key)));
    for (const name of ['SHA-256', 'SHA-384', 'SHA-512']) expect(await hex(ours.hashByName!(name, salt))).toBe(await hex(theirs.hashByName!(name, salt)));
    expect(await ours.postgresMd5PasswordHash!('app', 'secret', Buffer.from([1, 2, 3, 4]))).toBe(await theirs.postgresMd5PasswordHash!('app', 'secret', Buffer.from([1, 2, 3, 4])));
    expect(await ours.md5!('x')).toBe(await theirs.md5!('x'));
    expect((ours.randomBytes!(18) as Buffer).length).toBe(18);
  });
});
