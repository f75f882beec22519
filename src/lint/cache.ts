import { createHash, hash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Finding, LintResult, SuppressedFinding } from './types.js';

/**
 * The findings of files already linted, so that reviewing an unchanged history does not parse it
 * again (nor load PostgreSQL's parser at all when every file is known). Where it lives and how it is
 * cleared: docs/performance.md.
 *
 * An entry is found by the sha256 of everything its findings depend on — the code that computed them
 * (`identity`: a hash of stagedb's sources, written into the CLI bundle when it is built), the options
 * (runner, severities, sizes, timeouts, server version), the file's path and migration name, and the
 * file's CONTENT — never by a file's size or modification time. A file edited in place keeps neither
 * apart from the old one, so it is always re-read and re-hashed; only identical bytes find an entry.
 * Only whole-history reviews use it (each file judged on its own, no database): there a file's
 * findings depend on nothing but the file.
 */
export interface LintCache {
  /**
   * The key of each file's findings. One sha256 over all of them first: when it is the previous run's,
   * that run's keys are reused (one hash object instead of one per file: ~15 ms of an 800-file review
   * on a loaded machine); otherwise each file is hashed on its own.
   */
  keys(files: Array<{ path: string; migration?: string; sql: string }>): string[];
  get(key: string): CachedFile | undefined;
  set(key: string, value: CachedFile): void;
  /** Writes the entries this run used (others are dropped); never throws: a cache that cannot be written is no cache. */
  save(): void;
  /** Whether the cache file existed (and matched the identity) when opened. */
  readonly existed: boolean;
}

/** One file's part of a `LintResult`. */
export interface CachedFile {
  file: LintResult['files'][number];
  findings: Finding[];
  suppressed: SuppressedFinding[];
}

interface CacheFile {
  v: 1;
  identity: string;
  entries: Record<string, CachedFile>;
  /** The last run's files: the hash of all of them, and each one's key. */
  last?: { all: string; keys: string[] };
}

/**
 * Opens the cache at `path` for code `identity` and the options in `optionsKey`. A missing, unreadable
 * or foreign (other identity, other format) file is an empty cache.
 */
/** Each key covers its file and, through the key before it, every file before it (their CHECKs carry over). */
function chained(texts: string[]): string[] {
  let prev = '';
  return texts.map((t) => (prev = hash('sha256', `${prev}\0${t}`, 'base64url')));
}

export function openLintCache(path: string, identity: string, optionsKey: string): LintCache {
  let old: Record<string, CachedFile> = {};
  let oldLast: CacheFile['last'];
  let last: CacheFile['last'];
  let existed = false;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CacheFile>;
    if (parsed.v === 1 && parsed.identity === identity && parsed.entries && typeof parsed.entries === 'object') {
      old = parsed.entries;
      oldLast = parsed.last;
      existed = true;
    }
  } catch {
    // No cache yet, or a damaged one: start empty.
  }
  const used: Record<string, CachedFile> = {};
  let changed = false;
  const prefix = `${identity}\0${optionsKey}\0`;
  return {
    existed,
    keys(files) {
      // Lengths first, so that no two lists of files run together into the same bytes.
      const all = createHash('sha256').update(prefix);
      for (const f of files) all.update(`${f.path.length}:${f.path}\0${(f.migration ?? '').length}:${f.migration ?? ''}\0${f.sql.length}:`).update(f.sql);
      const digest = all.digest('base64url');
      const keys =
        oldLast?.all === digest && oldLast.keys.length === files.length
          ? oldLast.keys
          : chained(files.map((f) => `${prefix}${f.path}\0${f.migration ?? ''}\0${f.sql}`));
      last = { all: digest, keys };
      return keys;
    },
    get(key) {
      const hit = Object.hasOwn(old, key) ? old[key] : undefined;
      if (hit) used[key] = hit;
      return hit;
    },
    set(key, value) {
      used[key] = value;
      changed = true;
    },
    save() {
      if (!changed && Object.keys(used).length === Object.keys(old).length && last?.all === oldLast?.all) return;
      try {
        mkdirSync(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify({ v: 1, identity, entries: used, last } satisfies CacheFile));
        // Readers see the old file or the new one, never half of one.
        renameSync(tmp, path);
      } catch {
        // A read-only checkout or a full disk: the next run lints cold, as this one would without a cache.
      }
    },
  };
}
