import { defineConfig, env } from 'stagedb';

// The guide's three environments. Each reads its URLs from .env.<name> on top of .env
// (variables exported in the shell win). `npm run demo` at the repository root writes these
// files for a local PostgreSQL; on a real project they point at RDS.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: 'prisma/migrations',
  seed: 'node prisma/seed.mjs',
  environments: {
    // Local PostgreSQL, direct connection.
    development: { url: env('DATABASE_URL') },
    // AWS RDS through Prisma Accelerate: the app uses DATABASE_URL (prisma+postgres://…);
    // migrations, status and backups use the direct DIRECT_URL.
    staging: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL') },
    // RDS Multi-AZ through Accelerate; TLS is required (protection "production" implies ssl: 'require').
    // `db:studio:production` opens Studio read-only (the database refuses every write of its session);
    // for a guarantee Studio's SQL editor cannot switch off, add a role with SELECT only:
    //   studioUrl: env('STUDIO_URL'),
    production: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL') },
  },
});
