import { StagedbError } from '../../errors.js';
import { shellQuote } from '../../shell-quote.js';
import { isProduction, modifyCommand, rdsCheck } from '../rds.js';

/**
 * DOC022: the instance's parameter group sets rds.force_ssl = 1, so the server itself refuses a
 * connection without TLS (encryption in transit whatever a client's URL says). Read with
 * DescribeDBParameters. A `default.*` group cannot be changed: the fix makes a custom one.
 */
export const rdsForceSsl = rdsCheck('DOC022', 'rds-force-ssl', async (p, s) => {
  const r = `--region ${shellQuote(p.region)}`;
  if (!p.parameterGroup) return { status: 'warn', detail: `RDS reports no parameter group for ${p.instance}: rds.force_ssl not checked` };
  let value: string | undefined;
  try {
    const { readRdsParameter } = await import('../../backup/rds.js');
    value = await readRdsParameter({ env: s.env!, processEnv: s.processEnv, group: p.parameterGroup, name: 'rds.force_ssl' });
  } catch (e) {
    if (!(e instanceof StagedbError)) throw e;
    return { status: 'warn', detail: `cannot read parameter group ${p.parameterGroup}: ${e.message}`, fix: e.fix };
  }
  if (value === '1') return { status: 'ok', detail: `rds.force_ssl = 1 in parameter group ${p.parameterGroup}: the server refuses connections without TLS` };
  const major = /^(\d+)/.exec(p.engineVersion ?? '')?.[1] ?? '<major>';
  const set = 'ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=immediate';
  const fix = p.parameterGroup.startsWith('default.')
    ? `a default group cannot be changed: aws rds create-db-parameter-group --db-parameter-group-name ${shellQuote(`${p.instance}-params`)} --db-parameter-group-family postgres${major} --description 'stagedb: rds.force_ssl' ${r}, then aws rds modify-db-parameter-group --db-parameter-group-name ${shellQuote(`${p.instance}-params`)} --parameters ${set} ${r}, then ${modifyCommand(p, `--db-parameter-group-name ${shellQuote(`${p.instance}-params`)} --apply-immediately`)} (takes effect at the next reboot)`
    : `aws rds modify-db-parameter-group --db-parameter-group-name ${shellQuote(p.parameterGroup)} --parameters ${set} ${r}   (clients without TLS are then refused: check them first)`;
  return {
    status: isProduction(s) ? 'warn' : 'ok',
    detail: `rds.force_ssl is ${value ?? 'not set'} in parameter group ${p.parameterGroup}: the server accepts unencrypted connections${isProduction(s) ? '' : ' (accepted for a non-production environment)'}`,
    ...(isProduction(s) ? { fix } : {}),
  };
});
