import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonInternalError, serveAwsStandIn } from './aws-stand-in.js';
import { checkSigV4 } from './sigv4.js';

/**
 * A loopback stand-in for the CloudWatch API as @aws-sdk/client-cloudwatch 3.11xx speaks it: the
 * awsJson1_0 protocol (POST /, X-Amz-Target `GraniteServiceVersion20100801.GetMetricData`, JSON
 * with epoch-second timestamps, `__type` errors with the awsQuery-compatible `x-amzn-query-error`
 * header). Every request's SigV4 signature (service `monitoring`) is re-derived with the known key.
 * It answers GetMetricData for namespace AWS/RDS from `series`: one value per 5 minutes, newest
 * first, over the hour asked. Not AWS: no IAM, one page, no math expressions.
 */
export interface CloudWatchServerOptions {
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Per metric name (CPUUtilization, FreeStorageSpace, DatabaseConnections, ReplicaLag): the values, newest first. Absent: no datapoints. */
  series?: Record<string, number[]>;
  accessDenied?: boolean;
  throttle?: boolean;
}

export interface CloudWatchServer {
  endpoint: string;
  requests: Array<{ target: string; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startCloudWatchServer(o: CloudWatchServerOptions = {}): Promise<CloudWatchServer> {
  const region = o.region ?? 'eu-west-1';
  const accessKeyId = o.accessKeyId ?? 'AKIASTAGEDBTEST';
  const secretAccessKey = o.secretAccessKey ?? 'test-secret-key';
  const requests: CloudWatchServer['requests'] = [];
  const handle = async (req: IncomingMessage, raw: string, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), 'x-amzn-query-error': `${code};Sender` });
      res.end(JSON.stringify({ __type: `com.amazonaws.cloudwatch#${code}`, message }));
    };
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      return fail(400, 'SerializationException', 'not JSON');
    }
    requests.push({ target, body });
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.0') return fail(400, 'SerializationException', 'expected an awsJson1_0 POST');
    const bad = await checkSigV4(req, raw, { service: 'monitoring', region, accessKeyId, secretAccessKey });
    if (bad) return fail(403, bad.code, bad.message);
    if (target !== 'GraniteServiceVersion20100801.GetMetricData') return fail(400, 'UnknownOperationException', `unknown operation ${target}`);
    if (o.throttle) return fail(400, 'Throttling', 'Rate exceeded');
    if (o.accessDenied) return fail(403, 'AccessDenied', 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudwatch:GetMetricData');
    const start = Number(body.StartTime);
    const end = Number(body.EndTime);
    if (!(start < end)) return fail(400, 'InvalidParameterValue', 'The parameter StartTime must be less than the parameter EndTime.');
    const queries = (body.MetricDataQueries ?? []) as Array<{ Id: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: string }> }; Period: number; Stat: string } }>;
    const results = [];
    for (const q of queries) {
      const ms = q.MetricStat;
      if (!ms || ms.Metric.Namespace !== 'AWS/RDS' || !ms.Metric.Dimensions?.some((d) => d.Name === 'DBInstanceIdentifier')) return fail(400, 'InvalidParameterValue', `query ${q.Id}: expected an AWS/RDS MetricStat with DBInstanceIdentifier`);
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(q.Id)) return fail(400, 'InvalidParameterValue', `The value ${q.Id} for parameter MetricDataQueries.member.Id is invalid.`);
      const values = (o.series?.[ms.Metric.MetricName] ?? []).slice(0, Math.floor((end - start) / ms.Period));
      results.push({ Id: q.Id, Label: ms.Metric.MetricName, StatusCode: 'Complete', Timestamps: values.map((_, i) => end - (i + 1) * ms.Period), Values: values });
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ MetricDataResults: results, Messages: [] }));
  };
  return { ...(await serveAwsStandIn(handle, jsonInternalError)), requests };
}
