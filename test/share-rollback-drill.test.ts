/**
 * The drill's two config rollback paths (lib/drill/share-rollback.ts) on the example template: a few seeds here, the
 * full count in bench/drill.ts (bench/RESULTS.md).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { DEFAULT_SHARE_SCHEDULE } from '../lambda/share-controller/controller';
import { captureOutcomes, compareRollbackPaths, propagationSeconds, readDrillModel, rng, scheduleSteps, type SimulationSetup } from '../lib/drill';
import { testApp } from './helpers';

describe('time to config rollback: AppConfig against share 0', () => {
  test('after detection, share 0 saves the AppConfig reaction minus its own, and both stay within reaction + poll + TTL', async () => {
    const model = readDrillModel(Template.fromStack(new ExampleStack(testApp(), 'Drill')).toJSON());
    const setup: SimulationSetup = {
      model,
      scenario: {
        name: 'config',
        plane: 'config',
        ratePerSecond: 5,
        fault: { kind: 'error-spike', size: 0.2, startSeconds: 0 },
        baseline: { errorRate: 0.005 },
      },
    };
    const captured = await captureOutcomes(setup, 300);
    const propagation = { pollIntervalSeconds: 15, ttlSeconds: 5, environments: 10 };
    const cmp = compareRollbackPaths(setup, captured, 40, propagation, { appConfigReactionSeconds: 30, shareReactionSeconds: 5 }, DEFAULT_SHARE_SCHEDULE);
    expect(cmp.appconfig.rolledBack).toBe(40);
    expect(cmp.share.rolledBack).toBe(40);
    expect(cmp.assigned?.rolledBack).toBe(40);
    const afterDetection = (p: typeof cmp.share) => p.afterDetectionMedian as number;
    // The difference is the reactions (30 s vs 5 s) and the runtime's TTL (5 s on AppConfig's path; the share is
    // read through while a release runs), up to sampling.
    expect(afterDetection(cmp.appconfig) - afterDetection(cmp.share)).toBeGreaterThan(15);
    expect(afterDetection(cmp.appconfig) - afterDetection(cmp.share)).toBeLessThan(40);
    expect(afterDetection(cmp.share)).toBeGreaterThan(5);
    expect(afterDetection(cmp.share)).toBeLessThanOrEqual(5 + 15 + 1); // reaction + one poll (+ whole-second alarms)
    expect(cmp.reaction.shareReadTtlSeconds).toBe(0);
    // The share path's propagation is one poll: after detection, never more than reaction + poll.
    const withTtl = compareRollbackPaths(setup, captured, 40, propagation, { appConfigReactionSeconds: 30, shareReactionSeconds: 5, shareReadTtlSeconds: 5 });
    expect(afterDetection(withTtl.share)).toBeGreaterThan(afterDetection(cmp.share)); // the old model was slower: the TTL matters
    expect(afterDetection(cmp.appconfig)).toBeLessThanOrEqual(30 + 15 + 5 + 1); // + up to 1 s: the alarm is evaluated on whole seconds
  }, 120_000);

  test('propagation: the last of N environments, bounded by poll + TTL, and later with more environments', () => {
    const m = { pollIntervalSeconds: 15, ttlSeconds: 5, environments: 1 };
    const r = rng(5);
    const one = Array.from({ length: 2000 }, () => propagationSeconds(m, r));
    const many = Array.from({ length: 2000 }, () => propagationSeconds({ ...m, environments: 50 }, r));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.max(...one, ...many)).toBeLessThan(20);
    expect(mean(one)).toBeGreaterThan(9); // E[U(0,15) + U(0,5)] = 10
    expect(mean(one)).toBeLessThan(11);
    expect(mean(many)).toBeGreaterThan(17);
    expect(scheduleSteps(DEFAULT_SHARE_SCHEDULE)).toEqual({
      steps: [
        [0, 10],
        [120, 50],
      ],
      endSeconds: 420,
    });
  });
});
