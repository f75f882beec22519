import { StagedbError } from '../errors.js';
import { awsFailure, envCredentials, loadAwsSdk } from './sdk.js';
import { redact } from '../redact.js';
import { shellQuote } from '../shell-quote.js';

/**
 * An RDS instance's last hour in CloudWatch (GetMetricData, namespace AWS/RDS), for `doctor`: CPU,
 * free storage, connections and replica lag. `@aws-sdk/client-cloudwatch` is an optional peer
 * dependency, imported only here, only when an environment names its RDS instance (`backup.rds`).
 * AWS_ENDPOINT_URL_CLOUDWATCH (as the AWS SDKs read it) points it elsewhere; the tests point it at
 * a loopback stand-in of the CloudWatch JSON API (test/helpers/cloudwatch-server.ts), never AWS.
 */

/** One metric's last hour: undefined where CloudWatch has no datapoint (e.g. ReplicaLag of a primary). */
export interface RdsMetrics {
  instance: string;
  region: string;
  /** The hour asked for (ISO). */
  from: string;
  to: string;
  cpuPercent?: { average: number; max: number };
  /** Bytes. */
  freeStorageBytes?: { min: number; latest: number };
  connections?: { max: number; latest: number };
  /** Seconds. */
  replicaLagSeconds?: { max: number; latest: number };
}

interface Query {
  id: string;
  metric: string;
  stat: 'Average' | 'Maximum' | 'Minimum';
}

const QUERIES: Query[] = [
  { id: 'cpuAvg', metric: 'CPUUtilization', stat: 'Average' },
  { id: 'cpuMax', metric: 'CPUUtilization', stat: 'Maximum' },
  { id: 'freeStorage', metric: 'FreeStorageSpace', stat: 'Minimum' },
  { id: 'connections', metric: 'DatabaseConnections', stat: 'Maximum' },
  { id: 'replicaLag', metric: 'ReplicaLag', stat: 'Maximum' },
];

export interface RdsMetricsOptions {
  instance: string;
  region: string;
  processEnv?: NodeJS.ProcessEnv;
  /** Used when processEnv has no AWS_ACCESS_KEY_ID (e.g. the S3 storage's, from an env file). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  now?: Date;
}

/**
 * @throws config/E_CLOUDWATCH_SDK_MISSING, connection/E_CLOUDWATCH_AUTH, connection/E_CLOUDWATCH_THROTTLED,
 *   connection/E_CLOUDWATCH_UNREACHABLE, connection/E_CLOUDWATCH
 */
export async function rdsMetrics(o: RdsMetricsOptions): Promise<RdsMetrics> {
  const sdk = await loadAwsSdk<typeof import('@aws-sdk/client-cloudwatch')>({
    name: '@aws-sdk/client-cloudwatch',
    code: 'E_CLOUDWATCH_SDK_MISSING',
    needs: "the RDS instance's CloudWatch metrics need the AWS SDK for CloudWatch",
    dev: true,
  });
  const env = o.processEnv ?? process.env;
  const credentials = envCredentials(env) ?? o.credentials;
  const client = new sdk.CloudWatchClient({
    region: o.region,
    credentials,
    endpoint: env.AWS_ENDPOINT_URL_CLOUDWATCH || undefined,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 30_000 },
    maxAttempts: 3,
  });
  const to = new Date(Math.floor((o.now ?? new Date()).getTime() / 60_000) * 60_000);
  const from = new Date(to.getTime() - 60 * 60_000);
  try {
    const values = new Map<string, Array<{ t: number; v: number }>>();
    let next: string | undefined;
    do {
      const out = await client.send(
        new sdk.GetMetricDataCommand({
          StartTime: from,
          EndTime: to,
          ScanBy: 'TimestampDescending',
          NextToken: next,
          MetricDataQueries: QUERIES.map((q) => ({
            Id: q.id,
            ReturnData: true,
            MetricStat: { Metric: { Namespace: 'AWS/RDS', MetricName: q.metric, Dimensions: [{ Name: 'DBInstanceIdentifier', Value: o.instance }] }, Period: 300, Stat: q.stat },
          })),
        }),
      );
      for (const r of out.MetricDataResults ?? []) {
        const have = values.get(r.Id ?? '') ?? [];
        (r.Values ?? []).forEach((v, i) => have.push({ t: new Date(r.Timestamps?.[i] ?? 0).getTime(), v }));
        values.set(r.Id ?? '', have);
      }
      next = out.NextToken;
    } while (next);
    const series = (id: string) => (values.get(id) ?? []).sort((a, b) => b.t - a.t);
    const latest = (id: string) => series(id)[0]?.v;
    const fold = (id: string, f: (xs: number[]) => number) => (series(id).length ? f(series(id).map((x) => x.v)) : undefined);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cpuAvg = fold('cpuAvg', mean);
    const cpuMax = fold('cpuMax', (xs) => Math.max(...xs));
    const storageMin = fold('freeStorage', (xs) => Math.min(...xs));
    const connMax = fold('connections', (xs) => Math.max(...xs));
    const lagMax = fold('replicaLag', (xs) => Math.max(...xs));
    return {
      instance: o.instance,
      region: o.region,
      from: from.toISOString(),
      to: to.toISOString(),
      ...(cpuAvg !== undefined ? { cpuPercent: { average: cpuAvg, max: cpuMax ?? cpuAvg } } : {}),
      ...(storageMin !== undefined ? { freeStorageBytes: { min: storageMin, latest: latest('freeStorage')! } } : {}),
      ...(connMax !== undefined ? { connections: { max: connMax, latest: latest('connections')! } } : {}),
      ...(lagMax !== undefined ? { replicaLagSeconds: { max: lagMax, latest: latest('replicaLag')! } } : {}),
    };
  } catch (e) {
    throw cloudWatchError(e, o.instance, o.region, env.AWS_ENDPOINT_URL_CLOUDWATCH);
  } finally {
    client.destroy();
  }
}

function cloudWatchError(e: unknown, instance: string, region: string, endpoint: string | undefined): StagedbError {
  if (e instanceof StagedbError) return e;
  const err = e as { name?: string; code?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? err.Code ?? '';
  const what = `the CloudWatch metrics of RDS instance ${instance} (${region}${endpoint ? `, ${endpoint}` : ''})`;
  const message = redact(err.message ?? name);
  const failure = awsFailure(e);
  if (failure?.kind === 'no-credentials') {
    return new StagedbError('connection', 'E_CLOUDWATCH_AUTH', `cannot read ${what}: no AWS credentials found`, {
      fix: 'export AWS_PROFILE=<profile> (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where an instance or task role is attached',
      cause: e,
    });
  }
  if (failure?.kind === 'refused') {
    return new StagedbError('connection', 'E_CLOUDWATCH_AUTH', `${what}: the credentials were refused (${failure.shown})`, {
      fix: "check AWS_PROFILE / AWS_ACCESS_KEY_ID and the role's permissions: cloudwatch:GetMetricData",
      cause: e,
    });
  }
  if (failure?.kind === 'throttled') {
    return new StagedbError('connection', 'E_CLOUDWATCH_THROTTLED', `AWS throttled the request for ${what} (${message})`, { fix: 'run the same command again in a moment', cause: e });
  }
  if (failure?.kind === 'unreachable') {
    return new StagedbError('connection', 'E_CLOUDWATCH_UNREACHABLE', `cannot reach CloudWatch for ${what} (${failure.shown})`, {
      fix: endpoint ? `check that ${endpoint} (AWS_ENDPOINT_URL_CLOUDWATCH) is reachable from here` : 'check the network (a proxy, a VPC endpoint for monitoring, a firewall) and the region',
      cause: e,
    });
  }
  return new StagedbError('connection', 'E_CLOUDWATCH', `cannot read ${what}: ${message}`, {
    fix: `see: aws cloudwatch get-metric-statistics --namespace AWS/RDS --metric-name CPUUtilization --dimensions Name=DBInstanceIdentifier,Value=${shellQuote(instance)} --statistics Average --period 300 --start-time <1 h ago> --end-time <now> --region ${shellQuote(region)}`,
    cause: e,
  });
}
