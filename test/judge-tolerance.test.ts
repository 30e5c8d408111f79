/**
 * The value tests' tolerance (issue 16, h5-margin): the concurrent value test asks "is the canary worse by MORE than
 * m", so execution-environment differences far below the smallest regression to catch cannot roll back, while the
 * planned schedule still catches p50 +20 %. Few seeds here; bench/judge-margin.ts runs 1,000.
 */
import { parseTolerance } from '../lambda/canary-judge/canary-judge';
import { DEFAULT_TOLERANCE, newJudgeState, permutationLogMgf, updateJudge, type JudgeState } from '../lambda/judge/judge';
import { simulateSchedule, type Schedule } from '../lambda/judge/simulate';
import { JUDGE_ENV } from '../lambda/shared/contract';
import { planCanary, planTolerance, schedulePower } from '../lib/rollout/canary-plan';
import { judgeSettingsOf, testRelease } from './helpers';
import { canarySchedule, linearSchedule } from './judge-sim';

const STRICT = { latencyMs: 0, costUsd: 0, quality: 0 };

describe('the exact permutation moment', () => {
  test('permutationLogMgf equals the mean over all subsets of size k, by enumeration', () => {
    const x = [0.4, 1.7, 2.2, 0.9, 1.05, 0.6, 3.1];
    for (let k = 0; k <= x.length; k++) {
      let sum = 0;
      let count = 0;
      for (let mask = 0; mask < 1 << x.length; mask++) {
        let bits = 0;
        let prod = 1;
        for (let i = 0; i < x.length; i++)
          if (mask & (1 << i)) {
            bits++;
            prod *= x[i];
          }
        if (bits === k) {
          sum += prod;
          count++;
        }
      }
      expect(permutationLogMgf(x, k)).toBeCloseTo(Math.log(sum / count), 12);
    }
    expect(() => permutationLogMgf(x, 8)).toThrow(/0 ≤ k ≤ n/);
  });

  test('the bet works with the smaller side: centred scores, a subset of n_c and its complement carry the same moment', () => {
    const g = Array.from({ length: 20 }, (_, i) => Math.sin(i * 1.7));
    const mean = g.reduce((a, b) => a + b) / g.length;
    for (const nc of [3, 12, 17])
      expect(
        permutationLogMgf(
          g.map((v) => Math.exp(0.6 * (v - mean))),
          nc,
        ),
      ).toBeCloseTo(
        permutationLogMgf(
          g.map((v) => Math.exp(-0.6 * (v - mean))),
          20 - nc,
        ),
        12,
      );
  });
});

describe('judge tolerance option', () => {
  test('defaults to half the planner minimum regressions (p50 +20 % → 10 %, quality −0.05 → 0.025)', () => {
    expect(newJudgeState().options.tolerance).toEqual({ latencyMs: 0.1, costUsd: 0.1, quality: 0.025 });
    expect(planTolerance()).toEqual(DEFAULT_TOLERANCE);
    expect(planTolerance({ p50Increase: 0.3, qualityDrop: 0.1 })).toEqual({ latencyMs: 0.15, costUsd: 0.1, quality: 0.05 });
    // Fields left out keep their default.
    expect(newJudgeState({ tolerance: { latencyMs: 0.05 } }).options.tolerance).toEqual({ latencyMs: 0.05, costUsd: 0.1, quality: 0.025 });
  });

  test.each([
    [{ latencyMs: -0.1 }, /judge tolerance\.latencyMs must be from 0 to below 1/],
    [{ costUsd: 1 }, /judge tolerance\.costUsd must be from 0 to below 1/],
    [{ quality: 0.5 }, /judge tolerance\.quality must be from 0 to below 0\.5/],
    [{ latencyMs: Number.NaN }, /tolerance\.latencyMs/],
    [{ p99: 0.1 } as never, /judge tolerance\.p99 is unknown/],
  ])('bad tolerance %p is refused, naming the field', (tolerance, re) => expect(() => newJudgeState({ tolerance })).toThrow(re));

  test('a state persisted before the option existed keeps the strict test it started with', () => {
    const st = newJudgeState() as JudgeState & { options: { tolerance?: unknown } };
    const old = JSON.parse(JSON.stringify({ ...st, options: { ...st.options, tolerance: undefined } }));
    const r = updateJudge(old, { canaryShare: 0.5, observations: [] });
    expect(r.state.options.tolerance).toEqual(STRICT);
  });

  test('the wiring reads the tolerance from its environment variable, refusing anything but the three fields', () => {
    expect(parseTolerance(undefined)).toBeUndefined();
    expect(parseTolerance('{"latencyMs":0.1,"quality":0.02}')).toEqual({ latencyMs: 0.1, quality: 0.02 });
    expect(() => parseTolerance('0.1')).toThrow(/AI_RELEASE_JUDGE_TOLERANCE must be a JSON object/);
    expect(() => parseTolerance('{"p99":0.1}')).toThrow(/names "p99"; use latencyMs, costUsd or quality/);
    expect(() => parseTolerance('{oops')).toThrow(/must be JSON like/);
  });
});

describe('the composite null: worse by at most m is not a regression', () => {
  // i.i.d. traffic at 10 rps, canary 50 % for 20 minutes. At α = 0.2 a valid test fires on at most 20 % of releases
  // at the null's boundary (canary exactly 10 % slower, tolerance 10 %). 7 seeds, at most 4 (h11-simjudge; was 10, at
  // most 6, P(Bin(10, 0.2) ≥ 7) ≈ 0.0009): a valid test passes with P(Bin(7, 0.2) ≤ 4) ≈ 0.9953; the control (no
  // tolerance, the next test) rolls back 10 of 10 of these seeds, so a tolerance not applied fails it (7 of 7). These
  // seeds: 0 of 10 with the tolerance (bench/judge-margin.ts's boundary rows run the ×1.1 release at 20 rps, α = 0.01,
  // 1,000 seeds).
  const sched = canarySchedule(50, 20, 1);
  const run = (latencyFactor: number, tolerance: object, seeds = 10) =>
    simulateSchedule(sched, { rps: 10 }, { latencyFactor }, seeds, { baselineMinutes: 5, firstSeed: 4101, judge: { alpha: 0.2, tolerance } });

  test('canary exactly at the tolerance (×1.1, m = 0.1): ≤ 4 of 7 rolled back at α = 0.2', () => {
    expect(run(1.1, {}, 7).byEnd).toBeLessThanOrEqual(4);
  });

  test('the same release under the strict test (m = 0) is rolled back in ≥ 8 of 10: the margin is what spares it', () => {
    expect(run(1.1, STRICT).byEnd).toBeGreaterThanOrEqual(8);
  });
});

describe('execution environments that differ a little (code plane, 3 per version) do not roll back a good release', () => {
  // The condition for the value test: 3 environments per version with latency factors of σ 0.05 (±5 %),
  // 50 % for 20 minutes, 20 rps, α = 0.01 (the strict test: 14 % false rollbacks on latency before this change, 100
  // seeds, bench/RESULTS.md). Error factors are left equal here to isolate the latency test; bench/judge-margin.ts runs
  // the rows (σ errors 0.2 too) at 1,000 seeds. Same seeds for both runs.
  const sched: Schedule = canarySchedule(50, 20, 1);
  const envs = (tolerance?: object) =>
    simulateSchedule(sched, { rps: 20, environments: { perVersion: 3, errorSpread: 0, latencySpread: 0.05 } }, {}, 6, {
      baselineMinutes: 5,
      firstSeed: 5201,
      ...(tolerance ? { judge: { tolerance } } : {}),
    });

  test('±5 % latency spread: 0 of 6 rolled back with the default tolerance; the strict test rolls some back', () => {
    const tolerant = envs();
    const strict = envs(STRICT);
    expect(tolerant.byEnd).toBe(0);
    expect(strict.byMetric.latencyMs ?? 0).toBeGreaterThanOrEqual(1);
  });
});

describe('the tolerance leaves the planned schedule its power', () => {
  test('p50 +20 % at 5 rps: the planned schedule (errors x3, p50 +20 %) catches it before full rollout in ≥ 18 of 20', () => {
    const plan = planCanary({ requestsPerSecond: 5 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } });
    expect(plan.code.call).toBe('TrafficShift.linear(10, Duration.minutes(3))');
    const r = simulateSchedule(linearSchedule(10, 3), { rps: 5 }, { latencyFactor: 1.2 }, 20, { baselineMinutes: 10, firstSeed: 6301 });
    expect(r.beforeFull).toBeGreaterThanOrEqual(18);
  });

  test('the planner tests what exceeds the tolerance: a minimum regression at or below it has no power', () => {
    const steps = [{ share: 0.5, minutes: 20 }];
    const t = { requestsPerSecond: 20 };
    const within = schedulePower(steps, t, { minRegressions: { p50Increase: 0.2 }, judge: { tolerance: { latencyMs: 0.2 } } });
    const beyond = schedulePower(steps, t, { minRegressions: { p50Increase: 0.2 } });
    const strict = schedulePower(steps, t, { minRegressions: { p50Increase: 0.2 }, judge: { tolerance: STRICT } });
    expect(within.power).toBeLessThan(0.01);
    expect(beyond.power).toBeGreaterThan(0.5);
    expect(strict.byRegression[0].expectedLogE).toBeGreaterThan(beyond.byRegression[0].expectedLogE);
  });
});

describe('the construct sets the tolerance', () => {
  const envOf = (props: Parameters<typeof testRelease>[0]) => {
    const { stack, r } = testRelease(props);
    return judgeSettingsOf(stack, r.canaryJudge!.schedule, r.serviceName) as Record<string, string>;
  };

  test("AiRelease: half of the canary plan minimum regressions, in the service's judge settings (its schedule rule's input)", () => {
    expect(JSON.parse(envOf({})[JUDGE_ENV.TOLERANCE])).toEqual({ latencyMs: 0.1, costUsd: 0.1, quality: 0.025 });
    expect(JSON.parse(envOf({ canaryPlan: { minRegressions: { p50Increase: 0.3, qualityDrop: 0.08 } } })[JUDGE_ENV.TOLERANCE])).toEqual({
      latencyMs: 0.15,
      costUsd: 0.1,
      quality: 0.04,
    });
  });

  test('a stated canaryJudge.tolerance wins, field by field', () => {
    expect(JSON.parse(envOf({ canaryJudge: { tolerance: { latencyMs: 0.05 } } })[JUDGE_ENV.TOLERANCE])).toEqual({
      latencyMs: 0.05,
      costUsd: 0.1,
      quality: 0.025,
    });
  });

  test('a bad tolerance fails synth, naming the field and the range', () => {
    expect(() => testRelease({ canaryJudge: { tolerance: { latencyMs: 2 } } })).toThrow(/canaryJudge\.tolerance\.latencyMs must be from 0 to below 1/);
  });
});
