import type { RdsInstancePosture } from '../backup/rds.js';
import { shellQuote } from '../shell-quote.js';
import type { CheckOutcome, DoctorCheck, DoctorState } from './types.js';

/**
 * The environment's RDS instance as DescribeDBInstances reports it, asked once per doctor run for the
 * posture checks (DOC018–DOC025). Undefined when the config names no instance (`backup.rds`): those
 * checks then skip. `@aws-sdk/client-rds` is loaded only here, only then.
 */
export function rdsPosture(s: DoctorState): Promise<RdsInstancePosture> | undefined {
  if (!s.env?.backup.rds) return undefined;
  s.rds ??= import('../backup/rds.js').then((m) => m.describeRdsInstance({ env: s.env!, processEnv: s.processEnv }));
  s.rds.catch(() => {});
  return s.rds;
}

/** An environment that names no RDS instance: nothing to check (as DOC015 with no replicas). */
export const NO_RDS: CheckOutcome = {
  status: 'ok',
  detail: 'no RDS instance in the config (backup.rds): not checked',
};

/** `aws rds modify-db-instance` for this instance with the given options. */
export function modifyCommand(p: RdsInstancePosture, options: string): string {
  return `aws rds modify-db-instance --db-instance-identifier ${shellQuote(p.instance)} ${options} --region ${shellQuote(p.region)}`;
}

export const isProduction = (s: DoctorState) => s.env?.protection === 'production';

/**
 * One RDS posture check (DOC019 onwards): skipped with NO_RDS when the config names no instance, and
 * after DOC018 (which reads the instance and fails when it cannot); `judge` sees the instance as read.
 */
export function rdsCheck(code: string, name: string, judge: (p: RdsInstancePosture, s: DoctorState) => CheckOutcome | Promise<CheckOutcome>): DoctorCheck {
  return {
    code,
    name,
    requires: ['DOC018'],
    async run(s) {
      const pending = rdsPosture(s);
      return pending ? judge(await pending, s) : NO_RDS;
    },
  };
}
