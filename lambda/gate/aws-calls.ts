import { type AwsCall, EVALUATOR_MODEL_CALLS } from '../shared/aws-calls';
import { LEARNING_ENV } from '../shared/contract';

const bucket = { env: LEARNING_ENV.BUCKET };
/**
 * The gate is shared by a platform's services (issue 15 E): what names one service (its function, deployment group,
 * live AppConfig ids) comes from that service's release manifest parameter, which the gate reads (service-settings.ts).
 */
const group = { ApplicationName: { manifest: 'locators.codeDeploy.application' }, DeploymentGroupName: { manifest: 'locators.codeDeploy.deploymentGroup' } };
/**
 * Keys the gate reads and writes: samples under the example app's service (`support-assistant`, what the IAM test
 * synthesizes); the checker proves the grant covers each, and the grant is per service.
 */
const liveConfiguration = {
  ApplicationId: { manifest: 'locators.appConfig.application' },
  EnvironmentId: { manifest: 'locators.appConfig.environment' },
  ConfigurationProfileId: { manifest: 'locators.appConfig.profile' },
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
    // Granted on `<function>:*` (its versions and aliases); checked on the `gate` alias and a version.
    arnVariables: { FunctionName: { manifest: 'locators.function', qualifiers: ['gate', '7'] } },
  },
  { api: 'GetDeployment', action: 'codedeploy:GetDeployment', arnVariables: group },
  // Which service a hook event is for: the group's tag names its settings parameter (service-settings.ts). The
  // reference lists application or deploymentgroup for this action; the gate asks about deployment groups only.
  { api: 'ListTagsForResource', action: 'codedeploy:ListTagsForResource', resourceTypes: ['deploymentgroup'], arnVariables: group },
  // The service's settings: its release manifest parameter (a String parameter, no KMS key).
  { api: 'GetParameter', action: 'ssm:GetParameter', arnVariables: { ParameterNameWithoutLeadingSlash: { manifestParameter: true } } },
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
 * controller, unqualified, to announce the code canary (aws-adapters.ts shareControllerAnnouncer). The shared gate
 * reads the controller's name from the service's gate block (`gate.codeCanary.controller`, service-settings.ts).
 * test/code-canary-construct.test.ts proves the grant on the controller's ARN, and nothing wider.
 */
export const CODE_CANARY_CALLS: readonly AwsCall[] = [
  { api: 'Invoke', action: 'lambda:InvokeFunction', arnVariables: { FunctionName: { manifest: 'gate.codeCanary.controller' } } },
];
