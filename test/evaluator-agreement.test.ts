/**
 * The evaluator's agreement with people (issue 17 F): the statistics, table-driven against values computed by hand
 * or published, and the label rules (which decisions imply which label, which label wins).
 */
import { mulberry32 } from '../lambda/judge/simulate';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import {
  type AgreementPair,
  cohensKappa,
  computeAgreement,
  describeAgreement,
  evaluatorVerdict,
  type HumanLabel,
  impliedLabel,
  sampleIdOf,
  wilsonInterval,
  withLabel,
} from '../lambda/shared/evaluator-agreement';
import { tuple } from './s3rver-harness';

const AT = '2026-12-07T07:00:00.000Z';

describe('wilsonInterval', () => {
  // Hand-checked: p̂ ± z·sqrt(p̂(1-p̂)/n + z²/4n²), centred at (p̂ + z²/2n), all over 1 + z²/n, z = 1.96.
  test.each([
    [8, 10, 0.4902, 0.9433],
    [0, 10, 0, 0.2775], // high = z² / (n + z²)
    [10, 10, 0.7225, 1], // low = n / (n + z²)
    [81, 263, 0.2553, 0.3662], // Wilson's textbook example (Newcombe 1998, method 3)
    [45, 50, 0.7864, 0.9565],
  ])('%i of %i: [%f, %f]', (k, n, low, high) => {
    const w = wilsonInterval(k, n);
    expect(w?.low).toBeCloseTo(low, 3);
    expect(w?.high).toBeCloseTo(high, 3);
  });

  test('no trials: no interval; k outside 0..n is refused with the values', () => {
    expect(wilsonInterval(0, 0)).toBeUndefined();
    expect(() => wilsonInterval(11, 10)).toThrow('k must be within 0..n, got k=11, n=10');
  });

  test('covers the true agreement about 95 % of the time, also at small n and near 1 (where the normal interval fails)', () => {
    const rand = mulberry32(17);
    for (const n of [15, 40, 200]) {
      for (const p of [0.7, 0.9, 0.97]) {
        let covered = 0;
        const runs = 2000;
        for (let r = 0; r < runs; r++) {
          let k = 0;
          for (let i = 0; i < n; i++) if (rand() < p) k++;
          const w = wilsonInterval(k, n);
          if (w && w.low <= p && p <= w.high) covered++;
        }
        // Wilson's coverage oscillates around 95 %; its known minimum in this range is above 0.90.
        expect({ n, p, coverage: covered / runs > 0.9 }).toEqual({ n, p, coverage: true });
      }
    }
  });
});

describe('the interval on labels as they arrive in production', () => {
  test('a drifting mix (agreement differs by kind of case, the mix of kinds drifts over the labels) is covered at least as often', () => {
    // Early labels are mostly evaluator-flagged candidates (people triage those first; agreement 0.95), later ones
    // mostly other cases (agreement 0.7): each label is its own Bernoulli, the target is their mean. A sum of unequal
    // Bernoullis varies less than a binomial at the mean, so the interval can only be conservative; check it is not short.
    const rand = mulberry32(23);
    for (const n of [30, 120]) {
      let covered = 0;
      const runs = 2000;
      for (let r = 0; r < runs; r++) {
        let k = 0;
        let mean = 0;
        for (let i = 0; i < n; i++) {
          const flagged = rand() < 0.9 - (0.8 * i) / n; // 90 % flagged at first, 10 % at the end
          const p = flagged ? 0.95 : 0.7;
          mean += p / n;
          if (rand() < p) k++;
        }
        const w = wilsonInterval(k, n);
        if (w && w.low <= mean && mean <= w.high) covered++;
      }
      expect({ n, coverage: covered / runs >= 0.93 }).toEqual({ n, coverage: true });
    }
  });
});

describe('cohensKappa', () => {
  const t = (badBad: number, badGood: number, goodBad: number, goodGood: number) => ({ badBad, badGood, goodBad, goodGood });
  test.each([
    ['the textbook table (po 0.7, pe 0.5)', t(20, 5, 10, 15), 0.4],
    ['perfect agreement on both labels', t(12, 0, 0, 30), 1],
    ['the evaluator always says bad, people split evenly: no agreement beyond chance', t(10, 10, 0, 0), 0],
    ['systematic disagreement', t(0, 10, 10, 0), -1],
  ])('%s', (_what, table, kappa) => {
    expect(cohensKappa(table)).toBeCloseTo(kappa, 10);
  });

  test('undefined when both raters used one label only, or nothing was compared', () => {
    expect(cohensKappa(t(9, 0, 0, 0))).toBeUndefined();
    expect(cohensKappa(t(0, 0, 0, 0))).toBeUndefined();
  });
});

describe('computeAgreement', () => {
  const pair = (caseId: string, people: 'good' | 'bad', evaluator: 'good' | 'bad' | undefined): AgreementPair => ({ caseId, people, evaluator });

  test('accuracy, interval, kappa and the confusion table; unscored labels count as labels, not as pairs', () => {
    const pairs = [
      ...Array.from({ length: 20 }, (_, i) => pair(`bb${i}`, 'bad', 'bad')),
      ...Array.from({ length: 5 }, (_, i) => pair(`bg${i}`, 'good', 'bad')),
      ...Array.from({ length: 10 }, (_, i) => pair(`gb${i}`, 'bad', 'good')),
      ...Array.from({ length: 15 }, (_, i) => pair(`gg${i}`, 'good', 'good')),
      pair('unscored', 'bad', undefined),
    ];
    const a = computeAgreement(pairs, AT, 'labels.json');
    expect(a).toMatchObject({ labels: 51, compared: 50, agree: 35, confusion: { badBad: 20, badGood: 5, goodBad: 10, goodGood: 15 }, measuredAt: AT });
    expect(a.accuracy).toBeCloseTo(0.7, 10);
    expect(a.kappa).toBeCloseTo(0.4, 10);
    expect(a.interval?.low).toBeCloseTo(wilsonInterval(35, 50)?.low ?? -1, 10);
    expect(describeAgreement(a)).toBe(
      "evaluator agreement with people: 70 % (95 % Wilson interval 56.2 %–80.9 %) on 50 labelled answers (1 more labels not scored by the evaluator), Cohen's kappa 0.40; " +
        `evaluator flagged 5 answers people found good and passed 10 they found bad; measured ${AT}`,
    );
  });

  test('one label per case: a case labelled again counts once, with its last pair (retries fold into their case)', () => {
    const a = computeAgreement([pair('c1', 'good', 'bad'), pair('c1', 'bad', 'bad'), pair('c1', 'bad', 'bad'), pair('c2', 'good', 'good')], AT);
    expect(a).toMatchObject({ labels: 2, compared: 2, agree: 2, accuracy: 1 });
  });

  test('nothing scored: agreement is unknown, and says why', () => {
    const a = computeAgreement([pair('c1', 'bad', undefined)], AT);
    expect(a.accuracy).toBeUndefined();
    expect(a.interval).toBeUndefined();
    expect(describeAgreement(a)).toContain('unknown (1 label, none on an answer the evaluator model scored');
    expect(describeAgreement(undefined)).toContain('unknown (no labels measured; label cases or scored samples with `cdk-ai-release regression label`)');
  });
});

describe('labels', () => {
  test.each([
    ['candidate', 'accepted', { label: 'bad', source: 'promote' }],
    ['candidate', 'retired', { label: 'good', source: 'retire' }],
    ['accepted', 'retired', undefined], // stops gating; says nothing about the answer
  ])('%s -> %s implies %j', (from, to, implied) => {
    expect(impliedLabel(from, to)).toEqual(implied);
  });

  const label = (source: HumanLabel['source'], value: 'good' | 'bad', by: string): HumanLabel => ({
    caseId: 'c1',
    label: value,
    source,
    by,
    at: AT,
    requestIds: ['r1'],
  });

  test('an explicit label replaces an implied one and an earlier explicit one; an implied one never replaces an explicit one', () => {
    let set = withLabel(undefined, 'svc', label('promote', 'bad', 'alice'), AT);
    expect(set.labels.c1).toMatchObject({ label: 'bad', source: 'promote' });
    set = withLabel(set, 'svc', label('label', 'good', 'bob'), AT);
    expect(set.labels.c1).toMatchObject({ label: 'good', source: 'label', by: 'bob' });
    set = withLabel(set, 'svc', label('retire', 'good', 'carol'), AT);
    set = withLabel(set, 'svc', label('promote', 'bad', 'dave'), AT);
    expect(set.labels.c1).toMatchObject({ label: 'good', source: 'label', by: 'bob' });
    set = withLabel(set, 'svc', label('label', 'bad', 'erin'), AT);
    expect(set.labels.c1).toMatchObject({ label: 'bad', by: 'erin' });
  });

  test.each([
    [{ modelScores: 2, belowFloor: 1 }, 'bad'],
    [{ modelScores: 2, belowFloor: 0 }, 'good'],
    [{ modelScores: 0, belowFloor: 0 }, undefined], // only deterministic checks, or the model failed: no verdict
  ])("the evaluator's verdict of %j is %s", (s, verdict) => {
    expect(evaluatorVerdict({ ...s, time: AT })).toBe(verdict);
  });

  test("a request id names the runtime's sample of it (the key the evaluator scores under)", () => {
    const s = buildEvaluationSample(
      {
        service: 'svc',
        requestId: '3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b',
        time: new Date(AT),
        tuple: tuple('svc'),
        functionVersion: '7',
        arm: 'stable',
        input: 'q',
        answer: 'a',
      },
      1,
    );
    expect(sampleIdOf('svc', '3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b')).toBe(s.sampleId);
  });
});
