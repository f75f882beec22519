import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { combinedSha256, hashFile } from './create.js';
import { diskFull, fsError, isErrno } from './errors.js';
import { formatBytes } from '../format.js';
import { CUSTOM_FILE, DIRECTORY_NAME, type BackupFile, type BackupManifest } from './manifest.js';
import type { Progress } from './progress.js';
import type { BackupStorage } from './storage.js';

/** A backup's archive on local disk, with every file's size and sha256 checked against the manifest. */
export interface FetchedArchive {
  /** What pg_restore reads: the custom-format file, or the directory. */
  path: string;
  /** Problems found (a missing file, a wrong size or checksum); empty when the archive is intact. */
  problems: string[];
  /** Removes a downloaded copy (a local backup is read in place and stays). */
  cleanup(): Promise<void>;
}

/**
 * Reads every file of a backup once, hashing it: in place for local storage, downloaded into a
 * private temporary directory (under `workDir`) for S3, since pg_restore -j needs a seekable file.
 */
export async function fetchArchive(
  storage: BackupStorage,
  manifest: BackupManifest,
  opts: { workDir?: string; onProgress?: (p: Progress) => void } = {},
): Promise<FetchedArchive> {
  const id = manifest.id;
  const archiveName = manifest.dump.format === 'custom' ? CUSTOM_FILE : DIRECTORY_NAME;
  const inPlace = storage.localPath(id, archiveName);
  let tmp: string | undefined;
  if (!inPlace) {
    const base = opts.workDir ?? tmpdir();
    try {
      await mkdir(base, { recursive: true });
      tmp = await mkdtemp(join(base, `stagedb-${id}-`));
      // pg_restore runs as this user, but a scratch cluster's server (as `postgres` under root) never reads it.
      await chmod(tmp, 0o700);
    } catch (e) {
      throw fsError(e, base, 'create a temporary directory in');
    }
  }
  const problems: string[] = [];
  const total = manifest.size;
  let done = 0;
  const t0 = Date.now();
  const report = (bytes: number) => {
    const elapsedMs = Date.now() - t0;
    opts.onProgress?.({ phase: tmp ? 'download' : 'checksum', bytes, elapsedMs, bytesPerSecond: elapsedMs > 0 ? (bytes * 1000) / elapsedMs : undefined, fraction: total > 0 ? bytes / total : undefined });
  };
  let lastReport = 0;
  const actual: BackupFile[] = [];
  const check = (f: BackupFile, size: number, sha256: string) => {
    if (size !== f.size) problems.push(`${f.name} has ${formatBytes(size)} (${size} bytes), the manifest says ${f.size}: ${size < f.size ? 'truncated' : 'too long'}`);
    else if (sha256 !== f.sha256) problems.push(`${f.name}: sha256 ${sha256.slice(0, 12)}… does not match the manifest's ${f.sha256.slice(0, 12)}…`);
  };
  try {
    for (const f of manifest.dump.files) {
      const hash = createHash('sha256');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          size += chunk.length;
          done += chunk.length;
          if (opts.onProgress && Date.now() - lastReport > 1000) {
            lastReport = Date.now();
            report(done);
          }
          cb(null, chunk);
        },
      });
      const local = tmp ? undefined : storage.localPath(id, f.name);
      if (local) {
        // In place: read in large blocks, straight into the hash (no stream: it costs more than sha256 itself).
        const r = await hashFile(local, (n) => {
          if (opts.onProgress && Date.now() - lastReport > 1000) {
            lastReport = Date.now();
            report(done + n);
          }
        }).catch((e: unknown) => {
          if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
          throw e;
        });
        if (!r) {
          problems.push(`${f.name} is missing`);
          continue;
        }
        done += r.size;
        actual.push({ name: f.name, size: r.size, sha256: r.sha256 });
        check(f, r.size, r.sha256);
        continue;
      }
      let source;
      try {
        source = await storage.read(id, f.name);
      } catch (e) {
        if ((e as { code?: string }).code === 'E_STORAGE_NOT_FOUND') {
          problems.push(`${f.name} is missing`);
          continue;
        }
        throw e;
      }
      if (tmp) {
        const dest = join(tmp, f.name);
        await mkdir(dirname(dest), { recursive: true });
        await pipeline(source, counter, createWriteStream(dest, { mode: 0o600 })).catch((e: unknown) => {
          throw isErrno(e, 'ENOSPC', 'EDQUOT') ? diskFull(tmp!, e) : e;
        });
      } else {
        await pipeline(source, counter, async (chunks: AsyncIterable<Buffer>) => {
          for await (const _ of chunks) {
            /* hashed on the way */
          }
        });
      }
      const sha256 = hash.digest('hex');
      actual.push({ name: f.name, size, sha256 });
      check(f, size, sha256);
    }
    if (manifest.dump.format === 'directory' && problems.length === 0 && combinedSha256(actual) !== manifest.sha256) {
      problems.push('the files do not add up to the manifest\'s checksum');
    }
    if (manifest.dump.format === 'custom' && problems.length === 0 && actual[0]?.sha256 !== manifest.sha256) {
      problems.push('the archive does not match the manifest\'s checksum');
    }
    if (manifest.dump.format === 'directory' && inPlace) {
      // A file added to the dump folder after the fact would be read by pg_restore: not part of the backup.
      const { readdir } = await import('node:fs/promises');
      const listed = new Set(manifest.dump.files.map((f) => f.name));
      for (const name of await readdir(inPlace).catch(() => [] as string[])) {
        if (!listed.has(`${DIRECTORY_NAME}/${name}`)) problems.push(`${DIRECTORY_NAME}/${name} is not part of the backup`);
      }
    }
  } catch (e) {
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw fsError(e, tmp ?? storage.location, tmp ? 'download into' : 'read');
  }
  report(done);
  const path = tmp ? join(tmp, archiveName) : inPlace!;
  if (!tmp && !(await stat(path).then(() => true, () => false))) problems.push(`${archiveName} is missing`);
  return {
    path,
    problems,
    cleanup: async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => {});
    },
  };
}
