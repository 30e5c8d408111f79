import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ShareControllerRecord } from '../shared/contract';
import type { AssignedConfigRelease, AssignedReleasesPort, ConfigVersionsPort } from './canary-judge';

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const named = (e: unknown) => (e as { name?: string })?.name;

/**
 * What the judge judges of the share controller's record (pure): a release only while it is `ramping` (on traffic,
 * not yet decided); its label from the record, or from the hosted version when the start named none.
 */
export async function assignedFromRecord(
  record: ShareControllerRecord | undefined,
  label: (version: string) => Promise<string>,
): Promise<AssignedConfigRelease | undefined> {
  if (record?.phase !== 'ramping') return undefined;
  return {
    releaseKey: record.releaseKey,
    candidateLabel: record.candidateLabel ?? (await label(record.candidateVersion)),
    startedAt: record.startedAt,
  };
}

/** The share controller's current record in the regression store (GetObject; no record: no assigned release). */
export function s3AssignedReleases(s3: S3Client, bucket: string, key: string, versions: ConfigVersionsPort, profileId: string): AssignedReleasesPort {
  return {
    async current() {
      let record: ShareControllerRecord | undefined;
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const text = await out.Body?.transformToString('utf8');
        record = text ? (JSON.parse(text) as ShareControllerRecord) : undefined;
      } catch (e) {
        if (status(e) !== 404 && named(e) !== 'NoSuchKey') throw e;
      }
      return assignedFromRecord(record, (v) => versions.label(profileId, v));
    },
  };
}
