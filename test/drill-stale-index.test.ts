/**
 * The drill's stale-index scenario (issue 17 G): nothing the runtime measures changes, so today's alarms cannot tell
 * it from a good release; the evaluation metrics can, given enough canary samples. Few runs here; the measured rates
 * at the example's traffic are bench/drill-stale-index.ts's (bench/RESULTS.md).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { captureOutcomes, type DrillScenario, monteCarlo, planRequest, readDrillModel, rng } from '../lib/drill';
import { drillStaleIndex, stepsOfModel } from '../lib/drill/stale-index';
import { DEFAULT_BASELINE, resolveScenarios } from '../lib/drill';
import { testApp } from './helpers';

describe('the stale-index fault', () => {
  test('a share of answers is wrong (bad) and nothing measured differs from a healthy request drawn alike', () => {
    const fault = { kind: 'stale-index' as const, size: 0.3, startSeconds: 0 };
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      const a = planRequest(DEFAULT_BASELINE, fault, 10, rng(i + 1));
      const h = planRequest(DEFAULT_BASELINE, undefined, 10, rng(i + 1));
      const { bad: isBad, ...measured } = a;
      const { bad: _h, ...healthy } = h;
      expect(measured).toEqual(healthy);
      if (isBad) bad++;
    }
    expect(bad / 2000).toBeGreaterThan(0.25);
    expect(bad / 2000).toBeLessThan(0.35);
  });

  test('the drill names it as a scenario (`stale-index[:share]`)', () => {
    expect(resolveScenarios(['stale-index:0.5'], 'config', 5)[0].fault).toEqual({ kind: 'stale-index', size: 0.5, startSeconds: 0 });
  });
});

describe('at the example', () => {
  const stack = new ExampleStack(testApp(), 'Example');
  const model = readDrillModel(Template.fromStack(stack).toJSON());

  test("the example's schedules as the evaluation drill sees them", () => {
    const config = stepsOfModel(model, 'config');
    expect(config.steps.map((s) => s.share)).toEqual([0.1, 0.2, 0.4, 0.8]);
    expect(config.steps.reduce((n, s) => n + s.minutes, 0)).toBeCloseTo(2.4, 9);
    expect(config.afterMinutes).toBeCloseTo(2.6, 9); // the bake
    // the example's code schedule, linear 5 % every 3 minutes (bin/example-stack.ts): 5 % ... 95 %, then 100 %
    const code = stepsOfModel(model, 'code');
    expect(code.afterMinutes).toBe(10);
    expect(code.steps.map((x) => x.minutes)).toEqual(Array(19).fill(3));
    code.steps.forEach((x, i) => expect(x.share).toBeCloseTo((i + 1) * 0.05, 9));
  });

  test("today's alarms roll the stale index back no more often than a good release", async () => {
    const scenario: DrillScenario = { name: 'stale-index', plane: 'config', ratePerSecond: 5, fault: { kind: 'stale-index', size: 0.3, startSeconds: 0 } };
    const setup = { model, scenario };
    const captured = await captureOutcomes(setup, 300);
    const bad = monteCarlo(setup, captured, 60);
    const good = monteCarlo(
      { ...setup, scenario: { ...scenario, fault: { kind: 'none', size: 0, startSeconds: 0 } } },
      { ...captured, faultyNew: captured.healthyNew },
      60,
    );
    expect(bad.caught).toBeLessThanOrEqual(good.caught + 2);
    expect(bad.badServedMean).toBeGreaterThan(0); // wrong answers were served all the same
  }, 60_000);

  test('the paired comparison catches it before full traffic on the planned config schedule at 10 % sampling; nothing does at the example schedule and 2 %', async () => {
    const planned = await drillStaleIndex({
      ratePerSecond: 5,
      samplingRate: 0.1,
      steps: [
        { share: 0.1, minutes: 5 },
        { share: 0.5, minutes: 55 },
      ],
      afterMinutes: 10,
      plane: 'config',
      runs: 4,
    });
    expect(planned.find((d) => d.by === 'paired')?.beforeFull).toBeGreaterThanOrEqual(0.75);
    const example = await drillStaleIndex({ ratePerSecond: 5, samplingRate: 0.02, ...stepsOfModel(model, 'config'), plane: 'config', runs: 4 });
    for (const d of example) expect(d.beforeFull).toBe(0);
  }, 60_000);
});
