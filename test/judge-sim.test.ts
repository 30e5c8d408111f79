/**
 * The judge on simulated streams where the answer is known. test/judge-sim.ts: the i.i.d. stream (10 % canary for 5
 * minutes, then 100 % for the 10-minute after-traffic bound) and the issue 16 world (lambda/judge/simulate.ts: shared
 * disturbances, load growth, retries, uneven environments, conversations, a drifting mix, ramps). Small seeded runs
 * keep the suite fast; bench/judge.ts and bench/judge-world.ts run 1,000 seeds. Tolerances are binomial: each bound is
 * one a correct judge passes with probability above 99.5 % at these seed counts, and one the engine before issue 16
 * failed (its rates are in bench/RESULTS.md).
 */
import { simulateSchedule } from '../lambda/judge/simulate';
import { BAD_ERRORS_X3, BAD_P50_20, BALANCED_50_20, CANARY_10_5, DURING_STEP, GOOD_WORLD, canarySchedule, tally } from './judge-sim';

describe('judge on simulated i.i.d. streams (seeded)', () => {
  test('a good release at 20 rps is not rolled back: ≤ 1 of 8 seeds (P(Bin(8, 0.01) ≥ 2) ≈ 0.003)', () => {
    const t = tally(8, 1, { rps: 20 });
    expect(t.byBound).toBeLessThanOrEqual(1);
  });

  test('the bound holds however often the judge looks, at a large α too: ≤ 10 of 20 good releases at α = 0.25', () => {
    // A mis-sized bet would show here first: P(Bin(20, 0.25) ≥ 11) ≈ 0.004. (Asserted ≤ 18 until h11-simjudge, looser
    // than its name; these seeds give 1.)
    const t = tally(20, 1001, { rps: 5, options: { alpha: 0.25 } });
    expect(t.byBound).toBeLessThanOrEqual(10);
  });

  test('p50 latency +20 % at 5 rps is caught during the 10 % canary by the strict value test (tolerance 0) in ≥ 8 of 30 seeds (1,000 seeds: see bench/RESULTS.md); after full traffic only the gross rule may roll back', () => {
    const t = tally(30, 2001, { rps: 5, latencyFactor: 1.2, options: { tolerance: { latencyMs: 0 } } });
    expect(t.beforeFull).toBeGreaterThanOrEqual(8);
    expect(t.byBound).toBe(t.beforeFull);
  });

  test('after full traffic, a before/after difference (errors ×3 against a 30-minute baseline) never rolls back by itself', () => {
    const t = tally(10, 3001, { rps: 5, errorFactor: 3, baselineMinutes: 30 });
    expect(t.byBound).toBe(t.beforeFull);
  });
});

// Good releases: 4 seeds at α = 0.1, at most 2 rolled back (h11-simjudge; was 6 seeds at α = 0.2, at most 4). A valid
// judge rolls back at most α of good releases (Ville), so it passes with P(Bin(4, 0.1) ≤ 2) ≈ 0.9963 (was
// P(Bin(6, 0.2) ≤ 4) ≈ 0.9984). The engine before issue 16 rolled back 94–100 % of the shared-disturbance releases
// even at α = 0.01 (so at least as many at α = 0.1, whose thresholds are lower): it fails with P(Bin(4, 0.94) ≥ 3) ≈
// 0.980 (was P(Bin(6, 0.94) ≥ 5) ≈ 0.954). These seeds roll back 0 of each. The α = 0.01 figures at 1,000 seeds are
// bench/judge-world.ts's; the 6-seed rows are bench/judge-sim-suite.ts's.
const GOOD_SEEDS = 4;
const GOOD_ALPHA = 0.1;
const GOOD_MAX = 2;

describe('good releases on traffic as production has it (issue 16 A, B): never blamed for what hits both versions', () => {
  // The per-request design on conversation-assigned traffic is a bench comparison row, not a claim.
  for (const sc of GOOD_WORLD.filter((w) => !w.name.includes('invalid design'))) {
    test(`${sc.name}: ≤ ${GOOD_MAX} of ${GOOD_SEEDS} at α = ${GOOD_ALPHA}`, () => {
      const r = simulateSchedule(CANARY_10_5, sc.traffic(CANARY_10_5), {}, GOOD_SEEDS, {
        baselineMinutes: 5,
        firstSeed: 7001,
        ...sc.options,
        judge: { alpha: GOOD_ALPHA, ...sc.options?.judge },
      });
      expect(r.byEnd).toBeLessThanOrEqual(GOOD_MAX);
    });
  }
});

describe('good releases under shared disturbances during a balanced judged step (50 % for 20 minutes)', () => {
  for (const sc of DURING_STEP) {
    test(`${sc.name}: ≤ ${GOOD_MAX} of ${GOOD_SEEDS} at α = ${GOOD_ALPHA}`, () => {
      const r = simulateSchedule(BALANCED_50_20, sc.traffic(BALANCED_50_20), {}, GOOD_SEEDS, {
        baselineMinutes: 5,
        firstSeed: 7501,
        judge: { alpha: GOOD_ALPHA },
      });
      expect(r.byEnd).toBeLessThanOrEqual(GOOD_MAX);
    });
  }
});

describe('bad releases need a concurrent control: a balanced step', () => {
  // 12 seeds each here; 1,000 in bench/judge-world.ts. A judge with the planned 90 % passes ≥ 8 of 12 with P > 0.995
  // (P(Bin(12, 0.9) ≤ 7) ≈ 0.004); the small canary's ~15 % stays ≤ 5 of 12 with P > 0.995.
  test('errors ×3 at 5 rps: a 50 % step for 20 minutes catches it before full rollout in ≥ 8 of 12 seeds; the default 10 % for 5 minutes in ≤ 5', () => {
    const balanced = simulateSchedule(canarySchedule(50, 20), { rps: 5 }, BAD_ERRORS_X3, 12, { baselineMinutes: 10, firstSeed: 9001 });
    expect(balanced.beforeFull).toBeGreaterThanOrEqual(8);
    const small = simulateSchedule(CANARY_10_5, { rps: 5 }, BAD_ERRORS_X3, 12, { baselineMinutes: 10, firstSeed: 9001 });
    expect(small.beforeFull).toBeLessThanOrEqual(5);
  });

  test('p50 +20 % at 5 rps against the default 10 % tolerance: a 50 % step for 20 minutes catches it before full rollout in ≥ 10 of 15 seeds (P(Bin(15, 0.9) ≤ 9) ≈ 0.002)', () => {
    const r = simulateSchedule(canarySchedule(50, 20), { rps: 5 }, BAD_P50_20, 15, { baselineMinutes: 10, firstSeed: 9101 });
    expect(r.beforeFull).toBeGreaterThanOrEqual(10);
  });
});
