/**
 * The second half of `npm run build`: bundles the CLI's own code into dist/cli-bundle/, which
 * bin/stagedb.js runs. tsc has already written all of dist/ (the library, its types, and the files the
 * CLI finds next to itself at run time: dist/config/define.js, dist/studio/launcher.js); this adds a copy
 * of the CLI as a few chunks instead of ~60 modules, because Node 20 loads ES modules one by one and
 * has no compile cache (`lint` loaded 64 of our modules, ~20 ms of its run; now 18 chunks).
 *
 * - npm packages stay external, loaded from node_modules as before (WASM files included), except zod
 *   (BUNDLED below): the config's validation runs on every command that reads a config.
 * - Code splitting keeps the lazy loading of src/cli/registry.ts and of every other `await import()`:
 *   each is a chunk loaded on demand, so `--help` and `status` still load no engine, parser or AWS SDK.
 * - The output sits two levels below the package root like dist/cli/main.js, so every
 *   `new URL('../../…', import.meta.url)` (package.json, bin/, dist/studio/) still finds its file.
 * - A source map beside each chunk, so a stack trace (STAGEDB_DEBUG=1) names src/*.ts lines.
 *
 * It also writes dist/cli-bundle/cli.cjs, the same CLI as ONE script that bin/stagedb.js compiles with
 * V8's code cache (see "Code cache" below), and trains that cache once.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/cli-bundle`;

// npm packages stay external, except the ones every configured command loads and that are pure ES
// modules of their own: Node resolves and links an ES module file by file (zod/v3 is 19 of them, ~10 ms
// of every `status`), a bundle chunk is one file.
const BUNDLED = ['zod'];
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const external = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies, ...pkg.devDependencies })
  .filter((name) => !BUNDLED.includes(name))
  .flatMap((name) => [name, `${name}/*`]);

// The build id (src/build-id.ts) keys the caches under .stagedb/cache/: a hash of every source file,
// package.json, and the installed parser's version (lint's cache holds what its parse trees gave).
const hash = createHash('sha256');
for (const f of readdirSync(`${root}src`, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => `${e.parentPath ?? e.path}/${e.name}`).sort()) {
  hash.update(`${f.slice(root.length)}\0`).update(readFileSync(f)).update('\0');
}
hash.update(readFileSync(`${root}package.json`));
hash.update(JSON.parse(readFileSync(`${root}node_modules/libpg-query/package.json`, 'utf8')).version);
const buildId = hash.digest('hex').slice(0, 32);

const define = { __STAGEDB_BUILD_ID__: JSON.stringify(buildId), __STAGEDB_PG_BUNDLE__: '"./pg.cjs"', __STAGEDB_PG_INLINE__: 'false', __STAGEDB_JITI_INLINE__: 'false' };

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
  external,
  define,
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

// node-postgres as ONE CommonJS file beside the chunks (src/pg/connect.ts's loadPg requires it in the
// bundle): every command that connects loads pg, and Node loads its ~30 modules one file at a time
// (resolve, stat, read, compile: ~40 ms of a `status` on a loaded machine; the bundle ~15 ms). Its
// SCRAM hashing is src/pg/node-crypto-utils.ts, as loadPg arranges for the unbundled package.
const { createRequire } = await import('node:module');
const pgCrypto = {
  name: 'pg-crypto',
  setup(b) {
    // pg/lib/client.js asks for './crypto/utils', pg/lib/crypto/sasl.js for './utils': both are this one.
    b.onResolve({ filter: /utils(\.js)?$/ }, (args) =>
      /[\\/]pg[\\/]lib[\\/]crypto[\\/]utils(\.js)?$/.test(join(args.resolveDir, args.path)) ? { path: 'utils', namespace: 'stagedb-pg-crypto' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stagedb-pg-crypto' }, () => ({
      contents: `module.exports = require(${JSON.stringify(`${root}src/pg/node-crypto-utils.ts`)}).nodeCryptoUtils();`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};
await build({
  absWorkingDir: root,
  entryPoints: [createRequire(`${root}package.json`).resolve('pg')],
  outfile: `${outdir}/pg.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Optional peers pg loads only when asked (native bindings, Cloudflare Workers).
  external: ['pg-native', 'pg-cloudflare'],
  logLevel: 'warning',
  plugins: [pgCrypto],
});

// ---------------------------------------------------------------------------------------------------
// Code cache. Node 20 has no compile cache for modules (module.enableCompileCache arrived in 22.1), but
// V8 takes a code cache for a script compiled through node:vm. So the CLI exists a second time, as one
// script, dist/cli-bundle/cli.cjs: a function body `(exports, require, module, __filename, __dirname,
// __stagedbImport)` that bin/stagedb.js compiles with `new vm.Script(…, { cachedData })` and calls.
// The cache holds the bytecode of every function a run compiled, so a `status` neither parses its
// ~1 MB nor compiles the functions it runs (measured: ~25 ms of CPU of a `status --env all`).
// - Everything but npm packages is in it (zod too), as in the chunks; the modules the chunks load on
//   demand are wrapped by esbuild and run on first use, as before (nothing heavy runs at start).
// - import.meta.url is the file's own URL (the banner), so `new URL('../../…', import.meta.url)` finds
//   the same files as from the chunks beside it.
// - A script compiled by node:vm cannot call import() itself without an experimental flag, so each
//   `import(` of the output (npm packages, node: builtins and absolute file URLs only: our own modules
//   are inlined) calls `__stagedbImport`, bin/stagedb.js's own import().
// The chunks stay: bin/stagedb.js answers --help and --version from main.js (it loads nothing else,
// cheaper than the cache), and falls back to them when STAGEDB_NO_CODE_CACHE or STAGEDB_DEBUG is set.
const cjsFile = `${outdir}/cli.cjs`;
// jiti's entry (lib/jiti.cjs) as jiti writes it, but with babel (1.5 MB, needed only to transpile a file
// jiti has not cached) required from the installed package at run time instead of bundled. The build
// fails if jiti's entry changes, so that an upgrade is looked at.
const jitiWithoutBabel = {
  name: 'jiti-without-babel',
  setup(b) {
    b.onLoad({ filter: /[\\/]jiti[\\/]lib[\\/]jiti\.cjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const lazy = 'require("../dist/babel.cjs")';
      if (!text.includes(lazy) || !text.includes('require("../dist/jiti.cjs")')) throw new Error(`bundle-cli: ${args.path} is not the jiti entry this build knows: check jitiWithoutBabel`);
      const babel = `require(require("node:path").join(require("node:path").dirname(require("node:module").createRequire(__stagedbImportMetaUrl).resolve("jiti")), "../dist/babel.cjs"))`;
      return { contents: text.replace(lazy, babel), loader: 'js' };
    });
  },
};
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: cjsFile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // node-postgres inside (as in pg.cjs, with the SCRAM module, and its URL parser pg-connection-string,
  // which src/pg/connect.ts requires too), and jiti (a TypeScript config), so that they compile from the
  // cache too and cost no module resolution.
  external: [...external.filter((e) => !['pg', 'pg/*', 'pg-connection-string', 'pg-connection-string/*', 'jiti', 'jiti/*'].includes(e)), 'pg-native', 'pg-cloudflare'],
  plugins: [pgCrypto, jitiWithoutBabel],
  define: { ...define, __STAGEDB_PG_INLINE__: 'true', __STAGEDB_JITI_INLINE__: 'true', 'import.meta.url': '__stagedbImportMetaUrl' },
  banner: { js: 'const __stagedbImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Keep import() of npm packages as import() (esbuild would otherwise turn it into require()).
  supported: { 'dynamic-import': true },
  // ASCII only (other characters as escapes): the script becomes a one-byte string, half the memory
  // of a two-byte one, and decoding it is a copy.
  charset: 'ascii',
  logLevel: 'warning',
});
{
  const { writeFileSync } = await import('node:fs');
  const text = readFileSync(cjsFile, 'utf8');
  let calls = 0;
  // esbuild's charset 'ascii' escapes every other character in code; the few it leaves are in comments.
  writeFileSync(cjsFile, dynamicImportsTo('__stagedbImport', text, () => calls++).replace(/[^\x00-\x7f]/g, '?'));
  // It must still be a script that compiles.
  const { Script } = await import('node:vm');
  new Script(`(function (exports, require, module, __filename, __dirname, __stagedbImport) {${readFileSync(cjsFile, 'utf8')}\n})`, { filename: cjsFile });
  if (calls === 0) {
    console.error('bundle-cli: found no import() in cli.cjs: has esbuild changed how it writes them?');
    process.exit(1);
  }
}

/**
 * `import(` → `<name>(` where it is a call, in esbuild's printed output: not `x.import(` (a property),
 * and not a method named import (`import(a, b) {` in an object or class: jiti has one), told apart by
 * the `{` after its closing parenthesis, which never follows a call.
 */
function dynamicImportsTo(name, text, counted) {
  return text.replace(/(?<![\w$.])import\(/g, (match, at) => {
    let depth = 0;
    let i = at + match.length - 1;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '"' || c === "'" || c === '`') {
        for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
      } else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
    }
    if (/^\s*\{/.test(text.slice(i + 1, i + 40))) return match;
    counted();
    return `${name}(`;
  });
}

// Train the caches, one per command (bin/stagedb.js: dist/cli-bundle/cli.<tag>.<command>.cache), as any
// first run of a command writes its own: `status` (a TypeScript config as `stagedb init` writes it,
// validation, node-postgres, a refused connection) and `lint --json` (a review of a short history whose
// statements meet the rules a Prisma history meets) in a throwaway project. status twice: the first run
// transpiles the config (jiti's babel) and its cache is dropped; the second finds jiti's transpiled copy,
// as every later run does, and writes the one kept. Best effort: a build that cannot run them still
// works, and the first run of each command writes its cache.
{
  const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const project = mkdtempSync(join(tmpdir(), 'stagedb-train-'));
  const caches = () => readdirSync(outdir).filter((f) => /^cli\.[0-9a-f]+\.[a-z]+\.cache$/.test(f));
  try {
    mkdirSync(join(project, 'prisma', 'migrations', '20240101000000_init'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{ "name": "train", "private": true }\n');
    writeFileSync(join(project, 'prisma', 'schema.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n');
    writeFileSync(join(project, 'prisma', 'migrations', '20240101000000_init', 'migration.sql'), 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n');
    // What Prisma's migrations are made of (bench/history.mjs writes the same kinds): lint compiles the
    // rules and walks each statement kind meets.
    const more = [
      '-- CreateEnum\nCREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\');\n\n-- CreateTable\nCREATE TABLE "Post" (\n    "id" SERIAL NOT NULL,\n    "title" TEXT NOT NULL,\n    "authorId" INTEGER,\n    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n\n    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")\n);\n\n-- CreateIndex\nCREATE UNIQUE INDEX "Post_title_key" ON "Post"("title");\n\n-- AddForeignKey\nALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;\n',
      '-- AlterTable\nALTER TABLE "User" ADD COLUMN "email" TEXT NOT NULL,\nADD COLUMN "role" "Role" NOT NULL DEFAULT \'USER\';\n\n-- CreateIndex\nCREATE INDEX "User_email_idx" ON "User"("email");\n',
      '-- AlterTable\nALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200),\nALTER COLUMN "authorId" SET NOT NULL,\nDROP COLUMN "createdAt";\n\n-- DropIndex\nDROP INDEX "User_email_idx";\n\n-- AlterEnum\nALTER TYPE "Role" ADD VALUE \'OWNER\';\n\n-- RenameIndex\nALTER INDEX "Post_title_key" RENAME TO "Post_title_unique";\n',
      '-- DropForeignKey\nALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";\n\n-- DropTable\nDROP TABLE "Post";\n',
    ];
    more.forEach((sql, i) => {
      const dir = join(project, 'prisma', 'migrations', `2024010${i + 2}000000_step${i + 2}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'migration.sql'), sql);
    });
    writeFileSync(
      join(project, 'stagedb.config.ts'),
      "import { defineConfig, env } from 'stagedb';\n\nexport default defineConfig({\n  environments: {\n    development: { url: env('DATABASE_URL') },\n  },\n});\n",
    );
    // TMPDIR: jiti keeps its transpiled copy of the config in the temporary directory; this one goes away.
    mkdirSync(join(project, 'tmp'));
    const env = { PATH: process.env.PATH ?? '', HOME: project, TMPDIR: join(project, 'tmp'), NO_COLOR: '1', DATABASE_URL: 'postgresql://train@127.0.0.1:1/train?sslmode=disable' };
    let r;
    for (let run = 0; run < 2; run++) {
      for (const f of caches()) rmSync(join(outdir, f));
      r = spawnSync(process.execPath, [`${root}bin/stagedb.js`, 'status', '--env', 'all'], { cwd: project, env, encoding: 'utf8', timeout: 60_000 });
    }
    if (caches().length === 0) console.warn(`bundle-cli: the training run wrote no code cache (exit ${r.status}): ${(r.stderr ?? '').slice(0, 500)}`);
    // lint's own cache, beside status's (its findings cache goes into the throwaway project).
    r = spawnSync(process.execPath, [`${root}bin/stagedb.js`, 'lint', '--json'], { cwd: project, env, encoding: 'utf8', timeout: 60_000 });
    if (!caches().some((f) => f.endsWith('.lint.cache'))) console.warn(`bundle-cli: the lint training run wrote no code cache (exit ${r.status}): ${(r.stderr ?? '').slice(0, 500)}`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}
