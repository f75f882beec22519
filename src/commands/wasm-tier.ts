/**
 * For a CLI process that runs Prisma's schema engine (5 MB of WebAssembly) for one command: compile
 * it with V8's baseline tier (Liftoff) only. The optimising tier recompiles the engine in the
 * background while the command's few calls already run, which a short process pays for and never
 * gets back: measured here (bench/RESULTS.md, section 4) the first `diff` of a 100-model schema comes
 * ~20 % sooner, `push` of it ~13 % sooner, in about half the memory. Process-wide, so only the CLI's
 * commands call this, before the engine loads — never the library, whose callers may run long.
 */
export async function baselineWasmOnly(): Promise<void> {
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
}
