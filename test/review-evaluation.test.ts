/**
 * The review's evaluation view and behaviour fingerprint (issue 17 E), pure and table-driven: the tests' numbers
 * against known values, then the fingerprint on traffic as production has it — a question mix that drifts during the
 * release, minute-level disturbances shared by both versions, clustered repeats of one input, uneven execution
 * environments — where a good release must not show shifts more often than the stated alpha, and a real change must.
 */
import { rng } from '../lib/drill/traffic';
import type { EvaluationResult } from '../lambda/evaluator/evaluator';
import {
  chiSquareHomogeneity,
  clusteredMean,
  gammaQ,
  holm,
  mannWhitney,
  normalUpper,
  reviewEvaluation,
  type StoredEvaluation,
  twoProportion,
} from '../lambda/review/evaluation';
import { EVALUATION_SAMPLE_TYPE, type EvaluationSample, type PairedOutcome } from '../lambda/shared/evaluation';

describe('the tests, against known values', () => {
  test.each([
    [0, 0.5],
    [1.959964, 0.025],
    [2.575829, 0.005],
    [-1.959964, 0.975],
  ])('P(Z > %f) = %f', (z, p) => {
    expect(normalUpper(z)).toBeCloseTo(p, 6);
  });

  test.each([
    // chi-square survival: df 1 at 3.841 and df 2 at 5.991 are the 5 % points; df 2 is exp(-x/2) exactly
    [0.5, 3.841459 / 2, 0.05],
    [1, 5.991465 / 2, 0.05],
    [1, 1, Math.exp(-1)],
    [2.5, 11.0705 / 2, 0.05], // df 5
    [5, 18.307 / 2, 0.05], // df 10
  ])('Q(%f, %f) = %f', (a, x, q) => {
    expect(gammaQ(a, x)).toBeCloseTo(q, 5);
  });

  test('Mann–Whitney: separated samples (normal approximation with continuity: z = 12 / √22.92), identical ones, and ties', () => {
    expect(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).pValue).toBeCloseTo(2 * normalUpper(12 / Math.sqrt(275 / 12)), 10);
    expect(mannWhitney([1, 2, 3], [1, 2, 3]).pValue).toBeCloseTo(1, 6);
    expect(mannWhitney([0, 0, 0, 1], [0, 0, 0, 0]).pValue).toBeGreaterThan(0.3);
    expect(mannWhitney([], [1]).pValue).toBe(1);
  });

  test('two proportions: 50 % of 100 against 30 % of 100 (z = 2.887)', () => {
    expect(twoProportion(50, 100, 30, 100).pValue).toBeCloseTo(2 * normalUpper(0.2 / Math.sqrt(0.4 * 0.6 * 0.02)), 10);
    expect(twoProportion(0, 10, 0, 10).pValue).toBe(1);
  });

  test('chi-square homogeneity: one category is no test; a 2 × 2 table matches the hand computation', () => {
    expect(chiSquareHomogeneity(['end_turn', 'end_turn'], ['end_turn']).pValue).toBe(1);
    // 30/70 against 50/50 of 100 each: chi = 8.333, df 1
    const a = [...Array(30).fill('max_tokens'), ...Array(70).fill('end_turn')];
    const b = [...Array(50).fill('max_tokens'), ...Array(50).fill('end_turn')];
    const r = chiSquareHomogeneity(a, b);
    expect(r.statistic).toBeCloseTo(8.3333, 3);
    expect(r.df).toBe(1);
    expect(r.pValue).toBeCloseTo(0.003892, 5);
  });

  test('Holm: step-down, monotone', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
  });

  test('a clustered mean: twenty copies of one input do not narrow the interval like twenty inputs', () => {
    const iid = clusteredMean(Array.from({ length: 20 }, (_, i) => ({ cluster: `c${i}`, x: i % 2 ? 5 : 1 })))!;
    const clustered = clusteredMean([
      ...Array.from({ length: 10 }, () => ({ cluster: 'a', x: 5 })),
      ...Array.from({ length: 10 }, () => ({ cluster: 'b', x: 1 })),
    ])!;
    expect(iid.mean).toBe(3);
    expect(clustered.mean).toBe(3);
    expect(clustered.high - clustered.low).toBeGreaterThan(3 * (iid.high - iid.low));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Traffic as production has it.

interface World {
  /** Canary answers this much longer (1 = same). */
  readonly lengthFactor?: number;
  /** Refusal probability of the canary (stable: 0.05). */
  readonly canaryRefusal?: number;
  readonly canaryMaxTokensShare?: number;
  readonly minutes?: number;
  /** Samples per arm per minute (the runtime's oversampling makes them comparable). */
  readonly perMinute?: number;
}

const START = Date.parse('2026-12-07T10:00:00.000Z');

function traffic(seed: number, w: World = {}): StoredEvaluation[] {
  const r = rng(seed);
  const out: StoredEvaluation[] = [];
  const minutes = w.minutes ?? 30;
  let n = 0;
  for (let m = 0; m < minutes; m++) {
    // A mix that drifts: hard questions go from 20 % to 60 % over the release (longer answers, more tools).
    const hardShare = 0.2 + (0.4 * m) / minutes;
    // A disturbance shared by both versions this minute (e.g. a slow retrieval backend: more tool calls).
    const shock = r() < 0.1 ? 1.6 : 1;
    for (const arm of ['canary', 'stable'] as const) {
      for (let i = 0; i < (w.perMinute ?? 6); i++) {
        const hard = r() < hardShare;
        // Uneven execution environments: a few are slow and truncate more.
        const env = Math.floor(r() * 4);
        const refusalP = arm === 'canary' ? (w.canaryRefusal ?? 0.05) : 0.05;
        const refusal = r() < refusalP;
        const len = Math.round((hard ? 900 : 400) * shock * (0.6 + 0.8 * r()) * (arm === 'canary' ? (w.lengthFactor ?? 1) : 1));
        const maxTokensP = (env === 3 ? 0.12 : 0.04) + (arm === 'canary' ? (w.canaryMaxTokensShare ?? 0) : 0);
        const stop = r() < maxTokensP ? 'max_tokens' : r() < (hard ? 0.3 : 0.1) ? 'tool_use' : 'end_turn';
        const tools = Math.floor((hard ? 2 : 0.5) * shock * r() * 2);
        const caseId = `case-${seed}-${n++}`;
        const sample: EvaluationSample = {
          type: EVALUATION_SAMPLE_TYPE,
          service: 'svc',
          sampleId: `s-${caseId}`,
          requestId: `r-${caseId}`,
          time: new Date(START + m * 60_000 + i * 1000).toISOString(),
          tuple: {} as never,
          functionVersion: arm === 'canary' ? '8' : '7',
          arm,
          caseId,
          input: `{"question":"q ${caseId}"}`,
          answer: refusal ? "I can't help with that." : 'x'.repeat(len),
          passages: [],
          citations: r() < 0.7 ? ['p1'] : [],
          toolCalls: Array.from({ length: tools }, () => ({ name: 'lookup' })),
          stopReason: stop,
          inputTokens: Math.round(800 + 400 * r() + (hard ? 600 : 0)),
          outputTokens: Math.round(len / 4),
          sampledAt: 0.1,
        };
        const result: EvaluationResult = {
          sampleId: sample.sampleId,
          service: 'svc',
          arm,
          functionVersion: sample.functionVersion,
          caseId,
          scores: [
            { criterion: 'refusal-phrase', score: refusal ? 0 : 1, reason: '', source: 'deterministic' },
            { criterion: 'groundedness', score: 3 + Math.round(2 * r()), reason: '', source: 'model' },
          ],
          unscored: [],
          costUsd: 0.001,
          belowFloor: [],
        };
        const rec = { sample, result, evaluation: 'rubric-v1' };
        out.push(rec);
        // Clustered repeats: a retried or repeated question, same input and arm, answered alike.
        if (r() < 0.15)
          for (let k = 0; k < 1 + Math.floor(r() * 4); k++) out.push({ ...rec, sample: { ...sample, sampleId: `${sample.sampleId}-${k}`, time: sample.time } });
      }
    }
  }
  return out;
}

const WINDOW = { start: new Date(START).toISOString(), end: new Date(START + 3_600_000).toISOString() };

describe('the behaviour fingerprint', () => {
  test('each field is tested with its stated test', () => {
    const v = reviewEvaluation(traffic(1), WINDOW);
    expect(v.fingerprint.map((f) => [f.field, f.test])).toEqual([
      ['answer length', 'rank (Mann–Whitney)'],
      ['refusal rate', 'two-proportion z'],
      ['tool calls per answer', 'rank (Mann–Whitney)'],
      ['citation rate', 'two-proportion z'],
      ['stop reasons', 'chi-square (homogeneity)'],
      ['input tokens', 'rank (Mann–Whitney)'],
      ['output tokens', 'rank (Mann–Whitney)'],
    ]);
    expect(v.samples).toMatchObject({ canary: 180, stable: 180 });
    expect(v.notes.join()).toMatch(/repeated sample\(s\) of one input on one arm counted once/);
  });

  test('a good release (drifting mix, shared disturbances, clustered repeats, uneven environments): a shift is shown at most about alpha of the time', () => {
    let anyShift = 0;
    const SEEDS = 200;
    for (let seed = 1; seed <= SEEDS; seed++) if (reviewEvaluation(traffic(seed), WINDOW).fingerprint.some((f) => f.shifted)) anyShift++;
    // Holm keeps the family-wise rate at or under alpha = 0.05: 10 of 200 expected at most; allow sampling noise.
    expect(anyShift).toBeLessThanOrEqual(16);
    if (process.env.REVIEW_EVAL_VERBOSE) console.log(`good releases with a shift shown: ${anyShift}/${SEEDS}`);
  });

  test.each([
    ['answers 40 % longer', { lengthFactor: 1.4 }, ['answer length', 'output tokens']],
    ['refusals from 5 % to 20 %', { canaryRefusal: 0.2 }, ['refusal rate']],
    ['truncation (max_tokens) up 20 points', { canaryMaxTokensShare: 0.2 }, ['stop reasons']],
  ] as const)('a canary whose %s is shown shifted in that field (≥ 90 %% of 30 seeds), and not in the untouched ones', (_label, world, fields) => {
    const hits: Record<string, number> = {};
    for (let seed = 1; seed <= 30; seed++)
      for (const f of reviewEvaluation(traffic(1000 + seed, world), WINDOW).fingerprint) if (f.shifted) hits[f.field] = (hits[f.field] ?? 0) + 1;
    if (process.env.REVIEW_EVAL_VERBOSE) console.log(`${_label}: ${JSON.stringify(hits)} of 30`);
    for (const f of fields) expect(hits[f] ?? 0).toBeGreaterThanOrEqual(27);
    for (const f of ['citation rate', 'input tokens']) expect(hits[f] ?? 0).toBeLessThanOrEqual(3);
  });
});

// ---------------------------------------------------------------------------------------------------------------

function rec(over: {
  arm?: 'canary' | 'stable';
  version?: string;
  caseId: string;
  score?: number;
  paired?: PairedOutcome;
  evaluation?: string;
  skipped?: boolean;
  input?: string;
  minute?: number;
}): StoredEvaluation {
  const arm = over.arm ?? 'canary';
  const sample = {
    type: EVALUATION_SAMPLE_TYPE,
    service: 'svc',
    sampleId: `s-${over.caseId}-${arm}-${over.evaluation ?? ''}`,
    requestId: 'r',
    time: new Date(START + (over.minute ?? 1) * 60_000).toISOString(),
    tuple: {} as never,
    functionVersion: over.version ?? (arm === 'canary' ? '8' : '7'),
    arm,
    caseId: over.caseId,
    input: over.input ?? `{"question":"${over.caseId}"}`,
    answer: 'a',
    passages: [],
    citations: [],
    toolCalls: [],
    inputTokens: 10,
    outputTokens: 10,
    sampledAt: 1,
  } as EvaluationSample;
  return {
    sample,
    evaluation: over.evaluation === undefined ? 'rubric-v1' : over.evaluation,
    result: {
      sampleId: sample.sampleId,
      service: 'svc',
      arm,
      functionVersion: sample.functionVersion,
      caseId: over.caseId,
      scores: over.skipped ? [] : [{ criterion: 'groundedness', score: over.score ?? 4, reason: '', source: 'model' }],
      unscored: [],
      ...(over.paired ? { paired: { outcome: over.paired, reasons: [`stable cites the policy (${over.caseId})`, 'second order agrees'] } } : {}),
      costUsd: 0,
      ...(over.skipped ? { skipped: 'budget-release' as const } : {}),
      belowFloor: [],
    },
  };
}

describe('scores, pairs and the rubric', () => {
  test('paired counts one per input; the worst pairs are the lost ones, lowest score first, input cut', () => {
    const v = reviewEvaluation(
      [
        rec({ caseId: 'a', paired: 'stable', score: 2, input: `{"question":"${'long '.repeat(60)}"}` }),
        rec({ caseId: 'a', paired: 'stable', score: 2, minute: 2 }), // the same input again: one pair
        rec({ caseId: 'b', paired: 'stable', score: 1 }),
        rec({ caseId: 'c', paired: 'canary', score: 5 }),
        rec({ caseId: 'd', paired: 'tie', score: 4 }),
        rec({ caseId: 'e', arm: 'stable', score: 4 }),
      ],
      WINDOW,
    );
    expect(v.paired).toEqual({ wins: 1, losses: 2, ties: 1, unscored: 0 });
    expect(v.worstPairs.map((p) => p.caseId)).toEqual(['b', 'a']);
    expect(v.worstPairs[1].input.length).toBe(200);
    expect(v.worstPairs[0].reasons[0]).toBe('stable cites the policy (b)');
    expect(v.scores).toEqual([
      { criterion: 'groundedness', source: 'model', canary: expect.objectContaining({ n: 5, mean: 2.8 }), stable: expect.objectContaining({ n: 1, mean: 4 }) },
    ]);
  });

  test('a rubric change: only the stable rubric’s scores are shown, and the review says what good means changed', () => {
    const v = reviewEvaluation(
      [
        rec({ caseId: 'a', score: 2, evaluation: 'rubric-v1' }),
        rec({ caseId: 'b', score: 5, evaluation: 'rubric-v2' }),
        rec({ caseId: 'c', arm: 'stable', score: 4, evaluation: 'rubric-v1' }),
      ],
      { ...WINDOW, stableRubric: 'rubric-v1', meaningChanged: 'rubrics changed' },
    );
    expect(v.rubric).toEqual({ label: 'rubric-v1', meaningChanged: 'rubrics changed' });
    expect(v.scores[0].canary).toMatchObject({ n: 1, mean: 2 });
    expect(v.samples.otherRubric).toBe(1);
    expect(v.notes.join()).toMatch(/what good means changed in this release \(rubrics changed\): the scores shown are by the stable rubric rubric-v1/);
  });

  test('a rubric change whose scores carry no label: all shown, and the review says they may mix rubrics and how to fix it', () => {
    const v = reviewEvaluation([rec({ caseId: 'a', evaluation: null as never }), rec({ caseId: 'b', evaluation: null as never })], {
      ...WINDOW,
      stableRubric: '3f2a9c01b2d4',
      meaningChanged: 'rubrics changed',
    });
    expect(v.scores[0].canary).toMatchObject({ n: 2 });
    expect(v.notes.join()).toMatch(/do not name the stable rubric 3f2a9c01b2d4 \(give the evaluation section a `version`\)/);
  });

  test('no rubric change: every score in the window is the stable rubric’s, whatever its label says', () => {
    const v = reviewEvaluation([rec({ caseId: 'a', evaluation: null as never })], { ...WINDOW, stableRubric: '3f2a9c01b2d4' });
    expect(v.scores[0].canary).toMatchObject({ n: 1 });
    expect(v.samples.otherRubric).toBe(0);
  });

  test('code plane: the arms are told apart by the executed version, not the sample’s arm', () => {
    const v = reviewEvaluation([rec({ caseId: 'a', arm: 'stable', version: '8', score: 1 }), rec({ caseId: 'b', arm: 'stable', version: '7', score: 5 })], {
      ...WINDOW,
      canaryVersion: '8',
    });
    expect(v.scores[0].canary).toMatchObject({ n: 1, mean: 1 });
    expect(v.scores[0].stable).toMatchObject({ n: 1, mean: 5 });
  });

  test('samples outside the release window are left out; budget-skipped samples are said', () => {
    const v = reviewEvaluation([rec({ caseId: 'a', minute: 120 }), rec({ caseId: 'b', skipped: true })], WINDOW);
    expect(v.samples.canary).toBe(1);
    expect(v.notes.join()).toMatch(/1 sample\(s\) were not scored by the model: the evaluation budget ran short \(sampling stopped\)/);
    expect(v.notes.join()).toContain("the model scored 0 % of 1 of the canary's sampled answers");
    expect(v.samples.modelScored).toEqual({ canary: { scored: 0, of: 1 }, stable: { scored: 0, of: 0 } });
  });
});
