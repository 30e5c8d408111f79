/** The judge records' store on S3: the tick's reader (GetObject) plus PutObject of judge/<service>/<releaseKey>.json. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3RecordReader } from '../canary-judge-tick/record-reader';
import type { JudgeRecord } from '../shared/contract';

export function s3State(
  s3: S3Client,
  bucket: string,
): { load(key: string, signal?: AbortSignal): Promise<JudgeRecord | undefined>; save(key: string, record: JudgeRecord): Promise<void> } {
  return {
    load: s3RecordReader(s3, bucket).load,
    async save(key, record) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${JSON.stringify(record)}\n`, ContentType: 'application/json' }));
    },
  };
}
