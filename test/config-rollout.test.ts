import { Duration } from 'aws-cdk-lib';
import { ConfigRollout } from '../lib';

describe('ConfigRollout', () => {
  test.each([
    [ConfigRollout.DEFAULT, [10, 20, 40, 80, 100], 36, 'exponential 10→20→40→80→100 % over 3 min (step 36 s), bake 2 min'],
    [ConfigRollout.INSTANT, [100], 0, 'all at once, bake 0 min'],
    [
      ConfigRollout.linear({ stepPercent: 25, deploymentDuration: Duration.minutes(2), finalBake: Duration.minutes(1) }),
      [25, 50, 75, 100],
      30,
      'linear 25→50→75→100 % over 2 min (step 30 s), bake 1 min',
    ],
    [ConfigRollout.allAtOnce(Duration.minutes(5)), [100], 0, 'all at once, bake 5 min'],
  ])('%#: steps, interval and description', (rollout, steps, interval, text) => {
    expect(rollout.steps).toEqual(steps);
    expect(rollout.stepIntervalSeconds).toBe(interval);
    expect(rollout.describe()).toBe(text);
  });

  test.each([
    [
      () => ConfigRollout.linear({ stepPercent: 0, deploymentDuration: Duration.minutes(1), finalBake: Duration.minutes(0) }),
      'stepPercent must be between 1 and 100, got 0',
    ],
    [() => ConfigRollout.linear({ stepPercent: 150, deploymentDuration: Duration.minutes(1), finalBake: Duration.minutes(0) }), 'got 150'],
    [
      () => ConfigRollout.linear({ stepPercent: 10, deploymentDuration: Duration.seconds(90), finalBake: Duration.minutes(0) }),
      'deploymentDuration must be whole minutes',
    ],
    [
      () => ConfigRollout.exponential({ stepPercent: 10, deploymentDuration: Duration.minutes(1), finalBake: Duration.hours(25) }),
      'finalBake must be 0–1440 minutes, got 1500',
    ],
    [
      () => ConfigRollout.linear({ stepPercent: 10, deploymentDuration: Duration.minutes(0), finalBake: Duration.minutes(0) }),
      'needs a deploymentDuration of at least 1 minute',
    ],
  ])('%#: bad rollout is refused with the fix', (make, message) => {
    expect(make).toThrow(message);
  });
});
