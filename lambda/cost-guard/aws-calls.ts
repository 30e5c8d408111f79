import type { AwsCall } from '../shared/aws-calls';
import { COST_GUARD_ENV } from '../shared/contract';

const app = { env: COST_GUARD_ENV.APPLICATION };
const profile = { env: COST_GUARD_ENV.PROFILE };
const environment = { env: COST_GUARD_ENV.ENVIRONMENT };

/** Every AWS call the cost guard makes (appconfig-store.ts), and what Lambda does with its role on its behalf. */
export const AWS_CALLS: readonly AwsCall[] = [
  {
    api: 'ListHostedConfigurationVersions',
    action: 'appconfig:ListHostedConfigurationVersions',
    arnVariables: { ApplicationId: app, ConfigurationProfileId: profile },
  },
  {
    api: 'GetHostedConfigurationVersion',
    action: 'appconfig:GetHostedConfigurationVersion',
    arnVariables: { ApplicationId: app, ConfigurationProfileId: profile },
  },
  {
    api: 'CreateHostedConfigurationVersion',
    action: 'appconfig:CreateHostedConfigurationVersion',
    arnVariables: { ApplicationId: app, ConfigurationProfileId: profile },
  },
  { api: 'ListDeployments', action: 'appconfig:ListDeployments', arnVariables: { ApplicationId: app, EnvironmentId: environment } },
  {
    api: 'StartDeployment',
    action: 'appconfig:StartDeployment',
    arnVariables: { ApplicationId: app, EnvironmentId: environment, ConfigurationProfileId: profile, DeploymentStrategyId: { env: COST_GUARD_ENV.STRATEGY } },
  },
  // Is a late event still wanted: the cost alarm's state now (handler.ts).
  { api: 'DescribeAlarms', action: 'cloudwatch:DescribeAlarms', arnVariables: { AlarmName: { env: COST_GUARD_ENV.ALARM_NAME } } },
  // The on-failure destination: Lambda publishes the give-up record with the function's role (encrypted topic).
  { api: 'on-failure destination', madeBy: 'Lambda', action: 'sns:Publish', arnVariables: { TopicName: { onFailureDestination: 'name' } } },
  { api: 'on-failure destination', madeBy: 'Lambda', action: 'kms:GenerateDataKey', arnVariables: { KeyId: { onFailureDestination: 'keyId' } } },
  { api: 'on-failure destination', madeBy: 'Lambda', action: 'kms:Decrypt', arnVariables: { KeyId: { onFailureDestination: 'keyId' } } },
];
