import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonInternalError, serveAwsStandIn } from './aws-stand-in.js';
import { checkSigV4 } from './sigv4.js';

/**
 * A loopback stand-in for the AWS Secrets Manager JSON API (awsJson1_1: POST /, X-Amz-Target
 * `secretsmanager.GetSecretValue`, a JSON body, JSON answers and `__type` errors, as documented in
 * the Secrets Manager API reference). Every request must carry a SigV4 Authorization header for
 * service `secretsmanager` in the configured region with the known key, and the real
 * `@aws-sdk/client-secrets-manager` is what the tests send with.
 *
 * Not AWS: the signature is re-derived with the one known secret key (test/helpers/sigv4.ts); no IAM,
 * no KMS, no versions.
 */
export interface SecretsServer {
  endpoint: string;
  requests: Array<{ target: string; body: Record<string, unknown>; authorization: string }>;
  close(): Promise<void>;
}

export async function startSecretsServer(o: { region?: string; accessKeyId?: string; secretAccessKey?: string; secrets: Record<string, string>; accessDenied?: boolean; throttle?: boolean }): Promise<SecretsServer> {
  const region = o.region ?? 'eu-west-1';
  const accessKeyId = o.accessKeyId ?? 'AKIASTAGEDBTEST';
  const secretAccessKey = o.secretAccessKey ?? 'test-secret-key';
  const requests: SecretsServer['requests'] = [];
  const handle = async (req: IncomingMessage, raw: string, res: ServerResponse) => {
    const authorization = String(req.headers.authorization ?? '');
    const target = String(req.headers['x-amz-target'] ?? '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      return fail(400, 'SerializationException', 'not JSON');
    }
    requests.push({ target, body, authorization });
    function fail(status: number, type: string, message: string) {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ __type: type, message }));
    }
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.1') return fail(400, 'SerializationException', 'expected an awsJson1_1 POST');
    const bad = await checkSigV4(req, raw, { service: 'secretsmanager', region, accessKeyId, secretAccessKey });
    // Secrets Manager's names for them (awsJson): an unknown key is UnrecognizedClientException.
    if (bad) return fail(400, bad.code === 'InvalidClientTokenId' ? 'UnrecognizedClientException' : bad.code === 'IncompleteSignature' ? 'IncompleteSignatureException' : 'InvalidSignatureException', bad.message);
    if (!String(req.headers.authorization).match(/SignedHeaders=[^,]*x-amz-target/)) return fail(400, 'IncompleteSignatureException', 'x-amz-target must be signed');
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
  return { ...(await serveAwsStandIn(handle, jsonInternalError)), requests };
}

