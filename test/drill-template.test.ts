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
    const errorRate = model.alarms.find((a) => a.name.endsWith('-version-error-rate'));
    // 0.1: the example's safety-net threshold (bin/example-stack.ts `alarms.maxErrorRate`)
    expect(errorRate).toMatchObject({ threshold: 0.1, comparison: 'GreaterThanThreshold', treatMissingData: 'notBreaching', resultId: 'expr_1' });
    const cfn = json.Resources[errorRate?.logicalId as string].Properties;
    expect(errorRate?.periodSeconds).toBe(cfn.Metrics[1].MetricStat.Period);
    expect([errorRate?.datapointsToAlarm, errorRate?.evaluationPeriods]).toEqual([cfn.DatapointsToAlarm, cfn.EvaluationPeriods]);
    expect(errorRate?.queries.find((q) => q.expression)?.expression?.source).toBe(cfn.Metrics[0].Expression);
    expect(errorRate?.queries.find((q) => q.id === 'inv')?.metric).toMatchObject({ namespace: 'AiRelease', metricName: 'Invocations', stat: 'Sum' });
    expect(errorRate?.queries.find((q) => q.id === 'inv')?.metric?.dimensions.Version).toMatch(/^\$\{SupportAssistantCurrentVersion\w+\.Version\}$/);
  });

  test('the CodeDeploy schedule and its alarms; the AppConfig strategy and its composite monitor', () => {
    // The example's linear 5 % every 3 minutes (the canary plan's schedule at 5 requests/s): 100 % at minute 57.
    expect(model.codeDeploy?.steps).toEqual(Array.from({ length: 20 }, (_, i) => [i * 180, (i + 1) * 5]));
    expect(model.codeDeploy?.alarms).toHaveLength(8); // the seven threshold alarms and the canary judge's verdict
    // Exponential 10 % over 3 minutes: 10, 20, 40, 80, 100 % every 36 s (AppConfig's steps), then a 2-minute bake.
    expect(model.appConfig?.steps.map(([, p]) => p)).toEqual([10, 20, 40, 80, 100]);
    expect(model.appConfig?.steps.map(([t]) => t)).toEqual([0, 36, 72, 108, 144]);
    expect(model.appConfig?.endSeconds).toBe(300);
    const monitor = model.composites.find((c) => c.logicalId === model.appConfig?.monitors[0]);
    expect(monitor?.rule.children.every((c) => model.alarms.some((a) => a.logicalId === c))).toBe(true);
    const coverage = alarmCoverage(model, 'config');
    expect(coverage.trigger).toHaveLength(7); // six threshold alarms and the canary judge's verdict
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
