import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import type { StagedbError } from '../errors.js';

/** What one check found. `skip`: a check it depends on did not pass, so running it would say nothing new. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One check's outcome, as `doctor` prints it and `--json` returns it. */
export interface CheckResult {
  /** Stable code (DOC001 …): scripts and docs may rely on it. */
  code: string;
  /** Short kebab-case name, e.g. `tcp`. */
  name: string;
  status: CheckStatus;
  /** One line: what was found. */
  detail: string;
  /** The exact command or action that fixes it (warn and fail). */
  fix?: string;
}

/** What a check returns; the runner adds its code and name. */
export type CheckOutcome = Omit<CheckResult, 'code' | 'name'>;

/** Shared, lazily filled state of one environment's doctor run. Checks read what earlier checks left. */
export interface DoctorState {
  config: ResolvedConfig;
  envName: string;
  processEnv: NodeJS.ProcessEnv;
  /** Network and connect timeout for DNS, TCP and the PostgreSQL connection, in ms. */
  timeoutMs: number;
  /** The resolved environment, when resolution succeeded. */
  env?: ResolvedEnvironment;
  /** Why resolution failed, when it did (each check claims the error codes it explains). */
  resolveError?: StagedbError;
  /** The open connection on the direct URL (after DOC006–DOC008 passed). */
  client?: Client;
  /** The connect attempt's error, when it failed. */
  connectError?: StagedbError;
  /** server_version_num, once connected. */
  serverVersionNum?: number;
  serverVersion?: string;
  /** The RDS instance's DescribeDBInstances (DOC018–DOC024), asked once. */
  rds?: Promise<import('../backup/rds.js').RdsInstancePosture>;
  /** The instance's last hour in CloudWatch (DOC024), asked once. */
  rdsMetrics?: Promise<import('../aws/cloudwatch.js').RdsMetrics>;
}

/** One doctor check: one file under src/doctor/checks/, with a stable code. */
export interface DoctorCheck {
  code: string;
  name: string;
  /** Codes of checks that must be ok or warn for this one to run. */
  requires: string[];
  run(state: DoctorState): Promise<CheckOutcome>;
}
