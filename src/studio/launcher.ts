/**
 * Runs inside the Studio child process, in front of the project's Prisma CLI:
 *
 *   node launcher.js <prisma's build/index.js> studio --url … --port … --browser none
 *
 * Two things Prisma's CLI does not do on its own:
 *  - It never outlives stagedb. stagedb holds the other end of this process's stdin; when stagedb
 *    goes away in any way (Ctrl-C, SIGTERM, a crash, SIGKILL), stdin ends and Studio exits with it,
 *    closing its database connections.
 *  - A database error reaches the page with its message. Studio's server sends errors to the page as
 *    JSON, and an Error's `message` is not an enumerable property, so JSON.stringify drops it: an edit
 *    refused by a read-only session showed only `"update" operation failed`. With `toJSON` the page
 *    gets PostgreSQL's own words ("cannot execute UPDATE in a read-only transaction").
 *
 * Nothing here decides what may be written: that is the database's job (see plan.ts).
 */
import { createRequire } from 'node:module';

const [cli, ...args] = process.argv.slice(2);
if (!cli) {
  process.stderr.write('usage: launcher.js <prisma cli> studio …\n');
  process.exit(64);
}

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

Object.defineProperty(Error.prototype, 'toJSON', {
  configurable: true,
  writable: true,
  value(this: Error) {
    return { ...this, name: this.name, message: this.message };
  },
});

process.argv = [process.argv[0]!, cli, ...args];
createRequire(import.meta.url)(cli);
