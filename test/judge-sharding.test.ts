/**
 * How many services one canary judge function takes (h8-gate): a service in the judge's own stack adds its ARNs to
 * the role's statements (about 330 characters), one in another stack a policy of its own (about 550), so a function
 * holds SERVICES_PER_JUDGE_FUNCTION_SAME_STACK (20) of the first kind or SERVICES_PER_JUDGE_FUNCTION (12) of the
 * second, and a mix in proportion. Measured: bench/judge-policy-size.ts (bench/RESULTS.md § h8-gate).
 */
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { SERVICES_PER_JUDGE_FUNCTION, SERVICES_PER_JUDGE_FUNCTION_SAME_STACK } from '../lib/judge/canary-judge';
import { inlineFunction, validConfig } from './helpers';

/** The judge function id each service joined, in order. */
function judges(layout: ('flat' | 'nested')[]): { functions: number; ids: string[]; of: string[] } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:stackResourceLimit': 0 } });
  const top = new Stack(app, 'Top');
  const platform = new AiReleasePlatform(top, 'Platform', { applicationPerService: true });
  const releases = layout.map((l, i) => {
    const scope: Construct = l === 'flat' ? top : new NestedStack(top, `N${i}`);
    const fn = inlineFunction(Stack.of(scope), `Fn${i}`);
    return new AiRelease(scope, `S${i}`, { serviceName: `svc-${i}`, function: fn, config: ReleaseConfigSource.fromObject(validConfig()), platform });
  });
  const fns = [...new Set(releases.map((r) => r.canaryJudge!.function))];
  return { functions: fns.length, ids: fns.map((f) => f.node.id), of: releases.map((r) => r.canaryJudge!.function.node.id) };
}

describe('judge functions per platform, by where the services are', () => {
  test(`${SERVICES_PER_JUDGE_FUNCTION_SAME_STACK} services in the platform's stack share one judge; one more starts CanaryJudge2`, () => {
    const { of } = judges(Array(SERVICES_PER_JUDGE_FUNCTION_SAME_STACK + 1).fill('flat'));
    expect(of).toEqual([...Array(SERVICES_PER_JUDGE_FUNCTION_SAME_STACK).fill('CanaryJudge'), 'CanaryJudge2']);
  });

  test(`${SERVICES_PER_JUDGE_FUNCTION} services in nested stacks share one; the next starts a second`, () => {
    const { of } = judges(Array(SERVICES_PER_JUDGE_FUNCTION + 1).fill('nested'));
    expect(of).toEqual([...Array(SERVICES_PER_JUDGE_FUNCTION).fill('CanaryJudge'), 'CanaryJudge2']);
  });

  test('a mix takes capacity in proportion: 10 flat (1/2) and 6 nested (1/2) fill one function, one more of either does not fit', () => {
    const mix = [...Array(10).fill('flat'), ...Array(6).fill('nested')];
    expect(judges([...mix, 'flat']).of).toEqual([...Array(16).fill('CanaryJudge'), 'CanaryJudge2']);
    expect(judges([...mix, 'nested']).of.at(-1)).toBe('CanaryJudge2');
  });
});
