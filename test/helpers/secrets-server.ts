import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SecretFetcher } from '../../src/aws/secrets.js';
import { Sha256 } from './rds-iam-signer.js';

/**
 * A loopback stand-in for the AWS Secrets Manager JSON API (awsJson1_1: POST /, X-Amz-Target
 * `secretsmanager.GetSecretValue`, a JSON body, JSON answers and `__type` errors, as documented in
 * the Secrets Manager API reference). Every request must carry a SigV4 Authorization header for
 * service `secretsmanager` in the configured region with the known access key.
 *
 * Not AWS: the signature is checked for its form, not re-derived; no IAM, no KMS, no versions.
 */
export interface SecretsServer {
  endpoint: string;
  requests: Array<{ target: string; body: Record<string, unknown>; authorization: string }>;
  close(): Promise<void>;
}

export async function startSecretsServer(o: { region?: string; accessKeyId?: string; secrets: Record<string, string>; accessDenied?: boolean; throttle?: boolean }): Promise<SecretsServer> {
  const region = o.region ?? 'eu-west-1';
  const accessKeyId = o.accessKeyId ?? 'AKIASTAGEDBTEST';
  const requests: SecretsServer['requests'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const authorization = String(req.headers.authorization ?? '');
    const target = String(req.headers['x-amz-target'] ?? '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return fail(400, 'SerializationException', 'not JSON');
    }
    requests.push({ target, body, authorization });
    function fail(status: number, type: string, message: string) {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ __type: type, message }));
    }
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.1') return fail(400, 'SerializationException', 'expected an awsJson1_1 POST');
    const sig = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/secretsmanager\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!sig) return fail(400, 'IncompleteSignatureException', 'Authorization header requires a valid SigV4 signature for service secretsmanager');
    if (sig[3] !== region) return fail(400, 'InvalidSignatureException', `Credential should be scoped to a valid region, not '${sig[3]}'`);
    if (!sig[4]!.split(';').includes('host') || !sig[4]!.split(';').includes('x-amz-target')) return fail(400, 'IncompleteSignatureException', 'host and x-amz-target must be signed');
    if (sig[1] !== accessKeyId) return fail(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (target !== 'secretsmanager.GetSecretValue') return fail(400, 'UnknownOperationException', `unknown operation ${target}`);
    if (o.throttle) return fail(400, 'ThrottlingException', 'Rate exceeded');
    if (o.accessDenied) return fail(400, 'AccessDeniedException', `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: secretsmanager:GetSecretValue`);
    const id = String(body.SecretId ?? '');
    const name = id.startsWith('arn:') ? id.split(':secret:')[1]!.replace(/-[A-Za-z0-9]{6}$/, '') : id;
    const value = o.secrets[name];
    if (value === undefined) return fail(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ ARN: `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbCdEf`, Name: name, SecretString: value, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 }));
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500);
      res.end(JSON.stringify({ __type: 'InternalServiceError', message: String(e) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * What `@aws-sdk/client-secrets-manager`'s GetSecretValueCommand sends (it is not installed here):
 * the awsJson1_1 request signed with @smithy/signature-v4, its errors shaped as the SDK's
 * (`name` = `__type`, `$metadata.httpStatusCode`).
 */
export function signedFetcher(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): SecretFetcher {
  return async ({ secretId, region }) => {
    const u = new URL(endpoint);
    const body = JSON.stringify({ SecretId: secretId });
    const signer = new SignatureV4({ service: 'secretsmanager', region, credentials, sha256: Sha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: '/',
      headers: { host: u.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body,
    });
    // The SDK's node handler fails with the socket's error (ECONNREFUSED …); fetch wraps it.
    const res = await fetch(endpoint, { method: 'POST', headers: signed.headers as Record<string, string>, body }).catch((e: unknown) => {
      throw (e as { cause?: unknown }).cause ?? e;
    });
    const json = (await res.json()) as { __type?: string; message?: string; SecretString?: string };
    if (!res.ok) throw Object.assign(new Error(json.message ?? json.__type), { name: json.__type?.split('#').pop(), $metadata: { httpStatusCode: res.status } });
    return json.SecretString!;
  };
}
