import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';

/**
 * node-postgres's `lib/crypto/utils.js` (SCRAM and MD5 password hashing), on node:crypto instead of
 * WebCrypto: the same functions, the same results. pg 8 derives SCRAM keys through `crypto.subtle`,
 * whose first use in a process costs ~15 ms (its key objects and job machinery load and warm up) —
 * for ~2 ms of hashing. `loadPg` puts this module in pg's place before pg loads; a test compares every
 * function with pg's own, so an upgrade of pg that changes the module fails the suite, not a login.
 */
export function nodeCryptoUtils() {
  const md5 = async (s: string | Buffer) => createHash('md5').update(s).digest('hex');
  return {
    async postgresMd5PasswordHash(user: string, password: string, salt: Buffer) {
      const inner = await md5(password + user);
      return `md5${await md5(Buffer.concat([Buffer.from(inner), salt]))}`;
    },
    randomBytes: (n: number) => randomBytes(n),
    deriveKey: (password: string, salt: Uint8Array, iterations: number) =>
      new Promise<Buffer>((resolve, reject) => pbkdf2(password, salt, iterations, 32, 'sha256', (e, key) => (e ? reject(e) : resolve(key)))),
    sha256: async (data: Uint8Array | ArrayBuffer) => createHash('sha256').update(bytes(data)).digest(),
    hashByName: async (name: string, data: Uint8Array | ArrayBuffer) => createHash(name.replace('-', '').toLowerCase()).update(bytes(data)).digest(),
    hmacSha256: async (key: Uint8Array | ArrayBuffer, msg: string) => createHmac('sha256', bytes(key)).update(msg).digest(),
    md5,
  };
}

const bytes = (d: Uint8Array | ArrayBuffer) => (d instanceof ArrayBuffer ? new Uint8Array(d) : d);
