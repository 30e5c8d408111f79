import { type AwsCall, EVALUATOR_MODEL_CALLS } from '../shared/aws-calls';
import { LEARNING_ENV } from '../shared/contract';
import { EVALUATOR_ENV } from '../shared/evaluation';

const bucket = { env: LEARNING_ENV.BUCKET };
/** The example's service in the evaluator's per-service map (EVALUATOR_ENV.SERVICES, lib/learning/release-evaluator.ts). */
const at = (field: string) => ({ envJson: EVALUATOR_ENV.SERVICES, path: `support-assistant.${field}` });
const liveConfiguration = { ApplicationId: at('application'), EnvironmentId: at('environment'), ConfigurationProfileId: at('profile') };
const objects = {
  BucketName: bucket,
  ObjectName: { assignedAtRunTime: ['evaluations/support-assistant/ledger.json', 'evaluations/support-assistant/samples/0f1e.json'] },
};

/**
 * Every AWS call the evaluator makes (aws-adapters.ts, and the snapshot's s3-store.ts and the runtime's
 * data-api-fetcher.ts it reuses), with where each ARN variable comes from.
 */
export const AWS_CALLS: readonly AwsCall[] = [
  // The spend ledger (If-Match / If-None-Match) and one result object per scored sample; HeadObject (a repeated
  // delivery skips a sample already scored) is authorized as s3:GetObject.
  { api: 'GetObject', action: 's3:GetObject', resourceTypes: ['object'], arnVariables: objects },
  { api: 'HeadObject', action: 's3:GetObject', resourceTypes: ['object'], arnVariables: objects },
  { api: 'PutObject', action: 's3:PutObject', resourceTypes: ['object'], arnVariables: objects },
  // A ledger or result not written yet is a 404 only to a caller that may list the bucket (else a 403).
  { api: 'HeadObject', action: 's3:ListBucket', resourceTypes: ['bucket'], arnVariables: { BucketName: bucket } },
  // The LIVE environment's evaluation section (the stable rubric judges the candidate), through the data API.
  { api: 'StartConfigurationSession', action: 'appconfig:StartConfigurationSession', arnVariables: liveConfiguration },
  { api: 'GetLatestConfiguration', action: 'appconfig:GetLatestConfiguration', arnVariables: liveConfiguration },
  // Which version the callers' alias serves (stable) and routes a weight to (the code canary). The reference's ARN
  // for GetAlias is the function's (`function:${FunctionName}`), with the alias name in the request.
  { api: 'GetAlias', action: 'lambda:GetAlias', arnVariables: { FunctionName: at('functionName') } },
  // Shadow replays: the stable and the canary version by number (never the alias, $LATEST or `gate`).
  { api: 'Invoke', action: 'lambda:InvokeFunction', arnVariables: { FunctionName: { ...at('functionName'), qualifiers: ['7', '12'] } } },
  // Converse with the evaluator model: bedrock:InvokeModel on the inference profile in the function's Region and on
  // the foundation model it routes to in each destination Region ("Prerequisites for inference profiles", Bedrock).
  ...EVALUATOR_MODEL_CALLS,
];
