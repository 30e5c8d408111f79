/**
 * The guardrail's contextual grounding scores as evaluators (h9-guardrail, issue 17 A): extracted from the Converse
 * trace the service hands the runtime, carried in the evaluation sample, scored by the evaluator as `source:
 * 'guardrail'` under keys of their own (`guardrail-groundedness`, `guardrail-relevance`), kept apart from the model's
 * scores of the same criteria in the result line, the metrics and the review, and judged when the section asks.
 *
 * Fixtures follow the Amazon Bedrock API Reference: ConverseTrace.guardrail is a GuardrailTraceAssessment, whose
 * outputAssessments maps a guardrail id to an array of GuardrailAssessment; contextualGroundingPolicy.filters[] are
 * GuardrailContextualGroundingFilter { type: GROUNDING | RELEVANCE, threshold, score (0..1), action: BLOCKED | NONE,
 * detected? }.
 */
import { evaluationWindow } from '../lambda/canary-judge/evaluations';
import type { QueryRow } from '../lambda/canary-judge/samples';
import { newLedger } from '../lambda/evaluator/budget';
import { evaluationEvidence, evaluationFiredMetrics, evaluationThresholds, newEvaluationState, updateEvaluation } from '../lambda/judge/scores';
import { SCORE_TOOL } from '../lambda/evaluator/converse';
import { evaluateSample, type LedgerPort } from '../lambda/evaluator/evaluator';
import { evaluationMetricLines } from '../lambda/evaluator/metrics';
import { evaluationResultLine } from '../lambda/evaluator/result-line';
import { reviewEvaluation, type StoredEvaluation } from '../lambda/review/evaluation';
import { AiRuntime, type AiHandler } from '../lambda/runtime';
import { EVALUATION_METRIC, EVALUATION_SAMPLE_TYPE, type EvaluationConfig, type EvaluationSample } from '../lambda/shared/evaluation';
import { guardrailCriterionScores, guardrailScores } from '../lambda/shared/guardrail-scores';
import { answerQuestion } from '../lambda/support-assistant/assistant';
import { assistantHandler } from '../lambda/support-assistant/service';
import { judgedEvaluationMetrics } from '../lib/judge/canary-judge';
import { validateReleaseConfig } from '../lib/config/private/validate-release-config';
import { validConfig } from './helpers';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

const GID = 'gr7x2k9abcd1';
const filter = (type: string, score: number, threshold = 0.7, action = 'NONE') => ({ type, threshold, score, action });
const traceOf = (...filters: ReturnType<typeof filter>[][]) => ({
  modelOutput: ['{"answer":"..."}'],
  inputAssessment: { [GID]: { topicPolicy: { topics: [] } } },
  outputAssessments: { [GID]: filters.map((f) => ({ contextualGroundingPolicy: { filters: f } })) },
});

describe('guardrailScores: the two scores from a trace', () => {
  test.each([
    ['no trace', undefined, undefined],
    ['a trace that is not an object', 'enabled', undefined],
    [
      'a trace without the policy (content filters only)',
      { outputAssessments: { [GID]: [{ contentPolicy: { filters: [{ type: 'HATE', confidence: 'NONE', action: 'NONE' }] } }] } },
      undefined,
    ],
    ['an input assessment only (grounding is assessed on the output)', { inputAssessment: { [GID]: {} } }, undefined],
    [
      'both filters',
      traceOf([filter('GROUNDING', 0.91), filter('RELEVANCE', 0.84)]),
      { guardrail: GID, groundedness: { score: 0.91, threshold: 0.7, blocked: false }, relevance: { score: 0.84, threshold: 0.7, blocked: false } },
    ],
    ['one filter (grounding only)', traceOf([filter('GROUNDING', 0.4)]), { guardrail: GID, groundedness: { score: 0.4, threshold: 0.7, blocked: false } }],
    [
      'a blocked answer: the score stands, marked blocked',
      traceOf([filter('GROUNDING', 0.12, 0.7, 'BLOCKED'), filter('RELEVANCE', 0.95)]),
      { guardrail: GID, groundedness: { score: 0.12, threshold: 0.7, blocked: true }, relevance: { score: 0.95, threshold: 0.7, blocked: false } },
    ],
    [
      'chunks: the lowest groundedness, the highest relevance',
      traceOf([filter('GROUNDING', 0.9), filter('RELEVANCE', 0.2)], [filter('GROUNDING', 0.3), filter('RELEVANCE', 0.8)]),
      { guardrail: GID, groundedness: { score: 0.3, threshold: 0.7, blocked: false }, relevance: { score: 0.8, threshold: 0.7, blocked: false } },
    ],
    ['a score outside 0..1 is not a score', traceOf([filter('GROUNDING', 1.7), filter('RELEVANCE', Number.NaN)]), undefined],
    [
      'an unknown filter type is skipped',
      traceOf([filter('FACTUALITY', 0.5), filter('RELEVANCE', 0.6)]),
      { guardrail: GID, relevance: { score: 0.6, threshold: 0.7, blocked: false } },
    ],
  ] as const)('%s', (_name, trace, expected) => {
    expect(guardrailScores(trace)).toEqual(expected);
  });

  test('the guardrail id picks its assessments, named by id or ARN', () => {
    const arn = `arn:aws:bedrock:us-east-1:123456789012:guardrail/${GID}`;
    const t = {
      outputAssessments: {
        other1: [{ contextualGroundingPolicy: { filters: [filter('GROUNDING', 0.1)] } }],
        [GID]: traceOf([filter('GROUNDING', 0.8)]).outputAssessments[GID],
      },
    };
    expect(guardrailScores(t, GID)?.groundedness?.score).toBe(0.8);
    expect(guardrailScores(t, arn)?.groundedness?.score).toBe(0.8);
    expect(guardrailScores(t, 'missing')).toBeUndefined();
  });

  test('a hostile trace never throws', () => {
    const evil = {
      get outputAssessments(): never {
        throw new Error('boom');
      },
    };
    expect(guardrailScores(evil)).toBeUndefined();
    expect(guardrailScores({ outputAssessments: { [GID]: [null, { contextualGroundingPolicy: { filters: [null] } }] } })).toBeUndefined();
  });

  test('as evaluator scores: source guardrail, criteria groundedness and relevance, the reason names threshold and block', () => {
    const s = guardrailCriterionScores(guardrailScores(traceOf([filter('GROUNDING', 0.12, 0.7, 'BLOCKED'), filter('RELEVANCE', 0.95)])));
    expect(s.map((x) => [x.criterion, x.score, x.source])).toEqual([
      ['groundedness', 0.12, 'guardrail'],
      ['relevance', 0.95, 'guardrail'],
    ]);
    expect(s[0].reason).toBe(`guardrail ${GID}: groundedness 0.12 (threshold 0.7, blocked)`);
    expect(guardrailCriterionScores(undefined)).toEqual([]);
  });
});

const EVALUATION: EvaluationConfig = {
  version: 'eval-3',
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness', instructions: 'Supported by the passages.' }],
  samplingRate: 1,
  budget: { perReleaseUsd: 5, perDayUsd: 10 },
  paired: false,
};

describe('the runtime carries the scores in the sample', () => {
  function run(evidence: Record<string, unknown>) {
    const telemetry = new RecordingTelemetry();
    let t = 1_000_000;
    const rt = new AiRuntime<{ question: string }, { answer: string }>({
      service: 'svc',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: new FakeConfig({ rel: releaseDoc({ evaluation: EVALUATION } as never), deg: NO_FLAGS }),
      telemetry,
      codeVersion: '12',
      now: () => (t += 5),
      defaultTimeoutMs: 30_000,
      timeoutMarginMs: 0,
    });
    const handler: AiHandler<{ question: string }, { answer: string }> = async () => ({
      output: { answer: 'Open Settings.' },
      usage: { inputTokens: 100, outputTokens: 10, modelId: 'primary-model' },
      evaluation: { answer: 'Open Settings.', ...evidence },
    });
    return rt
      .handler(handler)({ question: 'q' }, { awsRequestId: 'req-1' })
      .then(() => telemetry);
  }

  test('a trace with the policy: the sample has the two scores, and nothing else of the trace', async () => {
    const telemetry = await run({ guardrailTrace: traceOf([filter('GROUNDING', 0.91), filter('RELEVANCE', 0.84)]) });
    expect(telemetry.samples).toHaveLength(1);
    expect(telemetry.samples[0].guardrail).toEqual({
      guardrail: GID,
      groundedness: { score: 0.91, threshold: 0.7, blocked: false },
      relevance: { score: 0.84, threshold: 0.7, blocked: false },
    });
    expect(JSON.stringify(telemetry.samples[0])).not.toContain('modelOutput');
  });

  test.each([
    ['no trace', {}],
    ['a trace without the policy', { guardrailTrace: { outputAssessments: { [GID]: [{ contentPolicy: {} }] } } }],
  ])('%s: a sample without guardrail scores', async (_name, evidence) => {
    const telemetry = await run(evidence);
    expect(telemetry.samples).toHaveLength(1);
    expect('guardrail' in telemetry.samples[0]).toBe(false);
  });
});

describe('the evaluator scores them apart from the model', () => {
  const sample = (guardrail?: EvaluationSample['guardrail'], pairOnly?: true): EvaluationSample => ({
    type: EVALUATION_SAMPLE_TYPE,
    service: 'svc',
    sampleId: 's1',
    requestId: 'r1',
    time: '2026-12-07T10:00:00.000Z',
    tuple: { config: 'cfg-1' } as never,
    functionVersion: '7',
    arm: 'stable',
    caseId: 'c1',
    input: '{"question":"q"}',
    answer: 'Open Settings.',
    passages: [],
    citations: [],
    toolCalls: [],
    inputTokens: 10,
    outputTokens: 5,
    sampledAt: 1,
    ...(guardrail ? { guardrail } : {}),
    ...(pairOnly ? { pairOnly } : {}),
  });
  const ledger = (): LedgerPort => {
    let v = newLedger(new Date('2026-12-07T10:00:00Z'));
    let etag = 0;
    return {
      read: async () => ({ ledger: v, etag: String(etag) }),
      write: async (l, e) => {
        if (e !== String(etag)) return false;
        v = l;
        etag++;
        return true;
      },
    };
  };
  const ports = () => ({
    // The model scores groundedness 2 (of 5): the guardrail says 0.91 (of 1); neither may overwrite the other.
    model: {
      converse: async () => ({ output: { message: { content: [{ toolUse: { toolUseId: 't', name: SCORE_TOOL, input: { score: 2, reason: 'weak' } } }] } } }),
    },
    ledger: ledger(),
    sleep: async () => {},
    random: () => 0.5,
    now: () => new Date('2026-12-07T10:00:05Z'),
  });
  const G = guardrailScores(traceOf([filter('GROUNDING', 0.91), filter('RELEVANCE', 0.84)]));

  test('scores, result line and metrics: guardrail-groundedness beside groundedness', async () => {
    const s = sample(G);
    const r = await evaluateSample(s, EVALUATION, ports(), { releaseKey: 'r1' });
    const mine = r.scores.filter((x) => x.criterion === 'groundedness' || x.criterion === 'relevance').map((x) => [x.criterion, x.score, x.source]);
    expect(mine).toEqual([
      ['groundedness', 0.91, 'guardrail'],
      ['relevance', 0.84, 'guardrail'],
      ['groundedness', 2, 'model'],
    ]);
    const line = evaluationResultLine(r, s);
    expect(line.scores).toMatchObject({ groundedness: 2, 'guardrail-groundedness': 0.91, 'guardrail-relevance': 0.84 });
    const criteria = evaluationMetricLines(r, s, 0)
      .map((l) => JSON.parse(l))
      .filter((l) => l[EVALUATION_METRIC.SCORE] !== undefined)
      .map((l) => [l.Criterion, l[EVALUATION_METRIC.SCORE]]);
    expect(criteria).toEqual(
      expect.arrayContaining([
        ['groundedness', 2],
        ['guardrail-groundedness', 0.91],
        ['guardrail-relevance', 0.84],
      ]),
    );
  });

  test('a sample without them: no guardrail score; a pair-only sample is never scored', async () => {
    expect((await evaluateSample(sample(), EVALUATION, ports(), { releaseKey: 'r1' })).scores.some((x) => x.source === 'guardrail')).toBe(false);
    const pairOnly = await evaluateSample(sample(G, true), EVALUATION, ports(), { releaseKey: 'r1' });
    expect(pairOnly.scores).toEqual([]);
  });

  test('the review: one row per evaluator of groundedness', () => {
    const recs: StoredEvaluation[] = [];
    for (const arm of ['canary', 'stable'] as const)
      for (let i = 0; i < 5; i++) {
        const s = { ...sample(), sampleId: `${arm}${i}`, caseId: `${arm}${i}`, arm, functionVersion: arm === 'canary' ? '8' : '7' };
        recs.push({
          sample: s,
          evaluation: 'eval-3',
          result: {
            sampleId: s.sampleId,
            service: 'svc',
            arm,
            functionVersion: s.functionVersion,
            caseId: s.caseId,
            scores: [
              { criterion: 'groundedness', score: arm === 'canary' ? 0.3 : 0.9, reason: '', source: 'guardrail' },
              { criterion: 'groundedness', score: 4, reason: '', source: 'model' },
            ],
            unscored: [],
            costUsd: 0,
            belowFloor: [],
          },
        });
      }
    const v = reviewEvaluation(recs, { start: '2026-12-07T09:00:00Z', end: '2026-12-07T11:00:00Z', canaryVersion: '8' });
    expect(v.scores.map((s) => [s.criterion, s.source, s.canary?.mean, s.stable?.mean])).toEqual([
      ['groundedness', 'guardrail', 0.3, 0.9],
      ['groundedness', 'model', 4, 4],
    ]);
  });
});

describe('judged when the section asks, and validated', () => {
  test('guardrailScores adds guardrail-groundedness and guardrail-relevance to the judged criteria; off by default', () => {
    expect(judgedEvaluationMetrics(EVALUATION).criteria).not.toContain('guardrail-groundedness');
    expect(judgedEvaluationMetrics({ ...EVALUATION, guardrailScores: true }).criteria).toEqual([
      'groundedness',
      'citation-validity',
      'refusal-phrase',
      'language-match',
      'guardrail-groundedness',
      'guardrail-relevance',
    ]);
  });

  // validConfig() names a guardrail: each case states its own.
  const withEvaluation = (model: Record<string, unknown>, evaluation: Record<string, unknown>) => {
    const base = validConfig() as Record<string, any>;
    const { guardrail: _none, ...noGuardrail } = base.model;
    return validateReleaseConfig([{ value: { ...base, model: { ...noGuardrail, ...model }, evaluation } }]).problems;
  };
  test('guardrailScores without model.guardrail is refused, naming the field and the fix', () => {
    const problems = withEvaluation({}, { ...EVALUATION, guardrailScores: true });
    expect(problems).toHaveLength(1);
    expect(withEvaluation({}, EVALUATION as never)).toEqual([]);
    expect(JSON.stringify(problems[0])).toMatch(/evaluation.*guardrailScores/);
    expect(JSON.stringify(problems[0])).toMatch(/set model\.guardrail/);
  });
  test('with a guardrail it validates; a string is refused by the schema', () => {
    expect(withEvaluation({ guardrail: { id: GID, version: '3' } }, { ...EVALUATION, guardrailScores: true })).toEqual([]);
    expect(withEvaluation({ guardrail: { id: GID, version: '3' } }, { ...EVALUATION, guardrailScores: 'yes' }).length).toBeGreaterThan(0);
  });
});

describe('the example passes the answering call’s trace through', () => {
  const trace = traceOf([filter('GROUNDING', 0.88), filter('RELEVANCE', 0.77)]);
  const input = {
    prompt: { version: '1', template: 'Passages:\n{{passages}}\nQ: {{question}}', variables: [{ name: 'question' }, { name: 'passages' }] },
    model: { modelId: 'm', pricing: { inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.001 } },
    guardrail: { id: GID, version: '3' },
    retrieval: { version: 'r1', knowledgeBase: 'kb', topK: 2 },
    degrade: { disableRetrieval: false, disableTools: false },
  } as never;
  const retriever = { retrieve: async () => [{ id: 'kb-reset', title: 'Reset', text: 'Use Settings.', score: 1 }] };
  const model = {
    converse: async () => ({
      content: [{ text: 'Open Settings [kb-reset].' }],
      stopReason: 'end_turn',
      inputTokens: 10,
      outputTokens: 5,
      guardrailTrace: trace,
    }),
  };

  test('answerQuestion keeps it in the evidence; the handler hands it to the runtime', async () => {
    const a = await answerQuestion('How do I reset?', input, { retriever, model });
    expect(a.evidence?.guardrailTrace).toBe(trace);
    const r = await assistantHandler({ model, retriever, tools: async () => ({}) })(
      { question: 'How do I reset?' } as never,
      {
        config: { prompt: (input as any).prompt, retrieval: (input as any).retrieval },
        model: { ...(input as any).model, guardrail: (input as any).guardrail },
        degrade: { disableRetrieval: false, disableTools: false, active: false },
        signal: new AbortController().signal,
      } as never,
    );
    expect(r.evaluation?.guardrailTrace).toBe(trace);
    expect(guardrailScores(r.evaluation?.guardrailTrace)?.groundedness?.score).toBe(0.88);
  });
});

describe('the judge tests the guardrail key apart from the model key', () => {
  test("a canary the guardrail finds ungrounded fires guardrail-groundedness, while the model's groundedness (equal on both) does not", () => {
    const { criteria } = judgedEvaluationMetrics({ ...EVALUATION, guardrailScores: true });
    const options = { criteria, paired: false };
    let state = newEvaluationState(options);
    const th = evaluationThresholds(options, 0.01);
    const T = Date.parse('2026-12-07T10:00:00Z');
    for (let w = 0; w < 10; w++) {
      const rows: QueryRow[] = [];
      for (let i = 0; i < 20; i++) {
        const canary = i % 2 === 0;
        const scores = { groundedness: 4, 'guardrail-groundedness': canary ? 0.2 + 0.01 * (i % 5) : 0.9 - 0.01 * (i % 5), 'guardrail-relevance': 0.8 };
        rows.push([
          {
            field: '@message',
            value: JSON.stringify({
              type: 'ai-release.evaluation-result',
              service: 'svc',
              sampleId: `w${w}-${i}`,
              caseId: `w${w}-${i}`,
              arm: canary ? 'canary' : 'stable',
              functionVersion: canary ? '8' : '7',
              config: 'cfg-1',
              sampleAt: T + w * 60_000 + i,
              scores,
            }),
          },
        ]);
      }
      const win = evaluationWindow(rows, T + w * 60_000, T + (w + 1) * 60_000, { plane: 'code', canary: '8', stable: '7' });
      state = updateEvaluation(state, win.batch, th);
    }
    const evidence = evaluationEvidence(state, th);
    const e = (m: string) => evidence.find((x) => x.metric === m);
    expect(e('evaluation:guardrail-groundedness')?.canary).toMatchObject({ n: 100 });
    expect(e('evaluation:guardrail-groundedness')?.eValue).toBeGreaterThanOrEqual(th.criterion);
    expect(e('evaluation:groundedness')?.eValue).toBeLessThan(th.criterion);
    expect(e('evaluation:guardrail-relevance')?.eValue).toBeLessThan(th.criterion);
    expect(evaluationFiredMetrics(state)).toEqual(['evaluation:guardrail-groundedness']);
  });
});
