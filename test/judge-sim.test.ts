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
  test('a good release at 20 rps is not rolled back: ≤ 2 of 15 seeds (P(Bin(15, 0.01) ≥ 3) ≈ 0.0004)', () => {
    const t = tally(15, 1, { rps: 20 });
    expect(t.byBound).toBeLessThanOrEqual(2);
  });

  test('the bound holds however often the judge looks, at a large α too: ≤ 18 of 40 good releases at α = 0.25', () => {
    // A mis-sized bet would show here first: P(Bin(40, 0.25) ≥ 19) ≈ 0.001.
    const t = tally(40, 1001, { rps: 5, options: { alpha: 0.25 } });
    expect(t.byBound).toBeLessThanOrEqual(18);
  });

  test('p50 latency +20 % at 5 rps is caught during the 10 % canary by the strict value test (tolerance 0) in ≥ 8 of 30 seeds (1,000 seeds: see bench/RESULTS.md); after full traffic only the gross rule may roll back', () => {
    const t = tally(30, 2001, { rps: 5, latencyFactor: 1.2, options: { tolerance: { latencyMs: 0 } } });
    expect(t.beforeFull).toBeGreaterThanOrEqual(8);
    expect(t.byBound).toBe(t.beforeFull);
  });

  test('after full traffic, a before/after difference (errors ×3 against a 30-minute baseline) never rolls back by itself', () => {
    const t = tally(20, 3001, { rps: 5, errorFactor: 3, baselineMinutes: 30 });
    expect(t.byBound).toBe(t.beforeFull);
  });
});

describe('good releases on traffic as production has it (issue 16 A, B): never blamed for what hits both versions', () => {
  // At α = 0.2 a valid judge rolls back at most 20 % of good releases (Ville); P(Bin(12, 0.2) ≥ 8) ≈ 0.0006. The
  // engine before issue 16 rolled back 94–100 % of the shared-disturbance releases even at α = 0.01. The α = 0.01
  // figures at 1,000 seeds are bench/judge-world.ts's.
  // The per-request design on conversation-assigned traffic is a bench comparison row, not a claim.
  for (const sc of GOOD_WORLD.filter((w) => !w.name.includes('invalid design'))) {
    test(`${sc.name}: ≤ 7 of 12 at α = 0.2`, () => {
      const r = simulateSchedule(CANARY_10_5, sc.traffic(CANARY_10_5), {}, 12, {
        baselineMinutes: 5,
        firstSeed: 7001,
        ...sc.options,
        judge: { alpha: 0.2, ...sc.options?.judge },
      });
      expect(r.byEnd).toBeLessThanOrEqual(7);
    });
  }
});

describe('good releases under shared disturbances during a balanced judged step (50 % for 20 minutes)', () => {
  for (const sc of DURING_STEP) {
    test(`${sc.name}: ≤ 7 of 12 at α = 0.2`, () => {
      const r = simulateSchedule(BALANCED_50_20, sc.traffic(BALANCED_50_20), {}, 12, { baselineMinutes: 5, firstSeed: 7501, judge: { alpha: 0.2 } });
      expect(r.byEnd).toBeLessThanOrEqual(7);
    });
  }
});

describe('bad releases need a concurrent control: a balanced step', () => {
  test('errors ×3 at 5 rps: a 50 % step for 20 minutes catches it before full rollout in ≥ 22 of 30 seeds; the default 10 % for 5 minutes in ≤ 5', () => {
    const balanced = simulateSchedule(canarySchedule(50, 20), { rps: 5 }, BAD_ERRORS_X3, 30, { baselineMinutes: 10, firstSeed: 9001 });
    expect(balanced.beforeFull).toBeGreaterThanOrEqual(22);
    const small = simulateSchedule(CANARY_10_5, { rps: 5 }, BAD_ERRORS_X3, 30, { baselineMinutes: 10, firstSeed: 9001 });
    expect(small.beforeFull).toBeLessThanOrEqual(5);
  });

  test('p50 +20 % at 5 rps against the default 10 % tolerance: a 50 % step for 20 minutes catches it before full rollout in ≥ 27 of 30 seeds', () => {
    const r = simulateSchedule(canarySchedule(50, 20), { rps: 5 }, BAD_P50_20, 30, { baselineMinutes: 10, firstSeed: 9101 });
    expect(r.beforeFull).toBeGreaterThanOrEqual(27);
  });
});
