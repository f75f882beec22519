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
 * code would arrive too late to pay for itself) nor for the parser's WebAssembly. bin/stagedb.js gives
 * these flags back at exit (they are part of the code cache's version tag), so that every command's
 * code cache is written with the tag the process started with.
 */
export async function shortLivedLint(): Promise<void> {
  (await import('node:v8')).setFlagsFromString('--no-opt');
  await baselineWasmOnly();
}
