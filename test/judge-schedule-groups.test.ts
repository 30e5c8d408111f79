/**
 * The canary judge's schedule rules in the flat layout (h9-schedule, issue 15 E): the services in their platform's
 * stack share schedule rules of the platform, five targets per rule (EventBridge PutTargets: "Each rule can have up to
 * five (5) targets associated with it at one time"), one target per service with its own Input; a service in another
 * stack (here a nested stack) keeps a rule of its own, `WhileDeploying`.
 */
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { JUDGE_TARGETS_PER_RULE, judgeRuleName } from '../lib/judge/canary-judge';
import { CANARY_JUDGE_ENV, CANARY_JUDGE_INPUT_SOURCE } from '../lambda/shared/contract';
import { dependencyGraph } from './cfn-lifecycle-model';
import { inlineFunction, judgeSettingsOf, judgeTargetOf, validConfig } from './helpers';

const FLAT = 11;

function build() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Flat');
  // An application each: one shared application holds 6 services (AppConfig: 20 environments per application).
  const platform = new AiReleasePlatform(stack, 'Platform', { applicationPerService: true });
  const flat = Array.from({ length: FLAT }, (_, i) => {
    const fn = inlineFunction(stack, `S${i}Fn`);
    return new AiRelease(stack, `S${i}Release`, { serviceName: `svc-${i}`, function: fn, config: ReleaseConfigSource.fromObject(validConfig()), platform });
  });
  const nestedStack = new NestedStack(stack, 'Nested');
  const nested = new AiRelease(nestedStack, 'NestedRelease', {
    serviceName: 'nested-svc',
    function: inlineFunction(nestedStack, 'NestedFn'),
    config: ReleaseConfigSource.fromObject(validConfig()),
    platform,
  });
  return { app, stack, nestedStack, platform, flat, nested };
}

/** The rule name pattern of the judge function's one permission (`rule/<prefix>-judge-*`), as a RegExp over names. */
function permittedNames(t: Template, stack: Stack): RegExp[] {
  const perms = Object.values(t.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'events.amazonaws.com' } })) as any[];
  return perms
    .filter((p) => JSON.stringify(p.Properties.FunctionName).includes('CanaryJudge'))
    .map((p) => {
      const arn = JSON.stringify(stack.resolve(p.Properties.SourceArn));
      const name = arn.match(/:rule\/([^"]+)"/)![1];
      return new RegExp(`^${name.replace(/[.-]/g, '\\$&').replace(/\*/g, '.*')}$`);
    });
}

describe('the canary judge schedule rules of 11 flat services and one nested one', () => {
  const { stack, nestedStack, flat, nested } = build();
  const t = Template.fromStack(stack);
  const rules = t.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 minute)' } }) as Record<string, any>;
  const judgeRules = Object.entries(rules).filter(([, r]) => JSON.stringify(r.Properties.Targets).includes(CANARY_JUDGE_INPUT_SOURCE));

  test('3 shared rules under the platform carry 5, 5 and 1 targets, each Id a service name, in the order the services were added', () => {
    const ids = ['JudgeSchedule', 'JudgeSchedule2', 'JudgeSchedule3'];
    expect(JUDGE_TARGETS_PER_RULE).toBe(5);
    expect(judgeRules.map(([, r]) => r.Properties.Targets.length).sort()).toEqual([1, 5, 5]);
    const byRelease = flat.map((r) => r.canaryJudge!.schedule);
    expect([...new Set(byRelease)].map((rule) => rule.node.id)).toEqual(ids);
    expect(byRelease.map((rule) => rule.node.scope!.node.id)).toEqual(Array(FLAT).fill('Platform'));
    for (const [i, r] of flat.entries()) {
      const rule = rules[stack.getLogicalId(r.canaryJudge!.schedule.node.defaultChild as never)];
      expect(rule.Properties.Targets.map((x: any) => x.Id)).toContain(`svc-${i}`);
      expect(byRelease[i].node.id).toBe(ids[Math.floor(i / 5)]);
    }
  });

  test("each target's Input is its own service's settings, with the retry policy of today's rule", () => {
    for (const r of flat) {
      const settings = judgeSettingsOf(stack, r.canaryJudge!.schedule, r.serviceName);
      expect(settings[CANARY_JUDGE_ENV.SERVICE]).toBe(r.serviceName);
      // Its own deployment group, not a neighbour's on the same rule.
      expect(settings[CANARY_JUDGE_ENV.DEPLOYMENT_GROUP]).toEqual(stack.resolve(r.deploymentGroup.deploymentGroupName));
      const rule = rules[stack.getLogicalId(r.canaryJudge!.schedule.node.defaultChild as never)];
      const target = judgeTargetOf(rule, r.serviceName);
      expect(target).toMatchObject({
        Arn: stack.resolve(r.canaryJudge!.function.functionArn),
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      });
    }
  });

  test("every rule name matches the judge permission's SourceArn, and none can be a service's own rule name", () => {
    const patterns = permittedNames(t, stack);
    expect(patterns.length).toBeGreaterThan(0);
    const names = judgeRules.map(([, r]) => r.Properties.Name as string);
    expect(names).toHaveLength(3);
    for (const name of names) {
      expect(patterns.some((p) => p.test(name))).toBe(true);
      // A per-service name is <prefix>-judge-<service>, service [a-z][a-z0-9-]*: a "_" after the prefix never is.
      expect(name).toMatch(/-judge-_/);
      expect(name.length).toBeLessThanOrEqual(64);
    }
    const perService = flat.map((r) => judgeRuleName({ rulePrefix: names[0].slice(0, names[0].indexOf('_')) }, r.serviceName));
    expect(names.filter((n) => perService.includes(n))).toEqual([]);
    expect(new Set(names).size).toBe(3);
  });

  test('the nested service keeps its own WhileDeploying rule (one target), in its stack, under a name the permission matches', () => {
    expect(nested.canaryJudge!.schedule.node.id).toBe('WhileDeploying');
    expect(Stack.of(nested.canaryJudge!.schedule)).toBe(nestedStack);
    const nt = Template.fromStack(nestedStack);
    const own = nt.findResources('AWS::Events::Rule')[nestedStack.getLogicalId(nested.canaryJudge!.schedule.node.defaultChild as never)] as any;
    expect(own.Properties.Targets).toHaveLength(1);
    expect(own.Properties.Targets[0].Id).toBe('Target0');
    expect(judgeSettingsOf(nestedStack, nested.canaryJudge!.schedule, 'nested-svc')[CANARY_JUDGE_ENV.SERVICE]).toBe('nested-svc');
    const patterns = permittedNames(t, stack);
    expect(patterns.some((p) => p.test(own.Properties.Name))).toBe(true);
    // No target of the nested service on the platform's shared rules (they would reference the nested stack).
    expect(judgeRules.flatMap(([, r]) => r.Properties.Targets.map((x: any) => x.Id))).not.toContain('nested-svc');
  });

  test('every flat alias waits for every shared rule (a target that moves between rules is in place before a deployment), with no dependency cycle', () => {
    const aliases = Object.entries(t.findResources('AWS::Lambda::Alias', { Properties: { Name: 'live' } })) as [string, any][];
    expect(aliases).toHaveLength(FLAT);
    const ruleIds = judgeRules.map(([id]) => id);
    for (const [, alias] of aliases) expect(alias.DependsOn).toEqual(expect.arrayContaining(ruleIds));
    // A creation order exists: no resource waits (DependsOn, Ref, GetAtt) on itself through others.
    const graph = dependencyGraph(t.toJSON() as never);
    const state = new Map<string, 'open' | 'done'>();
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'open') throw new Error(`dependency cycle: ${[...path, id].join(' -> ')}`);
      state.set(id, 'open');
      for (const d of graph.get(id) ?? []) visit(d, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of graph.keys()) visit(id, []);
  });
});
