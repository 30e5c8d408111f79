/**
 * The canary judge consumes the evaluator's results (issue 17 E): per-criterion rank tests and the paired sign test as
 * members of the judge's family (α split), a criterion with too few scores never rolling back, the paired state's
 * bounded memory, and the wiring that reads the evaluator's result lines (sides by version or label, sample-time
 * windows that wait for the evaluator, the record naming what was judged).
 */
import { judgeEvaluations, evaluationQuery, evaluationWaitBound, evaluationWindow, parseEvaluationMetrics } from '../lambda/canary-judge/evaluations';
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
});

/** A world of result lines with their arrival (written) times, read the way Logs Insights reads them. */
function world(entries: { line: EvaluationResultLine; written: number }[]) {
  const queries: { q: string; startSec: number; endSec: number }[] = [];
  let now = T0;
  const stamp = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
  const logs = {
    async query(q: string, startSec: number, endSec: number) {
      queries.push({ q, startSec, endSec });
      const m = /sampleAt >= (\d+) and sampleAt < (\d+)/.exec(q);
      const [from, to] = [Number(m?.[1]), Number(m?.[2])];
      return entries
        .filter((e) => e.line.sampleAt >= from && e.line.sampleAt < to && e.written <= now && e.written >= startSec * 1000 && e.written < (endSec + 1) * 1000)
        .map(
          (e): QueryRow => [
            { field: '@timestamp', value: stamp(e.written) },
            { field: '@message', value: JSON.stringify(e.line) },
          ],
        );
    },
  };
  // The runtime's sample lines (service log group), written when the answer was given.
  const samples = {
    async query(q: string, startSec: number, endSec: number) {
      queries.push({ q, startSec, endSec });
      return entries
        .filter((e) => e.line.sampleAt <= now && e.line.sampleAt >= startSec * 1000 && e.line.sampleAt < (endSec + 1) * 1000)
        .map(
          (e): QueryRow => [
            { field: 'sampleId', value: e.line.sampleId },
            { field: 'functionVersion', value: e.line.functionVersion },
            { field: 'tuple.config', value: e.line.config },
            { field: 'time', value: new Date(e.line.sampleAt).toISOString() },
          ],
        );
    },
  };
  return {
    queries,
    ports: { logs, samples, engine: ENGINE, now: () => now },
    at(t: number) {
      now = t;
    },
  };
}

function freshRecord(): JudgeRecord {
  return {
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
}

/** 100 samples in the first minute, half on each side; every result 30 s after its sample but sample 7's. */
function minuteOfSamples(lateDelay: number, score = (k: number) => 1 + (k % 5)) {
  return Array.from({ length: 100 }, (_, k) => {
    const sampleAt = T0 + k * 500;
    const l = line({
      sampleAt,
      sampleId: `s${k}`,
      caseId: `q${k}`,
      functionVersion: k % 2 === 0 ? '8' : '7',
      scores: { groundedness: score(k) },
      ...(k % 2 === 0 ? { paired: k % 4 === 0 ? ('stable' as const) : ('canary' as const) } : {}),
    });
    return { line: l, written: sampleAt + (k === 7 ? lateDelay : 30_000) };
  });
}

describe('late results (h7-judgeev): a window waits for its own samples, bounded', () => {
  const run = (w: ReturnType<typeof world>, rec: JudgeRecord, now: number) => {
    w.at(now);
    return judgeEvaluations(w.ports, 'support-assistant', EVAL, CODE, T0, rec, now + 10_000);
  };

  test('a window is not judged while one of its samples has no result; it closes once that result arrives', async () => {
    const w = world(minuteOfSamples(200_000));
    // The window [T0, T0 + 60 s) has ended and its lines are searchable, but sample 7's result is outstanding.
    const open = await run(w, freshRecord(), T0 + 60_000 + 15_000 + 10_000);
    expect(open.updated).toBe(false);
    expect(open.record.evaluation).toMatchObject({ until: T0, results: 0 });
    expect(w.queries.some((q) => q.q.includes('ai-release.evaluation-sample') && q.q.includes('service = "support-assistant"'))).toBe(true);
    // Its result was written 203.5 s in; read 15 s later (the ingestion lag) the window is complete.
    const done = await run(w, open.record, T0 + 3_500 + 200_000 + 15_000 + 1_000);
    expect(done.updated).toBe(true);
    // The two empty minutes after it close at once too (no sample taken, none awaited).
    expect(done.record.evaluation).toMatchObject({ until: T0 + 180_000, results: 100, pairs: 50, outstanding: 0, windows: { complete: 3, atBound: 0 } });
    expect(done.record.evaluation?.late ?? { canary: 0, stable: 0 }).toEqual({ canary: 0, stable: 0 });
  });

  test('a result later than the bound: the window counts what arrived, says one was outstanding, and counts the result late by side, never judged', async () => {
    const w = world(minuteOfSamples(400_000));
    // 270 s after the window's end (+ the lag) it still waits (fewer than 50 delays measured: the bound is the maximum, 300 s).
    const waiting = await run(w, freshRecord(), T0 + 60_000 + 270_000 + 15_000);
    expect(waiting.record.evaluation?.until).toBe(T0);
    const closed = await run(w, waiting.record, T0 + 60_000 + 300_000 + 15_000 + 1_000);
    // It closed at the 300 s maximum with 99 results; the 99 delays it measured (30 s) now set the bound for the next
    // windows: twice the upper end of their 30–40 s bucket, 80 s. The empty minutes after it close at once.
    expect(closed.record.evaluation).toMatchObject({ results: 99, outstanding: 1, windows: { atBound: 1 }, waitMs: 80_000 });
    expect(closed.record.evaluation?.cuts?.[0]).toEqual([T0 + 60_000, T0 + 60_000 + 300_000 + 1_000]);
    const engineAtClose = JSON.stringify(closed.record.engine);
    // The result arrives at 403.5 s; the next poll (30 s on) counts it late, on the canary's side (version 7 is
    // stable: sample 7 is odd, so stable).
    const after = await run(w, closed.record, T0 + 3_500 + 400_000 + 15_000 + 31_000);
    expect(after.record.evaluation).toMatchObject({ results: 99, late: { canary: 0, stable: 1 } });
    expect(JSON.stringify(after.record.engine)).toBe(engineAtClose);
    // Counted once: a later scan does not count it again.
    const again = await run(w, after.record, T0 + 3_500 + 400_000 + 15_000 + 62_000);
    expect(again.record.evaluation?.late).toEqual({ canary: 0, stable: 1 });
  });

  test('which results count depends on arrival only, never on what they say: the same arrivals with other scores and outcomes count the same', async () => {
    const a = world(minuteOfSamples(400_000));
    const b = world(
      minuteOfSamples(400_000, (k) => 5 - (k % 5)).map((e) => ({
        ...e,
        line: { ...e.line, ...(e.line.paired ? { paired: e.line.paired === 'stable' ? ('canary' as const) : ('stable' as const) } : {}) },
      })),
    );
    const pick = (r: JudgeRecord) => {
      const { results, scores, pairs, outstanding, until, windows } = r.evaluation ?? ({} as never);
      return { results, scores, pairs, outstanding, until, windows };
    };
    for (const now of [T0 + 90_000, T0 + 200_000, T0 + 376_000, T0 + 500_000]) {
      const ra = await run(a, freshRecord(), now);
      const rb = await run(b, freshRecord(), now);
      expect(pick(rb.record)).toEqual(pick(ra.record));
    }
  });

  test('the open window is polled at most every 30 s (two Logs Insights queries a poll)', async () => {
    const w = world(minuteOfSamples(400_000));
    const first = await run(w, freshRecord(), T0 + 100_000);
    const n = w.queries.length;
    expect(n).toBe(2);
    await run(w, first.record, T0 + 110_000);
    expect(w.queries.length).toBe(n);
    await run(w, first.record, T0 + 131_000);
    expect(w.queries.length).toBe(2 * n);
  });

  test.each([
    ['fewer than 50 delays measured: the maximum', [[1, 49]], 300_000],
    ['a fast evaluator: the 60 s floor', [[0, 200]], 60_000],
    [
      'p99 in the 100–110 s bucket: twice its upper end',
      [
        [2, 980],
        [10, 20],
      ],
      220_000,
    ],
    [
      'a slow tail: capped at the maximum',
      [
        [2, 900],
        [40, 100],
      ],
      300_000,
    ],
  ] as const)('the wait bound: %s', (_name, delays, bound) => {
    expect(evaluationWaitBound(delays as unknown as [number, number][], 300_000)).toBe(bound);
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
