/**
 * The canary judge consumes the evaluator's results (issue 17 E): per-criterion rank tests and the paired sign test as
 * members of the judge's family (α split), a criterion with too few scores never rolling back, the paired state's
 * bounded memory, and the wiring that reads the evaluator's result lines (sides by version or label, sample-time
 * windows that wait for the evaluator, the record naming what was judged).
 */
import { judgeEvaluations, evaluationQuery, evaluationWindow, parseEvaluationMetrics, EVALUATION_SETTLE_MS } from '../lambda/canary-judge/evaluations';
import { ENGINE } from '../lambda/canary-judge/engine';
import type { QueryRow } from '../lambda/canary-judge/samples';
import { evaluationResultLine } from '../lambda/evaluator/result-line';
import { concludeJudge, newJudgeState, thresholds, updateJudge, updateJudgeEvaluation, judgeEvaluationThresholds } from '../lambda/judge/judge';
import { newPairedState, PAIRED_SEEN_CAP, updatePaired } from '../lambda/judge/paired';
import { type ScoreObservation, evaluationThresholds } from '../lambda/judge/scores';
import { mulberry32 } from '../lambda/judge/simulate';
import type { JudgeRecord } from '../lambda/shared/contract';
import { EVALUATION_RESULT_TYPE, type EvaluationResultLine, type EvaluationSample } from '../lambda/shared/evaluation';

const EVAL = { criteria: ['groundedness', 'relevance'], paired: true } as const;

describe('paired state: bounded memory of counted inputs', () => {
  test('once the cap is reached new inputs are not counted (and said so); repeats are still ignored', () => {
    let s = updatePaired(
      newPairedState(),
      [
        { caseId: 'a', outcome: 'stable' },
        { caseId: 'b', outcome: 'stable' },
        { caseId: 'c', outcome: 'canary' },
      ],
      3,
    );
    s = updatePaired(
      s,
      [
        { caseId: 'a', outcome: 'stable' }, // a repeat: ignored, not over the cap
        { caseId: 'd', outcome: 'stable' }, // new, but the memory is full: not counted
      ],
      3,
    );
    expect([s.stableWins, s.canaryWins, s.seen.length, s.overCap]).toEqual([2, 1, 3, 1]);
  });

  test(`the default cap bounds the state at ${PAIRED_SEEN_CAP} numbers however many inputs arrive`, () => {
    const batch = Array.from({ length: PAIRED_SEEN_CAP + 2500 }, (_, i) => ({ caseId: `case-${i}`, outcome: 'tie' as const }));
    const s = updatePaired(newPairedState(), batch);
    expect(s.seen.length).toBe(PAIRED_SEEN_CAP);
    expect(s.ties + (s.overCap ?? 0)).toBe(batch.length);
    expect(s.seen.every((x) => typeof x === 'number')).toBe(true);
    // Numbers, not the ids: about 11 bytes each in the judge record.
    expect(JSON.stringify(s).length).toBeLessThan(12 * PAIRED_SEEN_CAP);
  });
});

describe('evaluation metrics in the family: the α split', () => {
  test('without evaluation the thresholds are as before (α/6 per metric)', () => {
    const o = newJudgeState({ alpha: 0.01 }).options;
    expect(thresholds(o).canaryFull).toBeCloseTo(600, 6);
    expect(judgeEvaluationThresholds(o).paired).toBe(Number.POSITIVE_INFINITY);
  });

  test('with evaluation they are one metric more (α/7), split half to paired and half over the criteria', () => {
    const o = newJudgeState({ alpha: 0.01, evaluation: EVAL }).options;
    expect(thresholds(o).canaryFull).toBeCloseTo(700, 6);
    expect(thresholds(o).canary).toBeCloseTo(1400, 6); // the error metric halves its share
    const th = judgeEvaluationThresholds(o);
    expect(th.paired).toBeCloseTo(1400, 6);
    expect(th.criterion).toBeCloseTo(2800, 6);
    // Σ 1/threshold over the family is α: 5 × 1/700 + 2 × 1/1400 (error) + 1/1400 (paired) + 2 × 1/2800.
    const total = 5 / 700 + 2 / 1400 + 1 / th.paired + 2 / th.criterion;
    expect(total).toBeCloseTo(0.01, 9); // the evaluation slot is the 7th share: the bound is still α
  });

  test.each([
    [{ criteria: ['groundedness'], paired: false }, Number.POSITIVE_INFINITY, 100],
    [{ criteria: [], paired: true }, 100, Number.POSITIVE_INFINITY],
    [{ criteria: ['a', 'b', 'c', 'd'], paired: true }, 200, 800],
  ])('split of a 0.01 share for %j', (options, paired, criterion) => {
    const th = evaluationThresholds(options, 0.01);
    expect(th.paired).toBeCloseTo(paired, 6);
    expect(th.criterion).toBeCloseTo(criterion, 6);
  });

  test.each([
    [{ criteria: [], paired: false }, /no criteria and paired is false/],
    [{ criteria: ['Groundedness'], paired: true }, /"Groundedness" is not a criterion name/],
    [{ criteria: ['relevance', 'relevance'], paired: true }, /named twice/],
    [{ criteria: ['relevance'], paired: true, minScores: 0 }, /minScores must be a whole number/],
  ])('bad evaluation options %j are refused with the field', (evaluation, message) => expect(() => newJudgeState({ evaluation })).toThrow(message));

  test('a state without evaluation refuses evaluation results, naming the fix', () =>
    expect(() => updateJudgeEvaluation(newJudgeState(), { scores: [], paired: [] })).toThrow(/newJudgeState\(\{ evaluation/));
});

/** Scores on a 1..5 scale: round(mean + noise), clamped. */
function score(r: () => number, mean: number): number {
  return Math.min(5, Math.max(1, Math.round(mean + (r() - 0.5) * 3)));
}

describe('scores: the rank test per criterion', () => {
  test('a canary whose answers score lower is shown a regression; the verdict and conclusion say so', () => {
    const r = mulberry32(7);
    let st = newJudgeState({ alpha: 0.01, evaluation: { criteria: ['groundedness'], paired: false } });
    let decision = 'continue';
    let batches = 0;
    while (decision === 'continue' && batches < 100) {
      const scores: ScoreObservation[] = [];
      for (let i = 0; i < 20; i++) {
        const canary = r() < 0.5;
        scores.push({ version: canary ? 'canary' : 'stable', criterion: 'groundedness', score: score(r, canary ? 3 : 4), share: 0.5 });
      }
      const u = updateJudgeEvaluation(st, { scores, paired: [] });
      st = u.state;
      decision = u.decision;
      batches++;
    }
    expect(decision).toBe('regression');
    expect(batches).toBeLessThan(20);
    expect(concludeJudge(st)).toBe('regression');
    // A later batch of the service's own metrics keeps the regression (the family's verdict).
    expect(updateJudge(st, { canaryShare: 0.5, observations: [] }).decision).toBe('regression');
  });

  test('a criterion with too few scores never rolls back, however lopsided; it does once both arms have enough', () => {
    let st = newJudgeState({ alpha: 0.2, evaluation: { criteria: ['relevance'], paired: false, minScores: 20 } });
    const lopsided = (n: number): ScoreObservation[] =>
      Array.from({ length: n }, (_, i) => ({ version: i % 2 ? 'canary' : 'stable', criterion: 'relevance', score: i % 2 ? 1 : 5, share: 0.5 }));
    const few = updateJudgeEvaluation(st, { scores: lopsided(38), paired: [] }); // 19 per arm
    const e = few.evidence.find((x) => x.metric === 'evaluation:relevance') as unknown as { eValue: number; threshold: number; judged: boolean };
    expect(e.eValue).toBeGreaterThan(e.threshold); // the evidence alone would fire...
    expect(e.judged).toBe(false);
    expect(few.decision).toBe('continue'); // ...but 19 scores per arm are too few
    st = few.state;
    expect(updateJudgeEvaluation(st, { scores: lopsided(2), paired: [] }).decision).toBe('regression');
  });

  test('scores of criteria not judged are ignored and counted', () => {
    const st = newJudgeState({ evaluation: { criteria: ['groundedness'], paired: false } });
    const u = updateJudgeEvaluation(st, { scores: [{ version: 'canary', criterion: 'length', score: 0 }], paired: [] });
    expect((u.state.evaluation as { ignored: number }).ignored).toBe(1);
    expect(u.evidence.map((x) => x.metric)).toContain('evaluation:groundedness');
    expect(u.evidence.map((x) => x.metric)).not.toContain('evaluation:length');
  });

  test('under unit cluster a conversation is bet on once per criterion', () => {
    const st = newJudgeState({ unit: 'cluster', evaluation: { criteria: ['groundedness'], paired: false } });
    const scores: ScoreObservation[] = [
      { version: 'canary', criterion: 'groundedness', score: 1, cluster: 'conv-1', share: 0.5 },
      { version: 'canary', criterion: 'groundedness', score: 1, cluster: 'conv-1', share: 0.5 },
      { version: 'stable', criterion: 'groundedness', score: 5, cluster: 'conv-2', share: 0.5 },
    ];
    const c = (updateJudgeEvaluation(st, { scores, paired: [] }).state.evaluation as { criteria: { bets: number; canaryN: number }[] }).criteria[0];
    expect(c.canaryN).toBe(2); // both are counted for the record
    expect(c.bets).toBe(2); // conv-1 once, conv-2 once
  });
});

describe('paired outcomes in the family', () => {
  test('a canary that loses most pairs is a regression; repeats of one input count once', () => {
    let st = newJudgeState({ alpha: 0.01, evaluation: EVAL });
    const r = mulberry32(3);
    let i = 0;
    let decision = 'continue';
    while (decision === 'continue' && i < 2000) {
      const batch = Array.from({ length: 10 }, () => {
        const x = r();
        return { caseId: `c${i++}`, outcome: x < 0.3 ? ('tie' as const) : x < 0.3 + 0.7 * 0.75 ? ('stable' as const) : ('canary' as const) };
      });
      const u = updateJudgeEvaluation(st, { scores: [], paired: [...batch, ...batch] });
      st = u.state;
      decision = u.decision;
    }
    expect(decision).toBe('regression');
    const e = updateJudgeEvaluation(st, { scores: [], paired: [] }).evidence.find((x) => x.metric === 'evaluation:paired') as { canary: { n: number } };
    expect(e.canary.n).toBeLessThan(i); // the second copy of each batch was not counted
  });
});

// ---- The wiring: the evaluator's result lines, read by the judge ----

const T0 = Date.parse('2026-12-07T09:00:00.000Z');

function line(o: Partial<EvaluationResultLine> & { sampleAt: number }): EvaluationResultLine {
  return {
    type: EVALUATION_RESULT_TYPE,
    service: 'support-assistant',
    sampleId: `s-${o.sampleAt}-${o.functionVersion ?? '8'}-${o.caseId ?? ''}`,
    caseId: 'case-1',
    arm: 'stable',
    functionVersion: '8',
    config: 'cfg-1',
    scores: { groundedness: 4 },
    ...o,
  };
}
const rowOf = (l: EvaluationResultLine): QueryRow => [
  { field: '@timestamp', value: new Date(l.sampleAt + 30_000).toISOString().replace('T', ' ').replace('Z', '') },
  { field: '@message', value: JSON.stringify(l) },
  { field: 'sampleAt', value: String(l.sampleAt) },
];
const CODE = { plane: 'code', canary: '8', stable: '7' } as const;

describe('the evaluator result line and the judge reading it', () => {
  test('the evaluator writes what the judge needs: sample time, sides, case id, every score, the paired outcome', () => {
    const sample = {
      type: 'ai-release.evaluation-sample',
      service: 'support-assistant',
      sampleId: 'abc',
      requestId: 'r1',
      time: '2026-12-07T09:00:01.500Z',
      tuple: { config: 'cfg-2' },
      functionVersion: '8',
      arm: 'canary',
      conversationId: 'conv',
      caseId: 'case-9',
      armShare: 0.5,
    } as unknown as EvaluationSample;
    const l = evaluationResultLine(
      {
        sampleId: 'abc',
        service: 'support-assistant',
        arm: 'canary',
        functionVersion: '8',
        caseId: 'case-9',
        scores: [
          { criterion: 'groundedness', score: 2, reason: '', source: 'model' },
          { criterion: 'citation-validity', score: 1, reason: '', source: 'deterministic' },
        ],
        unscored: [],
        paired: { outcome: 'stable', reasons: [] },
        costUsd: 0,
        belowFloor: [],
      },
      sample,
    );
    expect(l).toEqual({
      type: EVALUATION_RESULT_TYPE,
      service: 'support-assistant',
      sampleId: 'abc',
      caseId: 'case-9',
      arm: 'canary',
      functionVersion: '8',
      config: 'cfg-2',
      conversationId: 'conv',
      sampleAt: Date.parse('2026-12-07T09:00:01.500Z'),
      share: 0.5,
      scores: { groundedness: 2, 'citation-validity': 1 },
      paired: 'stable',
    });
  });

  test('the query names the result type, the service and the sample-time window, oldest first', () => {
    const q = evaluationQuery('support-assistant', T0, T0 + 60_000);
    expect(q).toContain(`type = "${EVALUATION_RESULT_TYPE}"`);
    expect(q).toContain('service = "support-assistant"');
    expect(q).toContain(`sampleAt >= ${T0} and sampleAt < ${T0 + 60_000}`);
    expect(q).toContain('sort sampleAt asc');
    expect(() => evaluationQuery('bad"name', 0, 1)).toThrow(/not a service name/);
  });

  test("sides come from the executed version (never the line's arm); paired outcomes only from the canary side", () => {
    const rows = [
      line({ sampleAt: T0 + 1, functionVersion: '8', arm: 'stable', paired: 'stable', caseId: 'a' }), // canary by version
      line({ sampleAt: T0 + 2, functionVersion: '7', paired: 'stable', caseId: 'b' }), // stable: its pair is ignored
      line({ sampleAt: T0 + 3, functionVersion: '6' }), // another version: unmatched
      line({ sampleAt: T0 + 4, functionVersion: '8', share: 0.5, conversationId: 'c1', caseId: 'c' }),
      line({ sampleAt: T0 + 99_999 }), // outside the window
    ].map(rowOf);
    rows.push([{ field: '@message', value: 'START RequestId: x' }]); // not a result line
    const w = evaluationWindow([...rows, rows[0]], T0, T0 + 60_000, CODE); // a duplicate row counts once
    expect(w.results).toBe(4); // read in the window, one of them on neither side
    expect(w.unmatched).toBe(1);
    expect(w.batch.scores.map((s) => s.version)).toEqual(['canary', 'stable', 'canary']);
    expect(w.batch.scores[2]).toMatchObject({ share: 0.5, cluster: 'c1' });
    expect(w.batch.paired).toEqual([{ caseId: 'a', outcome: 'stable' }]);
  });

  test('a window cut at the row limit continues after its last complete millisecond', () => {
    const rows = [1, 2, 3, 3].map((d, i) => rowOf(line({ sampleAt: T0 + d, caseId: `x${i}` })));
    const w = evaluationWindow(rows, T0, T0 + 60_000, { plane: 'config', canary: 'cfg-2' }, 4);
    expect(w.truncated).toBe(true);
    expect(w.until).toBe(T0 + 3);
    expect(w.results).toBe(2);
  });

  test.each([
    ['groundedness,relevance,paired', { criteria: ['groundedness', 'relevance'], paired: true }],
    ['relevance', { criteria: ['relevance'], paired: false }],
    [' paired ', { criteria: [], paired: true }],
  ])('the metrics list %j', (text, expected) => expect(parseEvaluationMetrics(text)).toEqual(expected));
  test('a bad metrics list entry is named', () => expect(() => parseEvaluationMetrics('groundedness,Bad Name')).toThrow(/"Bad Name"/));

  test('the judge reads a window only once it has settled, feeds the real engine, and the record says what was judged', async () => {
    const lines: EvaluationResultLine[] = [];
    for (let k = 0; k < 400; k++)
      lines.push(line({ sampleAt: T0 + k * 500, caseId: `q${k}`, functionVersion: '8', paired: k % 5 === 0 ? 'tie' : 'stable', scores: { groundedness: 3 } }));
    const queries: { q: string; startSec: number; endSec: number }[] = [];
    const logs = {
      async query(q: string, startSec: number, endSec: number) {
        queries.push({ q, startSec, endSec });
        const m = /sampleAt >= (\d+) and sampleAt < (\d+)/.exec(q);
        const [from, to] = [Number(m?.[1]), Number(m?.[2])];
        return lines.filter((l) => l.sampleAt >= from && l.sampleAt < to).map(rowOf);
      },
    };
    let now = T0 + 60_000;
    const record: JudgeRecord = {
      schemaVersion: 1,
      service: 'support-assistant',
      plane: 'code',
      releaseKey: 'code-d-1',
      canary: '8',
      stable: '7',
      phase: 'canary',
      until: T0,
      updates: 0,
      samples: { canary: 0, stable: 0 },
      verdict: 'continue',
      evidence: [],
      engine: ENGINE.newJudgeState({ alpha: 0.01, evaluation: EVAL }),
    };
    const ports = { logs, engine: ENGINE, now: () => now };
    // One minute in: nothing has settled yet (the evaluator's delay), so nothing is read.
    const early = await judgeEvaluations(ports, 'support-assistant', EVAL, CODE, T0, record, now + 10_000);
    expect(queries).toHaveLength(0);
    expect(early.record.evaluation).toMatchObject({ judged: ['evaluation:groundedness', 'evaluation:relevance', 'evaluation:paired'], until: T0 });
    now = T0 + 200_000 + EVALUATION_SETTLE_MS + 15_000;
    const later = await judgeEvaluations(ports, 'support-assistant', EVAL, CODE, T0, early.record, now + 10_000);
    expect(queries).toHaveLength(1);
    expect(queries[0].q).toContain(`sampleAt >= ${T0} and sampleAt < ${T0 + 200_000}`);
    expect(later.updated).toBe(true);
    expect(later.record.evaluation).toMatchObject({ until: T0 + 200_000, results: 400, scores: 400, pairs: 400 });
    // Ten seconds later (the next alarm period) nothing new is read: at most one evaluation query a minute.
    now += 10_000;
    await judgeEvaluations(ports, 'support-assistant', EVAL, CODE, T0, { ...later.record, verdict: 'continue' }, now + 10_000);
    expect(queries).toHaveLength(1);
    // 320 untied pairs all lost: the paired test shows it; the only scores are the canary's, so no rank test fires.
    expect(later.record.verdict).toBe('regression');
    const ev = later.record.evidence as { metric: string; eValue: number; threshold: number }[];
    const paired = ev.find((e) => e.metric === 'evaluation:paired');
    expect(paired && paired.eValue >= paired.threshold).toBe(true);
    const g = ev.find((e) => e.metric === 'evaluation:groundedness');
    expect(g && g.eValue < g.threshold).toBe(true);
  });
});

describe('code canaries are paired (the runtime cannot tell them apart)', () => {
  test('the evaluator asks the shadow port whether a stable-arm sample is the code canary, and pairs it when it is', async () => {
    const { evaluateSample } = await import('../lambda/evaluator/evaluator');
    const { SCORE_TOOL, PREFERENCE_TOOL } = await import('../lambda/evaluator/converse');
    const config = {
      evaluatorModel: { modelId: 'm', pricing: { inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.001 } },
      rubrics: [{ criterion: 'relevance' as const, instructions: 'x' }],
      samplingRate: 0.1,
      budget: { perReleaseUsd: 100, perDayUsd: 100 },
    };
    const model = {
      async converse(req: { toolConfig: { toolChoice: { tool: { name: string } } } }) {
        const name = req.toolConfig.toolChoice.tool.name;
        if (name !== SCORE_TOOL && name !== PREFERENCE_TOOL) throw new Error(`unexpected tool ${name}`);
        const input = name === SCORE_TOOL ? { score: 4, reason: 'ok' } : { preferred: 'B', reason: 'b' };
        return {
          output: { message: { content: [{ toolUse: { toolUseId: 't', name, input } }] } },
          stopReason: 'tool_use',
          usage: { inputTokens: 10, outputTokens: 5 },
        };
      },
    };
    let ledger: unknown;
    const base = {
      model: model as never,
      ledger: { read: async () => ({ ledger: ledger as never, etag: ledger ? '1' : undefined }), write: async (l: unknown) => ((ledger = l), true) },
      sleep: async () => {},
      random: () => 0.5,
      now: () => new Date('2026-12-07T00:00:00Z'),
    };
    const sample = {
      type: 'ai-release.evaluation-sample',
      service: 'svc',
      sampleId: 's',
      requestId: 'r',
      time: '2026-12-07T00:00:00.000Z',
      tuple: { config: 'c' },
      functionVersion: '8',
      arm: 'stable',
      caseId: 'c1',
      input: 'q',
      answer: 'a',
      passages: [],
      citations: [],
      toolCalls: [],
      inputTokens: 1,
      outputTokens: 1,
      sampledAt: 0.1,
    } as unknown as EvaluationSample;
    const asked: string[] = [];
    const shadow = (canary: boolean) => ({
      answer: async (_s: EvaluationSample, arm: 'canary' | 'stable') => (asked.push(arm), { answer: arm, costUsd: 0 }),
      isCodeCanary: async () => canary,
    });
    const paired = await evaluateSample(sample, config, { ...base, shadow: shadow(true) }, { releaseKey: 'k' });
    // 'B' in both orders: canary first → stable preferred; canary second → canary preferred: the orders disagree.
    expect(paired.paired?.outcome).toBe('tie');
    expect(asked.sort()).toEqual(['canary', 'stable']);
    asked.length = 0;
    const notCanary = await evaluateSample(sample, config, { ...base, shadow: shadow(false) }, { releaseKey: 'k' });
    expect(notCanary.paired).toBeUndefined();
    expect(asked).toEqual([]);
  });
});

describe('the code-canary check on AWS', () => {
  test('GetAlias on the live alias: a version the routing weights name is the canary; the alias version and others are not', async () => {
    const { GetAliasCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
    const { mockClient } = await import('aws-sdk-client-mock');
    const { lambdaShadow } = await import('../lambda/evaluator/aws-adapters');
    const lambda = mockClient(LambdaClient);
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { '8': 0.1 } } });
    const shadow = lambdaShadow(
      new LambdaClient({ region: 'eu-west-1' }),
      { svc: { application: 'a', environment: 'e', profile: 'p', functionName: 'fn', liveAlias: 'live' } },
      1000,
    );
    const s = (functionVersion: string) => ({ service: 'svc', functionVersion }) as unknown as EvaluationSample;
    expect(await shadow.isCodeCanary?.(s('8'))).toBe(true);
    expect(await shadow.isCodeCanary?.(s('7'))).toBe(false);
    expect(await shadow.isCodeCanary?.(s('6'))).toBe(false);
    expect(lambda.commandCalls(GetAliasCommand)[0].args[0].input).toEqual({ FunctionName: 'fn', Name: 'live' });
    lambda.restore();
  });
});
