/** The judge records' store on S3: the tick's reader (GetObject) plus PutObject of judge/<service>/<releaseKey>.json. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3RecordReader } from '../canary-judge-tick/record-reader';
import { type JudgeRecord, judgeDeploymentPointerKey } from '../shared/contract';
import type { PointerPort } from './service-input';

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

/** The deployment pointers on S3 (judge/_deployments/<id>.json, service-input.ts): a missing one is undefined. */
export function s3Pointers(s3: S3Client, bucket: string): PointerPort {
  return {
    async read(deploymentId) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: judgeDeploymentPointerKey(deploymentId) }));
        const body = JSON.parse((await out.Body?.transformToString()) ?? 'null') as { settings?: Record<string, string> } | null;
        return body?.settings;
      } catch (e) {
        const name = (e as { name?: string }).name;
        if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
        throw e;
      }
    },
    async write(deploymentId, settings) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: judgeDeploymentPointerKey(deploymentId),
          Body: `${JSON.stringify({ deploymentId, settings })}\n`,
          ContentType: 'application/json',
        }),
      );
    },
  };
}
