import { unitPosition } from '../lambda/runtime/assignment';
import { pairingDraw, sampleUnit } from '../lambda/runtime/evaluation-sampler';
import { checkDrawn } from '../lambda/runtime/runtime-checks';
import { drawUnit, EVALUATION_DRAW_SEED } from '../lambda/runtime/sample-draw';
import { sha256Hex } from '../lambda/shared/canonical-json';

/**
 * The evaluation sampler's draw is a fast keyed hash (h10-hot17) instead of SHA-256 of the request id. What the
 * sampler relies on, pinned here on fixed id sets (so each check either always passes or always fails): the draw is
 * deterministic, uniform over [0, 1) and in the low region the example's rates use, on Lambda's UUID request ids, on
 * sequential ids and on ids one character apart, and independent of the check sampler's and the config canary's
 * hashes of the same ids. A weak hash run through the same checks fails them (the checks have power).
 */

/** Deterministic UUID v4 strings (Lambda's request id format) from a seeded xorshift generator. */
function uuids(n: number, seed = 7): string[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const hex = (k: number) => {
    let s = '';
    while (s.length < k) s += next().toString(16).padStart(8, '0');
    return s.slice(0, k);
  };
  return Array.from({ length: n }, () => {
    const h = hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[next() % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });
}

const SEQUENTIAL = Array.from({ length: 100_000 }, (_, i) => `req-${i}`);
const LAMBDA = uuids(100_000);
/** Ids one character apart: each UUID with each position of its last group stepped through the hex digits (distinct ids). */
const NEIGHBOURS = [
  ...new Set(
    uuids(500, 11).flatMap((u) =>
      Array.from({ length: 12 * 16 }, (_, k) => `${u.slice(0, 24)}${u.slice(24, 24 + (k >> 4))}${(k & 15).toString(16)}${u.slice(25 + (k >> 4))}`),
    ),
  ),
];

/** Pearson's chi-square statistic of `values` over `bins` equal bins of [lo, hi) (values outside are ignored). */
function chiSquare(values: readonly number[], bins: number, lo = 0, hi = 1): { stat: number; n: number } {
  const counts = new Array<number>(bins).fill(0);
  let n = 0;
  for (const v of values) {
    if (v < lo || v >= hi) continue;
    counts[Math.floor(((v - lo) / (hi - lo)) * bins)]++;
    n++;
  }
  const e = n / bins;
  return { stat: counts.reduce((s, c) => s + (c - e) ** 2 / e, 0), n };
}

// Upper 0.1 % points of chi-square: df 99 → 148.2, df 19 → 43.8, df 1 → 10.83.
const CHI2_99 = 148.2;
const CHI2_19 = 43.8;
const CHI2_1 = 10.83;

/** Chi-square of a 2 × 2 table of two yes/no decisions over the same ids (independence). */
function independence(a: readonly boolean[], b: readonly boolean[]): number {
  const t = [0, 0, 0, 0];
  for (let i = 0; i < a.length; i++) t[(a[i] ? 2 : 0) + (b[i] ? 1 : 0)]++;
  const n = a.length;
  const ra = [t[0] + t[1], t[2] + t[3]];
  const cb = [t[0] + t[2], t[1] + t[3]];
  let s = 0;
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) s += (t[i * 2 + j] - (ra[i] * cb[j]) / n) ** 2 / ((ra[i] * cb[j]) / n);
  return s;
}

describe('the evaluation draw (fast keyed hash)', () => {
  test('is a function of the request id, in [0, 1), and keyed (another seed draws other numbers)', () => {
    for (const id of LAMBDA.slice(0, 1000)) {
      const u = sampleUnit(id);
      expect(u).toBe(sampleUnit(`${id}`));
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(u).toBe(drawUnit(EVALUATION_DRAW_SEED, id));
    }
    const same = LAMBDA.slice(0, 1000).filter((id) => Math.abs(drawUnit(1, id) - drawUnit(2, id)) < 1e-9).length;
    expect(same).toBe(0);
    // 53 bits: no two of 100,000 UUIDs share a draw.
    expect(new Set(LAMBDA.map(sampleUnit)).size).toBe(LAMBDA.length);
  });

  test.each([
    ['Lambda UUID request ids', LAMBDA],
    ['sequential ids (req-0, req-1, …)', SEQUENTIAL],
    ['ids one character apart', NEIGHBOURS],
  ])('is uniform on %s: over [0, 1) in 100 bins and over [0, 0.02) (where the example samples) in 20 bins', (_, ids) => {
    const u = ids.map(sampleUnit);
    expect(chiSquare(u, 100).stat).toBeLessThan(CHI2_99);
    const low = chiSquare(u, 20, 0, 0.02);
    expect(low.n).toBeGreaterThan(ids.length * 0.02 * 0.9);
    expect(low.n).toBeLessThan(ids.length * 0.02 * 1.1);
    expect(low.stat).toBeLessThan(CHI2_19);
  });

  test('the example rates hold on both plane shapes: scoring 0.005 and pairing 0.1 draw their shares of 100,000 Lambda ids', () => {
    let scored = 0;
    let pairs = 0;
    for (const id of LAMBDA) {
      const d = pairingDraw(id, 0.005, 0.1, 'stable', undefined);
      if (d?.pairOnly) pairs++;
      else if (d) scored++;
    }
    // Binomial standard deviations: scored √(100000·0.005·0.995) ≈ 22.3, all √(100000·0.1·0.9) ≈ 94.9: 4 σ bounds.
    expect(Math.abs(scored - 500)).toBeLessThan(4 * 22.3);
    expect(Math.abs(scored + pairs - 10_000)).toBeLessThan(4 * 94.9);
  });

  test("is independent of the check sampler's draw and of the config canary's assignment of the same ids", () => {
    const ids = LAMBDA.slice(0, 40_000);
    const sampled = ids.map((id) => sampleUnit(id) < 0.1);
    expect(
      independence(
        sampled,
        ids.map((id) => checkDrawn(id, 0.5)),
      ),
    ).toBeLessThan(CHI2_1);
    // A request without a conversation id is assigned by its own id (unitKind 'request').
    expect(
      independence(
        sampled,
        ids.map((id) => unitPosition('release-key-1', id).position < 0.1),
      ),
    ).toBeLessThan(CHI2_1);
    // And of the old SHA-256 draw (the sampled set changed, not only relabelled).
    const old = ids.map((id) => Number.parseInt(sha256Hex(`evaluation-sample\n${id}`).slice(0, 13), 16) / 2 ** 52 < 0.1);
    expect(independence(sampled, old)).toBeLessThan(CHI2_1);
  });

  test('the checks have power: a weak hash (the id summed char by char, or its last two characters) fails them on sequential ids', () => {
    const weak = (id: string) => {
      let h = 0;
      for (let i = 0; i < id.length; i++) h = (h + id.charCodeAt(i) * 31) % 100_003;
      return h / 100_003;
    };
    expect(chiSquare(SEQUENTIAL.map(weak), 100).stat).toBeGreaterThan(CHI2_99);
    // and one that reads only the id's last characters (Lambda's ids differ everywhere, sequential ones at the end)
    const tail = (id: string) => (Number.parseInt(id.slice(-2), 36) % 100) / 100;
    expect(chiSquare(SEQUENTIAL.map(tail), 20, 0, 0.02).stat).toBeGreaterThan(CHI2_19);
  });
});
