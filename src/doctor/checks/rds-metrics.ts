import { StagedbError } from '../../errors.js';
import { formatBytes } from '../../backup/manifest.js';
import { rdsCheck } from '../rds.js';

/** Average CPU above this for the last hour is worth a warning. */
const CPU_WARN_PERCENT = 80;
/** Free storage below this share of the allocated storage is worth a warning (RDS stops writes when full). */
const STORAGE_WARN_SHARE = 0.1;
/** A replica this far behind serves reads a minute old. */
const LAG_WARN_SECONDS = 60;

/**
 * DOC024: the instance's last hour in CloudWatch (GetMetricData): CPU, free storage, connections and,
 * for a read replica, replica lag, shown with the environment; a warning when one is in a bad place.
 * Metrics that cannot be read are a warning, never a failure: they say nothing about the database.
 */
export const rdsMetrics = rdsCheck('DOC024', 'rds-metrics', async (p, s) => {
  let m;
  try {
    const { rdsMetrics: read } = await import('../../aws/cloudwatch.js');
    const storage = s.env!.backup.storage;
    s.rdsMetrics ??= read({ instance: p.instance, region: p.region, processEnv: s.processEnv, credentials: storage.kind === 's3' ? storage.credentials : undefined });
    m = await s.rdsMetrics;
  } catch (e) {
    if (!(e instanceof StagedbError)) throw e;
    return { status: 'warn', detail: `cannot read the last hour from CloudWatch: ${e.message}`, fix: e.fix };
  }
  const parts: string[] = [];
  const problems: string[] = [];
  if (m.cpuPercent) {
    parts.push(`CPU ${Math.round(m.cpuPercent.average)} % average, ${Math.round(m.cpuPercent.max)} % max`);
    if (m.cpuPercent.average >= CPU_WARN_PERCENT) problems.push(`CPU averaged ${Math.round(m.cpuPercent.average)} %`);
  }
  if (m.freeStorageBytes) {
    const total = p.allocatedStorage ? p.allocatedStorage * 1024 ** 3 : undefined;
    const share = total ? m.freeStorageBytes.min / total : undefined;
    parts.push(`free storage ${formatBytes(m.freeStorageBytes.min)} at least${total ? ` (${Math.round((share ?? 0) * 100)} % of ${p.allocatedStorage} GB)` : ''}`);
    if (share !== undefined && share < STORAGE_WARN_SHARE) problems.push(`only ${formatBytes(m.freeStorageBytes.min)} of storage free`);
  }
  if (m.connections) parts.push(`${Math.round(m.connections.max)} connections max`);
  if (m.replicaLagSeconds) {
    parts.push(`replica lag ${Math.round(m.replicaLagSeconds.max)} s max`);
    if (m.replicaLagSeconds.max >= LAG_WARN_SECONDS) problems.push(`replica lag reached ${Math.round(m.replicaLagSeconds.max)} s`);
  } else if (p.replicaOf) parts.push('no replica lag reported');
  if (parts.length === 0) {
    return {
      status: 'warn',
      detail: `CloudWatch has no datapoints for ${p.instance} in the last hour`,
      fix: `check that ${p.instance} is running and is the instance in backup.rds (aws rds describe-db-instances --db-instance-identifier ${p.instance} --region ${p.region})`,
    };
  }
  const detail = `last hour of ${p.instance}: ${parts.join('; ')}`;
  if (problems.length === 0) return { status: 'ok', detail };
  const fixes = [
    ...(problems.some((x) => x.startsWith('CPU')) ? [`a larger instance class (aws rds modify-db-instance --db-instance-identifier ${p.instance} --db-instance-class <class> --region ${p.region}) or the queries Performance Insights names`] : []),
    ...(problems.some((x) => x.includes('storage')) ? [`more storage, or storage autoscaling: aws rds modify-db-instance --db-instance-identifier ${p.instance} --max-allocated-storage <GB> --apply-immediately --region ${p.region}`] : []),
    ...(problems.some((x) => x.startsWith('replica')) ? ['find what holds the replica back: long queries on it, or write bursts on the primary (stagedb doctor on the replica environment)'] : []),
  ];
  return { status: 'warn', detail: `${detail}: ${problems.join(', ')}`, fix: fixes.join('; ') };
});
