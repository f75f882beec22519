import type { ResolvedConfig } from '../config/load.js';
import { redact } from '../redact.js';
import { auth } from './checks/auth.js';
import { connectionHeadroom } from './checks/connection-headroom.js';
import { database } from './checks/database.js';
import { directUrl } from './checks/direct-url.js';
import { distinctDatabase } from './checks/distinct-database.js';
import { marker } from './checks/marker.js';
import { dns } from './checks/dns.js';
import { envVars } from './checks/env-vars.js';
import { migrations } from './checks/migrations.js';
import { pgDumpVersion } from './checks/pg-dump-version.js';
import { privilegesBackup } from './checks/privileges-backup.js';
import { privilegesMigrate } from './checks/privileges-migrate.js';
import { privilegesStudio } from './checks/privileges-studio.js';
import { rdsBackupRetention } from './checks/rds-backup-retention.js';
import { rdsDeletionProtection } from './checks/rds-deletion-protection.js';
import { rdsEncryption } from './checks/rds-encryption.js';
import { rdsMultiAz } from './checks/rds-multi-az.js';
import { rdsForceSsl } from './checks/rds-force-ssl.js';
import { rdsPerformanceInsights } from './checks/rds-performance-insights.js';
import { rdsMetrics } from './checks/rds-metrics.js';
import { rdsMinorUpgrade } from './checks/rds-minor-upgrade.js';
import { readReplicas } from './checks/read-replicas.js';
import { tcp } from './checks/tcp.js';
import { tls } from './checks/tls.js';
import { url } from './checks/url.js';
import type { CheckResult, CheckStatus, DoctorCheck, DoctorState } from './types.js';

export type { CheckResult, CheckStatus, DoctorCheck } from './types.js';

/** Every check, in the order they run (a check only depends on earlier ones). */
export const CHECKS: readonly DoctorCheck[] = [
  envVars,
  url,
  directUrl,
  dns,
  tcp,
  tls,
  auth,
  database,
  privilegesMigrate,
  privilegesBackup,
  privilegesStudio,
  pgDumpVersion,
  migrations,
  connectionHeadroom,
  readReplicas,
  distinctDatabase,
  marker,
  rdsMultiAz,
  rdsBackupRetention,
  rdsEncryption,
  rdsDeletionProtection,
  rdsForceSsl,
  rdsPerformanceInsights,
  rdsMetrics,
  rdsMinorUpgrade,
];

/** One environment's doctor report. */
export interface DoctorReport {
  env: string;
  /** host:port/database of the direct URL, when it resolved (no credentials). */
  target?: string;
  /** The worst status among the checks (skip counts as nothing). */
  status: 'ok' | 'warn' | 'fail';
  checks: CheckResult[];
}

export interface DoctorOptions {
  config: ResolvedConfig;
  env: string;
  processEnv: NodeJS.ProcessEnv;
  /** DNS, TCP and connect timeout in ms (default 5000). */
  timeoutMs?: number;
}

/**
 * Runs every check on one environment, in order; a check whose prerequisite failed (or was skipped)
 * is skipped. Never throws for a problem it diagnoses: that is a `fail` result. Every detail and fix
 * passes through `redact`.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const s: DoctorState = { config: options.config, envName: options.env, processEnv: options.processEnv, timeoutMs: options.timeoutMs ?? 5000 };
  const results = new Map<string, CheckResult>();
  try {
    for (const check of CHECKS) {
      const blocker = check.requires.map((c) => results.get(c)).find((r) => !r || r.status === 'fail' || r.status === 'skip');
      let result: CheckResult;
      if (blocker) {
        // Name the check that actually failed, not the chain of skips in between.
        const detail = blocker.status === 'skip' ? blocker.detail : `skipped: ${blocker.code} ${blocker.name} failed`;
        result = { code: check.code, name: check.name, status: 'skip', detail };
      } else {
        try {
          const out = await check.run(s);
          result = { code: check.code, name: check.name, ...out };
        } catch (e) {
          // A query a check needs failed (e.g. a catalog it may not read): that check fails, the rest go on.
          result = { code: check.code, name: check.name, status: 'fail', detail: `the check itself failed: ${(e as Error).message}`, fix: 'run it again; if it persists, report it with this output' };
        }
      }
      result.detail = redact(result.detail);
      if (result.fix) result.fix = redact(result.fix);
      results.set(check.code, result);
    }
  } finally {
    await s.client?.end().catch(() => {});
  }
  const checks = [...results.values()];
  const status = checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'ok';
  const d = s.env?.directInfo;
  return { env: options.env, target: d ? `${d.host}:${d.port}/${d.database}` : undefined, status, checks };
}
