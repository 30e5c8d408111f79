/** Test helper: the example's config gate is AiRelease's own regression gate function, connected by AiRelease. */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ExampleStack } from '../bin/example-stack';

export { CONFIG_GATE_TIMEOUT } from '../lib/ai-release';

export function configGateOf(stack: ExampleStack): lambda.Function {
  const gate = stack.release.regressionGate?.function;
  if (!gate) throw new Error('the example has no regression gate: the config gate tests need it on');
  return gate;
}
