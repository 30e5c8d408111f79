import type { AwsCall } from '../shared/aws-calls';
import { CANARY_JUDGE_ASSIGNED_ENV, CANARY_JUDGE_CONFIG_ENV, CANARY_JUDGE_ENV, JUDGE_ENV, LEARNING_ENV, METRIC_NAMESPACE } from '../shared/contract';

const app = { env: CANARY_JUDGE_ENV.CODEDEPLOY_APPLICATION };
const group = { env: CANARY_JUDGE_ENV.DEPLOYMENT_GROUP };
const bucket = { env: LEARNING_ENV.BUCKET };
// A key the judge writes: judge/<service>/<releaseKey>.json (the example's service; the grant is judge/<service>/*).
const stateKey = { assignedAtRunTime: ['judge/support-assistant/code-d-EXAMPLE123.json', 'judge/support-assistant/config-env1-7.json'] };

/** Every AWS call the canary judge makes (aws-adapters.ts), with where each ARN variable comes from. */
export const AWS_CALLS: readonly AwsCall[] = [
  // Samples: Logs Insights over the service's log group.
  { api: 'StartQuery', action: 'logs:StartQuery', arnVariables: { LogGroupName: { env: JUDGE_ENV.LOG_GROUP } } },
  // Evaluation results: Logs Insights over the platform evaluator's log group (a second query, issue 17 E).
  { api: 'StartQuery', action: 'logs:StartQuery', arnVariables: { LogGroupName: { env: JUDGE_ENV.EVALUATION_LOG_GROUP } } },
  // The reference lists log-group for it, though the request names only a query id: checked on the log group here,
  // and granted on "*" (lib/judge/canary-judge.ts says why).
  { api: 'GetQueryResults', action: 'logs:GetQueryResults', arnVariables: { LogGroupName: { env: JUDGE_ENV.LOG_GROUP } } },
  // Which deployment is in progress, and its versions (the AppSpec content).
  { api: 'ListDeployments', action: 'codedeploy:ListDeployments', arnVariables: { ApplicationName: app, DeploymentGroupName: group } },
  { api: 'GetDeployment', action: 'codedeploy:GetDeployment', arnVariables: { ApplicationName: app, DeploymentGroupName: group } },
  // When traffic started (the AllowTraffic lifecycle event): the reference lists no resource type, so "*".
  { api: 'ListDeploymentTargets', action: 'codedeploy:ListDeploymentTargets', arnVariables: {} },
  { api: 'BatchGetDeploymentTargets', action: 'codedeploy:BatchGetDeploymentTargets', arnVariables: {} },
  // The reference lists no resource type for it; CodeDeploy's permissions reference and CDK's addPostHook scope it to
  // the deployment group, which is what the function is granted (test: "the judge may answer only its own group's hooks").
  { api: 'PutLifecycleEventHookExecutionStatus', action: 'codedeploy:PutLifecycleEventHookExecutionStatus', resourceTypes: [], arnVariables: {} },
  // The verdict metric: no resource type; allowed on "*" only for the AiRelease namespace.
  { api: 'PutMetricData', action: 'cloudwatch:PutMetricData', arnVariables: {}, requestContext: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
  // The judge record, accumulated across invocations; ListBucket so a first read is a 404, not a 403.
  { api: 'GetObject', action: 's3:GetObject', resourceTypes: ['object'], arnVariables: { BucketName: bucket, ObjectName: stateKey } },
  { api: 'GetObject', action: 's3:ListBucket', resourceTypes: ['bucket'], arnVariables: { BucketName: bucket } },
  { api: 'PutObject', action: 's3:PutObject', resourceTypes: ['object'], arnVariables: { BucketName: bucket, ObjectName: stateKey } },
  // Config plane: the schedule finds the live environment's rollouts in progress (the SDK commands are imported as
  // AppConfigListDeployments / AppConfigGetDeployment, apart from CodeDeploy's namesakes).
  {
    api: 'AppConfigListDeployments',
    action: 'appconfig:ListDeployments',
    arnVariables: { ApplicationId: { env: CANARY_JUDGE_ENV.APPCONFIG_APPLICATION }, EnvironmentId: { env: CANARY_JUDGE_CONFIG_ENV.ENVIRONMENT } },
  },
  {
    api: 'AppConfigGetDeployment',
    action: 'appconfig:GetDeployment',
    arnVariables: {
      ApplicationId: { env: CANARY_JUDGE_ENV.APPCONFIG_APPLICATION },
      EnvironmentId: { env: CANARY_JUDGE_CONFIG_ENV.ENVIRONMENT },
      DeploymentNumber: { assignedAtRunTime: ['1', '42'] },
    },
  },
  // Config plane: the label of the version being rolled out.
  {
    api: 'GetHostedConfigurationVersion',
    action: 'appconfig:GetHostedConfigurationVersion',
    arnVariables: { ApplicationId: { env: CANARY_JUDGE_ENV.APPCONFIG_APPLICATION }, ConfigurationProfileId: { env: CANARY_JUDGE_ENV.CONFIG_PROFILE } },
  },
];

/**
 * With an assigned config canary (AiRelease `configCanary: 'assigned'`, assigned-port.ts): the share controller's
 * current record, read every minute to find the release on traffic (ListBucket above makes a missing one a 404).
 */
export const ASSIGNED_CALLS: readonly AwsCall[] = [
  {
    api: 'GetObject',
    action: 's3:GetObject',
    resourceTypes: ['object'],
    arnVariables: { BucketName: bucket, ObjectName: { env: CANARY_JUDGE_ASSIGNED_ENV.SHARE_RECORD } },
  },
];
