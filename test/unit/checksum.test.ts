import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checksum, checksumMatches } from '../../src/history/checksum.js';

/** Old Prisma versions stored each byte with `{:x}`: no zero padding. Derived from the padded hex, byte by byte. */
const unpaddedFrom = (hex: string) => hex.match(/../g)!.map((pair) => pair.replace(/^0/, '')).join('');

const MIGRATION_LF = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
`;
const MIGRATION_CRLF = MIGRATION_LF.replace(/\n/g, '\r\n');

describe('checksum', () => {
  it('is the sha256 of the file as 64 lower-case hex digits (standard test vectors)', () => {
    expect(checksum('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(checksum('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the UTF-8 bytes of the text', () => {
    const text = "INSERT INTO \"Tag\" (name) VALUES ('café'), ('数据库'), ('🚀');\n";
    expect(checksum(text)).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    expect(checksum(text)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs between LF and CRLF versions of the same file', () => {
    expect(checksum(MIGRATION_LF)).not.toBe(checksum(MIGRATION_CRLF));
  });
});

describe('checksumMatches', () => {
  it('matches the same file, and not an edited one', () => {
    expect(checksumMatches(MIGRATION_LF, checksum(MIGRATION_LF))).toBe(true);
    expect(checksumMatches(MIGRATION_LF.replace('"name" TEXT', '"name" VARCHAR(100)'), checksum(MIGRATION_LF))).toBe(false);
    expect(checksumMatches(`${MIGRATION_LF}\n`, checksum(MIGRATION_LF))).toBe(false);
  });

  it('tolerates CRLF on disk when LF was applied (git autocrlf on Windows)', () => {
    expect(checksumMatches(MIGRATION_CRLF, checksum(MIGRATION_LF))).toBe(true);
  });

  it('tolerates LF on disk when CRLF was applied', () => {
    expect(checksumMatches(MIGRATION_LF, checksum(MIGRATION_CRLF))).toBe(true);
  });

  it('tolerates mixed line endings against either form', () => {
    const mixed = 'CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\n';
    expect(checksumMatches(mixed, checksum('CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n'))).toBe(true);
    expect(checksumMatches(mixed, checksum('CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n'))).toBe(true);
  });

  it("accepts old Prisma's unpadded hex", () => {
    const padded = checksum(MIGRATION_LF);
    const old = unpaddedFrom(padded);
    // The case only means something when some byte is below 0x10.
    expect(old.length).toBeLessThan(64);
    expect(checksumMatches(MIGRATION_LF, old)).toBe(true);
    expect(checksumMatches(MIGRATION_LF.replace('User', 'Person'), old)).toBe(false);
  });

  it('accepts unpadded hex together with a line-ending change', () => {
    const old = unpaddedFrom(checksum(MIGRATION_LF));
    expect(old.length).toBeLessThan(64);
    expect(checksumMatches(MIGRATION_CRLF, old)).toBe(true);
    const oldCrlf = unpaddedFrom(checksum(MIGRATION_CRLF));
    expect(checksumMatches(MIGRATION_LF, oldCrlf)).toBe(true);
  });

  it('only a leading zero of a byte may be missing', () => {
    const pairs = checksum(MIGRATION_LF).match(/../g)!;
    // A byte such as 0x30 printed as "3" is not Prisma's old format.
    const k = pairs.findIndex((p) => p[0] !== '0' && p[1] === '0');
    expect(k).toBeGreaterThanOrEqual(0);
    const wrong = pairs.map((p, j) => (j === k ? p[0] : p.replace(/^0/, ''))).join('');
    expect(checksumMatches(MIGRATION_LF, wrong)).toBe(false);
    expect(checksumMatches(MIGRATION_LF, checksum(MIGRATION_LF).slice(1))).toBe(false);
    expect(checksumMatches(MIGRATION_LF, '')).toBe(false);
  });
});
