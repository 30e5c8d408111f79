import { judge } from '../lambda/gate/judge';
import { redact } from '../lambda/runtime/redact';
import { type CaseExpectation, GATE_RESPONSE_KEY, type GateInvocationVerdict, type RegressionCase } from '../lambda/shared/contract';
import {
  type GuardrailFloors,
  guardrailFloorCheck,
  guardrailFloorsFromDetails,
  guardrailFloorsProblem,
  guardrailLowDetail,
  guardrailLowScores,
  type GuardrailScores,
} from '../lambda/shared/guardrail-scores';
import { defaultExpectation } from '../lambda/snapshot/cases';

/**
 * Guardrail scores in decisions (h10-guard17, issue 17 C/E): the regression gate judges a replay's contextual
 * grounding scores against a case's floors, and low scores become regression-case candidates whose case takes the
 * guardrail's threshold as its floor. Table-driven over the pure modules; no mocks.
 */
const G = 'abcd1234efgh';
const scores = (groundedness?: number, relevance?: number, threshold = 0.75): GuardrailScores => ({
  guardrail: G,
  ...(groundedness !== undefined ? { groundedness: { score: groundedness, threshold, blocked: false } } : {}),
  ...(relevance !== undefined ? { relevance: { score: relevance, threshold: 0.5, blocked: false } } : {}),
});

describe('guardrailFloorsProblem names the field and the fix', () => {
  test.each<[unknown, string | undefined]>([
    [{ groundedness: 0.75 }, undefined],
    [{ groundedness: 0, relevance: 1 }, undefined],
    [{}, undefined],
    [null, 'expectation.minGuardrailScores must be an object of criterion: floor'],
    [[0.5], 'expectation.minGuardrailScores must be an object'],
    [{ correctness: 0.5 }, 'expectation.minGuardrailScores.correctness is not a guardrail criterion; use groundedness or relevance'],
    [{ groundedness: 4 }, "expectation.minGuardrailScores.groundedness must be a number from 0 to 1 (the guardrail's scale), got 4"],
    [{ relevance: '0.5' }, 'expectation.minGuardrailScores.relevance must be a number from 0 to 1'],
    [{ relevance: Number.NaN }, 'expectation.minGuardrailScores.relevance must be a number from 0 to 1'],
  ])('%j → %s', (floors, want) => {
    const p = guardrailFloorsProblem(floors);
    if (want === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(want);
  });
});

describe('guardrailFloorCheck: under a floor fails, a missing score is a note', () => {
  test.each<[string, GuardrailFloors, GuardrailScores | undefined, number, number]>([
    ['above the floor', { groundedness: 0.7 }, scores(0.9), 0, 0],
    ['at the floor passes', { groundedness: 0.7 }, scores(0.7), 0, 0],
    ['under the floor', { groundedness: 0.7 }, scores(0.69), 1, 0],
    ['both under', { groundedness: 0.7, relevance: 0.6 }, scores(0.1, 0.2), 2, 0],
    ['only the floored criterion counts', { relevance: 0.6 }, scores(0.1, 0.9), 0, 0],
    ['no scores at all: noted, not failed', { groundedness: 0.7 }, undefined, 0, 1],
    ['the floored criterion missing: noted', { groundedness: 0.7, relevance: 0.6 }, scores(undefined, 0.9), 0, 1],
    ['no floors: nothing', {}, scores(0.1, 0.1), 0, 0],
  ])('%s', (_, floors, g, failures, notes) => {
    const r = guardrailFloorCheck(floors, g);
    expect(r.failures).toHaveLength(failures);
    expect(r.notes).toHaveLength(notes);
    for (const n of r.notes) expect(n).toMatch(/^note: /); // the gate's judge never counts a note as a failure
  });

  test('the failure names the criterion, the score, the floor and the guardrail', () => {
    expect(guardrailFloorCheck({ groundedness: 0.7 }, scores(0.31)).failures).toEqual([
      `guardrail: groundedness 0.31 is under the case's floor 0.7 (guardrail ${G})`,
    ]);
  });
});

describe("the gate's judge reads the guardrail scores from the replay's verdict", () => {
  const tuple = { service: 's', codeVersion: '8', config: 'c', prompt: 'p', model: 'm', retrieval: 'r', tools: 't', outputContract: 'o', degrade: 'd' };
  const trace = (g: number, r = 0.9) => ({
    outputAssessments: {
      [G]: [
        {
          contextualGroundingPolicy: {
            filters: [
              { type: 'GROUNDING', threshold: 0.75, score: g, action: 'NONE' },
              { type: 'RELEVANCE', threshold: 0.5, score: r, action: 'NONE' },
            ],
          },
        },
      ],
    },
  });
  const verdict = (guardrailTrace?: unknown): GateInvocationVerdict => ({
    output: { answer: 'Open Trash.' },
    kinds: [],
    details: [],
    latencyMs: 100,
    degraded: false,
    tuple,
    evidence: { answer: 'Open Trash.', passages: [{ id: 'kb-1', text: 't' }], ...(guardrailTrace ? { guardrailTrace } : {}) },
  });
  const kase = (expectation: CaseExpectation): RegressionCase =>
    ({
      schemaVersion: 1,
      caseId: 'c1',
      service: 's',
      state: 'accepted',
      input: '{"question":"q"}',
      kinds: ['quality'],
      expectation,
    }) as unknown as RegressionCase;
  const replay = (v: GateInvocationVerdict | undefined) => ({ payload: JSON.stringify(v ? { [GATE_RESPONSE_KEY]: v } : { answer: 'Open Trash.' }) });

  test.each<[string, CaseExpectation, ReturnType<typeof replay>, boolean, RegExp | undefined]>([
    ['grounded above the floor: passes', { minGuardrailScores: { groundedness: 0.75 } }, replay(verdict(trace(0.92))), true, undefined],
    [
      'under the floor: fails with the guardrail reason',
      { minGuardrailScores: { groundedness: 0.75 } },
      replay(verdict(trace(0.4))),
      false,
      /^guardrail: groundedness 0\.4 is under the case's floor 0\.75/,
    ],
    ['relevance floor', { minGuardrailScores: { relevance: 0.6 } }, replay(verdict(trace(0.9, 0.3))), false, /^guardrail: relevance 0\.3/],
    [
      'no trace in the replay: passes with a note',
      { minGuardrailScores: { groundedness: 0.75 } },
      replay(verdict()),
      true,
      /^note: no guardrail groundedness score/,
    ],
    [
      'a trace without the policy: passes with a note',
      { minGuardrailScores: { groundedness: 0.75 } },
      replay(verdict({ outputAssessments: { [G]: [{}] } })),
      true,
      /^note: no guardrail/,
    ],
    ['no floors: the trace is not read', {}, replay(verdict(trace(0.01))), true, undefined],
    [
      'a bad floor fails the case, naming the fix',
      { minGuardrailScores: { groundedness: 75 } },
      replay(verdict(trace(0.9))),
      false,
      /must be a number from 0 to 1.*fix the case/,
    ],
    [
      'no runtime verdict: not judged, said so',
      { minGuardrailScores: { groundedness: 0.75 } },
      replay(undefined),
      true,
      /contract, safety, guardrail scores and quality were not judged/,
    ],
  ])('%s', (_, expectation, r, passed, reason) => {
    const j = judge(kase(expectation), r, 50);
    expect(j.passed).toBe(passed);
    if (reason) expect(j.reasons).toContainEqual(expect.stringMatching(reason));
    else expect(j.reasons).toEqual([]);
  });
});

describe('low guardrail scores: the candidate detail line, and the floor its case takes', () => {
  test.each<[string, GuardrailScores | undefined, string[]]>([
    ['groundedness under its threshold', scores(0.31, 0.9), [`guardrail: groundedness 0.31 is under the guardrail's threshold 0.75 (guardrail ${G})`]],
    [
      'both under',
      scores(0.31, 0.2),
      [
        `guardrail: groundedness 0.31 is under the guardrail's threshold 0.75 (guardrail ${G})`,
        `guardrail: relevance 0.2 is under the guardrail's threshold 0.5 (guardrail ${G})`,
      ],
    ],
    ['at the threshold is not low', scores(0.75, 0.5), []],
    ['a threshold of 0 (not in the trace) flags nothing', scores(0, 0.9, 0), []],
    ['no scores', undefined, []],
  ])('%s', (_, g, lines) => {
    expect(guardrailLowScores(g).map(guardrailLowDetail)).toEqual(lines);
  });

  test.each<[string, string[] | undefined, GuardrailFloors | undefined]>([
    ['one line: its threshold', [`guardrail: groundedness 0.31 is under the guardrail's threshold 0.75 (guardrail ${G})`], { groundedness: 0.75 }],
    [
      'several records of one input: the strictest threshold per criterion',
      [
        `guardrail: groundedness 0.31 is under the guardrail's threshold 0.6 (guardrail ${G})`,
        `guardrail: groundedness 0.5 is under the guardrail's threshold 0.8 (guardrail ${G})`,
        `guardrail: relevance 0.1 is under the guardrail's threshold 0.5 (guardrail ${G})`,
      ],
      { groundedness: 0.8, relevance: 0.5 },
    ],
    ["the evaluator model's lines are not the guardrail's", ['evaluator: groundedness scored 1 (made up)'], undefined],
    ['no details', undefined, undefined],
  ])('%s', (_, details, floors) => {
    expect(guardrailFloorsFromDetails(details)).toEqual(floors);
  });

  test("a candidate's case from such a record expects the guardrail's threshold as its floor; the line survives redaction", () => {
    const line = guardrailLowDetail(guardrailLowScores(scores(0.31))[0]);
    // The snapshot redacts every detail line again before it reaches S3 (snapshot.ts redactRecord).
    expect(redact(line)).toBe(line);
    expect(defaultExpectation(['quality'], { details: [redact(line)] })).toEqual({ noError: true, minGuardrailScores: { groundedness: 0.75 } });
    // Only for quality records: a safety record's details do not set it.
    expect(defaultExpectation(['safety'], { details: [line] })).toEqual({ noError: true, noSafetyFlag: true });
  });
});

describe("through the runtime: a gate replay's verdict carries the service's guardrail trace to the judge", () => {
  test('the answer the service hands with its trace is judged against the case floor', async () => {
    const { AiRuntime } = require('../lambda/runtime/ai-runtime') as typeof import('../lambda/runtime/ai-runtime');
    const { GATE_CLIENT_CONTEXT } = require('../lambda/gate/aws-adapters') as typeof import('../lambda/gate/aws-adapters');
    const { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } = require('./runtime-fixtures') as typeof import('./runtime-fixtures');
    const rt = new AiRuntime<{ q: string }, { answer: string }>({
      service: 'svc',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: new FakeConfig({ rel: releaseDoc(), deg: NO_FLAGS }),
      telemetry: new RecordingTelemetry(),
      codeVersion: '12',
      timeoutMarginMs: 0,
    });
    const ctx = {
      awsRequestId: 'r1',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:svc-fn:12',
      clientContext: JSON.parse(Buffer.from(GATE_CLIENT_CONTEXT, 'base64').toString('utf8')),
    };
    const answerWith = (g: number) =>
      rt.invoke(
        async () => ({
          output: { answer: 'Open Trash.' },
          quality: 1,
          evaluation: {
            answer: 'Open Trash.',
            passages: [{ id: 'kb-1', text: 'Trash keeps files 30 days.' }],
            guardrailTrace: {
              outputAssessments: { [G]: [{ contextualGroundingPolicy: { filters: [{ type: 'GROUNDING', threshold: 0.75, score: g, action: 'NONE' }] } }] },
            },
          },
        }),
        { q: 'x' },
        ctx,
      );
    const c = {
      schemaVersion: 1,
      caseId: 'c1',
      service: 'svc',
      state: 'accepted',
      input: '{"q":"x"}',
      kinds: ['quality'],
      expectation: { minGuardrailScores: { groundedness: 0.75 } },
    } as unknown as RegressionCase;
    const low = judge(c, { payload: JSON.stringify(await answerWith(0.2)) }, 10);
    expect(low.passed).toBe(false);
    expect(low.reasons).toContainEqual(expect.stringMatching(/^guardrail: groundedness 0\.2 is under the case's floor 0\.75/));
    const high = judge(c, { payload: JSON.stringify(await answerWith(0.95)) }, 10);
    expect(high).toMatchObject({ passed: true, reasons: [] });
  });
});
