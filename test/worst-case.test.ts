import { judgeablePeriodSeconds, quietFraction } from '../lib/rollout/release-policy';
import { alarmPeriods, alarmWorstCase, evaluationCadenceSeconds, formatSeconds, planeWorstCase } from '../lib/rollout/worst-case';

describe('worst case, hand-computed', () => {
  test.each([
    // period, M, N, reaction, ingestion -> (M+1)*period + ingestion + cadence + reaction
    [10, 2, 3, 30, 10, 3 * 10 + 10 + 10 + 30], // the defaults: 80 s
    [10, 1, 1, 30, 10, 2 * 10 + 10 + 10 + 30], // 70 s
    [10, 3, 3, 30, 10, 4 * 10 + 10 + 10 + 30], // 90 s
    [30, 2, 3, 30, 10, 3 * 30 + 10 + 10 + 30], // 140 s: 30 s periods still evaluate every 10 s
    [60, 2, 3, 30, 10, 3 * 60 + 10 + 60 + 30], // 280 s: minute periods evaluate every minute
    [300, 1, 1, 0, 0, 2 * 300 + 60], // CDK's 5-minute default, even with no delays: 11 min
  ])('period %i s, %i of %i, reaction %i s, ingestion %i s -> %i s', (period, m, n, reaction, ingestion, expected) => {
    expect(alarmWorstCase({ name: 'a', periodSeconds: period, datapointsToAlarm: m, evaluationPeriods: n }, reaction, ingestion).total).toBe(expected);
  });

  test("a plane is as slow as its slowest alarm, with the plane's own reaction delay", () => {
    const alarms = [
      { name: 'fast', periodSeconds: 10, datapointsToAlarm: 1, evaluationPeriods: 1 },
      { name: 'slow', periodSeconds: 60, datapointsToAlarm: 2, evaluationPeriods: 2 },
    ];
    const code = planeWorstCase('code', alarms, { codeDeployReactionSeconds: 45, metricIngestionSeconds: 5 });
    expect(code.slowestAlarm).toBe('slow');
    expect(code.seconds).toBe(3 * 60 + 5 + 60 + 45);
    const config = planeWorstCase('config', alarms, { appConfigReactionSeconds: 15, metricIngestionSeconds: 5 });
    expect(config.seconds).toBe(3 * 60 + 5 + 60 + 15);
    expect(config.alarms.map((a) => a.name)).toEqual(['fast', 'slow']);
  });

  test.each([
    [() => planeWorstCase('code', []), 'the code plane has no alarms'],
    [
      () => alarmWorstCase({ name: 'x', periodSeconds: 10, datapointsToAlarm: 4, evaluationPeriods: 3 }, 0, 0),
      'datapointsToAlarm 4 must be between 1 and evaluationPeriods 3',
    ],
    [
      () => alarmWorstCase({ name: 'x', periodSeconds: 20, datapointsToAlarm: 1, evaluationPeriods: 1 }, 0, 0),
      'period 20 s is not one CloudWatch alarms accept',
    ],
  ])('refuses impossible input %#', (fn, message) => expect(fn).toThrow(message));

  test.each([
    [10, 10],
    [30, 10],
    [60, 60],
    [300, 60],
  ])('evaluation cadence for %i s periods is %i s', (p, c) => expect(evaluationCadenceSeconds(p)).toBe(c));

  test.each([
    [45, '45 s'],
    [60, '1 min'],
    [80, '1 min 20 s'],
    [600, '10 min'],
  ])('formatSeconds(%i) = %s', (s, text) => expect(formatSeconds(s)).toBe(text));
});

describe('judging a canary at the stated traffic', () => {
  test('the share of periods forced quiet is the Poisson chance of fewer than the guard', () => {
    // the case: 5 rps x 10 % x 10 s = 5 per period against a guard of 5: about 4 periods in 10
    expect(quietFraction(5, 5)).toBeCloseTo(0.4405, 4);
    expect(quietFraction(10, 5)).toBeCloseTo(0.0293, 4);
    expect(quietFraction(0, 5)).toBe(1);
    expect(quietFraction(100, 1)).toBeCloseTo(Math.exp(-100), 50);
  });

  test('the judgeable period is the shortest accepted one that averages twice the guard', () => {
    expect(judgeablePeriodSeconds(5, 10, 5)).toBe(30);
    expect(judgeablePeriodSeconds(10, 10, 5)).toBe(10);
    expect(judgeablePeriodSeconds(0.5, 10, 5)).toBe(240);
    expect(judgeablePeriodSeconds(1, 50, 5)).toBe(30);
    expect(alarmPeriods(180)).toEqual([10, 30, 60, 120, 180]);
  });
});
