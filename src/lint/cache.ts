import { createHash } from 'node:crypto';
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
  /** The key of one file's findings. */
  key(path: string, migration: string | undefined, sql: string): string;
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
}

/**
 * Opens the cache at `path` for code `identity` and the options in `optionsKey`. A missing, unreadable
 * or foreign (other identity, other format) file is an empty cache.
 */
export function openLintCache(path: string, identity: string, optionsKey: string): LintCache {
  let old: Record<string, CachedFile> = {};
  let existed = false;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CacheFile>;
    if (parsed.v === 1 && parsed.identity === identity && parsed.entries && typeof parsed.entries === 'object') {
      old = parsed.entries;
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
    key: (file, migration, sql) => createHash('sha256').update(`${prefix}${file}\0${migration ?? ''}\0`).update(sql).digest('base64url'),
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
      if (!changed && Object.keys(used).length === Object.keys(old).length) return;
      try {
        mkdirSync(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify({ v: 1, identity, entries: used } satisfies CacheFile));
        // Readers see the old file or the new one, never half of one.
        renameSync(tmp, path);
      } catch {
        // A read-only checkout or a full disk: the next run lints cold, as this one would without a cache.
      }
    },
  };
}
