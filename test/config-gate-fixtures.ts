/** Test helper: the example's config gate is AiRelease's own regression gate function, connected by AiRelease. */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ExampleStack } from '../bin/example-stack';
import { configGateReleaseKey, type GateReport, gateKeys } from '../lambda/shared/contract';

export { CONFIG_GATE_TIMEOUT } from '../lib/ai-release';

export function configGateOf(stack: ExampleStack): lambda.Function {
  const gate = stack.release.regressionGate?.function;
  if (!gate) throw new Error('the example has no regression gate: the config gate tests need it on');
  return gate;
}

/** A config-plane gate report of version 7 of `assistant` (passing unless overridden). */
export function gateReport(over: Partial<GateReport> = {}): GateReport {
  const key = configGateReleaseKey('7');
  return {
    schemaVersion: 1,
    service: 'assistant',
    plane: 'config',
    releaseKey: key,
    target: { functionName: 'assistant-fn', qualifier: 'gate', configVersion: '7', configLabel: 'cfg-abcdef012345' },
    verdict: 'passed',
    requiredPassRate: 1,
    blocking: { total: 3, selected: 3, passed: 3, failed: 0, notRun: 0 },
    reported: { total: 0, selected: 0, passed: 0, failed: 0, notRun: 0 },
    sampled: false,
    deadlineReached: false,
    startedAt: '2026-11-27T09:00:00Z',
    endedAt: '2026-11-27T09:00:05Z',
    summary: 'passed: 3/3 accepted cases',
    cases: [],
    objects: gateKeys('assistant', key),
    ...over,
  };
}
