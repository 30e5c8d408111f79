/**
 * Issue 16-F, measured end to end: config releases through AppConfig's default exponential rollout, judged by the real
 * wiring (runSchedule, one invocation a minute) and the real engine over a simulated log stream whose judge windows
 * really do hold new-config requests only (the hazard that used to switch the engine to its after-traffic phase:
 * 2.7–4.1 % of good releases then ended with a dead judge). Few seeds here; 1,000 in bench/judge-config-rollout.ts.
 */
import { defaultRolloutPercent, simulateConfigRollout, tallyConfigRollouts } from './config-rollout-sim';

describe('AppConfig rollout model (ConfigRollout.DEFAULT)', () => {
  test('10 % doubling every 36 s: 10, 20, 40, 80, then 100 % from 144 s', () => {
    expect([0, 35, 36, 71, 72, 108, 143, 144, 179].map(defaultRolloutPercent)).toEqual([10, 10, 20, 20, 40, 80, 80, 100, 100]);
    expect(defaultRolloutPercent(-1)).toBe(0);
  });

  test('the run is a function of its seed', async () => {
    const w = { rps: 1, environments: 3, errorSpread: 0.2, latencySpread: 0.03 };
    expect(await simulateConfigRollout(5, w)).toEqual(await simulateConfigRollout(5, w));
  });
});

describe('issue 16-F: good config releases keep being judged through one-sided windows', () => {
  test('1 req/s, 3 environments that differ a little: the hazard is in the traffic, yet no minute fails, no share-1 batch reaches the engine, nothing rolls back', async () => {
    const t = await tallyConfigRollouts(10, { rps: 1, environments: 3, errorSpread: 0.2, latencySpread: 0.03 });
    // the hazard is present: windows holding only the new config during the rollout
    expect(t.withOneSidedWindow).toBeGreaterThanOrEqual(8);
    // and the judge judged every release while both configs served
    expect(t.judgedAtAll).toBe(10);
    expect(t.judged).toBeGreaterThan(0);
    expect(t.shareOneBatches).toBe(0);
    expect(t.engineThrows).toBe(0);
    expect(t.withFailedMinute).toBe(0);
    expect(t.rolledBack).toBe(0);
  });
});

describe('bad config releases are still caught on the same path', () => {
  test('20 % errors on the new config (×20) at 5 req/s, 10 environments, judged per request (the design before B3): rolled back before the bake ends in ≥ 5 of 6 seeds, with no failed minute', async () => {
    const t = await tallyConfigRollouts(6, { rps: 5, environments: 10, errorFactor: 20, configUnit: 'request' });
    expect(t.rolledBack).toBeGreaterThanOrEqual(5);
    expect(t.withFailedMinute).toBe(0);
    expect(t.shareOneBatches).toBe(0);
  });
});

describe('issue 16 B3: AppConfig tells execution environments, so the judge bets on which environments switched', () => {
  const differ = { rps: 5, environments: 3, errorSpread: 0.5, latencySpread: 0.15 };
  test('3 environments that differ a lot (σ errors 0.5, latency 0.15), 30 seeds: per request, 4 releases build e-values above 3! = 6 (one far past the threshold); by environment none can (the design bound), and none rolls back', async () => {
    let perRequestAbove = 0;
    let perRequestMax = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const byRequest = await simulateConfigRollout(seed, { ...differ, configUnit: 'request' });
      if (byRequest.maxEValue > 6) perRequestAbove++;
      perRequestMax = Math.max(perRequestMax, byRequest.maxEValue);
      const byEnvironment = await simulateConfigRollout(seed, differ);
      expect(byEnvironment.maxEValue).toBeLessThanOrEqual(6);
      expect(byEnvironment.rolledBack).toBe(false);
      expect(byEnvironment.failedMinutes).toBe(0);
    }
    expect(perRequestAbove).toBeGreaterThanOrEqual(2);
    expect(perRequestMax).toBeGreaterThan(1200);
  });

  test('20 % errors at 5 req/s over 10 environments: the switch bets still catch some (4 of 10 seeds here; 1,000 in bench), every release has settled bets', async () => {
    const t = await tallyConfigRollouts(10, { rps: 5, environments: 10, errorFactor: 20 });
    expect(t.rolledBack).toBeGreaterThanOrEqual(2);
    expect(t.switchBets).toBeGreaterThanOrEqual(20);
    expect(t.withFailedMinute).toBe(0);
  });
});
