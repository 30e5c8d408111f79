import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnResource, NestedStack, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { testApp, validConfig } from './helpers';

// Issue 15 E, at AppConfig's and CloudFormation's real default quotas (service-stacks.test.ts states smaller quotas
// to stay small): what one platform and one stack hold with every default on, and what synth says past it.
// The full synth of 1, 15 and 50 services in both scaling layouts is measured by bench/scale.ts (bench/RESULTS.md).

/** One service as a platform team composes it, every default on (gate, config gate, judge, snapshots, reviews). */
function service(scope: Construct, prefix: string, name: string, platform: AiReleasePlatform) {
  const fn = new lambda.Function(scope, `${prefix}Fn`, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(scope, `${prefix}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
  });
  return new AiRelease(scope, `${prefix}Release`, { serviceName: name, function: fn, config: ReleaseConfigSource.fromObject(validConfig()), platform });
}

/** `n` services in one stack, beside its platform. */
function flat(n: number, applicationPerService = false) {
  const app = testApp();
  const stack = new Stack(app, 'Flat');
  const platform = new AiReleasePlatform(stack, 'Platform', { applicationPerService });
  for (let i = 0; i < n; i++) service(stack, `S${i}`, `svc-${i}`, platform);
  return { app, stack };
}

/** `n` services, one NestedStack each under the platform's stack, an AppConfig application each. */
function nested(n: number) {
  const app = testApp();
  const top = new Stack(app, 'Services');
  const platform = new AiReleasePlatform(top, 'Platform', { applicationPerService: true });
  for (let i = 0; i < n; i++) service(new NestedStack(top, `Svc${i}`), '', `svc-${i}`, platform);
  return { app, top };
}

/** Resources each stack's template will hold, counted from the construct tree (what CloudFormation's quota counts). */
function resourcesPerStack(root: Construct): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of root.node.findAll()) {
    if (!CfnResource.isCfnResource(c)) continue;
    const path = Stack.of(c).node.path;
    counts.set(path, (counts.get(path) ?? 0) + 1);
  }
  return counts;
}

const types = (root: Construct, type: string) => root.node.findAll().filter((c) => CfnResource.isCfnResource(c) && c.cfnResourceType === type);

describe('one platform on one shared AppConfig application (the default)', () => {
  test('6 services synthesize: 18 environments of the 20 an application may hold', () => {
    const { app, stack } = flat(6);
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template;
    const environments = Object.values(template.Resources as Record<string, { Type: string }>).filter((r) => r.Type === 'AWS::AppConfig::Environment');
    expect(environments).toHaveLength(18);
  });

  test("the 7th service is refused at synth, naming AppConfig's quota of environments per application and the prop to set", () => {
    const { app } = flat(7);
    expect(() => app.synth()).toThrow(
      /21 AppConfig environments in this platform's application exceed AppConfig's quota of 20 environments per application[\s\S]*7 services[\s\S]*Set applicationPerService on the AiReleasePlatform/,
    );
  });
});

describe('15 services in one stack, every default on', () => {
  test('one NestedStack each under the platform stack: synthesize, every template far under 500 resources', () => {
    const { app, top } = nested(15);
    const assembly = app.synth();
    const parent = assembly.getStackByName(top.stackName).template.Resources as Record<string, { Type: string }>;
    expect(Object.values(parent).filter((r) => r.Type === 'AWS::CloudFormation::Stack')).toHaveLength(15);
    const counts = resourcesPerStack(top);
    expect(counts.size).toBe(16);
    for (const [path, n] of counts) {
      expect({ path, under500: n < 500 }).toEqual({ path, under500: true });
      expect(n).toBeLessThan(100); // a service's nested stack ~61, the parent: the platform and one per service
    }
    expect(types(top, 'AWS::AppConfig::Application')).toHaveLength(16); // the platform's (kept, empty) and one each
  });

  test('flat in one stack: 15 services pass every synth-time check (480 of 500 resources); the 16th is refused, naming the quota of 500 resources per stack, the services and the layouts', () => {
    // An application each, so the environments quota does not bind; the resources quota does. One subscription filter,
    // one review rule, one cannot-judge alarm and one dashboard per platform (h8-filter, h8-loglevel, h8-fifteen), and
    // the judge's schedule rules shared five services per rule (h9-schedule): built, the platform 66.8 + 15 × 27.2
    // (22 under each AiRelease; a rule per 5 services under the platform) = 474; synth adds 6 IAM managed policies
    // (the platform roles' per-service statements outgrow their inline policies), 480; a 16th gives 509
    // (bench/flat-stack.ts, bench/RESULTS.md "h9-schedule").
    const fifteen = flat(15, true);
    const counts = resourcesPerStack(fifteen.stack);
    expect(counts.get('Flat')).toBe(474);
    expect(fifteen.stack.node.findAll().flatMap((c) => c.node.validate().map((m) => `${c.node.path}: ${m}`))).toEqual([]);
    const { app } = flat(16, true);
    expect(() => app.synth()).toThrow(
      /\[Flat\] 509 resources in stack Flat exceed CloudFormation's quota of 500 resources per stack[\s\S]*16 AI services \(svc-0, .* and 10 more\) at about \d+ resources each[\s\S]*NestedStack of its own[\s\S]*applicationPerService/,
    );
  });

  test("15 services of the example config fit one flat stack with this repository's (cdk init's) cdk.json feature flags: 498 of 500 resources", () => {
    // The issue 15 E target for a `cdk init` app: @aws-cdk/aws-lambda:useCdkManagedLogGroup gives every platform
    // function a log group, and the example's evaluation section adds the evaluator; 510 before the shared schedule
    // rules (bench/RESULTS.md "Fifteen services in one flat stack, after every h8 merge"), 498 after ("h9-schedule").
    const flags = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context as Record<string, unknown>;
    const app = new App({ context: { ...flags, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Flat');
    const platform = new AiReleasePlatform(stack, 'Platform', { applicationPerService: true });
    const config = path.join(__dirname, '..', 'example/support-assistant/release-config');
    for (let i = 0; i < 15; i++) {
      const fn = new lambda.Function(stack, `S${i}Fn`, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({})'),
        logGroup: new logs.LogGroup(stack, `S${i}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
      });
      new AiRelease(stack, `S${i}Release`, { serviceName: `svc-${i}`, function: fn, config: ReleaseConfigSource.fromDirectory(config), platform });
    }
    const resources = Object.keys(app.synth().getStackByName('Flat').template.Resources);
    expect(resources).toHaveLength(498);
  });
});

describe('15 services flat in one stack, every default on (one gate function, one judge function, one cannot-judge alarm, one dashboard)', () => {
  test('with an application each: 15 synthesize under 500 resources, with one gate function, one judge function, one cannot-judge alarm and one dashboard for all', () => {
    const { app, stack } = flat(15, true);
    const template = app.synth().getStackByName(stack.stackName).template;
    const resources = Object.entries(template.Resources as Record<string, { Type: string; Properties?: any }>);
    expect(resources.length).toBe(480);
    const functions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function').map(([id]) => id);
    expect(functions.filter((id) => /RegressionGate/.test(id))).toHaveLength(1);
    expect(functions.filter((id) => /^PlatformCanaryJudge\d*[0-9A-F]{8}$/.test(id))).toHaveLength(1);
    // The judge's schedule: three rules of the platform for fifteen services (five targets each), none per service.
    const schedules = resources.filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression === 'rate(1 minute)');
    expect(schedules.map(([, r]) => [r.Properties.Name, r.Properties.Targets.length])).toEqual([
      ['Flat-judge-_schedule-1', 5],
      ['Flat-judge-_schedule-2', 5],
      ['Flat-judge-_schedule-3', 5],
    ]);
    const cannotJudge = resources.filter(
      ([, r]) => r.Type === 'AWS::CloudWatch::Alarm' && String(r.Properties.AlarmName).endsWith('canary-judge-cannot-judge'),
    );
    expect(cannotJudge).toHaveLength(1);
    expect(resources.filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard').map(([, r]) => r.Properties.DashboardName)).toEqual(['Flat-ai-release']);
  });
});

describe("the stack capacity check follows the app's @aws-cdk/core:stackResourceLimit, as CDK's own check does", () => {
  /** The capacity problems synth would report for one service in one stack under the stated limit (validations only). */
  function problemsAt(limit: number | string) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:stackResourceLimit': limit } });
    const stack = new Stack(app, 'One');
    service(stack, '', 'svc', new AiReleasePlatform(stack, 'Platform'));
    return stack.node.validate();
  }

  test('a lower limit is enforced and named; 0 turns the check off', () => {
    expect(problemsAt(50)).toEqual([
      expect.stringMatching(/^\d+ resources in stack One exceed CloudFormation's quota of 50 resources per stack[\s\S]*1 AI service \(svc\)/),
    ]);
    expect(problemsAt('50')).toHaveLength(1); // context values from cdk.json or -c arrive as strings
    expect(problemsAt(0)).toEqual([]);
    expect(problemsAt(500)).toEqual([]);
  });
});

describe('50 services on one platform', () => {
  test('with applicationPerService, one NestedStack each: every synth-time check passes and every stack fits', () => {
    const { top } = nested(50);
    // Every validation synth runs (quotas of applications and environments, service names, release policy, stack
    // capacity), without writing 51 templates: the full synth of 50 is bench/scale.ts's (44.6 s on a loaded machine).
    const problems = top.node.findAll().flatMap((c) => c.node.validate().map((m) => `${c.node.path}: ${m}`));
    expect(problems).toEqual([]);
    expect(types(top, 'AWS::AppConfig::Application')).toHaveLength(51); // of AppConfig's 100 per account and Region
    const counts = resourcesPerStack(top);
    expect(counts.size).toBe(51);
    expect(Math.max(...counts.values())).toBeLessThan(500);
  });
});
