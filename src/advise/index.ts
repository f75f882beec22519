/**
 * `stagedb advise`: findings about one database — each with its evidence, its cost and the fix, as a
 * change to schema.prisma where there is one. Read-only: every check is a SELECT on the catalogs and
 * statistics views, run in a read-only transaction. A check the role may not see reports
 * "not visible" (with the GRANT that makes it visible) instead of failing the others.
 */
import { loadSecrets } from '../aws/secrets.js';
import { existsSync, readFileSync } from 'node:fs';
import type { ResolvedConfig } from '../config/load.js';
import { resolveEnvironment } from '../config/environments.js';
import { schemaFiles } from '../config/prisma-project.js';
import { StagedbError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { redact } from '../redact.js';
import { cacheHit } from './checks/cache-hit.js';
import { connections } from './checks/connections.js';
import { fkWithoutIndex } from './checks/fk-without-index.js';
import { invalidIndex } from './checks/invalid-index.js';
import { lockWaits } from './checks/lock-waits.js';
import { longTransactions } from './checks/long-transactions.js';
import { redundantIndex } from './checks/redundant-index.js';
import { replicaLag } from './checks/replica-lag.js';
import { seqScans } from './checks/seq-scans.js';
import { slowQueries } from './checks/slow-queries.js';
import { unusedIndex } from './checks/unused-index.js';
import { vacuum } from './checks/vacuum.js';
import { wraparound } from './checks/wraparound.js';
import { EMPTY_MODELS, parsePrismaModels, type PrismaModelMap } from './prisma-models.js';
import type { AdviceCheck, AdviceContext, AdviceSeverity, AdviceThresholds, CheckReport, Finding } from './types.js';

export type { AdviceSeverity, CheckReport, Finding, SchemaChange } from './types.js';

/** Every check, in report order. */
export const ADVICE_CHECKS: readonly AdviceCheck[] = [
  fkWithoutIndex,
  redundantIndex,
  unusedIndex,
  invalidIndex,
  slowQueries,
  seqScans,
  vacuum,
  wraparound,
  connections,
  longTransactions,
  lockWaits,
  cacheHit,
  replicaLag,
];

export const DEFAULT_THRESHOLDS: AdviceThresholds = { longTransactionMs: 5 * 60_000, idleInTransactionMs: 60_000, replicaLagMs: 10_000, replicaLagBytes: 64 * 1024 * 1024 };

export interface AdviseOptions {
  config: ResolvedConfig;
  env: string;
  processEnv: NodeJS.ProcessEnv;
  thresholds?: Partial<AdviceThresholds>;
  /** Connect timeout in ms (default 10 000). */
  timeoutMs?: number;
}

/** One environment's advice. */
export interface AdviceReport {
  env: string;
  /** host:port/database (no credentials). */
  target: string;
  /** The worst severity found (`none` when nothing). */
  worst: AdviceSeverity | 'none';
  findings: Finding[];
  checks: CheckReport[];
  /** The role may see every session and statement (superuser, pg_monitor or pg_read_all_stats). */
  seesAll: boolean;
  statsSince?: string;
}

const RANK: Record<AdviceSeverity, number> = { critical: 0, warn: 1, info: 2 };

/** Reads schema.prisma's models, when there is a schema (advice then names models and fields). */
export function readModels(config: ResolvedConfig): PrismaModelMap {
  try {
    const files = existsSync(config.schemaPath) ? schemaFiles(config.schemaPath) : [];
    return files.length ? parsePrismaModels(files.map((f) => readFileSync(f, 'utf8'))) : EMPTY_MODELS;
  } catch {
    return EMPTY_MODELS;
  }
}

export async function runAdvise(options: AdviseOptions): Promise<AdviceReport> {
  await loadSecrets(options.config, [options.env], options.processEnv);
  const env = resolveEnvironment(options.config, options.env, { processEnv: options.processEnv });
  const info = env.directInfo;
  const target = `${info.host}:${info.port}/${info.database}`;
  const client = await connect(env.directUrl, { label: env.name, purpose: 'advise', ...(options.timeoutMs ? { connectTimeoutMs: options.timeoutMs } : {}) });
  try {
    // Nothing the advisor runs can write, whatever a check's SQL says.
    await client.query('BEGIN READ ONLY');
    const { rows } = await client.query<{ v: number; sees_all: boolean; since: Date | null }>(
      `SELECT current_setting('server_version_num')::int AS v,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees_all,
              coalesce((SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()), pg_postmaster_start_time()) AS since`,
    );
    const r = rows[0]!;
    const ctx: AdviceContext = {
      client,
      env,
      serverVersionNum: r.v,
      schemas: [info.schema],
      models: readModels(options.config),
      seesAll: r.sees_all,
      statsSince: r.since ?? undefined,
      thresholds: { ...DEFAULT_THRESHOLDS, ...options.thresholds },
    };
    const checks: CheckReport[] = [];
    for (const check of ADVICE_CHECKS) {
      await client.query('SAVEPOINT advise_check');
      try {
        const out = await check.run(ctx);
        await client.query('RELEASE SAVEPOINT advise_check');
        if (Array.isArray(out)) checks.push({ code: check.code, name: check.name, status: out.length ? 'findings' : 'ok', findings: out.map(redactFinding) });
        else checks.push({ code: check.code, name: check.name, status: 'not-visible', findings: [], note: redact(out.notVisible) });
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT advise_check');
        const err = e as { code?: string; message?: string };
        // 42501: a view or function this role may not read — the check degrades, the rest go on.
        checks.push({
          code: check.code,
          name: check.name,
          status: err.code === '42501' ? 'not-visible' : 'error',
          findings: [],
          note: redact(err.code === '42501' ? `not visible with this role (${err.message}): GRANT pg_monitor TO <role>` : `could not check: ${err.message ?? String(e)}`),
        });
      }
    }
    await client.query('ROLLBACK');
    const findings = checks.flatMap((c) => c.findings).sort((a, b) => RANK[a.severity] - RANK[b.severity]);
    const worst = findings[0]?.severity ?? 'none';
    return { env: env.name, target, worst, findings, checks, seesAll: ctx.seesAll, ...(ctx.statsSince ? { statsSince: ctx.statsSince.toISOString() } : {}) };
  } catch (e) {
    if (e instanceof StagedbError) throw e;
    throw new StagedbError('connection', 'E_ADVISE', redact(`${env.name}: the advisor could not read the database: ${(e as Error).message}`), { fix: `stagedb doctor --env ${env.name}`, cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redactFinding(f: Finding): Finding {
  return { ...f, title: redact(f.title), evidence: f.evidence.map(redact), cost: redact(f.cost), fix: redact(f.fix) };
}
