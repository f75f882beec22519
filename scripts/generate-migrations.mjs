#!/usr/bin/env node
/**
 * Writes a Prisma migrations folder with Prisma's own schema engine (the pinned WASM build, through
 * stagedb's src/engine) from a sequence of schema versions, as `prisma migrate dev --name <step>` would
 * after each schema change: each step applies what is pending on a scratch database, then generates
 * the next migration from the history so far (replayed on a shadow database).
 *
 *   npm run build && node scripts/generate-migrations.mjs <steps-dir> <prisma-dir> [first-timestamp]
 *
 * <steps-dir> holds NN-<name>.prisma files; <prisma-dir>/migrations is replaced and <prisma-dir>/schema.prisma
 * gets the last step. Directory timestamps are fixed (one day apart from the first timestamp, default
 * 20240115093000) so regenerating yields the same names; every migration.sql byte is the engine's.
 * Needs PostgreSQL binaries (it starts and removes a throwaway cluster), or DATABASE_URL pointing at a
 * server where the user may CREATE DATABASE (for the engine's shadow database).
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [stepsDir, prismaDir, first = '20240115093000'] = process.argv.slice(2).map((a, i) => (i < 2 ? resolve(a) : a));
if (!stepsDir || !prismaDir) {
  console.error('usage: node scripts/generate-migrations.mjs <steps-dir> <prisma-dir> [first-timestamp]');
  process.exit(4);
}
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
if (!existsSync(join(dist, 'engine', 'index.js'))) {
  console.error('dist/engine/index.js is missing: run `npm run build` first');
  process.exit(1);
}
const { openEngine } = await import(join(dist, 'engine', 'index.js'));
const { writeMigrationFiles } = await import(join(dist, 'history', 'write.js'));
const { startCluster, stopCluster, createDatabase } = await import(join(dist, 'pg', 'cluster.js'));

const steps = readdirSync(stepsDir)
  .filter((f) => /^\d\d-.+\.prisma$/.test(f))
  .sort()
  .map((f) => ({ file: join(stepsDir, f), name: f.replace(/^\d\d-/, '').replace(/\.prisma$/, '').replace(/-/g, '_') }));
const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(first);
if (!m) throw new Error(`first timestamp must be YYYYMMDDHHMMSS, not ${first}`);
const start = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
const DAY = 24 * 60 * 60 * 1000;
const stamp = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);

const migrationsDir = join(prismaDir, 'migrations');
rmSync(migrationsDir, { recursive: true, force: true });

let url = process.env.DATABASE_URL;
let cleanup = async () => {};
if (!url) {
  const root = mkdtempSync(join(tmpdir(), 'stagedb-generate-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'pg', 'data');
  const cluster = await startCluster({ dataDir, fast: true });
  await createDatabase(cluster, 'generate');
  url = cluster.url('generate');
  cleanup = async () => {
    await stopCluster(dataDir);
    rmSync(root, { recursive: true, force: true });
  };
}

try {
  const engine = await openEngine({ url, migrationsDir, label: 'generate' });
  try {
    for (const [i, step] of steps.entries()) {
      const schema = [{ path: `${basename(stepsDir)}/${basename(step.file)}`, content: readFileSync(step.file, 'utf8') }];
      const { migration } = await engine.createMigration({ name: step.name, schema });
      if (!migration) throw new Error(`step ${step.file} produced no migration`);
      const directoryName = migration.directoryName.replace(/^\d{14}/, stamp(start + i * DAY));
      writeMigrationFiles(migrationsDir, { directoryName, script: migration.script });
      console.log(`${directoryName}  (${migration.script.split('\n').length} lines)`);
    }
  } finally {
    await engine.close();
  }
  writeFileSync(join(prismaDir, 'schema.prisma'), readFileSync(steps.at(-1).file, 'utf8'));
} finally {
  await cleanup();
}
