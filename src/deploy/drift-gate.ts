import type { ResolvedEnvironment } from '../config/environments.js';
import type { DriftReport } from '../develop/diff.js';
import type { LocalMigration } from '../history/local.js';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';

export interface DriftGateOptions {
  env: ResolvedEnvironment;
  schemaPath: string;
  migrationsDir: string;
  /** The project root (the drift cache lives in `<root>/.stagedb/drift-cache/`). */
  root: string;
  /** The command the user ran, for the fix line (e.g. "deploy"). */
  command: string;
  /** `--allow-drift "<reason>"`: deploy despite drift (or a drift check that could not run); the reason goes into the audit record. */
  allowDrift?: string;
  local?: LocalMigration[];
}

export interface DriftGateResult {
  /** The check ran (from the cache or replayed). */
  checked: boolean;
  drifted: boolean;
  /** One line for the audit record's summary, e.g. `drift: none` or `drift: overridden with --allow-drift: …`. */
  summary: string;
  overridden: boolean;
  /** Said to the user, not fatal: a guarded environment whose drift could not be checked, or drift let through. */
  warning?: string;
  report?: DriftReport;
  /** Why the check could not run, when it could not. */
  notChecked?: { code: string; message: string; fix?: string };
}

/**
 * The drift gate for guarded and production environments (issue 15): before anything is applied,
 * compares the live database with what its applied migrations produce (from the drift cache when
 * nothing changed since the last check, else replayed on a shadow database). Drift refuses
 * (E_DRIFT, exit 2) unless `allowDrift` gives a reason. A check that cannot run (no CREATEDB and no
 * shadowDatabaseUrl) refuses on production (E_DRIFT_UNCHECKED, exit 3: not checked is not clean) and
 * only warns on guarded.
 */
export async function driftGate(o: DriftGateOptions): Promise<DriftGateResult> {
  const { env } = o;
  const reason = o.allowDrift?.trim() || undefined;
  const retry = `stagedb ${o.command} --env ${env.name} --allow-drift "<reason>"`;
  const { detectDriftCached } = await import('../develop/drift-cache.js');
  let report: DriftReport;
  try {
    report = await detectDriftCached({ env, schemaPath: o.schemaPath, migrationsDir: o.migrationsDir, root: o.root, local: o.local });
  } catch (e) {
    // Only a check that could not run for a reason the user can fix (no shadow database, …); a lost
    // connection or a bug is what it is.
    if (!(e instanceof StagedbError) || e.kind !== 'config') throw e;
    // The check's own message starts with the environment's name, which the gate's message already gives.
    const notChecked = { code: e.code, message: redact(e.message).replace(`${env.name}: `, ''), fix: e.fix };
    if (reason) {
      return { checked: false, drifted: false, overridden: true, notChecked, summary: `drift: not checked (${e.code}), deployed with --allow-drift: ${reason}`, warning: `${env.name}: drift not checked (${notChecked.message}); deploying anyway (--allow-drift: ${reason})` };
    }
    if (env.protection === 'production') {
      throw new StagedbError('config', 'E_DRIFT_UNCHECKED', `${env.name}: cannot check for drift before deploying to a production-level environment (${notChecked.message}); nothing was applied`, {
        fix: `${e.fix ? `${e.fix}; ` : ''}or deploy without the check: ${retry}`,
      });
    }
    return { checked: false, drifted: false, overridden: false, notChecked, summary: `drift: not checked (${e.code})`, warning: `${env.name}: drift not checked: ${notChecked.message}${e.fix ? ` (fix: ${e.fix})` : ''}` };
  }
  if (!report.drifted) return { checked: true, drifted: false, overridden: false, report, summary: `drift: none${report.cache === 'hit' ? ' (cached)' : ''}` };
  const lines = report.migrationsToDatabase.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'));
  if (reason) {
    return { checked: true, drifted: true, overridden: true, report, summary: `drift: ${lines.length} SQL line(s) overridden with --allow-drift: ${reason}`, warning: `${env.name}: deploying despite drift (--allow-drift: ${reason})` };
  }
  throw new StagedbError('history', 'E_DRIFT', `${env.name}: the database has changed outside its migration history (drift); nothing was applied`, {
    details: lines.slice(0, 20).concat(lines.length > 20 ? [`… ${lines.length - 20} more (stagedb migrate diff --from migrations --to env:${env.name})`] : []),
    fix: `see it: stagedb status --drift --env ${env.name}; keep it as a migration or undo it by hand (docs/release.md), or deploy anyway: ${retry}`,
  });
}
