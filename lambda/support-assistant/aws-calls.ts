import type { AwsCall } from '../shared/aws-calls';

/**
 * Every AWS call the example service makes itself (bedrock-model.ts), besides the runtime's.
 *
 * Converse is authorized as bedrock:InvokeModel on what the config names, primary and fallback. The example names
 * system-defined cross-Region inference profiles (`us.…`): Bedrock checks the profile's ARN in the function's Region
 * and the foundation model's ARN in whichever destination Region serves the request (Bedrock user guide,
 * "Prerequisites for inference profiles"), so both are declared, the model in sample destination Regions. A bare
 * model id would be the foundation-model ARN alone. With a guardrail, Converse also needs bedrock:ApplyGuardrail on
 * it (Bedrock user guide, "Set up permissions to use Amazon Bedrock Guardrails"); a guardrail using a guardrail
 * profile also needs the profile in its destination Regions.
 */
const DESTINATIONS = ['us-east-1', 'us-east-2', 'us-west-2'];
const model = (path: string): AwsCall[] => [
  { api: 'Converse', action: 'bedrock:InvokeModel', resourceTypes: ['inference-profile'], arnVariables: { ResourceId: { config: path } } },
  {
    api: 'Converse',
    action: 'bedrock:InvokeModel',
    resourceTypes: ['foundation-model'],
    arnVariables: { ResourceId: { config: path, profileModel: true } },
    destinationRegions: DESTINATIONS,
  },
];

export const AWS_CALLS: readonly AwsCall[] = [
  ...model('model.modelId'),
  ...model('model.fallback.modelId'),
  { api: 'Converse', action: 'bedrock:ApplyGuardrail', resourceTypes: ['guardrail'], arnVariables: { GuardrailId: { config: 'model.guardrail.id' } } },
  {
    api: 'Converse',
    action: 'bedrock:ApplyGuardrail',
    resourceTypes: ['guardrail-profile'],
    arnVariables: { ResourceId: { assignedAtRunTime: ['us.guardrail.v1:0'] } },
    destinationRegions: DESTINATIONS,
  },
];
