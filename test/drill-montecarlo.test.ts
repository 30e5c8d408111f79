import { captureOutcomes, type DrillScenario, monteCarlo, readDrillModel, type SimulationSetup, wilson } from '../lib/drill';
import { drillTemplate } from './drill-fixtures';

/**
 * The Monte Carlo odds against a closed form. Alarm: Sum of Errors of the new version > 0, period 60 s, 1 of 1,
 * missing data not breaching. Canary 10 % for 5 minutes, no ingestion or reaction delay: periods 0..4 each decide
 * before 100 % (period 4 ends at 300 s and is evaluated then). Arrivals are Poisson at rate r, the new version gets
 * a thinned Poisson stream at 0.1 r, each request fails with probability p, so each period's errors are Poisson with
 * mean 0.1 r 60 p, independent across periods: P(rolled back) = 1 - exp(-5 * 0.1 r 60 p).
 */
const template = drillTemplate(
  { Errors: { metrics: { x: ['Errors', 'Sum', 'version'] }, threshold: 0, period: 60, m: 1, n: 1 } },
  { deploymentConfig: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' },
);
const timing = { metricIngestionSeconds: 0, codeDeployReactionSeconds: 0 };

/**
 * The odds, and the error share p of the outcomes the Monte Carlo resamples (the runtime's EMF for the new version's
 * requests). The closed form takes that p; the share itself is checked against the injected rate (binomial).
 */
async function odds(s: DrillScenario, runs: number, injected: number) {
  const setup: SimulationSetup = { model: readDrillModel(template), scenario: s, timing, tailSeconds: 0 };
  const captured = await captureOutcomes(setup, SAMPLES);
  const pool = s.fault.kind === 'none' ? captured.healthyNew : captured.faultyNew;
  const p = pool.filter((o) => o.values.Errors === 1).length / pool.length;
  within(p, injected, pool.length);
  return { ...monteCarlo(setup, captured, runs), p };
}

/**
 * Runs and captured samples per check. The tolerance is 4 standard errors at this count, so a simulation that gets the
 * thinning, the period boundaries or the Poisson arrivals wrong still fails (e.g. no 10 % thinning: 99.8 % against
 * 45.1 %, 15 standard errors away at 200 runs). `npx tsx bench/drill-closed-form.ts` runs the same checks at 2,000.
 */
const RUNS = Number(process.env.DRILL_CLOSED_FORM_RUNS ?? 200);
const SAMPLES = Number(process.env.DRILL_CLOSED_FORM_SAMPLES ?? 400);

/** Within 4 standard errors of a binomial proportion (a false failure about once in 16,000 seeds). */
function within(observed: number, expected: number, n: number) {
  expect(Math.abs(observed - expected)).toBeLessThanOrEqual(4 * Math.sqrt((expected * (1 - expected)) / n) + 1e-9);
}
const closedForm = (rate: number, p: number) => 1 - Math.exp(-5 * 0.1 * rate * 60 * p);

describe('Monte Carlo odds against the closed form (Poisson arrivals, binomial runs)', () => {
  test('false rollback of a good release: 2 req/s, 1 % base errors -> 1 - e^-0.6 = 45.1 %', async () => {
    const runs = RUNS;
    const r = await odds(
      { name: 'good', plane: 'code', ratePerSecond: 2, fault: { kind: 'none', size: 0, startSeconds: 0 }, baseline: { errorRate: 0.01 }, phaseSeconds: 0 },
      runs,
      0.01,
    );
    expect(closedForm(2, 0.01)).toBeCloseTo(0.4512, 3);
    within(r.caught / runs, closedForm(2, r.p), runs);
  });

  test('catch before 100 % of a bad release: 5 % of requests fail on top of 1 % -> 97.2 %', async () => {
    const runs = RUNS;
    const p = 0.01 + 0.99 * 0.05;
    const r = await odds(
      {
        name: 'bad',
        plane: 'code',
        ratePerSecond: 2,
        fault: { kind: 'error-spike', size: 0.05, startSeconds: 0 },
        baseline: { errorRate: 0.01 },
        phaseSeconds: 0,
      },
      runs,
      p,
    );
    expect(closedForm(2, p)).toBeCloseTo(0.9718, 3);
    within(r.pCaughtBeforeFull, closedForm(2, r.p), runs);
    expect(r.ci95[0]).toBeLessThanOrEqual(r.pCaughtBeforeFull);
    expect(r.ci95[1]).toBeGreaterThanOrEqual(r.pCaughtBeforeFull);
  });

  test('low traffic lowers the odds as the closed form says: 0.2 req/s -> 1 - e^-0.357 = 30 %', async () => {
    const runs = RUNS;
    const p = 0.01 + 0.99 * 0.05;
    const r = await odds(
      {
        name: 'low',
        plane: 'code',
        ratePerSecond: 0.2,
        fault: { kind: 'error-spike', size: 0.05, startSeconds: 0 },
        baseline: { errorRate: 0.01 },
        phaseSeconds: 0,
      },
      runs,
      p,
    );
    expect(closedForm(0.2, p)).toBeCloseTo(0.3003, 3);
    within(r.pCaughtBeforeFull, closedForm(0.2, r.p), runs);
  });

  test('runs are seeded: the same setup gives the same odds', async () => {
    const s: DrillScenario = {
      name: 'seeded',
      plane: 'code',
      ratePerSecond: 1,
      fault: { kind: 'error-spike', size: 0.05, startSeconds: 0 },
      baseline: { errorRate: 0.01 },
    };
    const setup: SimulationSetup = { model: readDrillModel(template), scenario: s, timing };
    const captured = await captureOutcomes(setup, 500);
    const a = monteCarlo(setup, captured, 200);
    const b = monteCarlo(setup, captured, 200);
    expect({ ...a, elapsedMs: 0 }).toEqual({ ...b, elapsedMs: 0 });
  });

  test('Wilson interval', () => {
    const [lo, hi] = wilson(50, 100);
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
    expect(wilson(0, 10)[0]).toBe(0);
  });
});
