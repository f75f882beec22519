/** The engine package and version stagedb is built and tested against. Its API changes without notice: bump both together, with `ENGINE_PREVIEW_FEATURES`. */
export const ENGINE_PACKAGE = '@prisma/schema-engine-wasm';
export const ENGINE_PACKAGE_VERSION = '8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323';
