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
];
