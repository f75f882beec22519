/**
 * The second half of `npm run build`: bundles the CLI's own code into dist/cli-bundle/, which
 * bin/stagedb.js runs. tsc has already written all of dist/ (the library, its types, and the files the
 * CLI finds next to itself at run time: dist/config/define.js, dist/studio/launcher.js); this adds a copy
 * of the CLI as a few chunks instead of ~60 modules, because Node 20 loads ES modules one by one and
 * has no compile cache (`lint` loaded 64 of our modules, ~20 ms of its run; now 18 chunks).
 *
 * - Every npm package stays external: loaded from node_modules as before, WASM files included.
 * - Code splitting keeps the lazy loading of src/cli/registry.ts and of every other `await import()`:
 *   each is a chunk loaded on demand, so `--help` and `status` still load no engine, parser or AWS SDK.
 * - The output sits two levels below the package root like dist/cli/main.js, so every
 *   `new URL('../../…', import.meta.url)` (package.json, bin/, dist/studio/) still finds its file.
 * - A source map beside each chunk, so a stack trace (STAGEDB_DEBUG=1) names src/*.ts lines.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/cli-bundle`;

// Chunk names carry a content hash: a previous build's chunks would otherwise stay behind (and ship).
rmSync(outdir, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  charset: 'utf8',
  // Stack traces name src/*.ts lines (STAGEDB_DEBUG=1 turns the maps on, see bin/stagedb.js). Mapping a
  // stack trace needs no source text: without it the maps are a third of the size (0.6 vs 1.5 MB).
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
});

// `stagedb --help` must load no npm package at all: check the chunks main.js imports statically.
const seen = new Set();
const packages = new Set();
const visit = (out) => {
  if (seen.has(out)) return;
  seen.add(out);
  for (const imp of metafile.outputs[out].imports) {
    if (imp.kind !== 'import-statement') continue;
    if (!imp.external) visit(imp.path);
    else if (!imp.path.startsWith('node:')) packages.add(imp.path);
  }
};
visit('dist/cli-bundle/main.js');
if (packages.size > 0) {
  console.error(`bundle-cli: dist/cli-bundle/main.js loads ${[...packages].join(', ')} on every command: import it lazily`);
  process.exit(1);
}
