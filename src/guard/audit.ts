import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';

/**
 * The audit trail: every mutating command records who, what, when, where, the outcome and how long it
 * took — in the target database (table `stagedb.audit_log`, in a schema of its own so Prisma never sees
 * it as drift) and, for unprotected (development) environments, in `.stagedb/audit.jsonl` too. Every
 * text field passes through `redact`. Recording is best effort: a failure to record never fails the
 * command; it is returned as a warning.
 */
export type Outcome = 'ok' | 'failed' | 'refused' | 'aborted';

export interface AuditRecord {
  at: string;
  env: string;
  command: string;
  outcome: Outcome;
  durationMs: number;
  /** One line: what happened (e.g. "applied 2 migrations", or the error message). */
  summary: string;
  osUser: string;
  host: string;
  gitAuthor?: string;
  ci?: string;
  stagedbVersion: string;
}

export const AUDIT_SCHEMA = 'stagedb';
export const AUDIT_TABLE = `"${AUDIT_SCHEMA}"."audit_log"`;
const CREATE_SCHEMA = `CREATE SCHEMA IF NOT EXISTS "${AUDIT_SCHEMA}"; GRANT USAGE ON SCHEMA "${AUDIT_SCHEMA}" TO PUBLIC`;
/**
 * Every role that connects may read the trail and add to it (an application role records its own
 * deploys in a table the owner created, and its pg_dump can read it); none may change or delete it.
 */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (
  id           BIGSERIAL PRIMARY KEY,
  at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  environment  TEXT NOT NULL,
  command      TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  duration_ms  INTEGER NOT NULL,
  summary      TEXT NOT NULL,
  os_user      TEXT NOT NULL,
  host         TEXT NOT NULL,
  git_author   TEXT,
  ci           TEXT,
  stagedb_version TEXT NOT NULL
);
GRANT SELECT, INSERT ON ${AUDIT_TABLE} TO PUBLIC;
GRANT USAGE, SELECT ON SEQUENCE "${AUDIT_SCHEMA}"."audit_log_id_seq" TO PUBLIC`;

/** The CI job, when one is detected from the usual variables. */
export function detectCi(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_ACTIONS === 'true') {
    const url = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? ` ${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : '';
    return `github-actions ${env.GITHUB_WORKFLOW ?? ''} #${env.GITHUB_RUN_NUMBER ?? '?'}${url}`.trim();
  }
  if (env.GITLAB_CI === 'true') return `gitlab ${env.CI_JOB_NAME ?? ''} ${env.CI_JOB_URL ?? env.CI_JOB_ID ?? ''}`.trim();
  if (env.CIRCLECI === 'true') return `circleci ${env.CIRCLE_JOB ?? ''} ${env.CIRCLE_BUILD_URL ?? ''}`.trim();
  if (env.BUILDKITE === 'true') return `buildkite ${env.BUILDKITE_BUILD_URL ?? ''}`.trim();
  if (env.JENKINS_URL) return `jenkins ${env.BUILD_URL ?? env.BUILD_TAG ?? ''}`.trim();
  if (env.CI === 'true' || env.CI === '1') return 'ci';
  return undefined;
}

function gitAuthor(root: string): string | undefined {
  try {
    const run = (key: string) => execFileSync('git', ['config', key], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    const name = run('user.name');
    const email = run('user.email');
    return name || email ? `${name}${email ? ` <${email}>` : ''}` : undefined;
  } catch {
    return undefined;
  }
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Who is acting, read once per process. */
export function actor(root: string, processEnv: NodeJS.ProcessEnv): Pick<AuditRecord, 'osUser' | 'host' | 'gitAuthor' | 'ci' | 'stagedbVersion'> {
  let osUser = processEnv.USER ?? 'unknown';
  try {
    osUser = userInfo().username;
  } catch {
    /* no passwd entry (some containers): keep $USER */
  }
  return { osUser, host: hostname(), gitAuthor: existsSync(join(root, '.git')) || processEnv.GIT_AUTHOR_NAME ? gitAuthor(root) : undefined, ci: detectCi(processEnv), stagedbVersion: version() };
}

/**
 * What a failed command means for the audit trail: refused by a guard (the protection matrix, the
 * marker, the lint gate, the drift gate), aborted by the user, or failed.
 */
export function outcomeOf(e: unknown): Outcome {
  if (!(e instanceof StagedbError)) return 'failed';
  return e.kind === 'guard' || e.code === 'E_DRIFT' || e.code === 'E_DRIFT_UNCHECKED' ? 'refused' : e.kind === 'aborted' ? 'aborted' : 'failed';
}

/**
 * Records one run of a command that started at `started` (ms): the record built the one way for every
 * command that is audited (the guarded run, studio, an RDS snapshot). Returns a warning when it cannot.
 */
export function recordRun(o: { env: ResolvedEnvironment; root: string; processEnv: NodeJS.ProcessEnv; command: string; started: number; outcome: Outcome; summary: string; client?: Client }): Promise<string | undefined> {
  return recordAudit({
    env: o.env,
    root: o.root,
    client: o.client,
    record: { at: new Date(o.started).toISOString(), env: o.env.name, command: o.command, outcome: o.outcome, durationMs: Date.now() - o.started, summary: o.summary, ...actor(o.root, o.processEnv) },
  });
}

/** Writes one record. Returns a warning instead of throwing when it cannot. */
export async function recordAudit(options: { env: ResolvedEnvironment; root: string; record: AuditRecord; client?: Client }): Promise<string | undefined> {
  const r: AuditRecord = { ...options.record, summary: redact(options.record.summary), command: redact(options.record.command) };
  const warnings: string[] = [];
  if (options.env.protection === 'none') {
    try {
      mkdirSync(join(options.root, '.stagedb'), { recursive: true });
      appendFileSync(join(options.root, '.stagedb', 'audit.jsonl'), `${JSON.stringify(r)}\n`, { mode: 0o600 });
    } catch (e) {
      warnings.push(`local audit file: ${(e as Error).message}`);
    }
  }
  let client = options.client;
  let own = false;
  try {
    if (!client) {
      const { connect } = await import('../pg/connect.js');
      client = await connect(options.env.directUrl, { label: options.env.name, purpose: 'audit' });
      own = true;
    }
    const c = client;
    const insert = () =>
      c.query(
        `INSERT INTO ${AUDIT_TABLE} (at, environment, command, outcome, duration_ms, summary, os_user, host, git_author, ci, stagedb_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [r.at, r.env, r.command, r.outcome, Math.round(r.durationMs), r.summary, r.osUser, r.host, r.gitAuthor ?? null, r.ci ?? null, r.stagedbVersion],
      );
    try {
      await insert();
    } catch (e) {
      // Created on first use only: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when
      // the schema exists, which an application role usually lacks.
      const code = (e as { code?: string }).code;
      if (code !== '3F000' && code !== '42P01') throw e;
      await c.query('BEGIN');
      try {
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('stagedb.audit_log'))`);
        const schema = await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [AUDIT_SCHEMA]);
        if (schema.rowCount === 0) await c.query(CREATE_SCHEMA);
        await c.query(CREATE_TABLE);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
      await insert();
    }
  } catch (e) {
    warnings.push(`audit table ${AUDIT_TABLE}: ${redact((e as Error).message)}`);
  } finally {
    if (own) await client?.end().catch(() => {});
  }
  return warnings.length ? `${options.env.name}: could not record the audit entry (${warnings.join('; ')})` : undefined;
}

export interface AuditRow extends AuditRecord {
  source: 'database' | 'local';
}

/** The most recent records, newest first: from the database, or the local file when the database has none. */
export async function readAudit(options: { env: ResolvedEnvironment; root: string; limit: number }): Promise<{ rows: AuditRow[]; warning?: string }> {
  const { connect } = await import('../pg/connect.js');
  const client = await connect(options.env.directUrl, { label: options.env.name, purpose: 'history' });
  try {
    const exists = (await client.query<{ ok: boolean }>(`SELECT to_regclass('${AUDIT_SCHEMA}.audit_log') IS NOT NULL AS ok`)).rows[0]?.ok;
    if (exists) {
      const r = await client.query<Record<string, unknown>>(`SELECT * FROM ${AUDIT_TABLE} WHERE environment = $1 ORDER BY at DESC, id DESC LIMIT $2`, [options.env.name, options.limit]);
      return {
        rows: r.rows.map((x) => ({
          source: 'database',
          at: (x.at as Date).toISOString(),
          env: x.environment as string,
          command: x.command as string,
          outcome: x.outcome as Outcome,
          durationMs: x.duration_ms as number,
          summary: x.summary as string,
          osUser: x.os_user as string,
          host: x.host as string,
          gitAuthor: (x.git_author as string | null) ?? undefined,
          ci: (x.ci as string | null) ?? undefined,
          stagedbVersion: x.stagedb_version as string,
        })),
      };
    }
  } finally {
    await client.end().catch(() => {});
  }
  const file = join(options.root, '.stagedb', 'audit.jsonl');
  if (!existsSync(file)) return { rows: [] };
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ ...(JSON.parse(l) as AuditRecord), source: 'local' as const }))
    .filter((r) => r.env === options.env.name)
    .reverse()
    .slice(0, options.limit);
  return { rows };
}
