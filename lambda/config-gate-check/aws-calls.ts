import type { AwsCall } from '../shared/aws-calls';
import { GATE_CHECK_ENV } from '../shared/contract';

/** Every AWS call the gate check makes (aws-adapters.ts). The AppConfig ids come from the event; the samples are the services' live environments. */
export const AWS_CALLS: readonly AwsCall[] = [
  // ListBucket: a missing record must answer 404 (no record), not 403 (S3 API reference, GetObject permissions).
  { api: 'ListObjectsV2', action: 's3:ListBucket', arnVariables: { BucketName: { env: GATE_CHECK_ENV.BUCKET } } },
  {
    api: 'GetObject',
    action: 's3:GetObject',
    arnVariables: { BucketName: { env: GATE_CHECK_ENV.BUCKET }, ObjectName: { assignedAtRunTime: ['gates/support-assistant/config-3.json'] } },
  },
  {
    api: 'ListDeployments',
    action: 'appconfig:ListDeployments',
    arnVariables: { ApplicationId: { resourceProperty: 'Application' }, EnvironmentId: { resourceProperty: 'Environment' } },
  },
  {
    api: 'GetDeployment',
    action: 'appconfig:GetDeployment',
    arnVariables: {
      ApplicationId: { resourceProperty: 'Application' },
      EnvironmentId: { resourceProperty: 'Environment' },
      DeploymentNumber: { assignedAtRunTime: ['1', '4711'] },
    },
  },
];
