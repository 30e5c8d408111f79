import {
  captureOutcomes,
  type CapturedOutcomes,
  type DrillScenario,
  readDrillModel,
  runResampled,
  runThroughRuntime,
  type SimulationSetup,
} from '../lib/drill';
import { compositeResource, CONTRACT_RATE, drillTemplate, ERROR_RATE } from './drill-fixtures';

/**
 * Single runs against timelines computed by hand. Traffic is `uniform`: exactly `rate` requests a second, every
 * tenth on the new version during a 10 % canary; the fault hits every faulty request (size 1); no base errors.
 * Timing: ingestion 10 s, reaction 30 s (the defaults). A 30-second period k covers [30k, 30k + 30) and is visible
 * at 30k + 40; a 10-second cadence evaluates it then.
 */
const scenario = (over: Partial<DrillScenario> = {}): DrillScenario => ({
  name: 't',
  plane: 'code',
  ratePerSecond: 10,
  arrivals: 'uniform',
  fault: { kind: 'error-spike', size: 1, startSeconds: 0 },
  baseline: { errorRate: 0 },
  ...over,
});

const captures = new Map<string, CapturedOutcomes>();
async function run(template: Record<string, unknown>, s: DrillScenario) {
  const setup: SimulationSetup = { model: readDrillModel(template), scenario: s, tailSeconds: 60 };
  const key = `${s.plane}|${s.fault.kind}|${s.fault.size}`;
  let captured = captures.get(key);
  if (!captured) {
    captured = await captureOutcomes(setup, 200);
    captures.set(key, captured);
  }
  return runResampled(setup, captured);
}

describe('single runs against hand-computed timelines', () => {
  test('error spike, 10 req/s: 2 of 3 breaching at t = 70 s, rollback at 100 s, 100 bad answers', async () => {
    // Periods 0 and 1 each hold 30 requests to the new version, all failing (rate 1 > 0.05); period 1 is visible at 70.
    const r = await run(drillTemplate({ ErrorRate: ERROR_RATE }), scenario());
    expect(r.detectedAt).toBe(70);
    expect(r.detectedBy).toBe('ErrorRate');
    expect(r.rollbackAt).toBe(100);
    expect(r.caughtBeforeFull).toBe(true);
    // One new-version request a second over [0, 100).
    expect(r.badServed).toBe(100);
    expect(r.newServed).toBe(100);
    expect(r.changes.find((c) => c.alarm === 'ErrorRate')).toEqual({ t: 70, alarm: 'ErrorRate', from: 'OK', to: 'ALARM' });
    expect(r.series.ErrorRate.find((p) => p.t === 0)?.v).toBe(1);
  });

  test('the same run through the real runtime gives the same timeline', async () => {
    const setup: SimulationSetup = { model: readDrillModel(drillTemplate({ ErrorRate: ERROR_RATE })), scenario: scenario(), tailSeconds: 30 };
    const r = await runThroughRuntime(setup);
    expect([r.detectedAt, r.rollbackAt, r.badServed]).toEqual([70, 100, 100]);
  });

  test('fault starting at 120 s: periods 4 and 5 breach, ALARM at 190 s (70 s after the fault), rollback at 220 s', async () => {
    const r = await run(drillTemplate({ ErrorRate: ERROR_RATE }), scenario({ fault: { kind: 'error-spike', size: 1, startSeconds: 120 } }));
    expect([r.detectedAt, r.rollbackAt, r.badServed]).toEqual([190, 220, 100]);
  });

  test('contract breaks are caught by the contract alarm on the same timeline', async () => {
    const r = await run(
      drillTemplate({ ErrorRate: ERROR_RATE, ContractRate: CONTRACT_RATE }),
      scenario({ fault: { kind: 'contract', size: 1, startSeconds: 0 } }),
    );
    expect([r.detectedBy, r.detectedAt, r.rollbackAt, r.badServed]).toEqual(['ContractRate', 70, 100, 100]);
  });

  test('low traffic: 1 req/s gives the canary 3 requests a period, under the 5-request guard: never detected', async () => {
    // IF(inv >= 5, …, 0) is 0 in every period: the alarm stays OK; the canary's 30 requests over 5 minutes all fail.
    const r = await run(drillTemplate({ ErrorRate: ERROR_RATE }), scenario({ ratePerSecond: 1 }));
    expect(r.detectedAt).toBeUndefined();
    expect(r.rollbackAt).toBeUndefined();
    expect(r.caughtBeforeFull).toBe(false);
    expect(r.series.ErrorRate.filter((p) => p.t >= 0 && p.t < 300).every((p) => p.v === 0)).toBe(true);
    // 30 bad answers in the canary (0.1 a second for 300 s), then every request for the 60-second tail.
    expect(r.badServed).toBe(30 + 60);
  });

  test('missing data: no EMF for the first 60 s, treated as not breaching: ALARM waits for periods 2 and 3, at 130 s', async () => {
    const r = await run(drillTemplate({ ErrorRate: ERROR_RATE }), scenario({ metricsGap: { fromSeconds: 0, toSeconds: 60 } }));
    expect(r.series.ErrorRate.filter((p) => p.t === 0 || p.t === 30).map((p) => p.v)).toEqual([undefined, undefined]);
    expect([r.detectedAt, r.rollbackAt, r.badServed]).toEqual([130, 160, 160]);
  });

  test('missing data treated as breaching: the empty new-version periods before the deployment alarm at once', async () => {
    // Before t = 0 the new version has no datapoints; `breaching` fills them as bad: ALARM at the first evaluation.
    const r = await run(drillTemplate({ ErrorRate: { ...ERROR_RATE, treatMissingData: 'breaching' } }), scenario());
    expect(r.detectedAt).toBe(0);
    expect(r.rollbackAt).toBe(30);
  });

  test('linear 10 % every minute (custom deployment config): full at 540 s; 1 of 1 alarms at 40 s', async () => {
    const r = await run(drillTemplate({ ErrorRate: { ...ERROR_RATE, m: 1, n: 1 } }, { deploymentConfig: { linear: [10, 1] } }), scenario());
    expect(r.fullAt).toBe(540);
    // 1 a second for [0, 60), then 2 a second (20 %) for [60, 70).
    expect([r.detectedAt, r.rollbackAt, r.badServed]).toEqual([40, 70, 60 + 2 * 10]);
  });

  test('config plane: AppConfig strategy and composite monitor; service-wide alarm sees the share on the new config', async () => {
    // Linear 50 % over 2 min: steps at 0 s (50 %) and 60 s (100 %). Service-wide error rate 0.5 > 0.05 from period 0.
    const template = drillTemplate(
      { ServiceErrorRate: { ...ERROR_RATE, metrics: { inv: ['Invocations', 'Sum', 'service'], x: ['Errors', 'Sum', 'service'] } } },
      {
        appConfig: { growthType: 'LINEAR', growth: 50, duration: 2, bake: 1, monitors: ['Rollback'] },
        extraResources: { Rollback: compositeResource(['ServiceErrorRate']) },
      },
    );
    const r = await run(template, scenario({ plane: 'config' }));
    expect(r.fullAt).toBe(60);
    expect(r.endAt).toBe(180);
    expect([r.detectedAt, r.rollbackAt]).toEqual([70, 100]);
    expect(r.caughtBeforeFull).toBe(false);
    expect(r.caught).toBe(true);
    // 5 a second on the new config for 60 s, then 10 a second until the rollback at 100 s.
    expect(r.badServed).toBe(5 * 60 + 10 * 40);
  });
});

describe('a hand edit of the template changes the answer', () => {
  test('period 30 s -> 60 s: evaluated each minute, ALARM at 180 s instead of 70 s', async () => {
    const template = drillTemplate({ ErrorRate: ERROR_RATE });
    const before = await run(template, scenario());
    for (const m of template.Resources.ErrorRate.Properties.Metrics) if (m.MetricStat) m.MetricStat.Period = 60;
    const after = await run(template, scenario());
    expect(before.detectedAt).toBe(70);
    // Period 0 = [0, 60) visible at 70, evaluated at 120 (1 breaching); period 1 at 180: 2 of 3.
    expect([after.detectedAt, after.rollbackAt]).toEqual([180, 210]);
  });

  test('threshold 0.05 -> 1: an error rate of 1 no longer breaches (">"), nothing is rolled back', async () => {
    const template = drillTemplate({ ErrorRate: ERROR_RATE });
    template.Resources.ErrorRate.Properties.Threshold = 1;
    const r = await run(template, scenario());
    expect(r.detectedAt).toBeUndefined();
    expect(r.caught).toBe(false);
  });

  test('DatapointsToAlarm 2 -> 3: one more period, ALARM at 100 s', async () => {
    const template = drillTemplate({ ErrorRate: ERROR_RATE });
    template.Resources.ErrorRate.Properties.DatapointsToAlarm = 3;
    expect((await run(template, scenario())).detectedAt).toBe(100);
  });
});
