import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type ShareControllerRecord, type ShareControllerStarted, shareKey } from '../shared/contract';
import type { ShareControlPort } from './config-deployer';
import { readInvokeAnswer } from './gate-port';

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const named = (e: unknown) => (e as { name?: string })?.name;

/**
 * The share controller port over Lambda Invoke (RequestResponse: Lambda itself never retries a synchronous invoke,
 * and the controller's answer or its error comes back) and its current record in S3. A function error (the payload
 * is the error, `FunctionError` set) rejects with the controller's message; a throttled invoke (the controller runs
 * one look at a time) rejects with TooManyRequestsException, which the deployer tries again.
 */
export function lambdaShareControl(lambda: LambdaClient, s3: S3Client, p: { functionName: string; bucket: string; service: string }): ShareControlPort {
  const invoke = async (event: unknown): Promise<unknown> => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: p.functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
    );
    return readInvokeAnswer(out, 'the share controller');
  };
  // share/<service>/current.json (lambda/share-controller/aws-adapters.ts currentKey).
  const key = shareKey(p.service, 'current');
  return {
    start: async (event) => (await invoke(event)) as ShareControllerStarted,
    async rollback(releaseKey, reason) {
      await invoke({ kind: 'ai-release.share-rollback', releaseKey, reason });
    },
    async current() {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: p.bucket, Key: key }));
        const text = await out.Body?.transformToString('utf8');
        return text ? (JSON.parse(text) as ShareControllerRecord) : undefined;
      } catch (e) {
        if (status(e) === 404 || named(e) === 'NoSuchKey') return undefined;
        throw new Error(`share record s3://${p.bucket}/${key}: GetObject failed: ${named(e) ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`);
      }
    },
  };
}
