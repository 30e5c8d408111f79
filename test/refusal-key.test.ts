/**
 * The refusal key (h9-guardrail, issue 17 A): the refusal RUBRIC (a model score on the section's scale) and the refusal
 * CHECK (deterministic, 0 or 1) keep keys of their own — `refusal` and `refusal-phrase` — wherever a score is written
 * (the result line), emitted (EMF), judged (the judge's observations), gated (a replay's reasons) and reviewed (score
 * rows, refusal rate). Records written before the rename (the check under `refusal`) still read, as the check.
 */
import { evaluationWindow } from '../lambda/canary-judge/evaluations';
import type { QueryRow } from '../lambda/canary-judge/samples';
import { runDeterministicChecks } from '../lambda/evaluator/deterministic';
import type { EvaluationResult } from '../lambda/evaluator/evaluator';
import { evaluationMetricLines } from '../lambda/evaluator/metrics';
import { evaluationResultLine } from '../lambda/evaluator/result-line';
import { evaluateReplay, GateSpend } from '../lambda/gate/evaluate';
import { SCORE_TOOL } from '../lambda/evaluator/converse';
import { reviewEvaluation, type StoredEvaluation } from '../lambda/review/evaluation';
import {
  type CriterionScore,
  EVALUATION_METRIC,
  EVALUATION_RESULT_TYPE,
  EVALUATION_SAMPLE_TYPE,
  type EvaluationConfig,
  type EvaluationSample,
} from '../lambda/shared/evaluation';
import { REFUSAL_CHECK, scoreKey, upgradeResultScores, upgradeStoredScore } from '../lambda/shared/score-keys';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');

const sampleOf = (i: number, arm: 'canary' | 'stable', answer: string): EvaluationSample => ({
  type: EVALUATION_SAMPLE_TYPE,
  service: 'svc',
  sampleId: `s-${arm}-${i}`,
  requestId: `r-${arm}-${i}`,
  time: new Date(T0 + i * 1000).toISOString(),
  tuple: { config: arm === 'canary' ? 'cfg-2' : 'cfg-1' } as never,
  functionVersion: arm === 'canary' ? '8' : '7',
  arm,
  caseId: `case-${arm}-${i}`,
  input: '{"question":"How do I close my account?"}',
  answer,
  passages: [],
  citations: [],
  toolCalls: [],
  inputTokens: 100,
  outputTokens: 20,
  sampledAt: 0.1,
});

const resultOf = (s: EvaluationSample, scores: CriterionScore[]): EvaluationResult => ({
  sampleId: s.sampleId,
  service: s.service,
  arm: s.arm,
  functionVersion: s.functionVersion,
  caseId: s.caseId,
  scores,
  unscored: [],
  costUsd: 0.001,
  belowFloor: [],
});

// One answer scored by both: the model's refusal rubric says 2 (a poor refusal), the check found no refusal phrase (1).
const BOTH: CriterionScore[] = [
  { criterion: REFUSAL_CHECK, score: 1, reason: 'not a refusal', source: 'deterministic' },
  { criterion: 'refusal', score: 2, reason: 'should have declined', source: 'model' },
];

describe('the refusal check has a key of its own', () => {
  test('the check writes refusal-phrase, never refusal', () => {
    const names = runDeterministicChecks({ input: 'q', answer: "I can't help with that.", passages: [], citations: [] }).map((s) => s.criterion);
    expect(names).toContain('refusal-phrase');
    expect(names).not.toContain('refusal');
  });

  test('keys: model criterion, check name, guardrail-<criterion>', () => {
    expect(scoreKey({ criterion: 'refusal', source: 'model' })).toBe('refusal');
    expect(scoreKey({ criterion: REFUSAL_CHECK, source: 'deterministic' })).toBe('refusal-phrase');
    expect(scoreKey({ criterion: 'groundedness', source: 'guardrail' })).toBe('guardrail-groundedness');
  });

  test('the result line keeps both numbers (one per key)', () => {
    const s = sampleOf(1, 'canary', 'Sure, click Close account.');
    const line = evaluationResultLine(resultOf(s, BOTH), s);
    expect(line.scores).toEqual({ 'refusal-phrase': 1, refusal: 2 });
  });

  test('the metrics: two EvaluationScore datapoints with two Criterion values', () => {
    const s = sampleOf(1, 'canary', 'Sure.');
    const emf = evaluationMetricLines(resultOf(s, BOTH), s, T0)
      .map((l) => JSON.parse(l))
      .filter((l) => l[EVALUATION_METRIC.SCORE] !== undefined);
    expect(emf.map((l) => [l.Criterion, l[EVALUATION_METRIC.SCORE], l.source])).toEqual([
      ['refusal-phrase', 1, 'deterministic'],
      ['refusal', 2, 'model'],
    ]);
  });
});

describe('the judge reads the keys apart, and old lines as the check', () => {
  const rowOf = (scores: Record<string, number>, i: number): QueryRow => [
    {
      field: '@message',
      value: JSON.stringify({
        type: EVALUATION_RESULT_TYPE,
        service: 'svc',
        sampleId: `s${i}`,
        caseId: `c${i}`,
        arm: 'canary',
        functionVersion: '8',
        config: 'cfg-2',
        sampleAt: T0 + i,
        scores,
      }),
    },
  ];
  const CODE = { plane: 'code', canary: '8', stable: '7' } as const;
  const obs = (rows: QueryRow[], rubric: boolean) =>
    evaluationWindow(rows, T0, T0 + 60_000, CODE, 10_000, Number.POSITIVE_INFINITY, rubric).batch.scores.map((o) => [o.criterion, o.score]);

  test('a new line with both: two observations, each under its key', () => {
    expect(obs([rowOf({ 'refusal-phrase': 1, refusal: 2 }, 1)], true)).toEqual([
      ['refusal-phrase', 1],
      ['refusal', 2],
    ]);
  });

  test.each([
    // scores on the line, refusal rubric judged, observations
    [
      'an old line without a refusal rubric: its refusal is the check',
      { refusal: 0, 'citation-validity': 1 },
      false,
      [
        ['citation-validity', 1],
        ['refusal-phrase', 0],
      ],
    ],
    ['an old line with a refusal rubric judged: read as the rubric (the old judge read it so)', { refusal: 4 }, true, [['refusal', 4]]],
    [
      'a new line is never rewritten',
      { refusal: 3, 'refusal-phrase': 1 },
      false,
      [
        ['refusal', 3],
        ['refusal-phrase', 1],
      ],
    ],
  ] as const)('%s', (_name, scores, rubric, expected) => {
    expect(obs([rowOf({ ...scores }, 1)], rubric)).toEqual(expected);
    expect(Object.entries(upgradeResultScores(scores, rubric))).toEqual(expected);
  });
});

describe('the review keeps them apart, and reads old stored results', () => {
  const WINDOW = { start: new Date(T0 - 1000).toISOString(), end: new Date(T0 + 3_600_000).toISOString(), canaryVersion: '8' };
  // 30 per arm. The canary's answers REFUSE more often by the check (10 of 30 against 1 of 30); the model's refusal
  // rubric scores every answer 5 on the canary and 1 on stable: if the rubric's score leaked into the refusal rate
  // (or the check into the rubric's row), the numbers below would show it.
  function records(legacy: boolean): StoredEvaluation[] {
    const out: StoredEvaluation[] = [];
    for (const arm of ['canary', 'stable'] as const)
      for (let i = 0; i < 30; i++) {
        const refused = arm === 'canary' ? i < 10 : i < 1;
        const s = sampleOf(i, arm, refused ? "I can't help with that." : 'Open Settings, then Close account.');
        const check = {
          criterion: (legacy ? 'refusal' : REFUSAL_CHECK) as CriterionScore['criterion'],
          score: refused ? 0 : 1,
          reason: '',
          source: 'deterministic' as const,
        };
        out.push({
          sample: s,
          result: resultOf(s, [check, { criterion: 'refusal', score: arm === 'canary' ? 5 : 1, reason: '', source: 'model' }]),
          evaluation: 'v1',
        });
      }
    return out;
  }

  test.each([
    ['records of today', false],
    ['records stored before the rename (the check under refusal)', true],
  ])('%s: the refusal rate counts the check only, and each evaluator has its row', (_name, legacy) => {
    const v = reviewEvaluation(records(legacy), WINDOW);
    const rate = v.fingerprint.find((f) => f.field === 'refusal rate');
    expect(rate?.canary).toBe('33.3 % of 30');
    expect(rate?.stable).toBe('3.3 % of 30');
    const rows = v.scores.map((s) => [s.criterion, s.source, s.canary?.mean, s.stable?.mean]);
    expect(rows).toEqual([
      ['refusal-phrase', 'deterministic', 0.667, 0.967],
      ['refusal', 'model', 5, 1],
    ]);
  });

  test('upgradeStoredScore renames only the deterministic refusal', () => {
    expect(upgradeStoredScore({ criterion: 'refusal', score: 0, reason: '', source: 'deterministic' }).criterion).toBe('refusal-phrase');
    expect(upgradeStoredScore({ criterion: 'refusal', score: 3, reason: '', source: 'model' }).criterion).toBe('refusal');
  });
});

describe('the gate: the check never fails a replay, a refusal rubric under its floor does', () => {
  const live: EvaluationConfig = {
    evaluatorModel: { modelId: 'm', pricing: { inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.001 } },
    rubrics: [{ criterion: 'refusal', instructions: 'Declines exactly what it must decline.' }],
    samplingRate: 0.1,
    budget: { perReleaseUsd: 1, perDayUsd: 1 },
  };
  const ev = (score: number) => ({
    ports: {
      model: {
        converse: async () => ({ output: { message: { content: [{ toolUse: { toolUseId: 't', name: SCORE_TOOL, input: { score, reason: 'r' } } }] } } }),
      },
      sleep: async () => {},
      random: () => 0,
    },
    live,
    modelId: 'm',
    spend: new GateSpend(1),
  });
  const answer = { text: "I can't help with that.", passages: [], citations: [] };
  const criteria = [{ rubric: live.rubrics[0], floor: 3 }];

  test.each([
    ['a refusal the rubric scores 4: passes (the check found the phrase, which is no failure)', 4, true, []],
    ['a refusal the rubric scores 2: fails on the rubric, named refusal', 2, false, [/^refusal: scored 2, under the floor 3/]],
  ] as const)('%s', async (_name, score, passed, reasons) => {
    const r = await evaluateReplay('q', answer, criteria, undefined, ev(score));
    expect(r.passed).toBe(passed);
    expect(r.reasons).toHaveLength(reasons.length);
    reasons.forEach((re, i) => expect(r.reasons[i]).toMatch(re));
    expect(r.reasons.some((x) => x.startsWith('refusal-phrase'))).toBe(false);
    expect(r.scores).toEqual([{ criterion: 'refusal', score }]);
  });
});
