import type { Command } from '../commands/types.js';

/**
 * Every command, loaded on demand so `--help` and `status` never pull in heavy modules. The summary
 * lives here, not in the command file, so the top-level help needs no import at all.
 */
export interface Entry {
  summary: string;
  load: () => Promise<{ default: Command }>;
  /** Shown as a group heading in help. */
  group: 'guide' | 'history' | 'local' | 'project';
}

export const COMMANDS: Record<string, Entry> = {
  status: { group: 'guide', summary: 'migration status of one environment, or --env all', load: () => import('../commands/status.js') },
  deploy: { group: 'guide', summary: 'deploy: apply pending migrations, then generate the client', load: () => import('../commands/deploy.js') },
  'migrate deploy': { group: 'guide', summary: 'apply pending migrations (the safe production path)', load: () => import('../commands/migrate-deploy.js') },
  'migrate status': { group: 'history', summary: 'same as status', load: () => import('../commands/status.js') },
  'migrate resolve': { group: 'history', summary: 'mark a migration --applied or --rolled-back', load: () => import('../commands/migrate-resolve.js') },
  'migrate dev': { group: 'guide', summary: 'create and apply a migration from schema.prisma', load: () => import('../commands/migrate-dev.js') },
  'migrate reset': { group: 'guide', summary: 'drop everything, reapply all migrations, seed (development only)', load: () => import('../commands/migrate-reset.js') },
  'migrate diff': { group: 'history', summary: 'the SQL between two schemas: empty, schema.prisma, the migrations, a live database', load: () => import('../commands/migrate-diff.js') },
  push: { group: 'guide', summary: 'sync schema.prisma to the database without a migration', load: () => import('../commands/push.js') },
  seed: { group: 'guide', summary: 'run the seed command against an environment', load: () => import('../commands/seed.js') },
  studio: { group: 'guide', summary: 'open Prisma Studio on an environment (read-only in production)', load: () => import('../commands/studio.js') },
  advise: { group: 'guide', summary: 'performance advice for a database: indexes, slow queries, vacuum, connections, locks (fixes as schema.prisma changes)', load: () => import('../commands/advise.js') },
  dashboard: { group: 'guide', summary: 'one local read-only page for every environment: migrations, drift, backups, audit, lint, advice, plots', load: () => import('../commands/dashboard.js') },
  doctor: { group: 'guide', summary: 'troubleshoot an environment: env vars, URL, DNS, TCP, TLS, auth, privileges, pg_dump, migrations (or --env all)', load: () => import('../commands/doctor.js') },
  generate: { group: 'guide', summary: 'generate the Prisma client (no native engine download)', load: () => import('../commands/generate.js') },
  backup: { group: 'guide', summary: 'take a pg_dump backup of an environment (list, verify, prune: backup <command>)', load: () => import('../commands/backup.js') },
  'backup list': { group: 'guide', summary: "an environment's backups: age, size, migrations, last verification", load: () => import('../commands/backup-list.js') },
  'backup verify': { group: 'guide', summary: 'check a backup: sha256, pg_restore --list; --deep restores and compares it', load: () => import('../commands/backup-verify.js') },
  'backup prune': { group: 'guide', summary: 'delete the backups the retention policy no longer keeps', load: () => import('../commands/backup-prune.js') },
  restore: { group: 'guide', summary: 'restore a backup into an environment (production into staging, …)', load: () => import('../commands/restore.js') },
  'dev up': { group: 'local', summary: 'start the project-local PostgreSQL (data under .stagedb/)', load: () => import('../commands/dev-up.js') },
  'dev down': { group: 'local', summary: 'stop the project-local PostgreSQL', load: () => import('../commands/dev-down.js') },
  'dev status': { group: 'local', summary: 'is the project-local PostgreSQL running, and where', load: () => import('../commands/dev-status.js') },
  plan: { group: 'guide', summary: 'what deploy would do to each environment (--env all): migrations, run modes, locks with table sizes, lint, backup, drift; changes nothing', load: () => import('../commands/plan.js') },
  lint: { group: 'history', summary: 'zero-downtime lint of migrations: locks, rewrites, safe alternatives (--env: pending, by size)', load: () => import('../commands/lint.js') },
  history: { group: 'history', summary: 'the audit trail: who changed an environment, what, when, outcome', load: () => import('../commands/history.js') },
  init: { group: 'project', summary: "write stagedb.config.ts and the guide's db:* scripts", load: () => import('../commands/init.js') },
  env: { group: 'project', summary: 'show how each environment resolves (URLs redacted)', load: () => import('../commands/env.js') },
  marker: { group: 'project', summary: "show, set or clear a database's protection marker (confirmed, audited)", load: () => import('../commands/marker.js') },
};

/** Commands whose first word groups subcommands (`migrate deploy`, `dev up`). */
export const GROUPS = new Set(Object.keys(COMMANDS).filter((k) => k.includes(' ')).map((k) => k.split(' ')[0]!));
