/**
 * The review's conclusion names a behaviour shift (h11-eval17, issue 17 E): when the fingerprint's test shows a field
 * shifted, the conclusion says which, and by how much (stable → canary), after what decided the release; it informs
 * and never decides (the outcome is the same with and without the evaluator's results). Table-driven on the pure
 * review module (lambda/review/evaluation.ts, lambda/review/review.ts), no mocks.
 */
import type { StoredEvaluation } from '../lambda/review/evaluation';
import { medianChange, mixChange, reviewEvaluation, shareChange } from '../lambda/review/evaluation';
import { renderReviewMarkdown } from '../lambda/review/render-markdown';
import { behaviourShift, buildReview } from '../lambda/review/review';
import { EVALUATION_SAMPLE_TYPE } from '../lambda/shared/evaluation';
import { at, codeRelease, rolledBackDeployment } from './review-fixtures';

/** How one arm answers: 40 inputs; the first `refusals` refused, the first `maxTokens` cut, the first `uncited` uncited. */
interface Arm {
  readonly length?: number;
  readonly refusals?: number;
  readonly maxTokens?: number;
  readonly uncited?: number;
  readonly tools?: number;
}
const N = 40;

/** Stored results as lambda/evaluator/delivery.ts writes them; the deployment moves 6 → 7, so version 7 is the canary. */
function arm(version: '6' | '7', a: Arm): StoredEvaluation[] {
  return Array.from({ length: N }, (_, i) => {
    // Lengths spread around the arm's centre (±10 %), so the medians are the centres.
    const len = Math.round((a.length ?? 400) * (0.9 + (0.2 * i) / (N - 1)));
    const caseId = `case-${version}-${i}`;
    return {
      evaluation: 'rubric-v1',
      sample: {
        type: EVALUATION_SAMPLE_TYPE,
        service: 'svc',
        sampleId: `s-${caseId}`,
        requestId: `r-${caseId}`,
        time: at(10 + i),
        tuple: {} as never,
        functionVersion: version,
        arm: 'stable',
        caseId,
        input: `{"question":"q ${i}"}`,
        answer: 'x'.repeat(len),
        passages: [],
        citations: i < (a.uncited ?? 4) ? [] : ['p1'],
        toolCalls: Array.from({ length: i % 2 === 0 ? (a.tools ?? 1) : 0 }, () => ({ name: 'lookup' })),
        stopReason: i < (a.maxTokens ?? 2) ? 'max_tokens' : 'end_turn',
        inputTokens: 900 + (i % 7),
        outputTokens: 100 + (i % 5),
        sampledAt: 0.1,
      },
      result: {
        sampleId: `s-${caseId}`,
        service: 'svc',
        arm: 'stable',
        functionVersion: version,
        caseId,
        scores: [
          { criterion: 'refusal-phrase', score: i < (a.refusals ?? 2) ? 0 : 1, reason: '', source: 'deterministic' },
          { criterion: 'groundedness', score: 4, reason: '', source: 'model' },
        ],
        unscored: [],
        costUsd: 0.001,
        belowFloor: [],
      },
    };
  });
}

const release = (stable: Arm, canary: Arm) => [...arm('6', stable), ...arm('7', canary)];
const review = (evaluations?: StoredEvaluation[]) =>
  buildReview({ release: codeRelease, stack: 'Rev', now: at(600), deployment: rolledBackDeployment, ...(evaluations ? { evaluations } : {}), missing: [] });
const DECIDED = review().conclusion;

describe('the conclusion names a behaviour shift, what and by how much', () => {
  test.each<[string, Arm, Arm, readonly RegExp[], readonly string[]]>([
    ['nothing shifted', {}, {}, [], ['answer length', 'refusal rate', 'stop reasons', 'citation rate']],
    ['a small difference the test does not show (refusals 5 % → 10 %)', {}, { refusals: 4 }, [], ['refusal rate']],
    ['answers twice as long', {}, { length: 800 }, [/answer length median 400 → 800 \(\+100 %\) \(adjusted p [0-9.e-]+\)/], ['refusal rate', 'citation rate']],
    [
      'refusals 5 % → 45 %',
      {},
      { refusals: 18 },
      [/refusal rate 5\.0 % → 45\.0 % \(\+40\.0 points\) \(adjusted p [0-9.e-]+\)/],
      ['answer length', 'stop reasons'],
    ],
    [
      'cut answers (max_tokens) 5 % → 40 %',
      {},
      { maxTokens: 16 },
      [/stop reasons max_tokens 5\.0 % → 40\.0 % \(\+35\.0 points\)/],
      ['refusal rate', 'answer length'],
    ],
    ['citations 90 % → 40 %', {}, { uncited: 24 }, [/citation rate 90\.0 % → 40\.0 % \(−50\.0 points\)/], ['refusal rate', 'answer length']],
    [
      'shorter answers and more refusals at once: both, in the fingerprint order',
      {},
      { length: 200, refusals: 20 },
      [/answer length median 400 → 200 \(−50 %\) .*; refusal rate 5\.0 % → 50\.0 % \(\+45\.0 points\)/],
      ['stop reasons', 'citation rate'],
    ],
  ])('%s', (_label, stable, canary, says, notSays) => {
    const r = review(release(stable, canary));
    // What decided the release comes first and is the same with or without the evaluator's results.
    expect(r.outcome).toBe(review().outcome);
    expect(r.conclusion.startsWith(DECIDED)).toBe(true);
    const shift = behaviourShift(r.evaluation);
    if (says.length === 0) {
      expect(shift).toBeUndefined();
      expect(r.conclusion).toBe(DECIDED);
    } else {
      expect(r.conclusion).toBe(`${DECIDED} ${shift}`);
      expect(shift).toMatch(/^Behaviour shifted, canary against stable \(informs, does not decide\): /);
      for (const s of says) expect(r.conclusion).toMatch(s);
    }
    // Only what the test shows shifted is named.
    for (const field of notSays) expect(shift ?? '').not.toContain(field);
    // Every shifted field is named, and each named one is shifted.
    const shifted = r.evaluation?.fingerprint.filter((f) => f.shifted).map((f) => f.field) ?? [];
    for (const f of r.evaluation?.fingerprint ?? []) expect((shift ?? '').includes(`${f.field} `)).toBe(shifted.includes(f.field));
  });

  test('the Markdown shows the change beside the shift', () => {
    const md = renderReviewMarkdown(review(release({}, { length: 800 })), { svgFile: 'x.svg' });
    expect(md).toMatch(
      /\| answer length \| median 800 \(n 40\) \| median 400 \(n 40\) \| rank \(Mann–Whitney\) \| [0-9.e-]+ \| \*\*shifted\*\*: median 400 → 800 \(\+100 %\) \|/,
    );
    expect(md).toMatch(/## Conclusion\n\n.*Behaviour shifted, canary against stable/);
  });

  test('a review written before the change (rows without it) still names the shift, from the rows’ own words', () => {
    const e = reviewEvaluation(release({}, { length: 800 }), { start: at(0), end: at(600), canaryVersion: '7' });
    const old = { ...e, fingerprint: e.fingerprint.map(({ change: _drop, ...f }) => f) };
    expect(behaviourShift(old)).toMatch(/answer length median 400 \(n 40\) → median 800 \(n 40\) \(adjusted p/);
    expect(behaviourShift(undefined)).toBeUndefined();
  });
});

describe('how much, in words', () => {
  test.each<[string, () => string | undefined, string | undefined]>([
    ['a share up', () => shareChange(0.2, 0.05), '5.0 % → 20.0 % (+15.0 points)'],
    ['a share down', () => shareChange(0.4, 0.9), '90.0 % → 40.0 % (−50.0 points)'],
    ['a median up, relative', () => medianChange([5, 6, 7], [2, 3, 4]), 'median 3 → 6 (+100 %)'],
    ['a median down, relative', () => medianChange([1, 2, 3], [3, 4, 5]), 'median 4 → 2 (−50 %)'],
    ['stable median 0: the absolute change', () => medianChange([2, 2, 3], [0, 0, 1]), 'median 0 → 2 (+2)'],
    ['no change', () => medianChange([1, 2, 3], [1, 2, 3]), 'median 2 → 2 (+0 %)'],
    ['an arm without samples', () => medianChange([], [1]), undefined],
    [
      'the category that moved most',
      () => mixChange(['max_tokens', 'end_turn', 'end_turn', 'tool_use'], ['end_turn', 'end_turn', 'end_turn', 'tool_use']),
      'max_tokens 0.0 % → 25.0 % (+25.0 points)',
    ],
    [
      'what fell is named by what rose',
      () => mixChange(['end_turn', 'end_turn'], ['end_turn', 'guardrail_intervened']),
      'end_turn 50.0 % → 100.0 % (+50.0 points)',
    ],
    ['two categories rose alike: the first by name', () => mixChange(['a', 'b', 'c', 'c'], ['c', 'c', 'c', 'c']), 'a 0.0 % → 25.0 % (+25.0 points)'],
    ['the same mix', () => mixChange(['end_turn'], ['end_turn']), 'end_turn 100.0 % → 100.0 % (+0.0 points)'],
    ['mix: an arm without samples', () => mixChange([], ['end_turn']), undefined],
  ])('%s', (_label, f, expected) => {
    expect(f()).toBe(expected);
  });
});
