import type { AwsCall } from '../shared/aws-calls';

/**
 * Every AWS call the example service makes itself (bedrock-model.ts), besides the runtime's. Converse is authorized
 * as bedrock:InvokeModel on the model the config names (primary, and the fallback when degraded), and, with a
 * guardrail in the config, bedrock:ApplyGuardrail on it (Bedrock user guide, "Set up permissions to use Amazon Bedrock
 * Guardrails": permissions for invoking guardrails to filter content).
 */
export const AWS_CALLS: readonly AwsCall[] = [
  { api: 'Converse', action: 'bedrock:InvokeModel', resourceTypes: ['foundation-model'], arnVariables: { ResourceId: { config: 'model.modelId' } } },
  { api: 'Converse', action: 'bedrock:InvokeModel', resourceTypes: ['foundation-model'], arnVariables: { ResourceId: { config: 'model.fallback.modelId' } } },
  { api: 'Converse', action: 'bedrock:ApplyGuardrail', resourceTypes: ['guardrail'], arnVariables: { GuardrailId: { config: 'model.guardrail.id' } } },
];
