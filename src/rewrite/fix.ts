/**
 * `stagedb lint --fix`: the zero-downtime rewrite of migrations already in the folder, for the ones no
 * configured environment has applied (an applied file must never change: its checksum is recorded).
 * Every environment is asked; one that cannot be asked makes the fix refuse, unless the caller names
 * the migrations itself (then it vouches for the environments it cannot reach). A type change or an
 * enum recreate needs what a database knows of its columns (facts.ts): they are read in an environment
 * that has applied every migration before it, i.e. is at the state it starts from (the development
 * database, usually); without one it is left as written, with the plan in words.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { readLocalHistory } from '../history/local.js';
import { listRows, probe } from '../history/table.js';
import { connect } from '../pg/connect.js';
import { redact } from '../redact.js';
import { readColumnFacts } from './facts.js';
import { rewriteMigration, stepDirectoryNames } from './index.js';
import type { ColumnTarget, RewriteChange, RewriteOptions, UnsafeChange } from './types.js';

export interface FixOptions {
  migrationsDir: string;
  /** Every configured environment that could be resolved. */
  environments: ResolvedEnvironment[];
  /** Environments that could not even be resolved (a missing URL variable), with why. */
  unresolved?: Array<{ env: string; reason: string }>;
  /** Only these migrations (directory names); without it, every migration applied nowhere. */
  only?: readonly string[];
}

export interface FixedMigration {
  name: string;
  /** Its folders now: its own, then the new ones. */
  folders: string[];
  changes: RewriteChange[];
  unsafe: UnsafeChange[];
}

export interface FixResult {
  fixed: FixedMigration[];
  /** Migrations left alone because an environment has them in _prisma_migrations. */
  applied: Array<{ name: string; envs: string[] }>;
  /** Environments asked. */
  checked: string[];
  /** Environments that could not be asked (only when the caller named the migrations). */
  unchecked: Array<{ env: string; reason: string }>;
  /** Migrations that needed no rewrite, with what could not be made safe in them. */
  unchanged: Array<{ name: string; unsafe: UnsafeChange[] }>;
}

export async function fixMigrations(o: FixOptions): Promise<FixResult> {
  const local = readLocalHistory(o.migrationsDir).migrations;
  const unchecked = [...(o.unresolved ?? [])];
  const appliedIn = new Map<string, string[]>();
  /** Per environment asked, the migrations it has finished (not rolled back). */
  const finishedIn = new Map<ResolvedEnvironment, Set<string>>();
  const checked: string[] = [];
  for (const env of o.environments) {
    try {
      const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'lint --fix' });
      try {
        const p = await probe(client, env.directInfo.schema);
        // Any row counts, failed or rolled back: the file was run there.
        const rows = p.tableExists ? await listRows(client, env.directInfo.schema) : [];
        for (const r of rows) appliedIn.set(r.migration_name, [...(appliedIn.get(r.migration_name) ?? []), env.name]);
        finishedIn.set(env, new Set(rows.filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name)));
      } finally {
        await client.end().catch(() => {});
      }
      checked.push(env.name);
    } catch (e) {
      unchecked.push({ env: env.name, reason: redact((e as Error).message) });
    }
  }
  if (unchecked.length > 0 && !o.only) {
    throw new StagedbError('connection', 'E_FIX_UNCHECKED', `lint --fix rewrites only migrations no environment has applied, and ${unchecked.map((u) => u.env).join(', ')} could not be asked; nothing was changed`, {
      details: unchecked.map((u) => `${u.env}: ${u.reason}`),
      fix: 'run it where every environment is reachable, or name the migrations you know are applied nowhere: stagedb lint --fix prisma/migrations/<migration>',
    });
  }
  const known = new Set(local.map((m) => m.name));
  const missing = (o.only ?? []).filter((n) => !known.has(n));
  if (missing.length) throw new StagedbError('usage', 'E_USAGE', `not a migration of ${o.migrationsDir}: ${missing.join(', ')}`, { fix: 'stagedb lint --fix prisma/migrations/<timestamp>_<name>' });

  const result: FixResult = { fixed: [], applied: [], checked, unchecked: o.only ? unchecked : [], unchanged: [] };
  for (const [k, m] of local.entries()) {
    if (o.only && !o.only.includes(m.name)) continue;
    const envs = appliedIn.get(m.name);
    if (envs) {
      result.applied.push({ name: m.name, envs });
      continue;
    }
    const before = local.slice(0, k).map((x) => x.name);
    const at = [...finishedIn].find(([, done]) => before.every((n) => done.has(n)))?.[0];
    const r = await rewriteMigration(m.script, at ? factsFrom(at) : {});
    if (!r.changed) {
      result.unchanged.push({ name: m.name, unsafe: r.unsafe });
      continue;
    }
    const names = stepDirectoryNames(m.name, r.steps);
    writeSteps(o.migrationsDir, names, r.steps.map((s) => s.script));
    result.fixed.push({ name: m.name, folders: names, changes: r.changes, unsafe: r.unsafe });
  }
  return result;
}

/** Reads the columns a plan moves in `env`, at the state the migrations before the one rewritten leave. */
function factsFrom(env: ResolvedEnvironment): RewriteOptions {
  return {
    defaultSchema: env.directInfo.schema,
    describeColumns: async (targets: ColumnTarget[]) => {
      const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'lint --fix' });
      try {
        return await readColumnFacts(client, targets);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}

/**
 * The new folders first (each complete before it appears), the migration's own file last: stopped
 * half-way, the original migration is still there as it was, with at most some extra folders.
 */
function writeSteps(dir: string, names: string[], scripts: string[]): void {
  for (const n of names.slice(1)) {
    if (existsSync(join(dir, n))) throw new StagedbError('history', 'E_MIGRATION_EXISTS', `migration directory ${join(dir, n)} already exists; nothing of ${names[0]} was changed`, { fix: `move it away, then: stagedb lint --fix ${join(dir, names[0]!)}` });
  }
  const written: string[] = [];
  // Staged beside the folder, not in it: Prisma and stagedb take every sub-directory there for a migration.
  const staging = join(dirname(resolve(dir)), `.stagedb-fix-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(staging);
    names.slice(1).forEach((n, i) => {
      mkdirSync(join(staging, n));
      writeFileSync(join(staging, n, 'migration.sql'), scripts[i + 1]!);
      renameSync(join(staging, n), join(dir, n));
      written.push(join(dir, n));
    });
    const file = join(dir, names[0]!, 'migration.sql');
    writeFileSync(`${file}.tmp`, scripts[0]!);
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    for (const w of written) rmSync(w, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
