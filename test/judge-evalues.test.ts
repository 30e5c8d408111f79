import {
  concludeJudge,
  concurrentThreshold,
  GROSS_GRID,
  LAMBDA_GRID,
  newJudgeState,
  AFTER_SPEND_MS,
  RATIO_GRID,
  thresholds,
  tilt,
  updateJudge,
  type JudgeObservation,
  type JudgeState,
} from '../lambda/judge/judge';
import { betaInc, binomialCdf, binomialLower, binomialUpper, lgamma } from '../lambda/judge/stats';

const ok = { error: false, safety: false, contract: false };
const obs = (version: 'canary' | 'stable', extra: Partial<JudgeObservation> = {}): JudgeObservation => ({ version, at: 0, ...ok, ...extra });
const many = (k: number, version: 'canary' | 'stable', extra: Partial<JudgeObservation> = {}) => Array.from({ length: k }, () => obs(version, extra));
const ev = (r: ReturnType<typeof updateJudge>, metric: string) => {
  const e = r.evidence.find((x) => x.metric === metric);
  if (!e) throw new Error(`no evidence for ${metric}`);
  return e;
};

describe('stats helpers against hand values', () => {
  test('lgamma: Γ(5) = 24, Γ(1/2) = √π, ln 100! ', () => {
    expect(lgamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lgamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    let ln100 = 0;
    for (let k = 2; k <= 100; k++) ln100 += Math.log(k);
    expect(lgamma(101)).toBeCloseTo(ln100, 9);
    expect(() => lgamma(0)).toThrow('lgamma needs x > 0, got 0');
  });

  test('binomial CDF equals the direct sum; I_x(1, 1) = x', () => {
    const n = 30;
    const p = 0.07;
    let direct = 0;
    let c = 1;
    for (let k = 0; k <= 4; k++) {
      direct += c * p ** k * (1 - p) ** (n - k);
      c = (c * (n - k)) / (k + 1);
    }
    expect(binomialCdf(4, n, p)).toBeCloseTo(direct, 12);
    expect(betaInc(1, 1, 0.3)).toBeCloseTo(0.3, 12);
  });

  test('Clopper-Pearson: 0 of n has upper bound 1 - δ^(1/n); lower and upper bracket the estimate', () => {
    expect(binomialUpper(0, 10, 0.05)).toBeCloseTo(1 - 0.05 ** (1 / 10), 9);
    expect(binomialLower(10, 10, 0.05)).toBeCloseTo(0.05 ** (1 / 10), 9);
    const up = binomialUpper(13, 1350, 0.001);
    const lo = binomialLower(13, 1350, 0.001);
    expect(lo).toBeLessThan(13 / 1350);
    expect(up).toBeGreaterThan(13 / 1350);
    expect(binomialCdf(13, 1350, up)).toBeCloseTo(0.001, 6);
  });
});

describe('count e-values, by hand', () => {
  const s = 0.1;
  const mean = (f: (r: number) => number) => RATIO_GRID.reduce((a, r) => a + f(r), 0) / RATIO_GRID.length;

  test('one canary error at share 0.1: E = mean over ρ of θ(ρ)/s = mean ρ / (ρ s + 1 - s)', () => {
    const r = updateJudge(newJudgeState(), { canaryShare: s, observations: [obs('canary', { error: true })] });
    expect(ev(r, 'error').eValue).toBeCloseTo(
      mean((p) => p / (p * s + 1 - s)),
      12,
    );
    // θ(2) at 10 %: 2·0.1 / (0.2 + 0.9)
    expect(tilt(0.1, 2)).toBeCloseTo(0.2 / 1.1, 15);
  });

  test('one stable error lowers it: E = mean (1 - θ)/(1 - s) = mean 1 / (ρ s + 1 - s) < 1; requests without errors change nothing', () => {
    const r = updateJudge(newJudgeState(), { canaryShare: s, observations: [obs('stable', { error: true }), ...many(50, 'canary'), ...many(50, 'stable')] });
    const e = ev(r, 'error').eValue;
    expect(e).toBeCloseTo(
      mean((p) => 1 / (p * s + 1 - s)),
      12,
    );
    expect(e).toBeLessThan(1);
    expect(ev(r, 'safety').eValue).toBe(1);
  });

  test('each component is a fair bet under the null: s·θ/s + (1-s)·(1-θ)/(1-s) = 1 for every share and ratio', () => {
    for (const share of [0.01, 0.1, 0.5, 0.9])
      for (const rho of RATIO_GRID) {
        const th = tilt(share, rho);
        expect(share * (th / share) + (1 - share) * ((1 - th) / (1 - share))).toBeCloseTo(1, 14);
      }
  });

  test('the exact null expectation of the e-value after 3 events at share 0.2 is 1 (enumerating the 8 label patterns)', () => {
    let expectation = 0;
    for (let pattern = 0; pattern < 8; pattern++) {
      const labels = [0, 1, 2].map((i) => ((pattern >> i) & 1 ? 'canary' : 'stable') as 'canary' | 'stable');
      const k = labels.filter((l) => l === 'canary').length;
      const r = updateJudge(newJudgeState({ metrics: ['error'], notWorseOn: ['error'] }), {
        canaryShare: 0.2,
        observations: labels.map((l) => obs(l, { error: true })),
      });
      expectation += 0.2 ** k * 0.8 ** (3 - k) * ev(r, 'error').eValue;
    }
    expect(expectation).toBeCloseTo(1, 12);
  });

  test('time-varying share: batches at 5 % then 50 % multiply, each at its own share', () => {
    const st = newJudgeState({ metrics: ['error'], notWorseOn: ['error'] });
    const a = updateJudge(st, { canaryShare: 0.05, observations: [obs('canary', { error: true })] });
    const b = updateJudge(a.state, { canaryShare: 0.5, observations: [obs('canary', { error: true })] });
    expect(ev(b, 'error').eValue).toBeCloseTo(
      mean((p) => (p / (p * 0.05 + 0.95)) * (p / (p * 0.5 + 0.5))),
      12,
    );
  });

  test('one-sided: a canary with fewer errors than its share never accumulates evidence', () => {
    const r = updateJudge(newJudgeState(), { canaryShare: 0.5, observations: [...many(40, 'stable', { error: true }), ...many(2, 'canary', { error: true })] });
    expect(ev(r, 'error').eValue).toBeLessThan(0.01);
    expect(r.decision).toBe('continue');
  });

  test('thresholds: Bonferroni over 6 metrics at α = 0.01: errors split their share between the concurrent and the gross test (1200 each), other metrics spend all of it concurrently (600)', () => {
    const o = newJudgeState().options;
    const t = thresholds(o);
    expect(t.canary).toBeCloseTo(1200, 9);
    expect(t.gross).toBeCloseTo(1200, 9);
    expect(concurrentThreshold(o, 'error')).toBeCloseTo(1200, 9);
    expect(concurrentThreshold(o, 'latencyMs')).toBeCloseTo(600, 9);
    expect(concurrentThreshold(o, 'safety')).toBeCloseTo(600, 9);
    // 1/1200 + 1/1200 + 5/600 = 0.01: Ville's bound per test, summed, is α.
    expect(1 / t.canary + 1 / t.gross + 5 / t.canaryFull).toBeCloseTo(0.01, 12);
    expect(t.after).toBeCloseTo(1200, 9);
    expect(t.boundDelta).toBeCloseTo(0.01 / 6 / 4, 15);
  });

  test('a canary taking every error at a 10 % share is a regression, named by metric, with its counts', () => {
    const r = updateJudge(newJudgeState(), {
      canaryShare: 0.1,
      observations: [...many(20, 'canary', { error: true }), ...many(900, 'stable'), ...many(80, 'canary')],
    });
    expect(r.decision).toBe('regression');
    const e = ev(r, 'error');
    expect(e.eValue).toBeGreaterThanOrEqual(e.threshold);
    expect(e.canary).toEqual({ n: 100, value: 0.2 });
    expect(e.stable).toEqual({ n: 900, value: 0 });
    expect(concludeJudge(r.state)).toBe('regression');
  });
});

describe('value e-values (latency, cost, quality)', () => {
  test('two requests at a share drawn per request (own share): E = mean over λ of Π 1 + λ g (V - s), g = 2u - 1 from the mid-rank among the pooled values', () => {
    // Canary 200 ms, stable 100 ms. Pooled ranks: 100 → u = 0.25, 200 → u = 0.75.
    const r = updateJudge(newJudgeState({ metrics: ['latencyMs'], notWorseOn: ['latencyMs'] }), {
      canaryShare: 0.5,
      observations: [obs('canary', { latencyMs: 200, share: 0.5 }), obs('stable', { latencyMs: 100, share: 0.5 })],
    });
    const expected = LAMBDA_GRID.reduce((a, l) => a + (1 + l * 0.5 * 0.5) * (1 + l * -0.5 * -0.5), 0) / LAMBDA_GRID.length;
    expect(ev(r, 'latencyMs').eValue).toBeCloseTo(expected, 12);
  });

  test('the same two at the batch share (possibly observed): the permutation bet, E = mean over λ of exp(λ g_canary) / mean(exp(λ g))', () => {
    const r = updateJudge(newJudgeState({ metrics: ['latencyMs'], notWorseOn: ['latencyMs'] }), {
      canaryShare: 0.5,
      observations: [obs('canary', { latencyMs: 200 }), obs('stable', { latencyMs: 100 })],
    });
    const expected = LAMBDA_GRID.reduce((a, l) => a + Math.exp(0.5 * l) / Math.cosh(0.5 * l), 0) / LAMBDA_GRID.length;
    expect(ev(r, 'latencyMs').eValue).toBeCloseTo(expected, 12);
  });

  test('observed share: given the canary count, the permutation bet averages ≤ 1 over every labelling (the linear bet would not: two requests, one each, average 1 + λ²/4)', () => {
    const values = [120, 80, 300, 95, 410];
    for (const nc of [1, 2, 3]) {
      let sum = 0;
      let count = 0;
      for (let pattern = 0; pattern < 32; pattern++) {
        const labels = values.map((_, i) => ((pattern >> i) & 1 ? 'canary' : 'stable') as 'canary' | 'stable');
        if (labels.filter((l) => l === 'canary').length !== nc) continue;
        const r = updateJudge(newJudgeState({ metrics: ['latencyMs'], notWorseOn: ['latencyMs'] }), {
          canaryShare: nc / values.length,
          observations: values.map((v, i) => obs(labels[i], { latencyMs: v })),
        });
        sum += ev(r, 'latencyMs').eValue;
        count++;
      }
      expect(sum / count).toBeLessThanOrEqual(1 + 1e-12);
    }
    // The linear bet at the observed share 1/2, two requests: (1 + λ/2)² and (1 - λ/2)² average 1 + λ²/4.
    const linear = (l: number) => ((1 + l / 2) ** 2 + (1 - l / 2) ** 2) / 2;
    expect(linear(1)).toBeCloseTo(1.25, 12);
  });

  test('quality counts lower as worse: a canary with lower quality gains, higher loses', () => {
    const base = newJudgeState({ metrics: ['quality'], notWorseOn: ['quality'] });
    const worse = updateJudge(base, { canaryShare: 0.5, observations: [obs('canary', { quality: 0.2 }), obs('stable', { quality: 0.9 })] });
    const better = updateJudge(base, { canaryShare: 0.5, observations: [obs('canary', { quality: 0.9 }), obs('stable', { quality: 0.2 })] });
    expect(ev(worse, 'quality').eValue).toBeGreaterThan(1);
    expect(ev(better, 'quality').eValue).toBeLessThan(1);
  });

  test('the null expectation over the labels drawn at their own share is exactly 1 for any values (enumerating 2^4 patterns at share 0.3)', () => {
    const values = [120, 80, 300, 95];
    let expectation = 0;
    for (let pattern = 0; pattern < 16; pattern++) {
      const labels = values.map((_, i) => ((pattern >> i) & 1 ? 'canary' : 'stable') as 'canary' | 'stable');
      const k = labels.filter((l) => l === 'canary').length;
      const r = updateJudge(newJudgeState({ metrics: ['latencyMs'], notWorseOn: ['latencyMs'] }), {
        canaryShare: 0.3,
        observations: values.map((v, i) => obs(labels[i], { latencyMs: v, share: 0.3 })),
      });
      expectation += 0.3 ** k * 0.7 ** (4 - k) * ev(r, 'latencyMs').eValue;
    }
    expect(expectation).toBeCloseTo(1, 12);
  });

  test('missing values are skipped, not read as zero', () => {
    const r = updateJudge(newJudgeState(), { canaryShare: 0.1, observations: [obs('canary'), obs('stable', { costUsd: 0.01 })] });
    expect(ev(r, 'latencyMs').eValue).toBe(1);
    expect(ev(r, 'costUsd').canary.n).toBe(0);
  });
});

describe('after full traffic: against the stable baseline gathered before', () => {
  function withBaseline(n: number, errors: number): JudgeState {
    const stable = [
      ...many(errors, 'stable', { error: true, latencyMs: 100 }),
      ...Array.from({ length: n - errors }, (_, i) => obs('stable', { latencyMs: 50 + (i % 100) })),
    ];
    return updateJudge(newJudgeState(), { canaryShare: 0, observations: stable }).state;
  }

  test('a canary failing 10 % against a 1 % baseline of 20,000 requests at full traffic: the before/after test says worse, but only informs (no concurrent control, under the gross 20 %)', () => {
    const st = withBaseline(20_000, 200);
    const r = updateJudge(st, { canaryShare: 1, observations: [...many(60, 'canary', { error: true }), ...many(540, 'canary')] });
    expect(r.decision).toBe('continue');
    const e = ev(r, 'error');
    expect(e.phase).toBe('after-traffic');
    expect(e.beforeAfterEValue).toBeGreaterThanOrEqual(e.beforeAfterThreshold ?? Number.POSITIVE_INFINITY);
    expect(e.beforeAfterThreshold).toBeCloseTo(1200, 9);
    const gross = r.evidence.find((x) => x.metric === 'error' && x.test === 'gross');
    expect(gross?.canary).toEqual({ n: 600, value: 0.1 });
    expect(gross?.eValue).toBeLessThan(1);
  });

  test('the gross rule: at full traffic a canary failing 40 % (over grossErrorRate 0.2) is a regression, with or without a baseline; E = mean over the grid of the likelihood ratios', () => {
    const r = updateJudge(newJudgeState(), { canaryShare: 1, observations: [...many(120, 'canary', { error: true }), ...many(180, 'canary')] });
    expect(r.decision).toBe('regression');
    const gross = r.evidence.find((x) => x.metric === 'error' && x.test === 'gross');
    const expected = GROSS_GRID.reduce((a, k) => a + ((0.2 * k) / 0.2) ** 120 * ((1 - 0.2 * k) / 0.8) ** 180, 0) / GROSS_GRID.length;
    expect((gross?.eValue ?? 0) / expected).toBeCloseTo(1, 9);
    expect(gross?.threshold).toBeCloseTo(1200, 9);
    // A stated rate: 0.5 lets the same canary through.
    const lax = updateJudge(newJudgeState({ grossErrorRate: 0.5 }), {
      canaryShare: 1,
      observations: [...many(120, 'canary', { error: true }), ...many(180, 'canary')],
    });
    expect(lax.decision).toBe('continue');
  });

  // Counts after full traffic: a two-sample test with the baseline replayed as the second arm (s = n_c / (n_c + m)).
  const errorsOnly = { metrics: ['error' as const], notWorseOn: ['error' as const] };
  const cleanBaseline = (n: number) => updateJudge(newJudgeState(errorsOnly), { canaryShare: 0, observations: many(n, 'stable') }).state;
  const canaryAt = (errors: number, n: number, at: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => obs('canary', { at: at(i), error: i < errors }));
  const mixture = (s: number, hits: number) => RATIO_GRID.reduce((a, r) => a + (tilt(s, r) / s) ** hits, 0) / RATIO_GRID.length;

  test('counts at full traffic, one batch at one instant: one baseline request replayed per four canary requests (s = 40/50)', () => {
    // A clean baseline replays no events, so E = mean over ρ of (θ/s)^3 with θ = tilt(s, ρ).
    const r = updateJudge(cleanBaseline(1000), { canaryShare: 1, observations: canaryAt(3, 40, () => 0) });
    expect(ev(r, 'error').beforeAfterEValue).toBeCloseTo(mixture(40 / 50, 3), 9);
    expect(ev(r, 'error').eValue).toBe(1);
  });

  test(`counts at full traffic: the baseline is spent evenly over ${AFTER_SPEND_MS / 60_000} minutes (a batch spanning half of it replays half)`, () => {
    const r = updateJudge(cleanBaseline(1000), { canaryShare: 1, observations: canaryAt(3, 10, (i) => (i * AFTER_SPEND_MS) / 2 / 9) });
    expect(ev(r, 'error').beforeAfterEValue).toBeCloseTo(mixture(10 / 510, 3), 6);
    // The rest of the baseline (500) is replayed by the end of the spend window; after that the test stops growing.
    const r2 = updateJudge(r.state, { canaryShare: 1, observations: canaryAt(0, 10, () => AFTER_SPEND_MS) });
    expect(ev(r2, 'error').beforeAfterEValue).toBeCloseTo(mixture(10 / 510, 3), 6); // no events either side: factor 1
    const r3 = updateJudge(r2.state, { canaryShare: 1, observations: canaryAt(10, 10, () => 2 * AFTER_SPEND_MS) });
    expect(ev(r3, 'error').beforeAfterEValue).toBeCloseTo(ev(r2, 'error').beforeAfterEValue ?? 0, 9);
    // It never decides: 13 of 30 canary requests failing is not over the gross rate's evidence, and no rollback.
    expect(r3.decision).toBe('continue');
  });

  test('counts at full traffic: a canary at the rate of a large baseline stays far below the threshold (replayed baseline events bet against it)', () => {
    const st = updateJudge(newJudgeState(errorsOnly), {
      canaryShare: 0,
      observations: Array.from({ length: 20_000 }, (_, i) => obs('stable', { error: i % 50 === 0 })),
    }).state;
    const r = updateJudge(st, { canaryShare: 1, observations: canaryAt(40, 2000, () => 0) });
    expect(r.decision).toBe('continue');
    expect(ev(r, 'error').beforeAfterEValue).toBeLessThan(10);
  });

  test('the same canary at the baseline rate continues; with enough of it, no regression is shown', () => {
    const st = withBaseline(20_000, 200);
    const canary = (k: number) => [
      ...many(k / 100, 'canary', { error: true, latencyMs: 100 }),
      ...Array.from({ length: k - k / 100 }, (_, i) => obs('canary', { latencyMs: 50 + (i % 100) })),
    ];
    const first = updateJudge(st, { canaryShare: 1, observations: canary(600) });
    expect(first.decision).toBe('continue');
    expect(concludeJudge(first.state)).toBe('inconclusive');
    const more = updateJudge(first.state, { canaryShare: 1, observations: canary(20_000) });
    expect(more.decision).toBe('continue');
    expect(concludeJudge(more.state)).toBe('no-regression-shown');
  });

  test('values after full traffic: a canary value above a baseline of 3 has conformal rank u in [3/4, 1), so E is between mean(1 + λ/2) and mean(1 + λ)', () => {
    const base = updateJudge(newJudgeState({ metrics: ['latencyMs'], notWorseOn: ['latencyMs'] }), {
      canaryShare: 0,
      observations: [1, 2, 3].map((v) => obs('stable', { latencyMs: v })),
    }).state;
    const r = updateJudge(base, { canaryShare: 1, observations: [obs('canary', { latencyMs: 10 })] });
    const e = ev(r, 'latencyMs');
    const mean = (f: (l: number) => number) => LAMBDA_GRID.reduce((a, l) => a + f(l), 0) / LAMBDA_GRID.length;
    const ba = e.beforeAfterEValue ?? 0;
    expect(ba).toBeGreaterThanOrEqual(mean((l) => 1 + l / 2));
    expect(ba).toBeLessThan(mean((l) => 1 + l));
    expect(e.beforeAfterThreshold).toBeCloseTo(2 / 0.01, 9);
    expect(e.eValue).toBe(1);
    // A second value, below everything: rank among 1, 2, 3, 10 is 0, so u in [0, 1/5) and the e-value drops.
    const r2 = updateJudge(r.state, { canaryShare: 1, observations: [obs('canary', { latencyMs: 0.5 })] });
    expect(ev(r2, 'latencyMs').beforeAfterEValue).toBeLessThan(ba);
  });

  test('without any baseline nothing but the gross rule can be shown at full traffic: 15 % errors is inconclusive, never a rollback', () => {
    const r = updateJudge(newJudgeState(), { canaryShare: 1, observations: [...many(750, 'canary', { error: true }), ...many(4250, 'canary')] });
    expect(r.decision).toBe('continue');
    expect(concludeJudge(r.state)).toBe('inconclusive');
  });
});

describe('state and input', () => {
  test('the state survives JSON and the input state is not changed', () => {
    const st = newJudgeState();
    const batch = {
      canaryShare: 0.1,
      observations: [obs('canary', { error: true, latencyMs: 300 }), obs('stable', { latencyMs: 100, costUsd: 0.002, quality: 0.8 })],
    };
    const before = JSON.stringify(st);
    const a = updateJudge(st, batch);
    expect(JSON.stringify(st)).toBe(before);
    const viaJson = updateJudge(JSON.parse(JSON.stringify(a.state)), batch);
    const direct = updateJudge(a.state, batch);
    expect(viaJson.evidence).toEqual(direct.evidence);
  });

  test('bad input is refused with the field and the fix', () => {
    const st = newJudgeState();
    expect(() => newJudgeState({ alpha: 0 })).toThrow('judge alpha must be in (0, 1), got 0');
    expect(() => newJudgeState({ metrics: ['latency' as never] })).toThrow('judge metric "latency" is unknown');
    expect(() => updateJudge(st, { canaryShare: 1.5, observations: [] })).toThrow("canaryShare must be from 0 to 1 (the canary's traffic weight), got 1.5");
    expect(() => updateJudge(st, { canaryShare: 0, observations: [obs('canary')] })).toThrow('canaryShare is 0 but the batch has canary observations');
    expect(() => updateJudge(st, { canaryShare: 1, observations: [obs('stable')] })).toThrow('canaryShare is 1 but the batch has stable observations');
    expect(() => newJudgeState({ grossErrorRate: 1 })).toThrow('judge grossErrorRate must be in (0, 1)');
    expect(() => newJudgeState({ unit: 'conversation' as never })).toThrow("judge unit must be 'request', 'cluster' or 'environment', got conversation");
    expect(() => updateJudge(st, { canaryShare: 0.5, observations: [obs('canary', { share: 2 })] })).toThrow("an observation's share must be from 0 to 1");
    expect(() => updateJudge({} as JudgeState, { canaryShare: 0.1, observations: [] })).toThrow('start with newJudgeState()');
  });
});
