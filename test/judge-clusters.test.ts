/**
 * Issue 16 B: failures that arrive together count once, and a cluster-randomized design (per-conversation config
 * assignment) stays a fair bet. Hand values and exact null expectations over the labels.
 */
import { concludeJudge, judgeClusters, LAMBDA_GRID, newJudgeState, RATIO_GRID, tilt, updateJudge, type JudgeObservation } from '../lambda/judge/judge';

const ok = { error: false, safety: false, contract: false };
const obs = (version: 'canary' | 'stable', extra: Partial<JudgeObservation> = {}): JudgeObservation => ({ version, at: 0, ...ok, ...extra });
const errorsOnly = { metrics: ['error' as const], notWorseOn: [] };
const concurrent = (r: ReturnType<typeof updateJudge>, metric: string) => {
  const e = r.evidence.find((x) => x.metric === metric && x.test !== 'gross');
  if (!e) throw new Error(`no evidence for ${metric}`);
  return e.eValue;
};
const mixture = (s: number, canaryEvents: number, stableEvents: number) =>
  RATIO_GRID.reduce((a, r) => a + (tilt(s, r) / s) ** canaryEvents * ((1 - tilt(s, r)) / (1 - s)) ** stableEvents, 0) / RATIO_GRID.length;

describe('counts by cluster', () => {
  test('five failing retries of one input are one bet: E is that of a single canary event; the record says 1 counted, 4 folded', () => {
    const retries = Array.from({ length: 5 }, () => obs('canary', { error: true, cluster: 'case-1' }));
    const r = updateJudge(newJudgeState(errorsOnly), { canaryShare: 0.5, observations: [...retries, obs('stable'), obs('stable')] });
    expect(concurrent(r, 'error')).toBeCloseTo(mixture(0.5, 1, 0), 12);
    expect(judgeClusters(r.state)).toEqual({ unit: 'request', counted: 1, folded: 4, keyed: 5 });
    // Without keys the five are five bets.
    const unkeyed = updateJudge(newJudgeState(errorsOnly), {
      canaryShare: 0.5,
      observations: [...Array.from({ length: 5 }, () => obs('canary', { error: true })), obs('stable'), obs('stable')],
    });
    expect(concurrent(unkeyed, 'error')).toBeCloseTo(mixture(0.5, 5, 0), 12);
  });

  test('a cluster that failed stays folded in later batches (the state remembers it through JSON)', () => {
    const first = updateJudge(newJudgeState(errorsOnly), { canaryShare: 0.5, observations: [obs('canary', { error: true, cluster: 'x' })] });
    const again = updateJudge(JSON.parse(JSON.stringify(first.state)), {
      canaryShare: 0.5,
      observations: [obs('canary', { error: true, cluster: 'x' }), obs('stable', { error: true, cluster: 'y' })],
    });
    expect(concurrent(again, 'error')).toBeCloseTo(mixture(0.5, 1, 1), 12);
  });

  test('cluster-randomized (one label per conversation): the null expectation is exactly 1 with folding, and above 1 without it (the per-request test is invalid)', () => {
    // Three conversations at share 0.3, with 3, 1 and 2 failing turns; each conversation has one label.
    const turns = [3, 1, 2];
    let folded = 0;
    let perRequest = 0;
    for (let pattern = 0; pattern < 8; pattern++) {
      const labels = turns.map((_, i) => ((pattern >> i) & 1 ? 'canary' : 'stable') as 'canary' | 'stable');
      const k = labels.filter((l) => l === 'canary').length;
      const p = 0.3 ** k * 0.7 ** (3 - k);
      const batch = (keyed: boolean) =>
        turns.flatMap((t, i) => Array.from({ length: t }, () => obs(labels[i], { error: true, share: 0.3, ...(keyed ? { cluster: `c${i}` } : {}) })));
      folded += p * concurrent(updateJudge(newJudgeState({ ...errorsOnly, unit: 'cluster' }), { canaryShare: 0.3, observations: batch(true) }), 'error');
      perRequest += p * concurrent(updateJudge(newJudgeState(errorsOnly), { canaryShare: 0.3, observations: batch(false) }), 'error');
    }
    expect(folded).toBeCloseTo(1, 12);
    expect(perRequest).toBeGreaterThan(1.05);
  });

  test("an observation's own share (the share when its conversation was assigned) is what it is bet at", () => {
    const r = updateJudge(newJudgeState({ ...errorsOnly, unit: 'cluster' }), {
      canaryShare: 0.9,
      observations: [obs('canary', { error: true, cluster: 'a', share: 0.2 }), obs('stable', { error: true, cluster: 'b', share: 0.5 })],
    });
    const expected = RATIO_GRID.reduce((a, rho) => a + (tilt(0.2, rho) / 0.2) * ((1 - tilt(0.5, rho)) / 0.5), 0) / RATIO_GRID.length;
    // One mixture over the grid; each component multiplies the event's factor at its own share.
    expect(concurrent(r, 'error')).toBeCloseTo(expected, 12);
  });
});

describe('values by cluster', () => {
  test('unit cluster: only the first request of each conversation is bet on; later turns only add to the pooled values', () => {
    const st = newJudgeState({ metrics: ['latencyMs'], notWorseOn: ['latencyMs'], unit: 'cluster' });
    const turns = [obs('canary', { latencyMs: 200, cluster: 'a', share: 0.5 }), obs('stable', { latencyMs: 100, cluster: 'b', share: 0.5 })];
    const one = updateJudge(st, { canaryShare: 0.5, observations: turns });
    const withLater = updateJudge(st, {
      canaryShare: 0.5,
      observations: [...turns, obs('canary', { latencyMs: 900, cluster: 'a', share: 0.5 })],
    });
    // The later turn changes the pooled ranks (100, 200, 900: g = -2/3 and 0 for the first two) but is not a bet:
    // E = mean over λ of (1 + 0)(1 + λ (-2/3)(0 - 0.5)).
    const expected = LAMBDA_GRID.reduce((acc, l) => acc + 1 + l / 3, 0) / LAMBDA_GRID.length;
    expect(concurrent(withLater, 'latencyMs')).toBeCloseTo(expected, 12);
    expect(concurrent(one, 'latencyMs')).toBeGreaterThan(1);
    // The next batch: conversation a is known, its turn is not bet on.
    const next = updateJudge(one.state, { canaryShare: 0.5, observations: [obs('canary', { latencyMs: 5000, cluster: 'a', share: 0.5 })] });
    expect(concurrent(next, 'latencyMs')).toBeCloseTo(concurrent(one, 'latencyMs'), 12);
  });

  test('unit cluster: the null expectation over conversation labels is exactly 1 for values too (2^3 patterns, share 0.4)', () => {
    const convs = [[120, 130], [80], [300, 310, 50]];
    let expectation = 0;
    for (let pattern = 0; pattern < 8; pattern++) {
      const labels = convs.map((_, i) => ((pattern >> i) & 1 ? 'canary' : 'stable') as 'canary' | 'stable');
      const k = labels.filter((l) => l === 'canary').length;
      const r = updateJudge(newJudgeState({ metrics: ['latencyMs'], notWorseOn: ['latencyMs'], unit: 'cluster' }), {
        canaryShare: 0.4,
        observations: convs.flatMap((vs, i) => vs.map((v) => obs(labels[i], { latencyMs: v, cluster: `c${i}`, share: 0.4 }))),
      });
      expectation += 0.4 ** k * 0.6 ** (3 - k) * concurrent(r, 'latencyMs');
    }
    expect(expectation).toBeCloseTo(1, 12);
  });
});

describe('phase from the data, never a dead end', () => {
  test('a window that held only canary requests (observed share 1) does not end the concurrent test: later stable-share batches are still judged', () => {
    let st = newJudgeState(errorsOnly);
    st = updateJudge(st, { canaryShare: 1, observations: [obs('canary')] }).state;
    const r = updateJudge(st, { canaryShare: 0.1, observations: [...Array.from({ length: 8 }, () => obs('canary', { error: true })), obs('stable')] });
    expect(concurrent(r, 'error') / mixture(0.1, 8, 0)).toBeCloseTo(1, 12);
    expect(r.decision).toBe('regression');
    expect(concludeJudge(r.state)).toBe('regression');
  });
});
