import type { AwsCall } from '../shared/aws-calls';

// The deployer reads every id from the custom resource's properties (lib/rollout/config-deployment.ts).
const app = { resourceProperty: 'Application' };
const environment = { resourceProperty: 'Environment' };
const candidate = { resourceProperty: 'CandidateEnvironment' };
/** Deployment numbers are assigned by AppConfig: the first, and one far on. */
const deployment = { assignedAtRunTime: ['1', '4711'] };

/** Every AWS call the config deployer makes (appconfig-port.ts). */
export const AWS_CALLS: readonly AwsCall[] = [
  {
    api: 'StartDeployment',
    action: 'appconfig:StartDeployment',
    arnVariables: {
      ApplicationId: app,
      EnvironmentId: environment,
      ConfigurationProfileId: { resourceProperty: 'Profile' },
      DeploymentStrategyId: { resourceProperty: 'Strategy' },
    },
  },
  // A stack rollback redeploys the previous version with the instant strategy.
  {
    api: 'StartDeployment',
    action: 'appconfig:StartDeployment',
    resourceTypes: ['deploymentstrategy'],
    arnVariables: { DeploymentStrategyId: { resourceProperty: 'RollbackStrategy' } },
  },
  { api: 'GetDeployment', action: 'appconfig:GetDeployment', arnVariables: { ApplicationId: app, EnvironmentId: environment, DeploymentNumber: deployment } },
  { api: 'ListDeployments', action: 'appconfig:ListDeployments', arnVariables: { ApplicationId: app, EnvironmentId: environment } },
  { api: 'StopDeployment', action: 'appconfig:StopDeployment', arnVariables: { ApplicationId: app, EnvironmentId: environment, DeploymentNumber: deployment } },
  // The config gate (when connected): the candidate is staged with the instant strategy and waited for, then the gate
  // function is invoked synchronously (gate-port.ts).
  {
    api: 'StartDeployment',
    action: 'appconfig:StartDeployment',
    arnVariables: {
      ApplicationId: app,
      EnvironmentId: candidate,
      ConfigurationProfileId: { resourceProperty: 'Profile' },
      DeploymentStrategyId: { resourceProperty: 'RollbackStrategy' },
    },
  },
  { api: 'GetDeployment', action: 'appconfig:GetDeployment', arnVariables: { ApplicationId: app, EnvironmentId: candidate, DeploymentNumber: deployment } },
  { api: 'ListDeployments', action: 'appconfig:ListDeployments', arnVariables: { ApplicationId: app, EnvironmentId: candidate } },
  { api: 'StopDeployment', action: 'appconfig:StopDeployment', arnVariables: { ApplicationId: app, EnvironmentId: candidate, DeploymentNumber: deployment } },
  { api: 'Invoke', action: 'lambda:InvokeFunction', arnVariables: { FunctionName: { resourceProperty: 'GateFunction' } } },
  // A release the gate stopped: the platform's reviewer is asked for its review, asynchronously (review-port.ts).
  { api: 'Invoke', action: 'lambda:InvokeFunction', arnVariables: { FunctionName: { resourceProperty: 'ReviewFunction' } } },
  // The hosted-version cleanup (version-cleanup.ts): on stack delete, every version of each profile it names (both of a service).
  {
    api: 'ListHostedConfigurationVersions',
    action: 'appconfig:ListHostedConfigurationVersions',
    arnVariables: { ApplicationId: app, ConfigurationProfileId: { resourceProperty: 'ConfigurationProfiles' } },
  },
  {
    api: 'DeleteHostedConfigurationVersion',
    action: 'appconfig:DeleteHostedConfigurationVersion',
    arnVariables: {
      ApplicationId: app,
      ConfigurationProfileId: { resourceProperty: 'ConfigurationProfiles' },
      VersionNumber: { assignedAtRunTime: ['1', '4711'] },
    },
  },
  // The request markers (lambda/shared/s3-marker-store.ts): a conditional PutObject takes a request, GetObject lets a
  // repeated delivery follow the first.
  {
    api: 'PutObject',
    action: 's3:PutObject',
    arnVariables: { BucketName: { resourceProperty: 'MarkerBucket' }, ObjectName: { assignedAtRunTime: ['markers/config-deployer/0f1e2d3c.json'] } },
  },
  {
    api: 'GetObject',
    action: 's3:GetObject',
    arnVariables: { BucketName: { resourceProperty: 'MarkerBucket' }, ObjectName: { assignedAtRunTime: ['markers/config-deployer/0f1e2d3c.json'] } },
  },
  // A marker not there yet must read as a 404 (markers.read answers undefined and the repeat waits), which S3 answers
  // only to a caller allowed s3:ListBucket on the bucket; without it the read is a 403 and throws.
  { api: 'GetObject', action: 's3:ListBucket', resourceTypes: ['bucket'], arnVariables: { BucketName: { resourceProperty: 'MarkerBucket' } } },
];

/**
 * The assigned config canary's calls (only when the resource names a ShareController, AiRelease `configCanary:
 * 'assigned'`): the start and rollback requests to the service's share controller (share-port.ts, synchronous), and
 * its current record; ListBucket so a first read (no release ever ran) is a 404, not a 403. The candidate stage uses
 * the gate's calls above.
 */
export const ASSIGNED_CALLS: readonly AwsCall[] = [
  { api: 'Invoke', action: 'lambda:InvokeFunction', arnVariables: { FunctionName: { resourceProperty: 'ShareController' } } },
  {
    api: 'GetObject',
    action: 's3:GetObject',
    resourceTypes: ['object'],
    arnVariables: { BucketName: { resourceProperty: 'ShareBucket' }, ObjectName: { assignedAtRunTime: ['share/support-assistant/current.json'] } },
  },
  { api: 'GetObject', action: 's3:ListBucket', resourceTypes: ['bucket'], arnVariables: { BucketName: { resourceProperty: 'ShareBucket' } } },
];
