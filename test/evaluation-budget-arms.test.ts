/**
 * Budget skips that do not depend on the version (issue 17 A, h8-detjudge). When a release's (or the day's) budget runs
 * short, which samples the model still scores must not depend on the arm that answered: otherwise the judge compares
 * the versions on a selection that one arm lost first (a canary's claims are larger: its answers are paired too). The
 * ledger lowers an admission rate as spend approaches a cap and admits a sample while the hash of its case id is under
 * it (one rate for the whole batch, so for both arms at one time); a refusal by a spent cap refuses every later claim
 * of that cap, however small. Pure tables first, then a release through the real evaluator (lib/drill/budget-world.ts).
 */
import { runBudgetWorld } from '../lib/drill/budget-world';
import { admissionRate, admissionUnit, claimRate, newLedger, reserveBatch, THROTTLE_FROM, tupleKey } from '../lambda/evaluator/budget';
import { describeBudget } from '../lambda/review/evaluator-trust';
import type { VersionTuple } from '../lambda/shared/contract';

const T0 = Date.parse('2026-12-07T06:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000);
const tuple = (config: string): VersionTuple => ({
  service: 'support',
  codeVersion: '7',
  config,
  prompt: 'p',
  model: 'm',
  retrieval: 'r',
  tools: 't',
  outputContract: 'o',
  degrade: 'd',
});

describe('the admission rate and unit (pure)', () => {
  test.each([
    [0, 10, 1],
    [5, 10, 1],
    [7.5, 10, 0.5],
    [9, 10, 0.2],
    [10, 10, 0],
    [12, 10, 0],
    [1, 0, 0],
  ])('spent %d of a %d USD cap: rate %d', (spent, cap, rate) => {
    expect(admissionRate(spent, cap)).toBeCloseTo(rate, 12);
  });

  test('THROTTLE_FROM is where the rate starts to fall', () => {
    expect(admissionRate(THROTTLE_FROM * 10, 10)).toBe(1);
    expect(admissionRate(THROTTLE_FROM * 10 + 0.01, 10)).toBeLessThan(1);
  });

  test('the unit is uniform over case ids and changes with the salt (a fresh subset per release)', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `case-${i}`);
    const under = (salt: string, p: number) => ids.filter((id) => admissionUnit(salt, id) < p).length / ids.length;
    // Binomial sd at 10,000 draws is at most 0.005: ±0.02 is four of them.
    for (const p of [0.1, 0.3, 0.7]) expect(Math.abs(under('release-a', p) - p)).toBeLessThan(0.02);
    const a = ids.map((id) => admissionUnit('release-a', id) < 0.3);
    const b = ids.map((id) => admissionUnit('release-b', id) < 0.3);
    const both = a.filter((x, i) => x && b[i]).length / ids.length;
    expect(Math.abs(both - 0.09)).toBeLessThan(0.02); // independent subsets: 0.3 × 0.3
  });

  test('the rate is the lower of the release cap and the day cap, named by the cap that sets it', () => {
    const l = { ...newLedger(at(0)), daySpentUsd: 9, releases: { r: { spentUsd: 6, firstSeen: at(0).toISOString() } } };
    expect(claimRate(l, { perReleaseUsd: 10, perDayUsd: 10 }, 'r')).toEqual({ rate: expect.closeTo(0.2, 12), by: 'day' });
    expect(claimRate(l, { perReleaseUsd: 6.5, perDayUsd: 100 }, 'r')).toEqual({ rate: expect.closeTo(2 * (0.5 / 6.5), 12), by: 'release' });
    expect(claimRate(l, { perReleaseUsd: 100, perDayUsd: 100 }, undefined)).toEqual({ rate: 1, by: 'day' });
  });
});

describe('reserveBatch: skips independent of the arm (pure)', () => {
  const caps = { perReleaseUsd: 100, perDayUsd: 1e6 };
  // A release in progress (both tuples seen), 75 % of its cap spent: the rate is 0.5.
  const started = () => {
    const l = reserveBatch(
      newLedger(at(0)),
      caps,
      [
        { tuple: tuple('old'), at: at(0), worstCaseUsd: 0 },
        { tuple: tuple('new'), at: at(1), worstCaseUsd: 75 },
      ],
      at(1),
      { recordStop: true },
    ).ledger;
    const key = tupleKey(tuple('new'));
    expect(l.releases[key].spentUsd).toBe(75);
    return { l, key };
  };

  test("one input answered by both arms gets one decision; over 2,000 inputs each arm's admitted share is the rate", () => {
    const { l, key } = started();
    const claims = Array.from({ length: 2000 }, (_, i) => ({
      tuple: tuple(i % 2 ? 'new' : 'old'),
      at: at(2 + i / 100),
      // A canary's claims are three times larger (its answers are paired): the skip must not care.
      worstCaseUsd: i % 2 ? 0.003 : 0.001,
      unit: `case-${Math.floor(i / 2)}`,
    }));
    const r = reserveBatch(l, caps, claims, at(30), { recordStop: true });
    for (let i = 0; i < 2000; i += 2) expect(r.grants[i].admit).toBe(r.grants[i + 1].admit);
    const share = (odd: 0 | 1) => r.grants.filter((g, i) => i % 2 === odd && g.admit).length / 1000;
    // The rate as the ledger stood before the batch: 0.5 (binomial sd over 1,000 inputs ≈ 0.016).
    expect(Math.abs(share(1) - 0.5)).toBeLessThan(0.06);
    expect(share(1)).toBe(share(0));
    expect(r.grants.every((g) => g.admit || ('throttled' in g && g.throttled === true && g.by === 'release'))).toBe(true);
    expect(r.ledger.releases[key]).toMatchObject({ throttledBy: 'release', lowestRate: 0.5, throttledAt: at(30).toISOString() });
    expect(r.ledger.releases[key].stoppedAt).toBeUndefined();
  });

  test('a stopped release admits nothing more, however small the claim, in this batch and the next', () => {
    const { l, key } = started();
    // 24.9 USD left: a 30 USD claim (no unit: no throttle) is refused and recorded as the stop; a 0.01 one after it too.
    const r = reserveBatch(
      l,
      caps,
      [
        { tuple: tuple('new'), at: at(3), worstCaseUsd: 30 },
        { tuple: tuple('old'), at: at(4), worstCaseUsd: 0.01 },
      ],
      at(5),
      { recordStop: true },
    );
    expect(r.grants.map((g) => g.admit)).toEqual([false, false]);
    expect(r.ledger.releases[key]).toMatchObject({ stoppedBy: 'release', stoppedAt: at(5).toISOString() });
    const next = reserveBatch(r.ledger, caps, [{ tuple: tuple('old'), at: at(6), worstCaseUsd: 0.0001 }], at(7), { recordStop: true });
    expect(next.grants[0]).toMatchObject({ admit: false, by: 'release', releaseKey: key });
  });
});

test("the review's budget line says from when both arms were throttled, and to which rate", () => {
  expect(describeBudget({ releaseKey: 'k', spentUsd: 2.95, perReleaseUsd: 3, throttledAt: '2026-12-07T10:13:40.000Z', lowestRate: 0.0342 })).toBe(
    'evaluation budget: 2.95 USD spent of the 3.00 USD release budget; from 2026-12-07T10:13:40.000Z the budget ran short and both arms were ' +
      'scored at one falling rate (by case-id hash, down to 3.4 %); sampling never stopped',
  );
});

describe('a release whose budget runs out mid-canary, through the real evaluator', () => {
  // 5 % of answers scored (so each arm gives ~450 scoring samples per release), 10 % of the canary's paired, an 8 USD
  // cap that the pairs spend halfway by minute ~15 of the 60-minute config canary.
  const SEEDS = 6;
  test(`both arms keep the same model-scored share (mean difference within 3 points over ${SEEDS} seeds), the cap holds, and the throttle starts mid-canary`, async () => {
    const diffs: number[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const x = await runBudgetWorld({ seed, samplingRate: 0.05, perReleaseUsd: 8 });
      expect(x.spentUsd).toBeLessThanOrEqual(x.capUsd + 1e-9);
      expect(x.firstRefusalMinute).toBeGreaterThan(5);
      expect(x.firstRefusalMinute).toBeLessThan(40);
      // The throttle, not a stop, does the refusing: both arms are refused by the rate about equally often.
      const c = x.refusals.canary;
      const s = x.refusals.stable;
      expect(c.throttled + s.throttled).toBeGreaterThan(10 * (c.cap + s.cap));
      const fc = x.canary.scored / x.canary.offered;
      const fs = x.stable.scored / x.stable.offered;
      expect(fc).toBeGreaterThan(0.2);
      expect(fc).toBeLessThan(0.9);
      diffs.push(fc - fs);
    }
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    // Per-seed sd of the difference ≈ 3 points at ~450 scoring samples per arm (bench/RESULTS.md): the mean's ≈ 1.2.
    expect(Math.abs(mean)).toBeLessThan(0.03);
  }, 120_000);
});
