#!/usr/bin/env node
// The CLI comes in two builds of one source (scripts/bundle-cli.mjs): dist/cli-bundle/main.js and its
// chunks (ES modules), and dist/cli-bundle/cli.cjs (one script). A command runs cli.cjs compiled with
// V8's code cache (Node 20 has no compile cache of its own): its bytecode from an earlier run, so the
// ~1 MB is not parsed and the functions the command runs are not compiled again. `--help`, `--version`,
// STAGEDB_DEBUG=1 (stack traces mapped to src/*.ts) and STAGEDB_NO_CODE_CACHE=1 use the modules.
const argv1 = process.argv[2];
const modules =
  !argv1 || ['--help', '-h', 'help', '--version', '-v', 'version'].includes(argv1) || process.env.STAGEDB_DEBUG || process.env.STAGEDB_NO_CODE_CACHE;
if (process.env.STAGEDB_DEBUG) process.setSourceMapsEnabled(true);
const { main } = modules ? await import('../dist/cli-bundle/main.js') : await withCodeCache();
await main();

/**
 * Compiles dist/cli-bundle/cli.cjs with the code cache of this V8 (its version, flags and CPU features:
 * `v8.cachedDataVersionTag()`, in the cache's file name) and of this command, and returns its exports.
 * One cache per command (`cli.<tag>.<command>.cache`; `help` for every --help): a cache holds
 * the bytecode of the functions the run that wrote it compiled, and V8 deserialises all of it on every
 * start, so `status` does not pay for lint's rules nor lint for node-postgres. The cache starts with
 * the sha256 of the script it was made from: V8 itself checks only the script's length, and bytecode
 * of another script of the same length (a patched file) must never run. Without a cache that matches,
 * the script is compiled from source and, unless the run ends with a usage error (exit 4: a mistyped
 * command names no cache), its cache is written beside it, atomically, with the V8 flags the process
 * started with (those the WebAssembly commands set are given back first). Where the package
 * folder is not writable (a read-only install) and there is no cache, the modules run instead: they
 * compile less.
 */
async function withCodeCache() {
  const [fs, { Script }, { cachedDataVersionTag, setFlagsFromString }, { createHash }, { createRequire }, { fileURLToPath }] = await Promise.all(
    ['node:fs', 'node:vm', 'node:v8', 'node:crypto', 'node:module', 'node:url'].map((m) => import(m)),
  );
  const url = new URL('../dist/cli-bundle/cli.cjs', import.meta.url);
  const file = fileURLToPath(url);
  const dir = fileURLToPath(new URL('.', url));
  const tag = cachedDataVersionTag();
  // Command names are lower-case words (src/cli/registry.ts); anything else shares one cache. Every
  // command's --help shares one too: a cache holds what the run that wrote it compiled, and `status
  // --help` as a first run would otherwise leave every later `status` compiling its own functions.
  const help = process.argv.includes('--help') || process.argv.includes('-h');
  const command = help ? 'help' : /^[a-z]{1,20}$/.test(argv1) ? argv1 : 'other';
  const cacheFile = `${dir}cli.${tag.toString(16)}.${command}.cache`;
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return import('../dist/cli-bundle/main.js'); // a build without it: the modules are the CLI too
  }
  const digest = createHash('sha256').update(bytes).digest();
  let cache;
  try {
    cache = fs.readFileSync(cacheFile);
  } catch {
    /* none yet */
  }
  const cachedData = cache && cache.length > 32 && digest.equals(cache.subarray(0, 32)) ? cache.subarray(32) : undefined;
  if (!cachedData) {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      // No cache, and none can be written (a read-only install): the modules compile less than cli.cjs.
      return import('../dist/cli-bundle/main.js');
    }
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __stagedbImport) {${bytes.toString('utf8')}\n})`, {
    filename: file,
    cachedData,
  });
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', (code) => {
      if (code === 4) return;
      if (cachedDataVersionTag() !== tag) {
        // The commands that run WebAssembly (lint, the engine's) set V8 flags for their short process
        // (src/commands/wasm-tier.ts); the bytecode a cache holds does not depend on them. Given back,
        // in this order, they restore the tag the process started with; after any other change no cache
        // is written (V8 would refuse it on the next start).
        for (const flag of ['--opt', '--no-liftoff-only', '--wasm-tier-up', '--wasm-dynamic-tiering']) setFlagsFromString(flag);
        if (cachedDataVersionTag() !== tag) return;
      }
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, Buffer.concat([digest, script.createCachedData()]));
        fs.renameSync(tmp, cacheFile);
      } catch {
        fs.rmSync(tmp, { force: true }); // the next run compiles again
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir, (specifier) => import(specifier));
  return module.exports;
}
