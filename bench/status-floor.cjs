'use strict';
/**
 * The floor of `status --env all` for a Node CLI (bench/everyday.mjs times it beside the real command):
 * only the work no implementation can skip, and nothing else — no config, no URL checks, no guards,
 * no collation, no error handling, no table. It loads node-postgres (dist/cli-bundle/pg.cjs: the same
 * pg, with the same SCRAM on node:crypto, the CLI runs), logs in to the three databases in parallel
 * (DEV_URL, STAGING_URL, PROD_URL), reads and sha256-hashes every migration.sql of the folder while the
 * servers answer, runs one query per database reading `_prisma_migrations` (name, checksum, finished,
 * rolled back; one JSON value, as status reads it), compares names and checksums, and prints one line.
 *
 *   node bench/status-floor.cjs <migrations folder> [<code cache file>]
 *
 * With a code cache file, pg is compiled with V8's code cache as the CLI's bundle is (bin/stagedb.js),
 * the file written by the first run: ~6 ms of CPU less than compiling it from source.
 *
 * CommonJS, not an ES module: Node 20 starts a CommonJS entry with less work. A floor, not a product:
 * it exits 1 on any difference and lets any other error end it.
 */
const { readdirSync, readFileSync } = require('node:fs');
const { hash } = require('node:crypto');

// As src/pg/connect.ts does: without `navigator`, pg's Cloudflare check loads Node's fetch stack.
globalThis.navigator = { userAgent: `Node.js/${process.versions.node}` };
const { Client } = loadWithCodeCache(require('node:path').join(__dirname, '..', 'dist', 'cli-bundle', 'pg.cjs'), process.argv[3]);
delete globalThis.navigator;

const dir = process.argv[2];
const names = ['DEV_URL', 'STAGING_URL', 'PROD_URL'];
const clients = names.map((v) => new Client({ connectionString: process.env[v] }));
const SQL = `SELECT coalesce(json_agg(json_build_array(migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL)), '[]')::text AS rows FROM _prisma_migrations`;
const reads = clients.map((c) => c.connect().then(() => c.query(SQL)));

// The folder, read and hashed while the logins and queries are on their way.
const local = new Map();
for (const name of readdirSync(dir).sort()) {
  if (name === 'migration_lock.toml') continue;
  local.set(name, hash('sha256', readFileSync(`${dir}/${name}/migration.sql`), 'hex'));
}

Promise.all(reads).then(async (results) => {
  const lines = results.map((r, i) => {
    let applied = 0;
    let bad = 0;
    for (const [name, checksum, finished, rolledBack] of JSON.parse(r.rows[0].rows)) {
      if (rolledBack) continue;
      if (finished && local.get(name) === checksum) applied++;
      else bad++;
    }
    const pending = local.size - applied;
    if (bad || pending) process.exitCode = 1;
    return `${names[i]} ${applied} applied, ${pending} pending, ${bad} other`;
  });
  await Promise.all(clients.map((c) => c.end()));
  process.stdout.write(`${lines.join('; ')}\n`);
});

/** `require(file)`, compiled with V8's code cache in `cacheFile` (written at exit when there is none yet). */
function loadWithCodeCache(file, cacheFile) {
  if (!cacheFile) return require(file);
  const { Script } = require('node:vm');
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* the first run writes it */
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => require('node:fs').writeFileSync(cacheFile, script.createCachedData()));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require('node:module').createRequire(file), module, file, require('node:path').dirname(file));
  return module.exports;
}
