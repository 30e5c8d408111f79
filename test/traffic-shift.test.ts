import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { TrafficShift } from '../lib';
import { testApp } from './helpers';

describe('TrafficShift', () => {
  test.each([
    [
      TrafficShift.CANARY_10_PERCENT_5_MINUTES,
      [
        [0, 10],
        [5, 100],
      ],
      'canary 10 % for 5 min, then 100 %',
    ],
    [
      TrafficShift.linear(25, Duration.minutes(2)),
      [
        [0, 25],
        [2, 50],
        [4, 75],
        [6, 100],
      ],
      'linear +25 % every 2 min (100 % after 6 min)',
    ],
    [
      TrafficShift.linear(30, Duration.minutes(1)),
      [
        [0, 30],
        [1, 60],
        [2, 90],
        [3, 100],
      ],
      'linear +30 % every 1 min (100 % after 3 min)',
    ],
    [TrafficShift.ALL_AT_ONCE, [[0, 100]], 'all at once (no canary)'],
  ])('%#: steps and description', (shift, steps, text) => {
    expect(shift.steps).toEqual(steps);
    expect(shift.describe()).toBe(text);
  });

  test('a custom shift becomes one AWS::CodeDeploy::DeploymentConfig, shared by equal shifts', () => {
    const stack = new Stack(testApp(), 'S');
    const a = TrafficShift.canary(20, Duration.minutes(3)).bind(stack);
    const b = TrafficShift.canary(20, Duration.minutes(3)).bind(stack);
    expect(a).toBe(b);
    Template.fromStack(stack).hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 20, CanaryInterval: 3 } },
    });
  });

  test('a predefined shift creates nothing', () => {
    const stack = new Stack(testApp(), 'S');
    TrafficShift.LINEAR_10_PERCENT_EVERY_1_MINUTE.bind(stack);
    Template.fromStack(stack).resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
  });
});
