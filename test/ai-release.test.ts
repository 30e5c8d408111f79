import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Duration, Stack } from 'aws-cdk-lib';
import type { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AiRelease, DEFAULT_POLICY_RULES, ReleaseConfigSource, renderCanaryCard, TrafficShift, type AiReleaseProps, type ReleasePolicyRule } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';

function release(props: Partial<AiReleaseProps> = {}, outdir?: string) {
  const app = testApp(outdir);
  const stack = new Stack(app, 'Rel');
  const fn = inlineFunction(stack);
  const r = new AiRelease(stack, 'Assistant', { serviceName: 'assistant', function: fn, config: ReleaseConfigSource.fromObject(validConfig()), ...props });
  return { app, stack, r, template: () => Template.fromStack(stack) };
}

describe('AiRelease template', () => {
  // One alarm per guardrail (layout 'perMetric'); the combined layout's template: test/alarm-layout.test.ts.
  const { r, template: t, stack } = release({ alarms: { layout: 'perMetric' } });
  const template = t();
  const resources = (type: string) => Object.entries(template.findResources(type));

  test('the live alias is shifted by CodeDeploy (alias update policy)', () => {
    template.hasResource('AWS::Lambda::Alias', {
      Properties: { Name: 'live' },
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: { ApplicationName: Match.anyValue(), DeploymentGroupName: Match.anyValue() } },
    });
  });

  test('the alias waits for the version alarms, so a canary is never judged by alarms on the old version', () => {
    const [, alias] = (resources('AWS::Lambda::Alias') as [string, any][]).find(([, a]) => a.Properties.Name === 'live')!;
    const versionAlarms = resources('AWS::CloudWatch::Alarm')
      .filter(([id]) => id.includes('AlarmsVersion') && !id.includes('canaryverdict'))
      .map(([id]) => id);
    expect(versionAlarms).toHaveLength(7);
    expect(alias.DependsOn).toEqual(expect.arrayContaining(versionAlarms));
  });

  test('the deployment group watches the 7 version alarms and the judge verdict, and rolls back on alarm, failure and stop', () => {
    const [[, group]] = resources('AWS::CodeDeploy::DeploymentGroup') as [string, any][];
    expect(group.Properties.AlarmConfiguration.Enabled).toBe(true);
    expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(8);
    expect(group.Properties.AlarmConfiguration.Alarms).toContainEqual({ Name: { Ref: expect.stringMatching(/AlarmsVersioncanaryverdict/) } });
    expect(group.Properties.AutoRollbackConfiguration).toEqual({
      Enabled: true,
      Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
    });
    expect(group.Properties.DeploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
  });

  test('alarms: 10-second metric math with the invocation guard, 2 of 3, missing data not breaching', () => {
    const alarms = resources('AWS::CloudWatch::Alarm')
      .map(([, a]) => (a as any).Properties)
      .filter((a) => !a.AlarmName.endsWith('canary-verdict') && !a.AlarmName.endsWith('canary-judge-cannot-judge'));
    expect(alarms).toHaveLength(13);
    for (const a of alarms) {
      expect(a.TreatMissingData).toBe('notBreaching');
      expect(a.EvaluationPeriods).toBe(3);
      expect(a.DatapointsToAlarm).toBe(2);
      const expr = a.Metrics.find((m: any) => m.Expression);
      expect(expr.Expression).toMatch(/^IF\(/);
      // the alarm's period is its metrics' period: 10 s, never CDK's 5-minute default
      const stats = a.Metrics.filter((x: any) => x.MetricStat);
      expect(stats.length).toBeGreaterThanOrEqual(2);
      for (const m of stats) expect(m.MetricStat.Period).toBe(10);
    }
    const errorRate = alarms.find((a) => a.AlarmName.endsWith('version-error-rate'));
    expect(errorRate.Metrics.find((m: any) => m.Expression).Expression).toBe('IF(inv >= 5, x / inv, 0)');
    expect(errorRate.Threshold).toBe(0.05);
    // the new version is a deploy-time token
    const dims = errorRate.Metrics.find((m: any) => m.Id === 'inv').MetricStat.Metric.Dimensions;
    expect(dims).toEqual([
      { Name: 'Service', Value: 'assistant' },
      { Name: 'Version', Value: { 'Fn::GetAtt': [expect.stringMatching(/CurrentVersion/), 'Version'] } },
    ]);
    const canary = alarms.find((a) => a.AlarmName.endsWith('canary-vs-stable'));
    expect(canary.Metrics.find((m: any) => m.Expression).Expression).toBe(
      'IF(vinv >= 5 AND (ainv - vinv) >= 5, verr / vinv - (aerr - verr) / (ainv - vinv), 0)',
    );
    const p99 = alarms.find((a) => a.AlarmName.endsWith('service-p99-latency'));
    expect(p99.Metrics.find((m: any) => m.Id === 'lat').MetricStat.Stat).toBe('p99');
    expect(p99.Metrics.find((m: any) => m.Id === 'lat').MetricStat.Metric.Dimensions).toEqual([{ Name: 'Service', Value: 'assistant' }]);
    const quality = alarms.find((a) => a.AlarmName.endsWith('service-quality'));
    expect(quality.ComparisonOperator).toBe('LessThanThreshold');
  });

  test('descriptions tell the on-call what happened and what to do', () => {
    const errorRate = resources('AWS::CloudWatch::Alarm')
      .map(([, a]) => (a as any).Properties)
      .find((a) => a.AlarmName.endsWith('version-error-rate'));
    expect(errorRate.AlarmDescription).toContain('assistant: the error rate of the new code version is above 0.05');
    expect(errorRate.AlarmDescription).toContain('CodeDeploy rolls the live alias back');
    expect(errorRate.AlarmDescription).toContain('type = "ai-release.failure" and kind = "error"');
  });

  test('AppConfig monitors the config composite alarm; the any-alarm composite notifies the encrypted topic', () => {
    const [[, env]] = resources('AWS::AppConfig::Environment') as [string, any][];
    expect(env.Properties.Monitors).toEqual([
      { AlarmArn: { 'Fn::GetAtt': [expect.stringMatching(/ConfigRollback/), 'Arn'] }, AlarmRoleArn: expect.anything() },
    ]);
    const composites = resources('AWS::CloudWatch::CompositeAlarm').map(([, a]) => (a as any).Properties);
    const any = composites.find((c) => c.AlarmName.endsWith('-release'));
    expect(any.AlarmActions).toEqual([{ Ref: expect.stringMatching(/Notifications/) }]);
    // 13 threshold alarms and the judge's two verdict alarms; the config composite: 6 service-wide + the config verdict
    expect(JSON.stringify(any.AlarmRule).match(/ALARM\(/g)).toHaveLength(15);
    const cfg = composites.find((c) => c.AlarmName.endsWith('config-rollback'));
    expect(JSON.stringify(cfg.AlarmRule).match(/ALARM\(/g)).toHaveLength(7);
    expect(JSON.stringify(cfg.AlarmRule)).toMatch(/AlarmsServicecanaryverdict/);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { source: ['aws.codedeploy'], detail: { state: ['FAILURE', 'STOP'] } } });
  });

  test('a dashboard with every metric by version and the thresholds', () => {
    const [[, dash]] = resources('AWS::CloudWatch::Dashboard') as [string, any][];
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const m of ['Invocations', 'Errors', 'Latency', 'CostUsd', 'QualityScore', 'Degraded', 'SafetyViolations', 'ContractViolations']) {
      expect(body).toContain(`MetricName=\\\\\\"${m}\\\\\\"`);
    }
    expect(body).toContain('{AiRelease,Service,Version}');
    expect(body).toContain('alarm > 15000 ms');
  });

  test('the worst case is computed from the synthesized alarms and lands near a minute', () => {
    expect(r.worstCase.code.seconds).toBe(80);
    expect(r.worstCase.config.seconds).toBe(80);
    Annotations.fromStack(stack).hasInfo('/Rel/Assistant', Match.stringLikeRegexp('worst case .* code 1 min 20 s, config 1 min 20 s'));
    expect(r.manifest.manifest.facts).toMatchObject({ worstCaseCodeSeconds: 80, worstCaseConfigSeconds: 80, rollbackBudgetSeconds: 600 });
  });
});

describe('the strategy card', () => {
  test('is written beside the manifest, from the same facts', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'card-'));
    const { app, r } = release({ owner: 'team-x', onCall: 'pager-x', trafficShift: TrafficShift.linear(20, Duration.minutes(2)) }, outdir);
    app.synth();
    const card = fs.readFileSync(path.join(outdir, 'assistant.canary-card.md'), 'utf8');
    expect(card).toContain('# Canary strategy card — assistant');
    expect(card).toContain('- Owner: team-x');
    expect(card).toContain('- On-call: pager-x');
    expect(card).toContain('linear +20 % every 2 min (100 % after 8 min)');
    expect(card).toContain('| 8 | 100 % |');
    // One row per guardrail, with the combined alarm that carries it and its term there.
    expect(card).toContain('| code | error rate (Errors / Invocations) | > 0.05 | `Version-guardrails` (term `error_rate`) |');
    expect(card).toContain(`**code**: 1 min 20 s`);
    expect(card).toContain('All rules pass.');
    expect(r.cardFileName).toBe('assistant.canary-card.md');
  });
});

describe('release policy at synth', () => {
  const synthErrors = (props: Partial<AiReleaseProps>) => {
    const { template } = release(props);
    try {
      template();
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };

  test('all-at-once fails the first-step rule', () => {
    expect(synthErrors({ trafficShift: TrafficShift.ALL_AT_ONCE })).toContain(
      'release policy "first-step-at-most-50" (service assistant): the code traffic shift starts at 100 %',
    );
  });

  test('a waiver with a reason lets it pass, and shows on the card', () => {
    const { r, template } = release({
      trafficShift: TrafficShift.ALL_AT_ONCE,
      policyWaivers: [{ rule: 'first-step-at-most-50', reason: 'internal batch tool, no live users, replayed nightly' }],
    });
    expect(() => template()).not.toThrow();
    expect(r.policy.waived.map((w) => w.rule)).toEqual(['first-step-at-most-50']);
  });

  test.each([
    [[{ rule: 'first-step-at-most-50', reason: 'because' }], 'needs a written reason of at least 20 characters'],
    [[{ rule: 'first-stp', reason: 'a long enough reason for this' }], 'waiver for unknown rule "first-stp"'],
    [[{ rule: 'rollback-within-budget', reason: 'a long enough reason for this' }], 'rule "rollback-within-budget" cannot be waived'],
  ])('bad waivers fail synth %#', (waivers, message) => {
    expect(synthErrors({ policyWaivers: waivers })).toContain(message);
  });

  test('a worst case over the budget fails synth naming what dominates and a change that fits', () => {
    const msg = synthErrors({ alarms: { period: Duration.minutes(5), datapointsToAlarm: 3, evaluationPeriods: 3 } });
    expect(msg).toContain('release policy "rollback-within-budget"');
    expect(msg).toContain("the code plane's worst case is 21 min 40 s");
    expect(msg).toContain(
      'over the rollback budget of 10 min; dominated by its datapoints ((3 + 1) x 300 s = 20 min); alarms.code.period of 120 s (worst case 9 min 40 s) would fit',
    );
    // the advice works: taking it passes, as the shared period or as each plane's own
    expect(synthErrors({ alarms: { period: Duration.minutes(2), datapointsToAlarm: 3, evaluationPeriods: 3 } })).toBe('');
    const perPlane = { period: Duration.minutes(5), datapointsToAlarm: 3, evaluationPeriods: 3 };
    const codeOnly = synthErrors({ alarms: { ...perPlane, code: { period: Duration.minutes(2) } } });
    expect(codeOnly).not.toContain("the code plane's worst case");
    expect(codeOnly).toContain("the config plane's worst case is 21 min 40 s");
    expect(synthErrors({ alarms: { ...perPlane, code: { period: Duration.minutes(2) }, config: { period: Duration.minutes(2) } } })).toBe('');
  });

  test('fewer datapoints are offered when the period cannot change enough', () => {
    const msg = synthErrors({ alarms: { period: Duration.seconds(30), datapointsToAlarm: 10, evaluationPeriods: 10 }, rollbackBudget: Duration.minutes(4) });
    expect(msg).toContain(
      'dominated by its datapoints ((10 + 1) x 30 s = 5 min 30 s); alarms.code.period of 10 s (worst case 2 min 40 s) or alarms.code.datapointsToAlarm of 5 (worst case 3 min 50 s) would fit',
    );
    expect(synthErrors({ alarms: { period: Duration.seconds(30), datapointsToAlarm: 5, evaluationPeriods: 10 }, rollbackBudget: Duration.minutes(4) })).toBe(
      '',
    );
  });

  test('a budget no alarm setting can meet says the assumed delays (timing) dominate, not "shorten the period"', () => {
    const msg = synthErrors({ rollbackBudget: Duration.seconds(60) });
    expect(msg).toContain('worst case is 1 min 20 s (slowest alarm: Version-guardrails), over the rollback budget of 1 min');
    expect(msg).toContain(
      'no alarm setting fits: even 10-second periods with 1 datapoint take 1 min 10 s, of which 40 s are the assumed delays in `timing` (metricIngestionSeconds 10, codeDeployReactionSeconds 30); set timing from delays a rollback drill measured, or raise rollbackBudget to at least 1 min 10 s',
    );
    expect(msg).not.toContain('alarms.period of');
    // with measured delays in timing, the same budget is met by the advice's own numbers
    expect(synthErrors({ rollbackBudget: Duration.seconds(60), timing: { codeDeployReactionSeconds: 5, appConfigReactionSeconds: 5 } })).toBe('');
  });

  test('when delays dominate but an alarm change still fits, both are named', () => {
    const msg = synthErrors({ rollbackBudget: Duration.seconds(90), timing: { codeDeployReactionSeconds: 45 } });
    expect(msg).toContain(
      "the code plane's worst case is 1 min 35 s (slowest alarm: Version-guardrails), over the rollback budget of 1 min 30 s; dominated by the delays around the alarm (1 min 5 s: timing.metricIngestionSeconds 10 s, timing.codeDeployReactionSeconds 45 s, evaluation every 10 s); alarms.code.datapointsToAlarm of 1 (worst case 1 min 25 s) would fit; or, if a rollback drill measured the delays lower, set timing",
    );
    expect(msg).not.toContain("config plane's worst case");
  });

  test('the worst case follows the alarms as synthesized, escape-hatch edits included', () => {
    const { r, template } = release();
    const alarm = r.alarms.byPlane('code').find((a) => a.kind === 'p99-latency')!.alarm;
    const cfn = alarm.node.defaultChild as CfnAlarm;
    cfn.evaluationPeriods = 60;
    cfn.datapointsToAlarm = 60;
    expect(r.worstCase.code.seconds).toBe(61 * 10 + 10 + 10 + 30);
    // The combined alarm carries every code guardrail: its edit is the plane's worst case.
    expect(r.worstCase.code.slowestAlarm).toBe('Version-guardrails');
    expect(r.worstCase.code.alarms).toHaveLength(1);
    expect(() => template()).toThrow(
      'release policy "rollback-within-budget" (service assistant): the code plane\'s worst case is 11 min (slowest alarm: Version-guardrails)',
    );
  });

  test('custom rules slot in', () => {
    const mustHaveOwner: ReleasePolicyRule = {
      id: 'owner-set',
      description: 'an owner is named',
      check: (f) => (f.owner ? [] : ['no owner named; pass owner']),
    };
    expect(synthErrors({ policyRules: [...DEFAULT_POLICY_RULES, mustHaveOwner] })).toContain(
      'release policy "owner-set" (service assistant): no owner named; pass owner',
    );
    expect(synthErrors({ policyRules: [...DEFAULT_POLICY_RULES, mustHaveOwner], owner: 'me' })).toBe('');
  });
});

describe('bad props fail synth with a clear message', () => {
  const cases: [string, () => unknown, string][] = [
    ['canary percent 0', () => TrafficShift.canary(0, Duration.minutes(5)), 'percent must be a whole number from 1 to 99, got 0'],
    ['canary percent 100', () => TrafficShift.canary(100, Duration.minutes(5)), 'got 100'],
    ['fractional percent', () => TrafficShift.linear(12.5, Duration.minutes(5)), 'got 12.5'],
    ['interval in seconds', () => TrafficShift.canary(10, Duration.seconds(90)), 'interval must be whole minutes'],
    ['zero interval', () => TrafficShift.linear(10, Duration.minutes(0)), 'interval must be at least 1 minute'],
    ['over 48 hours', () => TrafficShift.linear(1, Duration.minutes(30)), "takes 2970 minutes in all, over CodeDeploy's 48 hours"],
    [
      'period 20 s',
      () => release({ alarms: { period: Duration.seconds(20) } }),
      'alarms.period must be 10 s, 30 s or a whole number of minutes, got 20 seconds',
    ],
    ['period 90 s', () => release({ alarms: { period: Duration.seconds(90) } }), 'got 1 minute 30 seconds'],
    [
      'datapoints 0',
      () => release({ alarms: { datapointsToAlarm: 0 } }),
      'alarms.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (3), got 0',
    ],
    ['datapoints > periods', () => release({ alarms: { datapointsToAlarm: 4, evaluationPeriods: 3 } }), 'got 4'],
    ['evaluation periods 0', () => release({ alarms: { evaluationPeriods: 0 } }), 'alarms.evaluationPeriods must be a whole number from 1 to 100, got 0'],
    ['min invocations 0', () => release({ alarms: { minInvocations: 0 } }), 'alarms.minInvocations must be a whole number >= 1, got 0'],
    ['error rate as a percent', () => release({ alarms: { maxErrorRate: 5 } }), 'alarms.maxErrorRate must be a fraction from 0 to 1 (0.05 = 5 %), got 5'],
    ['negative latency', () => release({ alarms: { maxP99LatencyMs: -1 } }), 'alarms.maxP99LatencyMs must be a positive number, got -1'],
    ['quality above 1', () => release({ alarms: { minQualityScore: 1.2 } }), 'alarms.minQualityScore must be a fraction from 0 to 1'],
    ['zero cost cap', () => release({ alarms: { maxCostPerRequestUsd: 0 } }), 'alarms.maxCostPerRequestUsd must be a positive number, got 0'],
    ['budget too small', () => release({ rollbackBudget: Duration.seconds(10) }), 'rollbackBudget must be between 30 seconds and 1 hour, got 10 seconds'],
    ['budget too large', () => release({ rollbackBudget: Duration.hours(2) }), 'got 2 hours'],
    ['bad service name', () => release({ serviceName: 'Assistant!' }), 'serviceName "Assistant!" is invalid'],
  ];
  test('there are at least 15 cases', () => expect(cases.length).toBeGreaterThanOrEqual(15));
  test.each(cases)('%s', (_name, make, message) => expect(make).toThrow(message));
});

describe('low traffic extends judgement, not skips it', () => {
  const errors = (props: Partial<AiReleaseProps>) => {
    const { template } = release(props);
    try {
      template();
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };

  test('enough traffic: passes with 10-second periods, and the card shows the expected sample', () => {
    const { r, template } = release({ expectedRequestsPerSecond: 20 });
    expect(() => template()).not.toThrow();
    expect(r.alarms.period.toSeconds()).toBe(10);
    expect(renderCanaryCard(r.facts, r.policy)).toContain(
      'At the stated 20 requests/s, the first canary step sends the new version about 20 requests per alarm period (the policy asks for at least 2 x 5); under 1 % of its periods are forced quiet (Poisson).',
    );
  });

  test('the boundary is twice the guard: 10 requests per period passes, just under fails with the share forced quiet', () => {
    const at = (rps: number) => errors({ expectedRequestsPerSecond: rps, alarms: { period: Duration.seconds(10) } });
    expect(at(10)).toBe(''); // 10 % of 10/s x 10 s = 10 = 2 x 5
    const msg = at(9.9);
    expect(msg).toContain('release policy "canary-can-be-judged"');
    expect(msg).toContain('at 9.9 requests/s a 10 % canary averages 9.9 requests per 10-second alarm period, under 2 x minInvocations (10)');
    // the case: the example's 5 requests/s at 10 % averages exactly the guard, about 4 periods in 10 quiet
    expect(at(5)).toContain(
      'averages 5 requests per 10-second alarm period, under 2 x minInvocations (10): about 44 % of its periods would have fewer than 5 requests and be forced quiet; use alarms.code.period of 30 s',
    );
  });

  test('stated traffic and no period: each plane gets the shortest period its alarms can judge, and its worst case follows it', () => {
    const { r, template } = release({ expectedRequestsPerSecond: 5 });
    expect(() => template()).not.toThrow();
    // code: the new version gets the canary's 10 %, 0.5 requests/s: 30 s for 15 per period (2 x the guard is 10);
    // config: the whole service's 5 requests/s: 10 s already gives 50
    expect(r.alarms.period.toSeconds()).toBe(30);
    expect(r.alarms.windows.code.period.toSeconds()).toBe(30);
    expect(r.alarms.windows.config.period.toSeconds()).toBe(10);
    // (the judge's cannot-judge alarm counts per minute by design: it pages, it never rolls back)
    const alarms = Object.values(template().findResources('AWS::CloudWatch::Alarm')).filter(
      (a: any) => !a.Properties.AlarmName.endsWith('canary-judge-cannot-judge'),
    );
    const periodsOf = (suffix: string) =>
      new Set(
        alarms
          .filter((a: any) => a.Properties.AlarmName.includes(suffix))
          .flatMap((a: any) =>
            a.Properties.Metrics ? a.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Period) : [a.Properties.Period],
          ),
      );
    // each plane's guardrail alarm on the plane's period, every metric of the math included; the verdict alarms on
    // the judge's one-minute cycle (at least)
    expect(periodsOf('-version-guardrails')).toEqual(new Set([30]));
    expect(periodsOf('-service-guardrails')).toEqual(new Set([10]));
    expect(periodsOf('-canary-verdict')).toEqual(new Set([60]));
    expect(alarms.length).toBe(4);
    expect(r.worstCase.code.seconds).toBe(3 * 30 + 10 + 10 + 30);
    expect(r.worstCase.config.seconds).toBe(3 * 10 + 10 + 10 + 30);
    expect(r.facts.alarmWindow.periodFromTraffic).toBe(true);
    expect(r.facts.alarmWindows).toEqual({
      code: { periodSeconds: 30, datapointsToAlarm: 2, evaluationPeriods: 3, minInvocations: 5, periodFromTraffic: true },
      config: { periodSeconds: 10, datapointsToAlarm: 2, evaluationPeriods: 3, minInvocations: 5, periodFromTraffic: true },
    });
    const card = renderCanaryCard(r.facts, r.policy);
    expect(card).toContain(
      'Code-plane alarms (the new version): 30-second periods, 2 of 3 breaching; config-plane alarms (the whole service): 10-second periods, 2 of 3 breaching, quiet below 5 invocations per period',
    );
    expect(card).toContain(
      "Chosen from the stated traffic (no period given): the code plane's 30-second period from the canary's first step, the config plane's 10-second period from the whole service's.",
    );
    // at the boundary: 10 requests/s already gives 10 per 10-second period
    expect(release({ expectedRequestsPerSecond: 10 }).r.alarms.period.toSeconds()).toBe(10);
    expect(release({ expectedRequestsPerSecond: 9.99 }).r.alarms.period.toSeconds()).toBe(30);
    // the config plane's boundary is the whole service's: 1 request/s gives 10 per 10-second period, 0.99 does not
    expect(release({ expectedRequestsPerSecond: 1 }).r.alarms.windows.config.period.toSeconds()).toBe(10);
    expect(release({ expectedRequestsPerSecond: 0.99 }).r.alarms.windows.config.period.toSeconds()).toBe(30);
    // an explicit period is never overridden: the shared one for both planes, a plane's own for that plane
    const shared = release({ expectedRequestsPerSecond: 5, alarms: { period: Duration.seconds(10) } }).r;
    expect([shared.alarms.windows.code.period.toSeconds(), shared.alarms.windows.config.period.toSeconds()]).toEqual([10, 10]);
    expect(shared.facts.alarmWindows?.config.periodFromTraffic).toBe(false);
    const own = release({ expectedRequestsPerSecond: 5, alarms: { code: { period: Duration.minutes(1) }, config: { datapointsToAlarm: 3 } } }).r;
    expect(own.alarms.windows.code).toMatchObject({ datapointsToAlarm: 2, evaluationPeriods: 3 });
    expect(own.alarms.windows.code.period.toSeconds()).toBe(60);
    expect(own.alarms.windows.config).toMatchObject({ datapointsToAlarm: 3, evaluationPeriods: 3 });
    expect(own.alarms.windows.config.period.toSeconds()).toBe(10);
    expect(own.worstCase.code.seconds).toBe(3 * 60 + 10 + 60 + 30);
    expect(own.worstCase.config.seconds).toBe(4 * 10 + 10 + 10 + 30);
    expect(renderCanaryCard(own.facts, own.policy)).toContain(
      "Chosen from the stated traffic (no period given): the config plane's 10-second period from the whole service's.",
    );
  });

  test("a plane's own window is checked and named in the error", () => {
    expect(() => release({ alarms: { config: { period: Duration.seconds(20) } } })).toThrow(
      'alarms.config.period must be 10 s, 30 s or a whole number of minutes',
    );
    expect(() => release({ alarms: { code: { datapointsToAlarm: 4 } } })).toThrow(
      'alarms.code.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (3), got 4',
    );
    expect(() => release({ alarms: { config: { evaluationPeriods: 0 } } })).toThrow(
      'alarms.config.evaluationPeriods must be a whole number from 1 to 100, got 0',
    );
  });

  test('the config plane must trip before its release stops being watched, and see the guard at the stated traffic', () => {
    // AppConfig's default rollout is watched for 3 min of steps and 2 min of bake: (5 + 1) x 60 s do not fit
    const long = errors({ alarms: { config: { period: Duration.minutes(1), datapointsToAlarm: 5, evaluationPeriods: 5 } }, expectedRequestsPerSecond: 5 });
    expect(long).toContain(
      'config plane: a config release is watched for 300 s (exponential 10→20→40→80→100 % over 3 min (step 36 s), bake 2 min), shorter than the 360 s the alarms need to trip',
    );
    expect(long).not.toContain('code plane:');
    // 0.5 requests/s on the whole service: 5 per 10-second period, under 2 x the guard
    expect(
      errors({
        expectedRequestsPerSecond: 0.5,
        alarms: { code: { period: Duration.minutes(4), datapointsToAlarm: 1, evaluationPeriods: 1 }, config: { period: Duration.seconds(10) } },
        trafficShift: TrafficShift.canary(10, Duration.minutes(10)),
      }),
    ).toContain(
      'config plane: at 0.5 requests/s the service averages 5 requests per 10-second alarm period, under 2 x minInvocations (10): about 44 % of its periods would be forced quiet; use alarms.config.period of 30 s',
    );
  });

  test('too little traffic for any period that fits the canary fails synth with what would work', () => {
    const msg = errors({ expectedRequestsPerSecond: 0.5 });
    // 0.05 requests/s reach the canary: 240-second periods average 12; they do not fit a 5-minute canary, nor the budget
    expect(msg).toContain('the first canary step lasts 300 s, shorter than the 720 s the alarms need to trip');
    expect(msg).toContain('dominated by its datapoints ((2 + 1) x 240 s = 12 min)');
    // a 10-minute canary with one datapoint: judged, and within the budget
    const ok = errors({
      expectedRequestsPerSecond: 0.5,
      alarms: { datapointsToAlarm: 1, evaluationPeriods: 1 },
      trafficShift: TrafficShift.canary(10, Duration.minutes(10)),
    });
    expect(ok).toBe('');
    // an explicit 2-minute period is too short to judge at this traffic
    expect(errors({ expectedRequestsPerSecond: 0.5, alarms: { period: Duration.minutes(2) } })).toContain('use alarms.code.period of 240 s');
  });

  test('traffic not stated: the card says the canary may pass unjudged', () => {
    const { r } = release();
    expect(renderCanaryCard(r.facts, r.policy)).toContain('Traffic not stated (`expectedRequestsPerSecond`)');
  });

  test('a non-positive traffic figure is refused', () => {
    expect(() => release({ expectedRequestsPerSecond: 0 })).toThrow('expectedRequestsPerSecond must be a positive number, got 0');
  });
});

describe('one release, one plane at a time', () => {
  test('the config deployment waits for the alias update (the code canary): code first, then config', () => {
    const { template } = release();
    const t = template();
    // both aliases: live (the canary) and gate (the config gate replays on the new version)
    const aliases = Object.entries(t.findResources('AWS::Lambda::Alias')) as [string, any][];
    expect(aliases.map(([, a]) => a.Properties.Name).sort()).toEqual(['gate', 'live']);
    const [[, deployment]] = Object.entries(t.findResources('Custom::AiReleaseConfigDeployment')) as [string, any][];
    expect(deployment.DependsOn).toEqual(expect.arrayContaining(aliases.map(([id]) => id)));
    // and no alias ever waits for the config (that would run config first)
    for (const [, alias] of aliases) expect(JSON.stringify(alias)).not.toMatch(/ReleaseConfigDeployment/);
    expect(
      t.findResources('AWS::AppConfig::Deployment', { Properties: { ConfigurationProfileId: { Ref: Match.stringLikeRegexp('ReleaseConfigProfile') } } }),
    ).toEqual({});
  });
});

describe('what a user sees: degrade state and plane order', () => {
  test('the card and the manifest show the deployed state of each degrade switch, not only its name', () => {
    const { r } = release({ degrade: { disableTools: true, staticAnswer: true, staticAnswerMessage: 'Back soon.' } });
    const card = renderCanaryCard(r.facts, r.policy);
    expect(card).toContain('| `useFallbackModel` | off |');
    expect(card).toContain('| `disableTools` | **ON** |');
    expect(card).toContain('| `disableRetrieval` | off |');
    expect(card).toContain('| `staticAnswer` | **ON** (serves "Back soon.") |');
    expect(card).toContain('environment assistant-degrade, profile assistant-degrade');
    expect(r.manifest.manifest.facts).toMatchObject({
      'degrade.useFallbackModel': false,
      'degrade.disableTools': true,
      'degrade.disableRetrieval': false,
      'degrade.staticAnswer': true,
    });
    // all off by default, and a change of state changes the facts
    expect(release().r.manifest.manifest.facts).toMatchObject({ 'degrade.disableTools': false, 'degrade.staticAnswer': false });
  });

  test('the card and the manifest say which plane goes first', () => {
    const { r } = release();
    expect(renderCanaryCard(r.facts, r.policy)).toContain('rolls out **code first, then config**');
    expect(r.manifest.manifest.facts).toMatchObject({ rolloutOrder: 'code, then config, one at a time' });
  });
});

describe('degrade switches are never blocked by the alarms they answer', () => {
  test('the cost guard deploys into the unmonitored degrade environment, never the monitored release one', () => {
    const { template } = release({ costGuard: {} });
    const t = template();
    const envs = Object.entries(t.findResources('AWS::AppConfig::Environment')) as [string, any][];
    const [degradeId, degrade] = envs.find(([, e]) => e.Properties.Name === 'assistant-degrade')!;
    const [releaseId, releaseEnv] = envs.find(([, e]) => e.Properties.Name === 'assistant')!;
    expect(degrade.Properties.Monitors).toBeUndefined();
    expect(releaseEnv.Properties.Monitors).toHaveLength(2); // the combined guardrail alarm and the judge's verdict
    const guard = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.includes('CostGuard'))![1] as any;
    expect(guard.Properties.Environment.Variables.COST_GUARD_ENVIRONMENT).toEqual({ Ref: degradeId });
    expect(JSON.stringify(guard.Properties.Environment.Variables)).not.toContain(releaseId);
  });
});
