/**
 * The paired preference in the canary planner (issues 16 D, 17 Tests): the judge's evaluation family (α over 7), the
 * sign test's power from sampling rate × canary share × decided pairs, the result delay, and the closed form against
 * the real wiring's simulation (lib/drill/evaluation-world.ts; more seeds in bench/canary-plan-paired.ts).
 */
import { runEvalWorld } from '../lib/drill/evaluation-world';
import { canaryPairRate, codeSteps, engineModel, planCanary, releaseDraws, renderPlanSection, schedulePower } from '../lib/rollout/canary-plan';

const EV = { samplingRate: 0.1, criteria: ['groundedness', 'relevance'] };
const paired = (p: { byRegression: readonly { regression: string; power: number }[] }) =>
  p.byRegression.find((r) => r.regression === 'pairedPreference')?.power;

describe('canary plan: the paired preference', () => {
  test('with an evaluation the family has 7 members: runtime thresholds 700, paired 1,400 (2,800 per criterion), 700 with no criteria', () => {
    const six = engineModel({ alpha: 0.01 });
    expect(Math.exp(six.logThreshold('latencyMs'))).toBeCloseTo(600, 6);
    expect(six.logPairedThreshold).toBe(Number.POSITIVE_INFINITY);
    const seven = engineModel({ alpha: 0.01 }, EV);
    expect(Math.exp(seven.logThreshold('latencyMs'))).toBeCloseTo(700, 6);
    expect(Math.exp(seven.logPairedThreshold)).toBeCloseTo(1400, 6);
    expect(Math.exp(engineModel({ alpha: 0.01 }, { samplingRate: 0.1 }).logPairedThreshold)).toBeCloseTo(700, 6);
  });

  test('planned only with an evaluation; @default 0.6; 0 turns it off', () => {
    const none = planCanary({ requestsPerSecond: 5 });
    expect(none.evaluation).toBeUndefined();
    expect(none.code.byRegression.map((r) => r.regression)).not.toContain('pairedPreference');
    const on = planCanary({ requestsPerSecond: 5, evaluation: EV });
    expect(on.pairedPreference).toBe(0.6);
    expect(on.code.byRegression.find((r) => r.regression === 'pairedPreference')?.describe).toBe('loses 60 % of pairs');
    const off = planCanary({ requestsPerSecond: 5, evaluation: EV }, { minRegressions: { errorRatio: 2, pairedPreference: 0 } });
    expect(off.evaluation).toBeUndefined();
    expect(off.code.byRegression.map((r) => r.regression)).not.toContain('pairedPreference');
  });

  test('power grows with the sampling rate and the decided share; the 7-way split lowers the runtime powers a little', () => {
    const steps = codeSteps('linear', 5, 3);
    const at = (samplingRate: number, decidedPairShare = 1) =>
      paired(schedulePower(steps, { requestsPerSecond: 5, evaluation: { ...EV, samplingRate, decidedPairShare } })) ?? -1;
    expect(at(0.02)).toBeLessThan(at(0.05));
    expect(at(0.05)).toBeLessThan(at(0.1));
    expect(at(0.1)).toBeGreaterThan(0.85);
    expect(at(0.1, 0.3)).toBeLessThan(at(0.1) - 0.5);
    const six = schedulePower(steps, { requestsPerSecond: 5 }).byRegression[0].power;
    const seven = schedulePower(steps, { requestsPerSecond: 5, evaluation: EV }).byRegression[0].power;
    expect(seven).toBeLessThan(six);
    expect(seven).toBeGreaterThan(six - 0.05);
  });

  test('the result delay: it cuts the last 135 s of the schedule (+ half a minute of read cadence); a schedule shorter than that has none', () => {
    const t = (resultDelaySeconds: number) => ({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 1, resultDelaySeconds } });
    const canary = codeSteps('canary', 10, 5);
    expect(paired(schedulePower(canary, t(135)))).toBeLessThan(paired(schedulePower(canary, t(0))) ?? 0);
    expect(paired(schedulePower(codeSteps('canary', 10, 2), t(135)))).toBe(0);
    // The delay cuts the end of the schedule: 135 s is the same as the last 2.25 minutes removed (both keep the half
    // minute of the judge's once-a-minute reads).
    const linear = codeSteps('linear', 10, 3);
    const cut = [...linear.slice(0, -1), { share: 0.9, minutes: 0.75 }];
    expect(paired(schedulePower(linear, t(135)))).toBeCloseTo(paired(schedulePower(cut, t(0))) ?? -1, 9);
    expect(paired(schedulePower(linear, t(135)))).toBeLessThan(paired(schedulePower(linear, t(0))) ?? -1);
  });

  test('the plan names the smallest pairing rate reaching the target: 0.1 for a fair evaluator, more when 70 % of pairs tie', () => {
    const fair = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02 } });
    expect(fair.evaluation?.samplingRate).toBe(0.02);
    expect(fair.evaluation?.pairSamplingRate).toBe(0.02);
    expect(fair.evaluation?.reaching?.pairSamplingRate).toBe(0.1);
    expect(paired(fair.evaluation?.reaching?.code ?? { byRegression: [] })).toBeGreaterThanOrEqual(0.9);
    expect(paired(fair.evaluation?.reaching?.config ?? { byRegression: [] })).toBeGreaterThanOrEqual(0.9);
    const biased = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02, decidedPairShare: 0.3 } });
    expect(biased.evaluation?.reaching?.pairSamplingRate).toBeGreaterThanOrEqual(0.3);
    // At 0.1 requests/s nothing up to 1 reaches it within an hour.
    expect(planCanary({ requestsPerSecond: 0.1, evaluation: { ...EV, samplingRate: 0.02 } }).evaluation?.reaching).toBeUndefined();
  });

  test('the card says the rate and the schedule', () => {
    const plan = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02 } });
    const t = { requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02 } };
    const text = renderPlanSection(plan, { ...schedulePower(codeSteps('canary', 10, 5), t), describe: 'canary 10 % for 5 min' }, t).join('\n');
    expect(text).toContain('loses 60 % of pairs');
    expect(text).toMatch(
      /the smallest pairing rates reaching 90 % on the planned schedules are \*\*0\.1\*\* on the code plane \(paired\.samplingRate; .*\) and \*\*0\.1\*\* on the config plane \(paired\.configSamplingRate; /,
    );
    expect(text).toContain(`\`${plan.evaluation?.reaching?.code.call}\``);
    expect(text).toContain('threshold 1400');
  });

  test('each plane gets its own reaching rate: a config rate stated high enough is kept while the code plane needs more, and the other way round', () => {
    // Stated code 0.02 (short of 90 %), config 0.3 (enough): the code plane's search climbs, the config plane's stays.
    const a = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02, pairSamplingRate: 0.02, configPairSamplingRate: 0.3 } });
    expect(a.evaluation?.pairSamplingRate).toBe(0.02);
    expect(a.evaluation?.configPairSamplingRate).toBe(0.3);
    expect(a.evaluation?.reaching?.pairSamplingRate).toBe(0.1);
    expect(a.evaluation?.reaching?.configPairSamplingRate).toBe(0.3);
    expect(paired(a.evaluation?.reaching?.config ?? { byRegression: [] })).toBeGreaterThanOrEqual(0.9);
    // The config rate drives the config plan's power only: the code plan is the same whatever the config rate.
    const b = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02, pairSamplingRate: 0.3, configPairSamplingRate: 0.02 } });
    expect(b.evaluation?.reaching?.pairSamplingRate).toBe(0.3);
    expect(b.evaluation?.reaching?.configPairSamplingRate).toBe(0.1);
    expect(b.code).toEqual(planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02, pairSamplingRate: 0.3 } }).code);
    // Left out, the config plane pairs at the code plane's rate (the default).
    const c = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.02, pairSamplingRate: 0.2 } });
    expect(c.evaluation?.configPairSamplingRate).toBe(0.2);
  });

  test("the config plane's closed form grows with configPairSamplingRate, the code plane's does not move", () => {
    const steps = [
      { share: 0.1, minutes: 2 },
      { share: 0.5, minutes: 35 },
    ];
    const at = (configPairSamplingRate: number) => {
      const t = { requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.005, pairSamplingRate: 0.1, configPairSamplingRate } };
      return { config: paired(schedulePower(steps, t, {}, 'config')), code: paired(schedulePower(codeSteps('linear', 5, 3), t)) };
    };
    const [lo, hi] = [at(0.1), at(0.2)];
    expect(hi.config ?? 0).toBeGreaterThan((lo.config ?? 1) + 0.2);
    expect(hi.code).toBe(lo.code);
  });

  test.each([
    [{ samplingRate: 0.1, configPairSamplingRate: -0.1 }, /evaluation.configPairSamplingRate must be in \[0, 1\].*paired.configSamplingRate/],
    [{ samplingRate: 0 }, /evaluation.samplingRate must be in \(0, 1\]/],
    [{ samplingRate: 0.1, decidedPairShare: 0 }, /canaryPlan.decidedPairShare must be in \(0, 1\]/],
    [{ samplingRate: 0.1, resultDelaySeconds: -1 }, /resultDelaySeconds must be a number of at least 0/],
    [{ samplingRate: 0.1, pairSamplingRate: 1.5 }, /evaluation.pairSamplingRate must be in \[0, 1\].*paired.samplingRate/],
    [{ samplingRate: 0.1, cost: { scoreUsd: 0.01, pairUsd: -1, perReleaseUsd: 20 } }, /evaluation.cost.pairUsd must be a number of at least 0/],
  ])('bad evaluation %p is refused, naming the field', (evaluation, re) => expect(() => planCanary({ requestsPerSecond: 5, evaluation })).toThrow(re));
});

describe('a release-time pairing rate of its own', () => {
  const steps = codeSteps('linear', 5, 3);
  test('pairs, not the scoring rate, carry the paired power: scoring at 0.005 with pairs at 0.1 has the power of scoring at 0.1', () => {
    const scoredAll = paired(schedulePower(steps, { requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.1 } }));
    const pairsOnly = paired(schedulePower(steps, { requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.005, pairSamplingRate: 0.1 } }));
    const neither = paired(schedulePower(steps, { requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.005 } }));
    expect(pairsOnly).toBeCloseTo(scoredAll ?? -1, 9);
    expect(neither).toBeLessThan(0.1);
    // config plane: the canary's pairing rate is the larger of the pairing rate and its oversampled scoring rate
    expect(canaryPairRate(0.02, 0.1, 0.1, 'config')).toBe(0.1);
    expect(canaryPairRate(0.1, 0.05, 0.1, 'config')).toBeCloseTo(0.5, 12);
    expect(canaryPairRate(0.02, 0.1, 0.5, 'code')).toBe(0.1);
  });

  test('a release is counted step by step: pairs at the canary share × pairing rate, scoring at the base rate of all requests', () => {
    const d = releaseDraws(codeSteps('canary', 10, 5), 5, 0.01, 0.2, 'code', { scoreUsd: 0.01, pairUsd: 0.015 });
    expect(d.samples).toBeCloseTo(5 * 300 * 0.01, 9);
    expect(d.pairs).toBeCloseTo(5 * 300 * 0.1 * 0.2, 9);
    expect(d.totalUsd).toBeCloseTo(15 * 0.01 + 30 * 0.015, 9);
  });

  test('the plan keeps the scoring rate, searches the pairing rate, and weighs it against the release budget', () => {
    const cost = { scoreUsd: 0.01, pairUsd: 0.0149, perReleaseUsd: 20 };
    const fair = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.005, cost } });
    const r = fair.evaluation?.reaching;
    expect(r?.pairSamplingRate).toBe(0.1);
    expect(r?.cost?.withinBudget).toBe(true);
    expect(r?.cost?.code.totalUsd).toBeCloseTo(releaseDraws(r?.code.steps ?? [], 5, 0.005, 0.1, 'code', cost).totalUsd, 9);
    expect(r?.cost?.code.totalUsd).toBeLessThan(20);
    // A budget that cannot pay for any reaching rate: the first reaching one is named, flagged over budget.
    const tight = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.005, cost: { ...cost, perReleaseUsd: 5 } } });
    expect(tight.evaluation?.reaching?.pairSamplingRate).toBe(0.1);
    expect(tight.evaluation?.reaching?.cost?.withinBudget).toBe(false);
    const t = { requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.005, cost: { ...cost, perReleaseUsd: 5 } } };
    const text = renderPlanSection(tight, { ...schedulePower(codeSteps('canary', 10, 5), t), describe: 'canary 10 % for 5 min' }, t).join('\n');
    expect(text).toMatch(
      /expected per release: code [\d,]+ pairs [\d.]+ USD \+ [\d,]+ scored [\d.]+ USD.*over it: no pairing rate reaching the target fits the budget/,
    );
    // The stated pairing rate that already reaches it is kept.
    const stated = planCanary({ requestsPerSecond: 5, evaluation: { ...EV, samplingRate: 0.005, pairSamplingRate: 0.2, cost } });
    expect(stated.evaluation?.reaching?.pairSamplingRate).toBe(0.2);
  });
});

describe('closed form against the real wiring (few seeds; 200 per row in bench/canary-plan-paired.ts)', () => {
  // 40 seeds: within 2.6 binomial standard errors (two-sided 99 %) plus 5 points of the simulated share caught before
  // full rollout (the closed form does not know the evaluator's delays: results later than the settle time are lost).
  test.each([
    ['code, planned linear(5, 3 min), 5 % sampling, fair evaluator', 'code', codeSteps('linear', 5, 3), 0.05, 0],
    [
      'config, 10 % for 5 min then 50 % for 25 min, 10 % sampling, 70 % first-position bias',
      'config',
      [
        { share: 0.1, minutes: 5 },
        { share: 0.5, minutes: 25 },
      ],
      0.1,
      0.7,
    ],
  ] as const)(
    '%s',
    async (_name, plane, steps, samplingRate, positionBias) => {
      const seeds = 40;
      let caught = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const out = await runEvalWorld({
          seed,
          rps: 5,
          steps,
          plane,
          samplingRate,
          pairedLoss: 0.6,
          scoreDrop: 0,
          positionBias,
          afterMinutes: 1,
          alpha: 0.01,
          criteria: ['groundedness', 'relevance'],
        });
        if (out.beforeFull) caught++;
      }
      const sim = caught / seeds;
      const closed =
        paired(schedulePower(steps, { requestsPerSecond: 5, evaluation: { ...EV, samplingRate, decidedPairShare: 1 - positionBias } }, {}, plane)) ?? -1;
      const se = Math.sqrt(Math.max(closed * (1 - closed), 0.05) / seeds);
      expect(Math.abs(closed - sim)).toBeLessThanOrEqual(2.6 * se + 0.05);
    },
    60_000,
  );
});
