/**
 * For a CLI process that runs WebAssembly for one command — Prisma's schema engine (5 MB) or
 * PostgreSQL's parser for lint and the deploy gate: compile it with V8's baseline tier (Liftoff)
 * only. The optimising tier recompiles the module in the background while the command's work
 * already runs, which a short process pays for and never gets back: measured here
 * (bench/RESULTS.md) the first `diff` of a 100-model schema comes ~25 % sooner, `push` of it ~13 %
 * sooner, in about half the memory; a cold `lint` of 1000 files on a busy two-core machine was up to
 * 4× slower with the optimising tier. Process-wide, so only the CLI's commands call this, before the
 * module compiles (wasm flags are read at compile time) — never the library, whose callers may run long.
 */
export async function baselineWasmOnly(): Promise<void> {
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
}

/**
 * `stagedb lint`'s V8 flags for its short process: no optimising tier for JavaScript (`--no-opt`: its
 * code would arrive too late to pay for itself) nor for the parser's WebAssembly.
 */
export async function shortLivedLint(): Promise<void> {
  (await import('node:v8')).setFlagsFromString('--no-opt');
  await baselineWasmOnly();
}

/**
 * Undoes shortLivedLint once lint's work is done (every WebAssembly function it runs already compiled,
 * which the flags no longer change): V8's flags are part of its code cache's version tag
 * (`v8.cachedDataVersionTag()`), and bin/stagedb.js writes lint's code cache at exit only with the tag
 * the process started with. `--liftoff-only` also turned off both wasm tiering flags: these three
 * calls, in this order, give the tag back exactly (test/cli/code-cache.test.ts).
 */
export async function endShortLivedLint(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  for (const flag of ['--opt', '--no-liftoff-only', '--wasm-tier-up', '--wasm-dynamic-tiering']) setFlagsFromString(flag);
}
