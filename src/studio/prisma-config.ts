/**
 * The Prisma config `stagedb studio` hands Studio (`prisma studio --config <this> --url …`): empty on
 * purpose. With `--url`, Studio needs nothing from a config, but Prisma evaluates the project's
 * prisma.config.ts all the same, and one that reads a variable defined only for another environment
 * (`env('SOME_URL')`) stops Studio before it starts.
 */
export default {};
