/**
 * The judge on simulated streams where the answer is known (test/judge-sim.ts: Poisson traffic, 10 % canary for 5
 * minutes, then 100 % for the 10-minute after-traffic bound; stable error 1 %, latency log-normal σ 0.5).
 * A small seeded run keeps the suite fast; bench/judge.ts runs the 1,000-seed figures. Tolerances are binomial:
 * each bound is one a correct judge passes with probability above 99.5 % at these seed counts.
 */
import { tally } from './judge-sim';

describe('judge on simulated streams (seeded)', () => {
  test('a good release at 20 rps is not rolled back: ≤ 2 of 25 seeds (P(Bin(25, 0.01) ≥ 3) ≈ 0.002)', () => {
    const t = tally(25, 1, { rps: 20 });
    expect(t.byBound).toBeLessThanOrEqual(2);
  });

  test('the bound holds however often the judge looks, at a large α too: ≤ 18 of 40 good releases at α = 0.25', () => {
    // A mis-sized bet would show here first: P(Bin(40, 0.25) ≥ 19) ≈ 0.001.
    const t = tally(40, 1001, { rps: 5, options: { alpha: 0.25 } });
    expect(t.byBound).toBeLessThanOrEqual(18);
  });

  test('p50 latency +20 % at 5 rps is caught by the after-traffic bound in ≥ 27 of 30 seeds', () => {
    const t = tally(30, 2001, { rps: 5, latencyFactor: 1.2 });
    expect(t.byBound).toBeGreaterThanOrEqual(27);
    expect(t.byMetric.latencyMs).toBeGreaterThanOrEqual(27);
  });

  test('p50 latency +20 % at 1 rps (blind to the alarms) is caught by the after-traffic bound in ≥ 20 of 30 seeds', () => {
    const t = tally(30, 4001, { rps: 1, latencyFactor: 1.2 });
    expect(t.byBound).toBeGreaterThanOrEqual(20);
  });

  test('a tripled error rate at 5 rps with 30 minutes of stable baseline is caught by the bound in ≥ 15 of 20 seeds', () => {
    const t = tally(20, 3001, { rps: 5, errorFactor: 3, baselineMinutes: 30 });
    expect(t.byBound).toBeGreaterThanOrEqual(15);
    expect(t.byMetric.error).toBeGreaterThanOrEqual(15);
  });

  test('a tripled error rate at 1 rps with 30 minutes of stable baseline is caught by the bound in ≥ 4 of 30 seeds (two-sample after-traffic test; the one-sided bound got 2.3 %)', () => {
    // 1,000 seeds: 35 % now; P(Bin(30, 0.35) ≤ 3) ≈ 0.003, P(Bin(30, 0.023) ≥ 4) ≈ 0.005.
    const t = tally(30, 5001, { rps: 1, errorFactor: 3, baselineMinutes: 30 });
    expect(t.byBound).toBeGreaterThanOrEqual(4);
  });

  test('the after-traffic count test against the replayed baseline holds its share: ≤ 24 of 60 good releases at α = 0.5 on errors alone', () => {
    // The after-traffic phase has α/2 = 0.25: P(Bin(60, 0.25) ≥ 25) ≈ 0.004 (1,000 seeds of this run fire far less).
    const t = tally(60, 6001, { rps: 5, baselineMinutes: 10, options: { alpha: 0.5, metrics: ['error'], notWorseOn: [] } });
    expect(t.byBound - t.beforeFull).toBeLessThanOrEqual(24);
  });
});
