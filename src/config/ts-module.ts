import { createRequire } from 'node:module';

/** True in the CLI's one-script build (dist/cli-bundle/cli.cjs). */
declare const __STAGEDB_JITI_INLINE__: boolean | undefined;

/**
 * Imports a TypeScript (or JavaScript) config module with jiti, `alias` mapping bare imports to files.
 * jiti is the heaviest thing config loading can pull in, so it is loaded only here, with require (it is
 * CommonJS; importing it from ESM runs the CJS export lexer over its bundle). fsCache keeps the
 * transpiled file on disk: only transpiling is cached, never the evaluated module, so env vars a config
 * reads at load time are always read afresh. Returns the module's default export (or the module).
 */
export async function importTsModule(file: string, alias: Record<string, string>): Promise<unknown> {
  // The CLI's one-script build carries jiti inside (its 190 KB compile from the code cache); babel, which
  // jiti loads only to transpile a file it has not cached, stays in node_modules (scripts/bundle-cli.mjs).
  const { createJiti } = (typeof __STAGEDB_JITI_INLINE__ === 'boolean' && __STAGEDB_JITI_INLINE__ ? require('jiti') : createRequire(import.meta.url)('jiti')) as typeof import('jiti');
  const jiti = createJiti(import.meta.url, { alias, moduleCache: false, fsCache: true });
  const mod = (await jiti.import(file)) as { default?: unknown };
  return mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod;
}
