import type { AwsCall } from '../shared/aws-calls';
import { LEARNING_ENV } from '../shared/contract';

const bucket = { env: LEARNING_ENV.BUCKET };

/** Every AWS call the tick function makes (record-reader.ts). */
export const AWS_CALLS: readonly AwsCall[] = [
  // The rollout's judge record: judge/<service from the association>/config-<environment>-<deployment>.json.
  {
    api: 'GetObject',
    action: 's3:GetObject',
    resourceTypes: ['object'],
    arnVariables: { BucketName: bucket, ObjectName: { assignedAtRunTime: ['judge/support-assistant/config-env1-7.json'] } },
  },
  // ListBucket so a tick before the first verdict reads a 404 (CONTINUE), not a 403.
  { api: 'GetObject', action: 's3:ListBucket', resourceTypes: ['bucket'], arnVariables: { BucketName: bucket } },
];
