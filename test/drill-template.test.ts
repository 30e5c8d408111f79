import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { alarmCoverage, readDrillModel } from '../lib/drill';
import { drillTemplate, ERROR_RATE } from './drill-fixtures';
import { testApp } from './helpers';

describe('reading the synthesized example stack', () => {
  const app = testApp();
  const stack = new ExampleStack(app, 'Example');
  const json = Template.fromStack(stack).toJSON();
  const model = readDrillModel(json);

  test('every release alarm with its metric math, period, M of N, missing-data treatment and threshold', () => {
    const guardrails = model.alarms.find((a) => a.name.endsWith('-version-guardrails'));
    // The combined alarm: MAX of the terms above 1; the error term divides by the example's 0.1 (alarms.maxErrorRate).
    expect(guardrails).toMatchObject({ threshold: 1, comparison: 'GreaterThanThreshold', treatMissingData: 'notBreaching', resultId: 'expr_1' });
    expect(guardrails?.unsupported).toBeUndefined();
    const cfn = json.Resources[guardrails?.logicalId as string].Properties;
    const inv = cfn.Metrics.find((m: { Id: string }) => m.Id === 'inv');
    expect(guardrails?.periodSeconds).toBe(inv.MetricStat.Period);
    expect([guardrails?.datapointsToAlarm, guardrails?.evaluationPeriods]).toEqual([cfn.DatapointsToAlarm, cfn.EvaluationPeriods]);
    expect(guardrails?.queries.find((q) => q.id === 'expr_1')?.expression?.source).toBe(
      'MAX([error_rate, p99_latency, cost_per_request, quality, safety_rate, contract_rate, canary_vs_stable])',
    );
    const errorTerm = guardrails?.queries.find((q) => q.id === 'error_rate')?.expression;
    expect(errorTerm?.source).toBe('IF(inv >= 5, err / inv / 0.1, 0)');
    // 2 errors of 15 is 13.3 %, above 10 %: the term is 0.133 / 0.1 > 1; 1 of 15 (6.7 %) stays below 1.
    expect(errorTerm?.evaluate({ inv: 15, err: 2 })).toBeCloseTo(2 / 15 / 0.1, 12);
    expect(errorTerm?.evaluate({ inv: 15, err: 1 })).toBeLessThan(1);
    expect(guardrails?.queries.find((q) => q.id === 'inv')?.metric).toMatchObject({ namespace: 'AiRelease', metricName: 'Invocations', stat: 'Sum' });
    expect(guardrails?.queries.find((q) => q.id === 'inv')?.metric?.dimensions.Version).toMatch(/^\$\{SupportAssistantCurrentVersion\w+\.Version\}$/);
    // CloudWatch's limits per alarm: at most 10 metrics and 10 expressions.
    expect(guardrails?.queries.filter((q) => q.metric)).toHaveLength(9);
    expect(guardrails?.queries.filter((q) => !q.metric)).toHaveLength(8);
  });

  test('the CodeDeploy schedule and its alarms; the AppConfig strategy and its monitors', () => {
    // The example's linear schedule (bin/example-stack.ts): +5 % every 3 minutes, 100 % at minute 57.
    expect(model.codeDeploy?.steps).toEqual([...Array.from({ length: 19 }, (_, i) => [i * 180, (i + 1) * 5]), [57 * 60, 100]]);
    // The combined guardrail alarm and the canary judge's verdict.
    expect(model.codeDeploy?.alarms.map((id) => model.alarms.find((a) => a.logicalId === id)?.name.replace(/^.*-version-/, ''))).toEqual([
      'guardrails',
      'canary-verdict',
    ]);
    // Exponential 10 % over 3 minutes: 10, 20, 40, 80, 100 % every 36 s (AppConfig's steps), then a 2-minute bake.
    expect(model.appConfig?.steps.map(([, p]) => p)).toEqual([10, 20, 40, 80, 100]);
    expect(model.appConfig?.steps.map(([t]) => t)).toEqual([0, 36, 72, 108, 144]);
    expect(model.appConfig?.endSeconds).toBe(300);
    // The environment monitors the config plane's two alarms themselves: no composite in between.
    expect(model.appConfig?.monitors.every((m) => model.alarms.some((a) => a.logicalId === m))).toBe(true);
    const coverage = alarmCoverage(model, 'config');
    expect(coverage.trigger).toHaveLength(2); // the combined guardrail alarm and the canary judge's verdict
    // The canary judge's verdict (dimensions Service + Plane) and its cannot-judge alarm are statistics of the judge,
    // not of the runtime's EMF: listed as not simulated (the verdict on both planes); everything else is.
    expect(Object.keys(coverage.notSimulated).sort()).toEqual(
      model.alarms
        .filter((a) => /canaryverdict|cannotjudge/i.test(a.logicalId))
        .map((a) => a.logicalId)
        .sort(),
    );
    expect(Object.keys(coverage.notSimulated)).toHaveLength(3);
  });

  test("layout 'perMetric': the seven threshold alarms and the verdict in CodeDeploy, a composite as the AppConfig monitor", () => {
    const per = readDrillModel(Template.fromStack(new ExampleStack(testApp(), 'PerMetric', { alarmLayout: 'perMetric' })).toJSON());
    expect(per.codeDeploy?.alarms).toHaveLength(8);
    const monitor = per.composites.find((c) => c.logicalId === per.appConfig?.monitors[0]);
    expect(monitor?.rule.children.every((c) => per.alarms.some((a) => a.logicalId === c))).toBe(true);
    expect(alarmCoverage(per, 'config').trigger).toHaveLength(7);
    expect(per.alarms.find((a) => a.name.endsWith('-version-error-rate'))).toMatchObject({ threshold: 0.1 });
  });
});

describe('template variations', () => {
  test('custom CodeDeploy configs as lib/rollout/traffic-shift.ts synthesizes them, and predefined ones', () => {
    const canary = readDrillModel(drillTemplate({ E: ERROR_RATE }, { deploymentConfig: { canary: [20, 3] } }));
    expect(canary.codeDeploy?.steps).toEqual([
      [0, 20],
      [180, 100],
    ]);
    const linear = readDrillModel(drillTemplate({ E: ERROR_RATE }, { deploymentConfig: 'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes' }));
    expect(linear.codeDeploy?.fullAtSeconds).toBe(9 * 120);
    const once = readDrillModel(drillTemplate({ E: ERROR_RATE }, { deploymentConfig: 'CodeDeployDefault.LambdaAllAtOnce' }));
    expect(once.codeDeploy?.steps).toEqual([[0, 100]]);
  });

  test('an alarm kind the drill does not model is listed as not simulated, with the reason, and does not stop the rest', () => {
    const template = drillTemplate({
      E: ERROR_RATE,
      Verdict: { metrics: { v: ['CanaryVerdict', 'Maximum', 'service'] }, threshold: 0.5, m: 1, n: 1 },
      Trend: { expression: 'RATE(x)', metrics: { x: ['Errors', 'Sum', 'version'] }, threshold: 1 },
    });
    const model = readDrillModel(template);
    const coverage = alarmCoverage(model, 'code');
    expect(coverage.notSimulated.Verdict).toMatch(/CanaryVerdict is not one the runtime writes/);
    expect(coverage.notSimulated.Trend).toMatch(/RATE\(1 arguments\) is not simulated/);
    expect(coverage.simulated).toEqual(['E']);
  });

  test('bad templates: a clear error naming the resource and field', () => {
    expect(() => readDrillModel({})).toThrow(/no Resources/);
    const t = drillTemplate({ E: ERROR_RATE });
    t.Resources.E.Properties.DatapointsToAlarm = 4;
    expect(() => readDrillModel(t)).toThrow('alarm E: DatapointsToAlarm 4 must be between 1 and EvaluationPeriods 3');
    const u = drillTemplate({ E: ERROR_RATE });
    u.Resources.E.Properties.Metrics[1].MetricStat.Period = 45;
    expect(() => readDrillModel(u)).toThrow(/alarm E: Period 45 s is not one CloudWatch alarms accept/);
    const v = drillTemplate({ E: ERROR_RATE });
    v.Resources.Group.Properties.DeploymentConfigName = 'Nope';
    expect(() => readDrillModel(v)).toThrow(/DeploymentConfigName Nope is neither/);
  });

  test('several services in one stack: --service picks the deployment group whose alarms watch it', () => {
    const t = drillTemplate({ E: ERROR_RATE });
    const other = JSON.parse(JSON.stringify(t.Resources.E).replace(/"svc"/g, '"other"').replace(/svc-/g, 'other-'));
    t.Resources.OtherE = other;
    t.Resources.OtherGroup = {
      Type: 'AWS::CodeDeploy::DeploymentGroup',
      Properties: { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce', AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: 'OtherE' } }] } },
    };
    expect(() => readDrillModel(t)).toThrow(/2 CodeDeploy deployment groups .*--service/);
    expect(readDrillModel(t, 'other').codeDeploy?.logicalId).toBe('OtherGroup');
    expect(readDrillModel(t, 'svc').codeDeploy?.logicalId).toBe('Group');
  });
});
