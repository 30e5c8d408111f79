/**
 * Reads one judge record (GetObject of judge/<service>/<releaseKey>.json): the tick's one AWS call, and the read the
 * judge's own store uses (lambda/canary-judge/s3-state.ts). No record yet is `undefined`, not an error.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JudgeRecord } from '../shared/contract';

export function s3RecordReader(s3: S3Client, bucket: string): { load(key: string, signal?: AbortSignal): Promise<JudgeRecord | undefined> } {
  return {
    async load(key, signal) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
        const record = JSON.parse(await out.Body!.transformToString()) as JudgeRecord;
        if (record.schemaVersion !== 1) throw new Error(`s3://${bucket}/${key} has schemaVersion ${record.schemaVersion}; this judge reads 1`);
        return record;
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
  };
}
