import type { AwsCall } from '../shared/aws-calls';
import { LEARNING_ENV, SHARE_CONTROLLER_ENV as E } from '../shared/contract';

const app = { env: E.APPLICATION };
const shareEnv = { env: E.SHARE_ENVIRONMENT };
const liveEnv = { env: E.LIVE_ENVIRONMENT };
const bucket = { env: LEARNING_ENV.BUCKET };
// Keys it reads and writes: share/<service>/current.json and share/<service>/<releaseKey>.json; judge/<service>/<releaseKey>.json.
const shareObjects = { assignedAtRunTime: ['share/support-assistant/current.json', 'share/support-assistant/config-assigned-7-lx2k3.json'] };
const judgeObjects = { assignedAtRunTime: ['judge/support-assistant/config-assigned-7-lx2k3.json'] };

/** Every AWS call the share controller makes (aws-adapters.ts). */
export const AWS_CALLS: readonly AwsCall[] = [
  // A new share document: a hosted version of the share profile, deployed instantly to the share environment.
  {
    api: 'CreateHostedConfigurationVersion',
    action: 'appconfig:CreateHostedConfigurationVersion',
    arnVariables: { ApplicationId: app, ConfigurationProfileId: { env: E.SHARE_PROFILE } },
  },
  {
    api: 'StartDeployment',
    action: 'appconfig:StartDeployment',
    arnVariables: { ApplicationId: app, EnvironmentId: shareEnv, ConfigurationProfileId: { env: E.SHARE_PROFILE }, DeploymentStrategyId: { env: E.STRATEGY } },
  },
  // Only when an earlier share still holds the share environment: find and stop it.
  { api: 'ListDeployments', action: 'appconfig:ListDeployments', arnVariables: { ApplicationId: app, EnvironmentId: shareEnv } },
  {
    api: 'StopDeployment',
    action: 'appconfig:StopDeployment',
    arnVariables: { ApplicationId: app, EnvironmentId: shareEnv, DeploymentNumber: { assignedAtRunTime: ['1', '42'] } },
  },
  // Promotion: the passed version to the live environment (instant strategy), then its state.
  {
    api: 'StartDeployment',
    action: 'appconfig:StartDeployment',
    arnVariables: { ApplicationId: app, EnvironmentId: liveEnv, ConfigurationProfileId: { env: E.CONFIG_PROFILE }, DeploymentStrategyId: { env: E.STRATEGY } },
  },
  {
    api: 'GetDeployment',
    action: 'appconfig:GetDeployment',
    arnVariables: { ApplicationId: app, EnvironmentId: liveEnv, DeploymentNumber: { assignedAtRunTime: ['1', '42'] } },
  },
  // The safety-net alarms' states (the SAR requires the alarm; the names are the release alarms').
  { api: 'DescribeAlarms', action: 'cloudwatch:DescribeAlarms', arnVariables: { AlarmName: { env: E.ALARMS } } },
  // Its record and the judge's; ListBucket so a first read is a 404, not a 403.
  { api: 'GetObject', action: 's3:GetObject', resourceTypes: ['object'], arnVariables: { BucketName: bucket, ObjectName: shareObjects } },
  { api: 'GetObject', action: 's3:GetObject', resourceTypes: ['object'], arnVariables: { BucketName: bucket, ObjectName: judgeObjects } },
  { api: 'GetObject', action: 's3:ListBucket', resourceTypes: ['bucket'], arnVariables: { BucketName: bucket } },
  { api: 'PutObject', action: 's3:PutObject', resourceTypes: ['object'], arnVariables: { BucketName: bucket, ObjectName: shareObjects } },
];
