import { createWriteStream } from 'node:fs';
import { access, constants, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StagedbError } from '../errors.js';
import { fsError, isErrno } from './errors.js';
import { MANIFEST_FILE, VERIFY_FILE, isBackupId, parseManifest, timeOfId, type BackupManifest, type VerifyRecord } from './manifest.js';
import { notFound, type BackupListing, type BackupStorage, type IncompleteBackup, type PendingBackup, type StoredBackup } from './storage-types.js';

/**
 * Backups in a local directory:
 *
 *   <dir>/<id>/manifest.json        written last; its presence makes the backup complete
 *   <dir>/<id>/dump.pgdump          custom format (or dump/ in directory format)
 *   <dir>/<id>/verify.json          the last `backup verify`
 *   <dir>/.<id>.partial/            a backup being written (owner.json: pid, host): never listed
 *
 * A backup is written under its hidden `.partial` name and renamed to its id only after the dump and
 * its manifest are on disk (pg_dump fsyncs its output, stagedb fsyncs the manifest and the
 * directories), so a killed run leaves at most an invisible `.partial` directory. Directories are
 * created 0700: a backup holds the database's data.
 */
const PARTIAL = '.partial';
const DELETING = '.deleting';
const STARTING = '.starting';
const OWNER = 'owner.json';

export class LocalStorage implements BackupStorage {
  readonly kind = 'local' as const;
  constructor(readonly dir: string) {}

  get location(): string {
    return this.dir;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await access(this.dir, constants.W_OK);
      // The default directory is inside the project: a backup holds production data, and must never
      // end up in a commit by a `git add .`.
      await writeFile(join(this.dir, '.gitignore'), '# stagedb backups hold database data: never commit them\n*\n', { flag: 'wx' }).catch((e: unknown) => {
        if (!isErrno(e, 'EEXIST')) throw e;
      });
    } catch (e) {
      // A path that is (or runs through) a file is the same mistake as an unwritable directory: the
      // configured storage cannot hold backups. One code, one exit status (3, configuration), for both.
      if (isErrno(e, 'EEXIST', 'ENOTDIR')) {
        throw new StagedbError('config', 'E_BACKUP_DIR_UNWRITABLE', `cannot write backups to ${this.dir}: ${isErrno(e, 'EEXIST') ? 'it is a file' : 'part of the path is a file'}, not a directory`, {
          fix: `point backup.storage.dir at a directory, or move the file away`,
          cause: e,
        });
      }
      throw fsError(e, this.dir, 'write backups to');
    }
  }

  async begin(id: string): Promise<PendingBackup> {
    await this.check();
    const staging = join(this.dir, `.${id}${PARTIAL}`);
    // Born with its owner inside (made under another name, then renamed), so a leftover always says
    // whose it was, and prune can tell a dead run's leftovers from a live one's.
    const starting = join(this.dir, `.${id}${STARTING}`);
    try {
      await mkdir(starting, { mode: 0o700 });
      await writeFile(join(starting, OWNER), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }));
      await rename(starting, staging);
    } catch (e) {
      await rm(starting, { recursive: true, force: true }).catch(() => {});
      throw fsError(e, this.dir, 'write backups to');
    }
    const final = join(this.dir, id);
    const dir = this.dir;
    return {
      dir: staging,
      async write(name: string, body: Readable) {
        try {
          await pipeline(body, createWriteStream(join(staging, name), { mode: 0o600 }));
        } catch (e) {
          throw fsError(e, dir, 'write backups to');
        }
      },
      async commit(manifest: BackupManifest, gate?: Promise<void>) {
        // The manifest is fsynced before the rename that publishes it. The hidden directory itself is
        // not fsynced first: if a crash kept the rename but lost the manifest's entry, the backup
        // would be listed as incomplete (no manifest), never as restorable, and one fsync less is a
        // good part of a small backup's cost.
        const written = (async () => {
          await writeDurably(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
          await rm(join(staging, OWNER), { force: true });
        })();
        const [w, g] = await Promise.allSettled([written, gate]);
        if (g.status === 'rejected') throw g.reason;
        try {
          if (w.status === 'rejected') throw w.reason;
          await rename(staging, final);
          await fsyncDir(dir);
        } catch (e) {
          throw fsError(e, dir, 'write backups to');
        }
      },
      async abort() {
        await rm(staging, { recursive: true, force: true }).catch(() => {});
      },
    };
  }

  async list(): Promise<BackupListing> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return { backups: [], incomplete: [], damaged: [] };
      throw fsError(e, this.dir, 'read');
    }
    const backups: StoredBackup[] = [];
    const incomplete: IncompleteBackup[] = [];
    const damaged: BackupListing['damaged'] = [];
    for (const name of names) {
      if (name.startsWith('.') && name.endsWith(PARTIAL)) {
        const id = name.slice(1, -PARTIAL.length);
        incomplete.push(await this.partialInfo(id));
        continue;
      }
      if (name.startsWith('.') && (name.endsWith(STARTING) || name.endsWith(DELETING))) {
        // A run killed in its first millisecond, or a prune killed mid-delete: leftovers too.
        const s = await stat(join(this.dir, name)).catch(() => undefined);
        incomplete.push({ id: name.slice(1), since: s?.mtime, active: false });
        continue;
      }
      if (name.startsWith('.') || !isBackupId(name)) continue;
      try {
        const manifest = await this.readManifest(name);
        backups.push({ id: name, manifest, verification: await this.readVerification(name) });
      } catch (e) {
        if ((e as { code?: string }).code === 'E_BACKUP_NOT_FOUND') incomplete.push({ id: name, since: timeOfId(name), active: false });
        else damaged.push({ id: name, problem: (e as Error).message });
      }
    }
    backups.sort((a, b) => (a.manifest.startedAt < b.manifest.startedAt ? 1 : a.manifest.startedAt > b.manifest.startedAt ? -1 : b.id.localeCompare(a.id)));
    return { backups, incomplete, damaged };
  }

  private async partialInfo(id: string): Promise<IncompleteBackup> {
    const staging = join(this.dir, `.${id}${PARTIAL}`);
    try {
      const owner = JSON.parse(await readFile(join(staging, OWNER), 'utf8')) as { pid: number; host: string; startedAt: string };
      const here = owner.host === hostname();
      const active = here && alive(owner.pid);
      return { id, since: new Date(owner.startedAt), active, processGone: here && !active };
    } catch {
      const s = await stat(staging).catch(() => undefined);
      return { id, since: s?.mtime ?? timeOfId(id), active: false };
    }
  }

  async readManifest(id: string): Promise<BackupManifest> {
    if (!isBackupId(id)) throw notFound(id, this.dir);
    let text: string;
    try {
      text = await readFile(join(this.dir, id, MANIFEST_FILE), 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) throw notFound(id, this.dir);
      throw fsError(e, join(this.dir, id), 'read');
    }
    return parseManifest(text, id);
  }

  private async readVerification(id: string): Promise<VerifyRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, id, VERIFY_FILE), 'utf8')) as VerifyRecord;
    } catch {
      return undefined;
    }
  }

  async read(id: string, file: string): Promise<Readable> {
    const path = join(this.dir, id, file);
    // Opened here so a missing file fails now, not in the middle of a pipeline.
    const handle = await open(path, 'r').catch((e: unknown) => {
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) throw new StagedbError('usage', 'E_STORAGE_NOT_FOUND', `${path} does not exist`, { cause: e });
      throw fsError(e, path, 'read');
    });
    return handle.createReadStream();
  }

  localPath(id: string, file: string): string {
    return join(this.dir, id, file);
  }

  async writeVerification(id: string, record: VerifyRecord): Promise<void> {
    try {
      await writeDurably(join(this.dir, id, VERIFY_FILE), `${JSON.stringify(record, null, 2)}\n`);
    } catch (e) {
      throw fsError(e, join(this.dir, id), 'write');
    }
  }

  async remove(id: string): Promise<void> {
    if (!isBackupId(id)) throw notFound(id, this.dir);
    const gone = join(this.dir, `.${id}${DELETING}`);
    try {
      // One rename takes it out of every listing at once; the files go after.
      await rename(join(this.dir, id), gone);
      await rm(gone, { recursive: true, force: true });
    } catch (e) {
      throw fsError(e, join(this.dir, id), 'remove');
    }
  }

  async removeIncomplete(item: IncompleteBackup): Promise<void> {
    const candidates = [join(this.dir, `.${item.id}${PARTIAL}`), join(this.dir, `.${item.id}`), join(this.dir, item.id)];
    for (const path of candidates) {
      if (!(await stat(path).then(() => true, () => false))) continue;
      // Only what the listing called incomplete: never a directory that holds a manifest.
      if (path === join(this.dir, item.id) && (await stat(join(path, MANIFEST_FILE)).then(() => true, () => false))) return;
      await rm(path, { recursive: true, force: true });
      return;
    }
  }
}

/** Writes a small file so that it is on disk before anything refers to it: temp name, fsync, rename. */
async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function fsyncDir(dir: string): Promise<void> {
  // Directories cannot be opened for fsync on every platform (Windows): best effort.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* not supported here */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}
