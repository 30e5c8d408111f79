import { type AwsCall, EVALUATOR_MODEL_CALLS } from '../shared/aws-calls';
import { GATE_DEPLOYMENT_ENV, GATE_ENV, GATE_EVALUATION_ENV, LEARNING_ENV } from '../shared/contract';

const bucket = { env: LEARNING_ENV.BUCKET };
const group = { ApplicationName: { env: GATE_DEPLOYMENT_ENV.APPLICATION }, DeploymentGroupName: { env: GATE_DEPLOYMENT_ENV.DEPLOYMENT_GROUP } };
/**
 * Keys the gate reads and writes: samples under the example app's service (`support-assistant`, what the IAM test
 * synthesizes); the checker proves the grant covers each, and the grant is per service.
 */
const liveConfiguration = {
  ApplicationId: { env: GATE_EVALUATION_ENV.APPLICATION },
  EnvironmentId: { env: GATE_EVALUATION_ENV.LIVE_ENVIRONMENT },
  ConfigurationProfileId: { env: GATE_EVALUATION_ENV.PROFILE },
};
const object = (...keys: string[]) => ({ BucketName: bucket, ObjectName: { assignedAtRunTime: keys } });

/**
 * Every AWS call the gate makes (aws-adapters.ts). The metrics go out as EMF in the function's log: no CloudWatch call.
 * The invoke targets are the deployed version and the `gate` alias of the service function (both qualified ARNs; the
 * IAM test resolves `${FunctionName}` to `<name>:<qualifier>` samples).
 */
export const AWS_CALLS: readonly AwsCall[] = [
  { api: 'ListObjectsV2', action: 's3:ListBucket', arnVariables: { BucketName: bucket } },
  {
    api: 'GetObject',
    action: 's3:GetObject',
    resourceTypes: ['object'],
    arnVariables: object(
      'cases/support-assistant/accepted/0.json',
      'cases/support-assistant/candidate/0.json',
      'reviews/support-assistant/code-d-1.json',
      // Candidates with no object: the index entry and the first batch (select.ts, entryOnlyCandidates).
      'index/support-assistant.json',
      'batches/support-assistant/0.json',
    ),
  },
  {
    api: 'PutObject',
    action: 's3:PutObject',
    resourceTypes: ['object'],
    arnVariables: object('gates/support-assistant/code-d-1.json', 'gates/support-assistant/config-7.md'),
  },
  {
    api: 'Invoke',
    action: 'lambda:InvokeFunction',
    // Granted on `<function>:*` (its versions and aliases); checked on the `gate` alias's qualified name.
    arnVariables: { FunctionName: { env: GATE_DEPLOYMENT_ENV.TARGET_GATE_ALIAS } },
  },
  { api: 'GetDeployment', action: 'codedeploy:GetDeployment', arnVariables: group },
  // The reference lists no resource type for this action, yet CodeDeploy authorizes it on the deployment group
  // ("not authorized to perform: codedeploy:PutLifecycleEventHookExecutionStatus on resource: arn:…:deploymentgroup:<app>/<group>",
  // davidgf/serverless-plugin-canary-deployments#58): LambdaDeploymentGroup.addPreHook grants it there, and
  // test/gate-construct.test.ts proves the grant on the group's ARN.
  { api: 'PutLifecycleEventHookExecutionStatus', action: 'codedeploy:PutLifecycleEventHookExecutionStatus', resourceTypes: [], arnVariables: group },
  // The evaluator (issue 17 E), when the release config has an evaluation section: the LIVE environment's section
  // through the data API (lambda/evaluator/aws-adapters.ts liveEvaluations), and Converse on the evaluator model —
  // authorized as bedrock:InvokeModel on the inference profile in the function's Region and on the foundation model
  // in the profile's destination Regions ("Prerequisites for inference profiles", Bedrock user guide).
  { api: 'StartConfigurationSession', action: 'appconfig:StartConfigurationSession', arnVariables: liveConfiguration },
  { api: 'GetLatestConfiguration', action: 'appconfig:GetLatestConfiguration', arnVariables: liveConfiguration },
  ...EVALUATOR_MODEL_CALLS,
];

/**
 * With an assigned config canary (ConfigShare.announceCodeCanaries): the pre-traffic hook invokes the service's share
 * controller, unqualified, to announce the code canary (aws-adapters.ts shareControllerAnnouncer).
 * test/code-canary-construct.test.ts proves the grant on the controller's ARN, and nothing wider.
 */
export const CODE_CANARY_CALLS: readonly AwsCall[] = [
  { api: 'Invoke', action: 'lambda:InvokeFunction', arnVariables: { FunctionName: { env: GATE_ENV.CODE_CANARY_CONTROLLER } } },
];
