declare const __STAGEDB_BUILD_ID__: string | undefined;

/**
 * A hash of the sources this copy of stagedb was built from (and of the versions of the packages whose
 * output it caches, such as PostgreSQL's parser), written into the CLI bundle by
 * scripts/bundle-cli.mjs. Caches under `.stagedb/cache/` are keyed by it: a rebuilt or upgraded stagedb
 * never reads what another build wrote. Undefined outside the bundle (tsc's dist/, tests importing
 * src/): no cache is used there.
 */
export const BUILD_ID: string | undefined = typeof __STAGEDB_BUILD_ID__ === 'string' ? __STAGEDB_BUILD_ID__ : undefined;
