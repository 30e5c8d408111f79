/**
 * The regression gate's evaluator (issue 17 E): cases with a reference answer or rubric floors are replayed k times
 * and judged by the deterministic checks and the evaluator model with the LIVE rubric; the config gate compares the
 * candidate's answers with the live config's in both orders. Pure modules, table-driven; the gate end to end with an
 * in-memory store, a fake target and a deterministic fake evaluator model (one of them biased to the first position).
 */
import { rng } from '../lib/drill/traffic';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import {
  caseCriteria,
  caseEvaluationProblem,
  checkGateEvaluationSettings,
  DEFAULT_CORRECTNESS_RUBRIC,
  DEFAULT_PAIRWISE,
  GateSpend,
  pairwiseDecision,
  replayAnswer,
  replayOutcome,
  replaysNeeded,
  signTestPValue,
} from '../lambda/gate/evaluate';
import { bedrockModel } from '../lambda/evaluator/aws-adapters';
import { type ConverseRequest, type ConverseResponse, PREFERENCE_TOOL, SCORE_TOOL } from '../lambda/evaluator/converse';
import { type GateEvaluationPorts, type GateRun, DEFAULT_GATE_SETTINGS, runGate } from '../lambda/gate/gate';
import { renderGateMarkdown } from '../lambda/gate/render-markdown';
import type { GateStore, InvokeResult } from '../lambda/gate/ports';
import { type CaseExpectation, GATE_RESPONSE_KEY, type GateEvaluationSettings, type RegressionCase } from '../lambda/shared/contract';
import type { EvaluationConfig } from '../lambda/shared/evaluation';
import { gateCase } from './gate-fixtures';

const LIVE: EvaluationConfig = {
  version: 'rubric-live-v3',
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [
    { criterion: 'groundedness', instructions: 'LIVE-RUBRIC: every claim is supported by a passage.' },
    { criterion: 'relevance', instructions: 'LIVE-RUBRIC: answers the question asked.' },
  ],
  samplingRate: 0.1,
  budget: { perReleaseUsd: 10, perDayUsd: 20 },
};

describe('pass rules', () => {
  test.each([
    ['majority', 1, 1],
    ['majority', 3, 2],
    ['majority', 4, 3],
    ['all', 3, 3],
    [{ atLeast: 2 }, 5, 2],
  ] as const)('%j of %i needs %i', (pass, k, needed) => {
    expect(replaysNeeded(pass, k)).toBe(needed);
  });

  test.each([
    // rule, k, run, passed, outcome
    ['majority', 3, 2, 2, 'passed'],
    ['majority', 3, 2, 0, 'failed'],
    ['majority', 3, 2, 1, 'not-run'], // undecided: one more replay decides
    ['majority', 3, 3, 1, 'failed'],
    ['all', 3, 1, 0, 'failed'],
    ['all', 3, 2, 2, 'not-run'],
    ['all', 3, 3, 3, 'passed'],
    [{ atLeast: 1 }, 3, 2, 0, 'not-run'],
    [{ atLeast: 1 }, 3, 3, 0, 'failed'],
    [{ atLeast: 1 }, 3, 1, 1, 'passed'],
  ] as const)('%j, k %i: %i run, %i passed → %s', (pass, k, run, passed, outcome) => {
    expect(replayOutcome(pass, k, run, passed)).toBe(outcome);
  });

  test.each([
    [{ k: 0, pass: 'majority', maxUsd: 1 }, /k must be a whole number of replays from 1 to 10, got 0/],
    [{ k: 2.5, pass: 'majority', maxUsd: 1 }, /k must be a whole number/],
    [{ k: 3, pass: 'most', maxUsd: 1 }, /pass must be 'majority', 'all' or \{ atLeast: n \}, got "most"/],
    [{ k: 3, pass: { atLeast: 4 }, maxUsd: 1 }, /pass.atLeast must be a whole number from 1 to k \(3\), got 4; raise k or lower atLeast/],
    [{ k: 3, pass: 'all', maxUsd: 0 }, /maxUsd must be a positive number of USD/],
    [{ k: 3, pass: 'all', maxUsd: 1, pairwise: { maxLossRate: 0.4, alpha: 0.05 } }, /pairwise.maxLossRate must be in \[0.5, 1\)/],
    [{ k: 3, pass: 'all', maxUsd: 1, pairwise: { maxLossRate: 0.6, alpha: 0 } }, /pairwise.alpha must be in \(0, 0.5\]/],
  ])('settings %j are refused, naming the field', (s, message) => {
    expect(() => checkGateEvaluationSettings(s as unknown as GateEvaluationSettings, 'regressionGate.evaluation')).toThrow(message);
  });
});

describe("a case's evaluator expectation", () => {
  test.each([
    ['an empty reference', { reference: '' }, /expectation.reference must be a non-empty string/],
    ['a reference of 8,001 characters', { reference: 'x'.repeat(8001) }, /at most 8000: shorten the reference answer/],
    [
      'an unknown criterion',
      { minScores: { helpfulness: 3 } },
      /expectation.minScores.helpfulness is not a criterion; use one of groundedness, relevance, correctness, safety, refusal/,
    ],
    ['a floor that is text', { minScores: { groundedness: '4' } }, /expectation.minScores.groundedness must be a number, got "4"/],
    ['correctness without a reference', { minScores: { correctness: 4 } }, /minScores.correctness needs expectation.reference/],
    ['floors as a list', { minScores: [4] }, /must be an object of criterion: floor/],
  ])('%s is refused with the fix', (_label, e, message) => {
    expect(caseEvaluationProblem(e as unknown as CaseExpectation)).toMatch(message);
  });

  test.each([[{ reference: 'Refunds take 5 days.' }], [{ minScores: { groundedness: 4 } }], [{ reference: 'r', minScores: { correctness: 4, relevance: 3 } }]])(
    '%j is accepted',
    (e) => {
      expect(caseEvaluationProblem(e as CaseExpectation)).toBeUndefined();
    },
  );

  test('criteria come from the LIVE rubrics; a floor needs a live rubric on the live scale; a reference without a live correctness rubric uses the built-in one', () => {
    const ok = caseCriteria({ minScores: { groundedness: 4 }, reference: 'r' }, LIVE);
    expect(ok.problems).toEqual([]);
    expect(ok.criteria.map((c) => [c.rubric.instructions, c.floor])).toEqual([
      [LIVE.rubrics[0].instructions, 4],
      [DEFAULT_CORRECTNESS_RUBRIC.instructions, 3], // the scale's midpoint
    ]);
    expect(ok.notes.join()).toMatch(/built-in rubric/);
    expect(caseCriteria({ minScores: { safety: 4 } }, LIVE).problems.join()).toMatch(
      /the live evaluation section has no safety rubric \(rubrics: groundedness, relevance\)/,
    );
    expect(caseCriteria({ minScores: { groundedness: 9 } }, LIVE).problems.join()).toMatch(/is 9, off the live scale 1..5/);
  });
});

describe('pairwise statistics', () => {
  test.each([
    [0, 0, 1],
    [0, 10, 1],
    [10, 10, 1 / 1024],
    [8, 10, 56 / 1024],
    [5, 10, 638 / 1024],
  ])('P(X ≥ %i | n %i, ½) = %f', (losses, n, p) => {
    expect(signTestPValue(losses, n)).toBeCloseTo(p, 10);
  });

  test.each([
    // outcomes, failed: needs BOTH the rate over maxLossRate AND the sign test under alpha
    [{ live: 9, candidate: 1, tie: 10 }, true],
    [{ live: 3, candidate: 0, tie: 0 }, false], // 100 % lost, but 3 pairs prove nothing (p = 0.125)
    [{ live: 55, candidate: 45, tie: 0 }, false], // significant at many pairs? no, and 55 % is under 60 %
    [{ live: 0, candidate: 0, tie: 20 }, false], // a position-biased evaluator only adds ties
    [{ live: 0, candidate: 0, unscored: 5 }, false],
  ])('%j → failed %s', (counts, failed) => {
    const outcomes = Object.entries(counts).flatMap(([o, n]) => Array.from({ length: n }, () => o as 'live'));
    expect(pairwiseDecision(outcomes, { maxLossRate: 0.6, alpha: 0.05 }).failed).toBe(failed);
  });

  test('the spend never exceeds the cap, whatever is reserved', () => {
    const r = rng(3);
    const spend = new GateSpend(0.05);
    for (let i = 0; i < 500; i++) {
      const worst = r() * 0.004;
      if (spend.reserve(worst)) spend.settle(worst, worst * r() * 1.5); // an actual over the worst case is capped
      expect(spend.spentUsd).toBeLessThanOrEqual(0.05 + 1e-12);
    }
    expect(spend.capReached).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The gate end to end (pure runGate with fakes).

function memStore(cases: readonly RegressionCase[]): GateStore {
  const objects: Record<string, string> = Object.fromEntries(cases.map((c) => [`cases/svc/${c.state}/${c.caseId}.json`, JSON.stringify(c)]));
  return {
    get: async (k) => (k in objects ? { body: objects[k] } : undefined),
    put: async (k, b) => {
      objects[k] = b;
      return 'written';
    },
    list: async (p) => Object.keys(objects).filter((k) => k.startsWith(p)),
    newest: async () => undefined,
  };
}

/** The runtime's answer to a replay: an answer with (or without) a citation of the retrieved passage p1. */
function answer(text: string, codeVersion = '7', over: Record<string, unknown> = {}): InvokeResult {
  const citations = /\[p1\]/.test(text) ? ['p1'] : [];
  return {
    payload: JSON.stringify({
      [GATE_RESPONSE_KEY]: {
        output: { answer: text, citations },
        kinds: [],
        details: [],
        latencyMs: 20,
        degraded: false,
        tuple: { codeVersion },
        evidence: { answer: text, passages: [{ id: 'p1', text: 'Refunds are paid within 5 days.' }], citations },
        ...over,
      },
    }),
  };
}

const toolUse = (name: string, input: unknown): ConverseResponse => ({
  output: { message: { content: [{ toolUse: { toolUseId: 't1', name, input } }] } },
  stopReason: 'tool_use',
  usage: { inputTokens: 300, outputTokens: 30 },
});

/** Scores 5 when the answer cites p1, else 2; prefers the citing answer (or the first position, when biased). */
function fakeModel(firstBias?: () => boolean) {
  const calls: ConverseRequest[] = [];
  return {
    calls,
    async converse(req: ConverseRequest): Promise<ConverseResponse> {
      calls.push(req);
      const text = req.messages[0].content[0].text;
      if (req.toolConfig.toolChoice.tool.name === SCORE_TOOL) {
        const a = text.split('<answer>\n')[1] ?? '';
        return toolUse(SCORE_TOOL, { score: /\[p1\]/.test(a) ? 5 : 2, reason: 'cites p1 or not' });
      }
      if (firstBias) return toolUse(PREFERENCE_TOOL, { preferred: firstBias() ? 'A' : 'B', reason: 'position' });
      const a = /\[p1\]/.test(/<answer_a>\n([\s\S]*?)\n<\/answer_a>/.exec(text)?.[1] ?? '');
      const b = /\[p1\]/.test(/<answer_b>\n([\s\S]*?)\n<\/answer_b>/.exec(text)?.[1] ?? '');
      return toolUse(PREFERENCE_TOOL, { preferred: a === b ? 'tie' : a ? 'A' : 'B', reason: 'citations' });
    },
  };
}

const RUN = (plane: 'code' | 'config' = 'config'): GateRun => ({
  service: 'svc',
  plane,
  releaseKey: plane === 'config' ? 'config-7' : 'code-d-1',
  target: { functionName: 'svc-fn', qualifier: plane === 'config' ? 'gate' : '7', ...(plane === 'config' ? { configVersion: '7' } : {}) },
  deadline: Date.now() + 60_000,
});

interface GateSetup {
  cases: RegressionCase[];
  /** The candidate's answer to replay n (0-based, counted per case input). */
  candidate: (input: string, n: number) => InvokeResult;
  live?: (input: string) => InvokeResult;
  settings?: Partial<GateEvaluationSettings>;
  liveSection?: EvaluationConfig | undefined | 'unreadable';
  model?: { converse(r: ConverseRequest): Promise<ConverseResponse> };
  plane?: 'code' | 'config';
}

async function gate(s: GateSetup) {
  const qualifiers: string[] = [];
  const seen = new Map<string, number>();
  const model = s.model ?? fakeModel();
  const evaluation: GateEvaluationPorts = {
    evaluator: { model, sleep: async () => {}, random: () => 0.5 },
    liveEvaluation: async () => {
      if (s.liveSection === 'unreadable') throw Object.assign(new Error('AppConfig timed out'), { name: 'TimeoutError' });
      return 'liveSection' in s ? s.liveSection : LIVE;
    },
    modelId: LIVE.evaluatorModel.modelId,
    settings: { k: 3, pass: 'majority', maxUsd: 5, ...s.settings },
  };
  const report = await runGate(RUN(s.plane), DEFAULT_GATE_SETTINGS, {
    store: memStore(s.cases),
    clock: { now: () => Date.now() },
    invoker: {
      async invoke(qualifier, payload) {
        qualifiers.push(qualifier);
        if (qualifier === 'gate' || (s.plane === 'code' && qualifier === '7')) {
          const n = seen.get(payload) ?? 0;
          seen.set(payload, n + 1);
          return s.candidate(payload, n);
        }
        if (!s.live) throw new Error(`unexpected invoke of ${qualifier}`);
        return s.live(payload);
      },
    },
    evaluation,
  });
  return { report, qualifiers, model };
}

const evaluated = (over: Partial<CaseExpectation> = {}, i?: number) =>
  gateCase({ service: 'svc', ...(i !== undefined ? { i } : {}), expectation: { minScores: { groundedness: 4 }, ...over } });

describe('the gate judges replays with the evaluator', () => {
  test.each([
    // replay answers (cite p1 = scores 5), rule, outcome, replays run
    [['ok [p1]', 'ok [p1]', 'wrong'], 'majority', 'passed', 2], // decided after two: the third is never run (or paid)
    [['ok [p1]', 'wrong', 'ok [p1]'], 'majority', 'passed', 3],
    [['wrong', 'wrong', 'ok [p1]'], 'majority', 'failed', 2],
    [['ok [p1]', 'wrong', 'ok [p1]'], 'all', 'failed', 2],
    [['wrong', 'wrong', 'ok [p1]'], { atLeast: 1 }, 'passed', 3],
  ] as const)('answers %j under %j: %s after %i replays', async (answers, pass, outcome, run) => {
    const c = evaluated();
    const { report } = await gate({ cases: [c], candidate: (_i, n) => answer(answers[n]), settings: { pass } });
    const r = report.cases[0];
    expect(r.outcome).toBe(outcome);
    expect(r.replays).toMatchObject({ k: 3, run });
    expect(report.verdict).toBe(outcome === 'passed' ? 'passed' : 'failed');
    if (outcome === 'failed') expect(r.reasons.join('\n')).toMatch(/groundedness: scored 2, under the floor 4/);
    expect(report.evaluation).toMatchObject({ rubric: 'rubric-live-v3', evaluatedCases: 1 });
    // The Markdown report names the rubric that judged and each case's lowest score against its floor.
    const md = renderGateMarkdown(report);
    expect(md).toContain('Judged by the live evaluation section `rubric-live-v3`');
    expect(md).toMatch(new RegExp(`\\| \`${c.caseId}\` \\| ${r.replays?.passed}/${run} \\| groundedness \\| [25] \\|`));
  });

  test('the LIVE rubric judges, and the evaluator model called is the granted one', async () => {
    const { model } = await gate({ cases: [evaluated()], candidate: () => answer('ok [p1]') });
    const calls = (model as ReturnType<typeof fakeModel>).calls;
    expect(calls.length).toBe(2);
    for (const c of calls) {
      expect(c.messages[0].content[0].text).toContain('LIVE-RUBRIC: every claim is supported by a passage.');
      expect(c.modelId).toBe(LIVE.evaluatorModel.modelId);
      expect(c.toolConfig.toolChoice).toEqual({ tool: { name: SCORE_TOOL } });
    }
  });

  test('a reference answer is scored for correctness against it', async () => {
    const { model, report } = await gate({
      cases: [evaluated({ minScores: undefined, reference: 'Refunds are paid within 5 days [p1].' })],
      candidate: () => answer('ok [p1]'),
    });
    const text = (model as ReturnType<typeof fakeModel>).calls[0].messages[0].content[0].text;
    expect(text).toContain('<reference_answer>\nRefunds are paid within 5 days [p1].\n</reference_answer>');
    expect(text).toContain('Criterion: correctness');
    expect(report.cases[0].scores).toEqual([{ criterion: 'correctness', min: 5, median: 5, floor: 3, n: 2 }]);
  });

  test('a deterministic check fails a replay: a citation of a passage that was not retrieved', async () => {
    const bad = answer('ok [p1]', '7', { evidence: { answer: 'ok [p1]', passages: [{ id: 'p1', text: 't' }], citations: ['p9'] } });
    const { report } = await gate({ cases: [evaluated()], candidate: () => bad });
    expect(report.cases[0].outcome).toBe('failed');
    expect(report.cases[0].reasons.join()).toMatch(/citation-validity: cites passages that were not retrieved: p9/);
  });

  test('a replay the runtime fails is not scored (no evaluator spend on a known failure)', async () => {
    const failing = answer('ok [p1]', '7', { kinds: ['contract'], details: ['contract: answer missing'] });
    const { report, model } = await gate({ cases: [evaluated()], candidate: () => failing });
    expect(report.cases[0].outcome).toBe('failed');
    expect((model as ReturnType<typeof fakeModel>).calls).toHaveLength(0);
  });

  test('a live config without an evaluation section: judged on the other expectations, and the report says so', async () => {
    const { report, model } = await gate({ cases: [evaluated()], candidate: () => answer('wrong'), liveSection: undefined });
    expect(report.cases[0].outcome).toBe('passed');
    expect(report.cases[0].reasons.join()).toMatch(/rubric floors were not judged \(the live config has no evaluation section\)/);
    expect(report.evaluation?.notes.join()).toMatch(/no evaluation section/);
    expect((model as ReturnType<typeof fakeModel>).calls).toHaveLength(0);
  });

  test('an unreadable live section: evaluated cases are not run (not passed), other cases still are', async () => {
    const { report } = await gate({ cases: [evaluated(), gateCase({ service: 'svc' })], candidate: () => answer('ok [p1]'), liveSection: 'unreadable' });
    const byId = Object.fromEntries(report.cases.map((c) => [c.outcome, c.reasons.join()]));
    expect(byId['not-run']).toMatch(/live evaluation section could not be read \(TimeoutError: AppConfig timed out\)/);
    expect(byId.passed).toBeDefined();
    expect(report.verdict).toBe('failed');
  });

  test('a floor on a criterion the live rubric lacks fails the case with the fix, before any replay', async () => {
    const { report, qualifiers } = await gate({ cases: [evaluated({ minScores: { safety: 4 } })], candidate: () => answer('ok [p1]') });
    expect(report.cases[0].outcome).toBe('failed');
    expect(report.cases[0].reasons.join()).toMatch(/no safety rubric .*add the rubric in a release before the case needs it/);
    expect(qualifiers).toEqual([]);
  });

  test('the cap: model calls stop when it is spent, the spend stays under it, and unscored replays do not pass', async () => {
    const cases = Array.from({ length: 10 }, (_, i) => evaluated({}, 1000 + i));
    const { report } = await gate({ cases, candidate: () => answer('ok [p1]'), settings: { maxUsd: 0.02 } });
    expect(report.evaluation?.capReached).toBe(true);
    expect(report.evaluation?.spentUsd).toBeLessThanOrEqual(0.02);
    expect(report.cases.some((c) => c.reasons.join().includes("the gate's evaluation cap of 0.02 USD is spent"))).toBe(true);
    expect(report.verdict).toBe('failed');
    expect(report.summary).toMatch(/cap reached/);
  });

  test('cases without a reference or floors are replayed once, as before', async () => {
    const { report, qualifiers } = await gate({ cases: [gateCase({ service: 'svc' })], candidate: () => answer('wrong') });
    expect(qualifiers).toEqual(['gate']);
    expect(report.cases[0].replays).toBeUndefined();
    expect(report.cases[0].outcome).toBe('passed');
  });
});

describe('the config gate compares the candidate with the live config, pairwise', () => {
  const cases = () => Array.from({ length: 20 }, (_, i) => gateCase({ service: 'svc', i: 2000 + i }));

  test('a candidate whose answers lose to the live ones fails the gate, with the counts and the test in the summary', async () => {
    const { report, qualifiers } = await gate({
      cases: cases(),
      candidate: () => answer('vague'),
      live: () => answer('precise [p1]'),
      settings: { pairwise: { maxLossRate: 0.6, alpha: 0.05 } },
    });
    expect(report.evaluation?.paired).toMatchObject({ losses: 20, wins: 0, ties: 0, failed: true });
    expect(report.blocking.passed).toBe(20); // every case passes on its own: only the comparison catches it
    expect(report.verdict).toBe('failed');
    expect(report.summary).toMatch(/pairwise against the live config: lost 20, won 0, tied 0 .* FAILED/);
    // Only the `gate` alias (candidate config) and the version number that answered (live config); never `live`.
    expect(new Set(qualifiers)).toEqual(new Set(['gate', '7']));
    expect(renderGateMarkdown(report)).toMatch(/Pairwise against the live config: candidate lost 20, won 0, tied 0.*\*\*FAILED\*\*/);
  });

  test('an evaluator biased to the first position 70 % of the time fails equal answers no more often than alpha (200 seeds)', async () => {
    let failed = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const { report } = await gate({
        cases: cases(),
        candidate: () => answer('same [p1]'),
        live: () => answer('same [p1]'),
        model: fakeModel(() => r() < 0.7),
        settings: { pairwise: DEFAULT_PAIRWISE },
      });
      if (report.verdict === 'failed') failed++;
    }
    // The sign test is exact at the default alpha (0.01) and the bias only makes ties: about 1 % may fail (2 of 200).
    expect(failed).toBeLessThanOrEqual(4);
    if (process.env.GATE_EVAL_VERBOSE) console.log(`position-biased evaluator: ${failed}/200 false failures`);
  });

  test('a runtime naming an alias as its version is never invoked: the pair is unscored', async () => {
    const { report, qualifiers } = await gate({
      cases: cases().slice(0, 3),
      candidate: () => answer('x [p1]', 'live'),
      live: () => answer('y [p1]'),
      settings: { pairwise: { maxLossRate: 0.6, alpha: 0.05 } },
    });
    expect(qualifiers.every((q) => q === 'gate')).toBe(true);
    expect(report.cases.map((c) => c.paired)).toEqual(['unscored', 'unscored', 'unscored']);
    expect(report.verdict).toBe('passed');
  });

  test('the code gate does not compare pairwise (there is no live config answer to the same code), and says so', async () => {
    const { report, qualifiers } = await gate({
      plane: 'code',
      cases: cases().slice(0, 2),
      candidate: () => answer('x'),
      settings: { pairwise: { maxLossRate: 0.6, alpha: 0.05 } },
    });
    expect(qualifiers).toEqual(['7', '7']);
    expect(report.evaluation?.paired).toBeUndefined();
    expect(report.evaluation?.notes.join()).toMatch(/pairwise comparison is a config gate feature/);
  });
});

describe('Bedrock Converse through the adapter (aws-sdk-client-mock)', () => {
  test("structured output: the score is the forced tool's toolUse.input; a text answer is unscored, never a score", async () => {
    const bedrock = mockClient(BedrockRuntimeClient);
    bedrock
      .on(ConverseCommand)
      .resolvesOnce({
        // The Converse response shape for a tool call (Bedrock user guide, "Call a tool with the Converse API").
        output: {
          message: { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: SCORE_TOOL, input: { score: 4, reason: 'grounded' } } }] },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 310, outputTokens: 25, totalTokens: 335 },
        metrics: { latencyMs: 300 },
      })
      .resolves({
        output: { message: { role: 'assistant', content: [{ text: 'I would give it a 5.' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 310, outputTokens: 9, totalTokens: 319 },
        metrics: { latencyMs: 300 },
      });
    const model = bedrockModel(new BedrockRuntimeClient({ region: 'us-east-1' }), 5000);
    const { report } = await gate({
      cases: [evaluated()],
      candidate: () => answer('ok [p1]'),
      model,
      settings: { k: 2, pass: 'all' },
    });
    const sent = bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input);
    expect(sent[0]).toMatchObject({ modelId: LIVE.evaluatorModel.modelId, toolConfig: { toolChoice: { tool: { name: SCORE_TOOL } } } });
    expect(report.cases[0].outcome).toBe('failed');
    expect(report.cases[0].reasons.join()).toMatch(/groundedness: not scored \(the evaluator did not call record_score \(stopReason end_turn/);
    expect(report.cases[0].scores).toEqual([{ criterion: 'groundedness', min: 4, median: 4, floor: 4, n: 1 }]);
    bedrock.restore();
  });
});

describe('replayAnswer', () => {
  test.each([
    ['{"answer":"plain","citations":["a"]}', { text: 'plain', citations: ['a'], passages: [] }],
    ['"just text"', { text: '"just text"', citations: [], passages: [] }],
    ['not json', undefined],
  ])('%s', (payload, want) => {
    const got = replayAnswer(payload);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject(want);
  });
});
