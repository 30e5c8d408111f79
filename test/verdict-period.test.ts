import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { testApp } from './helpers';

// The judge publishes its verdict once a minute (its schedule's rate). A verdict alarm on a shorter period is in ALARM
// for one period of each minute and OK between: a blip CodeDeploy's and AppConfig's alarm polling can miss. The
// example's config plane watches 10-second periods (h8-period); its verdict alarm must still span the judge's cycle.
describe('verdict alarms span the canary judge cycle', () => {
  const stack = new ExampleStack(testApp(), 'Example');
  const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
  const byName = (suffix: string) => Object.values(alarms).filter((a) => typeof a.Properties.AlarmName === 'string' && a.Properties.AlarmName.endsWith(suffix));

  test.each([['code'], ['config']])('the %s plane: a 60-second period, 1 of 1, missing data not breaching', (plane) => {
    const found = byName(`${plane === 'code' ? 'version' : 'service'}-canary-verdict`);
    expect(found).toHaveLength(1);
    expect(found[0].Properties).toMatchObject({ Period: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
  });

  test("the config plane's guardrails keep their shorter period (the verdict's floor is the judge's, not the plane's)", () => {
    const guard = byName('service-guardrails');
    expect(guard).toHaveLength(1);
    const periods = JSON.stringify(guard[0].Properties.Metrics).match(/"Period":(\d+)/g) ?? [];
    expect(periods.length).toBeGreaterThan(0);
    expect(periods.every((p) => Number(p.split(':')[1]) < 60)).toBe(true);
  });
});
