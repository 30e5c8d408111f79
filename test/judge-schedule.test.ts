/**
 * The judged steps a CodeDeploy schedule gives (issue 16 A): only steps where the stable version still serves a
 * share give concurrent evidence. TimeBasedCanary shifts in two increments, TimeBasedLinear in equal ones (CodeDeploy
 * API reference); lib/rollout/traffic-shift.ts renders both, and its `steps` feed `scheduleFromSteps`.
 */
import { Duration } from 'aws-cdk-lib';
import { TrafficShift } from '../lib/rollout/traffic-shift';
import { judgedSteps, scheduleFromSteps, shareAt, simulateSchedule, fullTrafficMinute } from '../lambda/judge/simulate';

describe('judged steps of a schedule', () => {
  test('canary 10 % for 5 minutes: one judged step of 5 minutes at 10 %, then full traffic at minute 5', () => {
    const s = scheduleFromSteps(TrafficShift.CANARY_10_PERCENT_5_MINUTES.steps);
    expect(judgedSteps(s)).toEqual([{ share: 0.1, fromMinute: 0, minutes: 5 }]);
    expect(fullTrafficMinute(s)).toBe(5);
    expect(s.endMinute).toBe(15);
  });

  test('linear 10 % every minute is judged through 90 %: nine judged minutes, then 100 % at minute 9', () => {
    const s = scheduleFromSteps(TrafficShift.LINEAR_10_PERCENT_EVERY_1_MINUTE.steps, 10);
    const judged = judgedSteps(s);
    expect(judged.map((j) => Math.round(j.share * 100))).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(judged.reduce((a, j) => a + j.minutes, 0)).toBe(9);
    expect(shareAt(s, 8.5)).toBeCloseTo(0.9, 12);
    expect(shareAt(s, 9)).toBe(1);
  });

  test('a canary at 50 % is one balanced judged step; all at once has none', () => {
    expect(judgedSteps(scheduleFromSteps(TrafficShift.canary(50, Duration.minutes(20)).steps))).toEqual([{ share: 0.5, fromMinute: 0, minutes: 20 }]);
    expect(judgedSteps(scheduleFromSteps(TrafficShift.ALL_AT_ONCE.steps))).toEqual([]);
  });

  test('bad schedules are refused with the field and the fix', () => {
    expect(() => scheduleFromSteps([])).toThrow('schedule.steps is empty');
    expect(() => scheduleFromSteps([[0, 0]])).toThrow('schedule step at minute 0 has share 0');
    expect(() =>
      scheduleFromSteps([
        [5, 10],
        [5, 100],
      ]),
    ).toThrow('schedule steps must be in increasing minutes');
    expect(() => simulateSchedule(scheduleFromSteps([[0, 10]]), { rps: 1 }, {}, 0)).toThrow('seeds must be a positive whole number');
  });
});
