import { Duration, type Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import {
  alarmFalseFire,
  deltaBreachProbability,
  mOfNProbability,
  rateBreachProbability,
  type ReleaseTraffic,
  type SynthesizedRateAlarm,
} from '../lib/rollout/false-fire';
import { type AiRelease, DEFAULT_POLICY_RULES } from '../lib';
import { falseFireRule, quietFraction } from '../lib/rollout/release-policy';
import { testRelease } from './helpers';
import { mulberry32 } from './judge-sim';

const release = testRelease;

// The setting: the synthesized default alarms with 10-second periods, a 10 % canary for 5 minutes, the
// default 5-minute config rollout (3 min of steps + 2 min of bake), 1 % base error rate.
const { r: defaults } = release({ alarms: { period: Duration.seconds(10) } });
const find = (ff: ReturnType<AiRelease['falseFireAt']>, plane: string, kind: string) => {
  const x = ff.results.find((a) => a.plane === plane && a.kind === kind);
  if (!x) throw new Error(`no ${plane} ${kind}`);
  return x;
};

describe('closed form: the issue figures, from the synthesized alarms', () => {
  // Tolerance: the issue rounds to two digits; we accept ±0.015 around its figure.
  test('code plane error-rate: ≈0.07 at 5 rps, ≈0.27 at 20 rps; at 1 rps never judged (the guard blinds it)', () => {
    expect(find(defaults.falseFireAt(5), 'code', 'error-rate').probability).toBeCloseTo(0.07, 1);
    expect(Math.abs(find(defaults.falseFireAt(5), 'code', 'error-rate').probability - 0.07)).toBeLessThan(0.015);
    expect(Math.abs(find(defaults.falseFireAt(20), 'code', 'error-rate').probability - 0.27)).toBeLessThan(0.015);
    const one = find(defaults.falseFireAt(1), 'code', 'error-rate');
    expect(one.probability).toBeLessThan(0.001);
    expect(one.guardedFraction).toBeGreaterThan(0.99);
    expect(one.periods).toBe(30);
  });

  test('config plane error-rate during a 5-minute rollout at 1 rps: ≈0.34', () => {
    const c = find(defaults.falseFireAt(1), 'config', 'error-rate');
    expect(c.periods).toBe(30);
    expect(Math.abs(c.probability - 0.34)).toBeLessThan(0.015);
  });

  test('reads the alarm as synthesized: an escape-hatch edit to 3 of 3 changes the figure', () => {
    const { r } = release({ alarms: { period: Duration.seconds(10) } });
    const before = find(r.falseFireAt(20), 'code', 'error-rate').probability;
    const alarm = r.alarms.alarms.find((a) => a.plane === 'code' && a.kind === 'error-rate')!.alarm;
    const cfn = alarm.node.defaultChild as CfnAlarm;
    cfn.datapointsToAlarm = 3;
    const after = find(r.falseFireAt(20), 'code', 'error-rate').probability;
    expect(after).toBeLessThan(before / 3);
    expect(r.falseFireAt(20).alarms.find((a) => a.name === alarm.node.id)?.datapointsToAlarm).toBe(3);
  });
});

describe('closed form: hand-checkable pieces', () => {
  test('M of N: one window of 3 at 2 of 3 is 3q² - 2q³; 2 periods is q²; 1 of 1 over T is 1 - (1-q)^T', () => {
    const q = 0.2;
    expect(mOfNProbability([q, q, q], 2, 3).probability).toBeCloseTo(3 * q * q - 2 * q ** 3, 12);
    expect(mOfNProbability([q, q], 2, 3).probability).toBeCloseTo(q * q, 12);
    expect(mOfNProbability(Array(7).fill(q), 1, 1).probability).toBeCloseTo(1 - (1 - q) ** 7, 12);
    // 2 of 2 over 3 periods: fires unless no two consecutive breaches: 1 - [(1-q)^3 + 3q(1-q)^2 + q²(1-q)] (b_b).
    expect(mOfNProbability([q, q, q], 2, 2).probability).toBeCloseTo(1 - ((1 - q) ** 3 + 3 * q * (1 - q) ** 2 + q * q * (1 - q)), 12);
    expect(() => mOfNProbability([q], 3, 2)).toThrow('M of N needs 1 ≤ M ≤ N, got 3 of 2');
  });

  test('a period with every request failing breaches exactly when the guard is met: 1 - P(N < guard)', () => {
    expect(rateBreachProbability(5, 0.999999, 0.05, 5)).toBeCloseTo(1 - quietFraction(5, 5), 5);
    expect(rateBreachProbability(12, 0.999999, 0.05, 10)).toBeCloseTo(1 - quietFraction(12, 10), 5);
  });

  test('below 20 requests one error is over 5 %: with guard 5 and μ=5, P = Σ_{n=5..19} Pois(n)(1-(1-r)^n) + the tail', () => {
    const mu = 5;
    const r = 0.01;
    let p = 0;
    let pois = Math.exp(-mu);
    for (let n = 0; n < 20; n++) {
      if (n >= 5) p += pois * (1 - (1 - r) ** n);
      pois *= mu / (n + 1);
    }
    // The n ≥ 20 tail of Poisson(5) is below 1e-6.
    expect(rateBreachProbability(mu, r, 0.05, 5)).toBeCloseTo(p, 6);
  });

  test('the canary-vs-stable delta is zero without canary errors and rises with the canary share of traffic', () => {
    expect(deltaBreachProbability(5, 45, 0, 0.02, 5)).toBe(0);
    expect(deltaBreachProbability(20, 180, 0.01, 0.02, 5)).toBeGreaterThan(deltaBreachProbability(5, 45, 0.01, 0.02, 5) * 0.5);
  });
});

/** A direct simulation of the alarm on Poisson traffic (thinning: failures and successes are independent Poissons). */
function simulate(a: SynthesizedRateAlarm, traffic: ReleaseTraffic, rate: number, runs: number, seed: number): number {
  const rand = mulberry32(seed);
  const poisson = (mu: number) => {
    // Inversion; fine for the small means used here.
    let k = 0;
    let p = Math.exp(-mu);
    let c = p;
    const u = rand();
    while (u > c && k < 10_000) {
      k++;
      p *= mu / k;
      c += p;
    }
    return k;
  };
  const P = a.periodSeconds;
  const periods: { muC: number; muS: number }[] = [];
  if (a.plane === 'config') for (let i = 0; i < Math.ceil(traffic.configWatchedSeconds / P); i++) periods.push({ muC: traffic.requestsPerSecond * P, muS: 0 });
  else {
    const [[, pct], [end]] = traffic.codeSteps as [number, number][];
    for (let i = 0; i < Math.ceil((end * 60) / P); i++)
      periods.push({ muC: (traffic.requestsPerSecond * pct * P) / 100, muS: (traffic.requestsPerSecond * (100 - pct) * P) / 100 });
  }
  let fired = 0;
  for (let run = 0; run < runs; run++) {
    const window: boolean[] = [];
    for (const { muC, muS } of periods) {
      const xc = poisson(muC * rate);
      const nc = xc + poisson(muC * (1 - rate));
      let breach: boolean;
      if (a.kind === 'canary-vs-stable') {
        const xs = poisson(muS * rate);
        const ns = xs + poisson(muS * (1 - rate));
        breach = nc >= a.minInvocations && ns >= a.minInvocations && xc / nc - xs / ns > a.threshold;
      } else breach = nc >= a.minInvocations && xc / nc > a.threshold;
      window.push(breach);
      if (window.length > a.evaluationPeriods) window.shift();
      if (window.filter(Boolean).length >= a.datapointsToAlarm) {
        fired++;
        break;
      }
    }
  }
  return fired / runs;
}

describe('closed form agrees with simulation (4,000 seeded releases each; tolerance 4.5 binomial standard errors + 0.002)', () => {
  const alarm = (kind: SynthesizedRateAlarm['kind'], plane: 'code' | 'config', threshold: number): SynthesizedRateAlarm => ({
    name: `${plane}-${kind}`,
    kind,
    plane,
    threshold,
    periodSeconds: 10,
    datapointsToAlarm: 2,
    evaluationPeriods: 3,
    minInvocations: 5,
  });
  const traffic = (rps: number): ReleaseTraffic => ({
    requestsPerSecond: rps,
    codeSteps: [
      [0, 10],
      [5, 100],
    ],
    configWatchedSeconds: 300,
  });
  test.each([
    ['code error-rate at 5 rps', alarm('error-rate', 'code', 0.05), 5, 0.01],
    ['code error-rate at 20 rps', alarm('error-rate', 'code', 0.05), 20, 0.01],
    ['config error-rate at 1 rps', alarm('error-rate', 'config', 0.05), 1, 0.01],
    ['config contract-rate at 5 rps (0.5 % base)', alarm('contract-rate', 'config', 0.02), 5, 0.005],
    ['canary-vs-stable at 5 rps', alarm('canary-vs-stable', 'code', 0.02), 5, 0.01],
  ])('%s', (_name, a, rps, rate) => {
    const runs = 4000;
    const rates = { errorRate: rate, safetyRate: rate, contractRate: rate };
    const closed = alarmFalseFire(a, traffic(rps), rates).probability;
    const simulated = simulate(a, traffic(rps), rate, runs, 7 + rps);
    const se = Math.sqrt((closed * (1 - closed)) / runs);
    expect(Math.abs(simulated - closed)).toBeLessThan(4.5 * se + 0.002);
  });
});

describe('policy: warns above 1 % per release, names the alarm, the probability and the fix', () => {
  const warnings = (stack: Stack) =>
    Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('alarm-false-fire'))
      .map((w) => String(w.entry.data));

  // One alarm per guardrail (layout 'perMetric'); the combined alarm's findings: test/alarm-layout.test.ts.
  test('at 20 rps with 10-second alarms the code error-rate alarm is named with its probability and a fix that fits', () => {
    const { stack } = release({ expectedRequestsPerSecond: 20, alarms: { period: Duration.seconds(10), layout: 'perMetric' } });
    const w = warnings(stack);
    const msg = w.find((m) => m.includes('Version-error-rate'));
    expect(msg).toBeDefined();
    expect(msg).toMatch(/probability 0\.2[6-9]\d per release at 20 requests\/s and a base errorRate of 0\.01/);
    expect(msg).toContain('fix (each also makes the alarm slower to catch a bad release): alarms.');
    // Every fix it proposes was computed to fit: its figure is at most 0.01.
    const figures = [...(msg ?? '').matchAll(/\((0\.\d{3})\)/g)].map((m) => Number(m[1]));
    expect(figures.length).toBeGreaterThan(0);
    for (const f of figures) expect(f).toBeLessThanOrEqual(0.01);
  });

  test('quiet when the stated base rates are zero, and skipped when no traffic is stated', () => {
    const { stack } = release({
      expectedRequestsPerSecond: 20,
      alarms: { period: Duration.seconds(10) },
      baseRates: { errorRate: 0, safetyRate: 0, contractRate: 0 },
    });
    expect(warnings(stack)).toEqual([]);
    const { stack: unstated, r } = release({ alarms: { period: Duration.seconds(10) } });
    expect(warnings(unstated)).toEqual([]);
    expect(r.facts.falseFire).toBeUndefined();
  });

  test('falseFireRule({ severity: "error" }) refuses synth with the same message', () => {
    const { app } = release({
      expectedRequestsPerSecond: 20,
      alarms: { period: Duration.seconds(10), layout: 'perMetric' },
      policyRules: [...DEFAULT_POLICY_RULES.filter((r) => r.id !== 'alarm-false-fire'), falseFireRule({ severity: 'error' })],
    });
    expect(() => app.synth()).toThrow(/release policy "alarm-false-fire" \(service assistant\): alarm Version-error-rate .* probability 0\.2/);
  });

  test('bad base rates and limits are refused, naming the field', () => {
    expect(() => release({ baseRates: { errorRate: 1.5 } })).toThrow('baseRates.errorRate must be a fraction from 0 to below 1 (0.01 = 1 %), got 1.5');
    expect(() => falseFireRule({ maxPerRelease: 0 })).toThrow('falseFireRule maxPerRelease must be a fraction in (0, 1), got 0');
  });
});
