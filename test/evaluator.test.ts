import type { Ledger } from '../lambda/evaluator/budget';
import { admit, costUsd, currentLedger, estimateInputTokens, newLedger } from '../lambda/evaluator/budget';
import {
  buildScoreRequest,
  type ConverseRequest,
  type ConverseResponse,
  PREFERENCE_TOOL,
  parsePreferenceResponse,
  parseScoreResponse,
  SCORE_TOOL,
} from '../lambda/evaluator/converse';
import { type EvaluatorPorts, evaluateSample, type LedgerPort, MAX_ATTEMPTS } from '../lambda/evaluator/evaluator';
import { EVALUATION_SAMPLE_TYPE, type EvaluationConfig, type EvaluationSample } from '../lambda/shared/evaluation';

const config: EvaluationConfig = {
  evaluatorModel: {
    modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
    pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 },
    maxTokens: 300,
  },
  rubrics: [
    { criterion: 'groundedness', instructions: 'Every claim is supported by the passages.' },
    { criterion: 'relevance', instructions: 'The answer addresses the question.', floor: 3 },
  ],
  samplingRate: 0.05,
  budget: { perReleaseUsd: 1, perDayUsd: 5 },
};

function sample(over: Partial<EvaluationSample> = {}): EvaluationSample {
  return {
    type: EVALUATION_SAMPLE_TYPE,
    service: 'support',
    sampleId: 's1',
    requestId: 'r1',
    time: '2026-12-07T00:00:00.000Z',
    tuple: {
      service: 'support',
      codeVersion: '7',
      config: 'c-1',
      prompt: 'p-1',
      model: 'm-1',
      retrieval: 'none',
      tools: 'none',
      outputContract: 'o-1',
      degrade: 'd-1',
    },
    functionVersion: '7',
    arm: 'stable',
    caseId: 'case-1',
    input: 'How do I reset my password?',
    answer: 'Open Settings, then Security [p1].',
    passages: [{ id: 'p1', textHash: 'h1' }],
    citations: ['p1'],
    toolCalls: [],
    inputTokens: 100,
    outputTokens: 20,
    sampledAt: 0.05,
    ...over,
  };
}

const toolUse = (name: string, input: unknown, usage = { inputTokens: 400, outputTokens: 40 }): ConverseResponse => ({
  output: { message: { content: [{ toolUse: { toolUseId: 't1', name, input } }] } },
  stopReason: 'tool_use',
  usage,
});

/** An in-memory ledger with S3's compare-and-swap semantics (If-Match on an etag). */
function memoryLedger(): LedgerPort & { value: () => Ledger | undefined; writes: number } {
  let value: Ledger | undefined;
  let version = 0;
  const port = {
    writes: 0,
    value: () => value,
    async read() {
      await Promise.resolve();
      return { ledger: value, etag: value ? String(version) : undefined };
    },
    async write(l: Ledger, etag: string | undefined) {
      await Promise.resolve();
      const current = value ? String(version) : undefined;
      if (current !== etag) return false;
      value = l;
      version++;
      port.writes++;
      return true;
    },
  };
  return port;
}

/** A deterministic fake evaluator model: scores by whether the answer cites a passage; prefers answers that cite. */
function fakeModel(options: { firstBias?: () => boolean; throttleFirst?: number } = {}) {
  let throttles = options.throttleFirst ?? 0;
  const calls: ConverseRequest[] = [];
  return {
    calls,
    async converse(req: ConverseRequest): Promise<ConverseResponse> {
      calls.push(req);
      if (throttles > 0) {
        throttles--;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      const text = req.messages[0].content[0].text;
      if (req.toolConfig.toolChoice.tool.name === SCORE_TOOL) {
        const answer = text.split('<answer>\n')[1] ?? '';
        return toolUse(SCORE_TOOL, { score: /\[p\d\]/.test(answer) ? 5 : 2, reason: 'cites a passage or not' });
      }
      if (options.firstBias) return toolUse(PREFERENCE_TOOL, { preferred: options.firstBias() ? 'A' : 'B', reason: 'biased' });
      const a = /<answer_a>\n([\s\S]*?)\n<\/answer_a>/.exec(text)?.[1] ?? '';
      const b = /<answer_b>\n([\s\S]*?)\n<\/answer_b>/.exec(text)?.[1] ?? '';
      const ca = /\[p\d\]/.test(a);
      const cb = /\[p\d\]/.test(b);
      return toolUse(PREFERENCE_TOOL, { preferred: ca === cb ? 'tie' : ca ? 'A' : 'B', reason: 'citations' });
    },
  };
}

function ports(over: Partial<EvaluatorPorts> = {}): EvaluatorPorts & { slept: number[] } {
  const slept: number[] = [];
  return {
    model: fakeModel(),
    ledger: memoryLedger(),
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    now: () => new Date('2026-12-07T10:00:00Z'),
    slept,
    ...over,
  };
}

describe('Converse structured output', () => {
  test('the score request forces the score tool and carries the rubric, scale and passages', () => {
    const req = buildScoreRequest('m', 300, config.rubrics[0], { min: 1, max: 5 }, { input: 'Q', answer: 'A', passages: [{ id: 'p1', text: 'T' }] });
    expect(req.toolConfig.toolChoice).toEqual({ tool: { name: SCORE_TOOL } });
    expect(req.toolConfig.tools[0].toolSpec.inputSchema.json).toMatchObject({ required: ['score', 'reason'] });
    expect(req.messages[0].content[0].text).toContain('[p1] T');
    expect(req.messages[0].content[0].text).toContain('Score from 1 (worst) to 5 (best).');
    expect(req.inferenceConfig.temperature).toBe(0);
  });

  test.each([
    ['a tool call with a score', toolUse(SCORE_TOOL, { score: 4, reason: 'ok' }), true, ''],
    [
      'text instead of a tool call',
      { output: { message: { content: [{ text: 'I think 4' }] } }, stopReason: 'end_turn' },
      false,
      'did not call record_score (stopReason end_turn, said: I think 4)',
    ],
    ['a string score', toolUse(SCORE_TOOL, { score: '4', reason: 'ok' }), false, 'score is not a number'],
    ['a score off the scale', toolUse(SCORE_TOOL, { score: 9, reason: 'ok' }), false, 'outside the scale 1..5'],
    ['an input that is not an object', toolUse(SCORE_TOOL, 'four'), false, 'input is not an object'],
    ['no output at all', {}, false, 'did not call record_score'],
  ] as const)('parseScoreResponse: %s', (_n, response, ok, reason) => {
    const p = parseScoreResponse(response as ConverseResponse, { min: 1, max: 5 });
    expect(p.ok).toBe(ok);
    if (!p.ok) expect(p.reason).toContain(reason);
  });

  test('parsePreferenceResponse refuses a preference outside A, B, tie', () => {
    const p = parsePreferenceResponse(toolUse(PREFERENCE_TOOL, { preferred: 'C', reason: '' }));
    expect(p.ok).toBe(false);
  });
});

describe('budget arithmetic', () => {
  test.each([
    [{ perReleaseUsd: 1, perDayUsd: 5 }, 0.9, 0.2, 'release'],
    [{ perReleaseUsd: 10, perDayUsd: 1 }, 0.9, 0.2, 'day'],
    [{ perReleaseUsd: 10, perDayUsd: 10 }, 0.9, 0.2, undefined],
  ] as const)('caps %o, spent %d, call %d → refused by %s', (caps, spent, call, by) => {
    const l: Ledger = { ...newLedger(new Date('2026-12-07T00:00:00Z')), releases: { r1: { spentUsd: spent, firstSeen: 'x' } }, daySpentUsd: spent };
    const a = admit(l, caps, call, new Date(), 'r1');
    expect(a.admit ? undefined : a.by).toBe(by);
  });

  test('a new day resets the day spend (and its stop); a release keeps its own spend across days', () => {
    const l: Ledger = {
      ...newLedger(new Date('2026-12-06T00:00:00Z')),
      daySpentUsd: 4,
      dayStoppedAt: 'x',
      releases: { r1: { spentUsd: 0.5, firstSeen: 'x' } },
    };
    const next = currentLedger(l, new Date('2026-12-07T00:00:01Z'));
    expect(next).toMatchObject({ day: '2026-12-07', daySpentUsd: 0, releases: { r1: { spentUsd: 0.5 } } });
    expect(next.dayStoppedAt).toBeUndefined();
  });

  test('cost and token estimate', () => {
    expect(costUsd({ inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 }, 1000, 100)).toBeCloseTo(0.0045, 10);
    // the estimate must bound a real tokenizer's count: ~4 English characters per token, so ≥ n/4
    const text = 'word '.repeat(400);
    expect(estimateInputTokens(text)).toBeGreaterThanOrEqual(text.length / 4);
    expect(estimateInputTokens('日本語')).toBeGreaterThanOrEqual(3);
  });
});

describe('evaluateSample', () => {
  test('scores deterministic checks and every rubric, and flags scores under the floor', async () => {
    const p = ports();
    const r = await evaluateSample(sample({ answer: 'Please contact support.', citations: [] }), config, p, { releaseKey: 'r1' });
    expect(r.scores.filter((s) => s.source === 'model').map((s) => [s.criterion, s.score])).toEqual([
      ['groundedness', 2],
      ['relevance', 2],
    ]);
    expect(r.scores.some((s) => s.criterion === 'citation-validity')).toBe(true);
    expect(r.belowFloor.map((b) => b.criterion)).toEqual(['groundedness', 'relevance']);
    expect(r.costUsd).toBeGreaterThan(0);
  });

  test('correctness is scored only when a reference is given', async () => {
    const c: EvaluationConfig = { ...config, rubrics: [...config.rubrics, { criterion: 'correctness', instructions: 'Matches the reference.' }] };
    const without = await evaluateSample(sample(), c, ports(), { releaseKey: 'r1' });
    const withRef = await evaluateSample(sample(), c, ports(), { releaseKey: 'r1', reference: 'Settings > Security' });
    expect(without.scores.some((s) => s.criterion === 'correctness')).toBe(false);
    expect(withRef.scores.some((s) => s.criterion === 'correctness')).toBe(true);
  });

  test('throttling is retried with backoff; after MAX_ATTEMPTS the criterion is unscored with the reason', async () => {
    const retried = ports({ model: fakeModel({ throttleFirst: 2 }) });
    const ok = await evaluateSample(sample(), config, retried, { releaseKey: 'r1' });
    expect(ok.unscored).toEqual([]);
    expect(retried.slept).toHaveLength(2);
    const failing = ports({ model: fakeModel({ throttleFirst: MAX_ATTEMPTS }) });
    const r = await evaluateSample(sample(), config, failing, { releaseKey: 'r1' });
    expect(r.unscored[0]).toMatchObject({ criterion: 'groundedness' });
    expect(r.unscored[0].reason).toMatch(/ThrottlingException/);
  });

  test('a canary sample is compared with the stable answer in both orders', async () => {
    const p = ports({
      shadow: { answer: async (_s, arm) => ({ answer: arm === 'canary' ? 'Open Settings, then Security [p1].' : 'Contact support.', costUsd: 0.001 }) },
    });
    const r = await evaluateSample(sample({ arm: 'canary' }), config, p, { releaseKey: 'r1' });
    expect(r.paired?.outcome).toBe('canary'); // the canary cites, the stable answer does not
    const prefCalls = (p.model as ReturnType<typeof fakeModel>).calls.filter((c) => c.toolConfig.toolChoice.tool.name === PREFERENCE_TOOL);
    expect(prefCalls).toHaveLength(2);
    expect(prefCalls[0].messages[0].content[0].text).toContain('<answer_a>\nOpen Settings');
    expect(prefCalls[1].messages[0].content[0].text).toContain('<answer_b>\nOpen Settings');
  });

  test('a pair-only canary sample (drawn by paired.samplingRate alone) is compared, never scored, and its pair is charged to the release', async () => {
    const p = ports({
      shadow: { answer: async (_s, arm) => ({ answer: arm === 'canary' ? 'Open Settings, then Security [p1].' : 'Contact support.', costUsd: 0.001 }) },
    });
    const paired: EvaluationConfig = { ...config, paired: { samplingRate: 0.3 } };
    const r = await evaluateSample(sample({ arm: 'canary', pairOnly: true, sampledAt: 0.3 }), paired, p, { releaseKey: 'r1' });
    const calls = (p.model as ReturnType<typeof fakeModel>).calls.map((c) => c.toolConfig.toolChoice.tool.name);
    expect(calls).toEqual([PREFERENCE_TOOL, PREFERENCE_TOOL]);
    expect(r.scores).toEqual([]); // no rubric scores and no deterministic ones: the score tests keep the scoring sampler's counts
    expect(r.paired?.outcome).toBe('canary');
    expect(r.costUsd).toBeGreaterThan(0.002); // two shadow answers and two preference calls
    const ledger = (p.ledger as ReturnType<typeof memoryLedger>).value();
    expect(JSON.stringify(ledger)).toContain('r1');
  });

  test('a pair-only sample that is not a canary (the code plane draws every answer at the pairing rate) is dropped before any spend', async () => {
    let shadowCalls = 0;
    const ledger = memoryLedger();
    const p = ports({
      ledger,
      shadow: { answer: async () => (shadowCalls++, { answer: 'x', costUsd: 0 }), isCodeCanary: async () => false },
    });
    const r = await evaluateSample(sample({ arm: 'stable', pairOnly: true, sampledAt: 0.3 }), { ...config, paired: { samplingRate: 0.3 } }, p, {});
    expect(r.dropped).toBe('not-a-canary');
    expect(shadowCalls).toBe(0);
    expect((p.model as ReturnType<typeof fakeModel>).calls).toHaveLength(0);
    expect(ledger.writes).toBe(0);
    // the same sample while its version is the code canary (the alias routes it a weight) is paired
    const q = ports({ shadow: { answer: async () => ({ answer: 'x [p1]', costUsd: 0 }), isCodeCanary: async () => true } });
    const c = await evaluateSample(sample({ arm: 'stable', pairOnly: true, sampledAt: 0.3 }), { ...config, paired: { samplingRate: 0.3 } }, q, {});
    expect(c.dropped).toBeUndefined();
    expect(c.paired).toBeDefined();
  });

  test('paired: false turns pairs off, pair-only samples included', async () => {
    const p = ports({ shadow: { answer: async () => ({ answer: 'x', costUsd: 0 }) } });
    const r = await evaluateSample(sample({ arm: 'canary', pairOnly: true }), { ...config, paired: false }, p, {});
    expect(r.dropped).toBe('not-a-canary');
  });

  test('a stable-arm sample gets no shadow call', async () => {
    let shadowCalls = 0;
    const p = ports({ shadow: { answer: async () => (shadowCalls++, { answer: 'x', costUsd: 0 }) } });
    await evaluateSample(sample({ arm: 'stable' }), config, p, { releaseKey: 'r1' });
    expect(shadowCalls).toBe(0);
  });

  test('a position-biased evaluator (first answer 70 %) makes ties, never a lean: 2,000 pairs', async () => {
    let seed = 7;
    const r = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const p = ports({
      model: fakeModel({ firstBias: () => r() < 0.7 }),
      shadow: { answer: async () => ({ answer: 'Open Settings, then Security [p1].', costUsd: 0 }) },
    });
    const counts = { canary: 0, stable: 0, tie: 0 };
    const big: EvaluationConfig = { ...config, budget: { perReleaseUsd: 1e6, perDayUsd: 1e6 } };
    for (let i = 0; i < 2000; i++) {
      const res = await evaluateSample(sample({ arm: 'canary', sampleId: `s${i}`, caseId: `c${i}` }), big, p, { releaseKey: 'r1' });
      if (res.paired) counts[res.paired.outcome]++;
    }
    // P(win) = P(loss) = 0.7 × 0.3 = 0.21: the difference is noise (sd of the difference ≈ 29 over 2,000 pairs)
    expect(Math.abs(counts.canary - counts.stable)).toBeLessThan(120);
    expect(counts.tie / 2000).toBeGreaterThan(0.5);
  });

  test('the budget is never exceeded, with 60 evaluators racing on one ledger', async () => {
    const ledger = memoryLedger();
    const tight: EvaluationConfig = { ...config, budget: { perReleaseUsd: 0.05, perDayUsd: 1 } };
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => evaluateSample(sample({ sampleId: `s${i}` }), tight, ports({ ledger }), { releaseKey: 'r1' })),
    );
    const spent = results.reduce((s, r) => s + r.costUsd, 0);
    expect(spent).toBeLessThanOrEqual(0.05);
    expect(ledger.value()?.releases.r1.spentUsd).toBeCloseTo(spent, 9);
    const skipped = results.filter((r) => r.skipped === 'budget-release');
    expect(skipped.length).toBeGreaterThan(0); // the cap bit: first by the throttle, both arms at one falling rate
    expect(ledger.value()?.releases.r1).toMatchObject({ throttledBy: 'release' });
    expect(ledger.value()?.releases.r1.lowestRate).toBeLessThan(1);
    for (const s of skipped) expect(s.costUsd).toBe(0);
  });
});
