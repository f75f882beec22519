import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { PrismaModelMap } from './prisma-models.js';

/** How much a finding matters: `critical` needs action soon (wraparound, an invalid index blocking writes). */
export type AdviceSeverity = 'info' | 'warn' | 'critical';

/** A change to schema.prisma that fixes a finding (then `stagedb migrate dev` writes the safe migration). */
export interface SchemaChange {
  /** The Prisma model to edit. */
  model: string;
  /** The line to add inside the model, e.g. `@@index([authorId])`. */
  add?: string;
  /** The line to remove from the model. */
  remove?: string;
}

/** One thing the advisor found about one database. */
export interface Finding {
  /** The check's stable code (ADV001 …). */
  code: string;
  /** The check's name, e.g. `fk-without-index`. */
  name: string;
  severity: AdviceSeverity;
  /** One line: what was found. */
  title: string;
  /** The numbers behind it, one line each. */
  evidence: string[];
  /** What it costs the application or the server. */
  cost: string;
  /** What to do, in words or the exact command. */
  fix: string;
  /** The schema.prisma edit, when the fix is one. */
  schemaChange?: SchemaChange;
  /** The table (schema-qualified when not public) or other object it is about. */
  object?: string;
}

/** One check's result: its findings, or why it could not look. */
export interface CheckReport {
  code: string;
  name: string;
  /** `ok`: looked, found nothing; `findings`; `not-visible`: this role may not see it (or it is not installed). */
  status: 'ok' | 'findings' | 'not-visible' | 'error';
  findings: Finding[];
  /** For not-visible and error: why, and how to make it visible. */
  note?: string;
}

/** What every check may read. */
export interface AdviceContext {
  client: Client;
  env: ResolvedEnvironment;
  /** server_version_num. */
  serverVersionNum: number;
  /** The schemas the datasource uses (`?schema=` or `public`). */
  schemas: string[];
  /** Tables and columns by Prisma model and field, from schema.prisma (empty when there is none). */
  models: PrismaModelMap;
  /** The role may read every session's and statement's details (superuser, pg_monitor or pg_read_all_stats). */
  seesAll: boolean;
  /** How long the statistics have been gathered: pg_stat_database.stats_reset, or the server's start. */
  statsSince?: Date;
  thresholds: AdviceThresholds;
}

/** Times above which a session (ADV010) or a standby (ADV013) is reported. */
export interface AdviceThresholds {
  /** An active transaction open this long, in ms (default 5 min). */
  longTransactionMs: number;
  /** A session idle in a transaction this long, in ms (default 1 min). */
  idleInTransactionMs: number;
  /** A standby this far behind in time, in ms (default 10 s)… */
  replicaLagMs: number;
  /** …or in WAL bytes not yet replayed (default 64 MB) is reported (ADV013). */
  replicaLagBytes: number;
}

/** What a check returns: findings, or `{ notVisible }` with how to make it visible. */
export type CheckOutcome = Finding[] | { notVisible: string };

/** One advisor check: one file under src/advise/checks/, with a stable code. */
export interface AdviceCheck {
  code: string;
  name: string;
  run(ctx: AdviceContext): Promise<CheckOutcome>;
}
