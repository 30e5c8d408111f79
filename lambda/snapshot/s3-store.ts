import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from './store';

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const named = (e: unknown, ...names: string[]) => names.includes((e as { name?: string })?.name ?? '');

/**
 * The regression store on S3. Build the client with `maxAttempts: 1` and wrap the store with `withRetries`, so one
 * policy (backoff with full jitter, bounded by the invocation's time) decides retries instead of two stacked ones.
 *
 * Conditional writes: `IfNoneMatch: '*'` creates only, `IfMatch: <etag>` replaces only the version read; S3 answers
 * 412 Precondition Failed otherwise, and 409 ConditionalRequestConflict when a concurrent conditional write is in
 * flight (S3 User Guide, "Add preconditions to S3 operations with conditional requests"), and 404 NoSuchKey to an
 * If-Match on a key that was deleted since it was read. All three mean "read again".
 * A missing key answers 404 only because the function may `s3:ListBucket` the bucket (403 otherwise).
 */
export function s3Store(client: S3Client, bucket: string): ObjectStore {
  return {
    async get(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: (await r.Body?.transformToString('utf8')) ?? '', etag: r.ETag };
      } catch (e) {
        if (named(e, 'NoSuchKey', 'NotFound') || status(e) === 404) return undefined;
        throw e;
      }
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (e) {
        if (named(e, 'NotFound', 'NoSuchKey') || status(e) === 404) return false;
        throw e;
      }
    },
    async put(key, body, options = {}) {
      const c = options.condition;
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
            ...(c && 'ifNoneMatch' in c ? { IfNoneMatch: c.ifNoneMatch } : {}),
            ...(c && 'ifMatch' in c ? { IfMatch: c.ifMatch } : {}),
            ...(options.tags ? { Tagging: new URLSearchParams(options.tags as Record<string, string>).toString() } : {}),
          }),
        );
        return 'written';
      } catch (e) {
        if (status(e) === 412 || status(e) === 409 || named(e, 'PreconditionFailed', 'ConditionalRequestConflict')) return 'precondition-failed';
        // If-Match on a key that no longer exists answers 404 NoSuchKey: the version read is gone, so "read again" too.
        if (c && 'ifMatch' in c && (status(e) === 404 || named(e, 'NoSuchKey'))) return 'precondition-failed';
        throw e;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
  };
}
