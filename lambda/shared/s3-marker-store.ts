import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MarkerStore } from './idempotency';

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const named = (e: unknown) => (e as { name?: string })?.name;

/**
 * The marker store over S3. `create` is a PutObject with `If-None-Match: *`: 412 PreconditionFailed means an object
 * already has the key; 409 ConditionalRequestConflict means a conditional write of the same key is in flight, which
 * S3 resolves for one writer only (S3 User Guide, "Conditional writes"): the other delivery got there, so it is not ours.
 */
export function s3MarkerStore(client: S3Client, bucket: string): MarkerStore {
  return {
    async create(key, body) {
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
        return true;
      } catch (e) {
        if (status(e) === 412 || named(e) === 'PreconditionFailed') return false;
        if (status(e) === 409 || named(e) === 'ConditionalRequestConflict') return false;
        throw new Error(`marker s3://${bucket}/${key}: PutObject (If-None-Match) failed: ${named(e) ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`);
      }
    },
    async read(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await out.Body?.transformToString('utf8')) ?? '';
      } catch (e) {
        if (status(e) === 404 || named(e) === 'NoSuchKey') return undefined;
        throw new Error(`marker s3://${bucket}/${key}: GetObject failed: ${named(e) ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`);
      }
    },
    async write(key, body) {
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
      } catch (e) {
        throw new Error(`marker s3://${bucket}/${key}: PutObject failed: ${named(e) ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`);
      }
    },
  };
}
