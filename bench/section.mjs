/**
 * What every bench script that owns a section of bench/RESULTS.md shares: replacing its section
 * between its markers (appended the first time; the rest of the file stays as it is), and running
 * itself when started directly (`node bench/<name>.mjs`) rather than imported by bench/run.mjs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The markers of section `name`: `<!-- name:start (written by bench/<file>) -->` … `<!-- name:end -->`. */
export function markers(name, file = `${name}.mjs`) {
  return { START: `<!-- ${name}:start (written by bench/${file}) -->`, END: `<!-- ${name}:end -->` };
}

/** Replaces the section between `start` and `end` in `file` with `md` (which carries the markers), or appends it. */
export function writeSection(file, md, { START, END }) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  const next = a >= 0 && b > a ? `${text.slice(0, a)}${md.trimEnd()}${text.slice(b + END.length)}` : `${text.trimEnd()}\n\n${md}`;
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}

/** Runs `main` when the module at `moduleUrl` is the script node was started with. */
export function runIfMain(moduleUrl, label, main) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(resolve(process.argv[1])).href) return;
  main().catch((e) => {
    process.stderr.write(`${label}: ${e.stack ?? e}\n`);
    process.exitCode = 1;
  });
}

/**
 * A bench's work folder made anew: a server a killed run left behind is stopped first, the folder is
 * emptied, and (as root, the server runs as `postgres`) opened so that user can reach the data directory.
 * Returns the data directory of the bench's throwaway cluster.
 */
export async function freshWork(work, stopCluster) {
  const { chmodSync, mkdirSync, rmSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const dataDir = join(work, 'pg', 'data');
  await stopCluster(dataDir).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  chmodSync(dirname(work), 0o755);
  chmodSync(work, 0o755);
  return dataDir;
}

/**
 * Generates the runtime client's fixture (test/fixtures/client/schema.prisma) as a prisma-client-js
 * client in `dir` with the project's Prisma CLI and stagedb's engine stub (no download); returns the
 * generated entry's path.
 */
export async function generateFixtureClient(root, dir) {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const schema = readFileSync(join(root, 'test/fixtures/client/schema.prisma'), 'utf8').replace(
    /generator client \{[^}]*\}/,
    'generator client {\n  provider = "prisma-client-js"\n  output   = "./gen"\n}',
  );
  writeFileSync(join(dir, 'schema.prisma'), schema);
  const r = spawnSync(process.execPath, [join(root, 'node_modules/prisma/build/index.js'), 'generate', '--schema', join(dir, 'schema.prisma')], {
    cwd: dir,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: join(root, 'bin/prisma-schema-engine-unavailable'), PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`prisma generate failed: ${r.stdout}\n${r.stderr}`);
  return join(dir, 'gen', 'index.js');
}

/**
 * Wall time, and CPU time (user + system): on a machine shared with other work the wall time is mostly
 * the share of the cores a process got; its CPU time is what it costs. With python3 (os.wait4), both
 * are taken around the command alone, the CPU time to the microsecond; else GNU time (10 ms steps).
 */
export const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const WAIT4 = `import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = (time.perf_counter() - t0) * 1000
sys.stderr.write("\\nBENCH_TIMES %f %f\\n" % (wall, (ru.ru_utime + ru.ru_stime) * 1000))
sys.exit(os.waitstatus_to_exitcode(status) & 255)
`;
export function timedProcess(cmd, args, opts) {
  const t0 = process.hrtime.bigint();
  const r = PYTHON
    ? spawnSync(PYTHON, ['-c', WAIT4, cmd, ...args], { encoding: 'utf8', maxBuffer: 512 << 20, ...opts })
    : TIME
      ? spawnSync(TIME, ['-f', 'BENCH_CPU %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 512 << 20, ...opts })
      : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 << 20, ...opts });
  let ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  let stderr = r.stderr ?? '';
  let cpu;
  const p = /\nBENCH_TIMES ([\d.]+) ([\d.]+)\n$/.exec(stderr);
  const m = /BENCH_CPU ([\d.]+) ([\d.]+)\n?$/.exec(stderr);
  if (p) {
    ms = Number(p[1]);
    cpu = Number(p[2]);
    stderr = stderr.slice(0, p.index);
  } else if (m) {
    cpu = (Number(m[1]) + Number(m[2])) * 1000;
    stderr = stderr.slice(0, m.index).replace(/Command exited with non-zero status \d+\n$/, '');
  }
  return { ms, cpu, code: r.status, stdout: r.stdout ?? '', stderr };
}
