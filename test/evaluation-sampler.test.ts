import { armSamplingRate, buildEvaluationSample, pairingDraw, SAMPLE_MAX_CHARS, sampleUnit, shouldSample } from '../lambda/runtime/evaluation-sampler';
import { EVALUATION_SAMPLE_TYPE } from '../lambda/shared/evaluation';
import { MUST_REDACT, MUST_REDACT_NEW } from './pii-corpus';

describe('evaluation sampling rates', () => {
  test.each([
    [0.05, 'stable', undefined, 0.05],
    [0.05, 'canary', 0.1, 0.25],
    [0.05, 'stable', 0.1, 0.05 / 1.8],
    [0.05, 'canary', 0.5, 0.05],
    [0.5, 'canary', 0.1, 1], // capped
    [0.05, 'canary', 1, 0.05], // full traffic: no control to balance against
    [0, 'canary', 0.1, 0],
  ] as const)('base %d, %s arm, share %s → %d', (base, arm, share, rate) => expect(armSamplingRate(base, arm, share)).toBeCloseTo(rate, 12));

  test('a rate outside 0..1 is refused with the field', () =>
    expect(() => armSamplingRate(1.5, 'stable', undefined)).toThrow(/evaluation.samplingRate must be between 0 and 1/));

  test('at a 10 % canary both arms give comparable sample counts over 100,000 requests, and the total stays at the base rate', () => {
    const share = 0.1;
    const base = 0.05;
    const counts = { canary: 0, stable: 0 };
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const requestId = `req-${i}`;
      // the alias routes independently of the sampling hash: take the routing from another hash of the id
      const arm = sampleUnit(`route-${requestId}`) < share ? 'canary' : 'stable';
      if (shouldSample(requestId, armSamplingRate(base, arm, share))) counts[arm]++;
    }
    expect(counts.canary / counts.stable).toBeGreaterThan(0.85);
    expect(counts.canary / counts.stable).toBeLessThan(1.15);
    expect((counts.canary + counts.stable) / n).toBeGreaterThan(base * 0.9);
    expect((counts.canary + counts.stable) / n).toBeLessThan(base * 1.1);
  });

  test('the decision is a function of the request id (a redelivered request decides the same)', () => {
    for (let i = 0; i < 100; i++) expect(shouldSample(`r${i}`, 0.3)).toBe(shouldSample(`r${i}`, 0.3));
    expect(shouldSample('anything', 0)).toBe(false);
  });
});

describe('the evaluation sample', () => {
  const answer = {
    service: 'support',
    requestId: 'r-1',
    time: new Date('2026-12-07T00:00:00Z'),
    tuple: {
      service: 'support',
      codeVersion: '7',
      config: 'c-1',
      prompt: 'p-1',
      model: 'm-1',
      retrieval: 'r-1',
      tools: 't-1',
      outputContract: 'o-1',
      degrade: 'd-1',
    },
    functionVersion: '7',
    arm: 'canary' as const,
    conversationId: 'conv-42',
    input: 'How do I reset my password?',
    answer: 'Open Settings [p1].',
    passages: [{ id: 'p1', text: 'Passwords are reset under Settings > Security.' }],
    citations: ['p1'],
    toolCalls: [{ name: 'lookupOrder', args: { id: 1 } } as { name: string }],
    stopReason: 'end_turn',
    inputTokens: 120,
    outputTokens: 12,
  };

  test('keeps ids and hashes, never passage texts, tool arguments or the raw conversation id', () => {
    const s = buildEvaluationSample(answer, 0.25);
    expect(s.type).toBe(EVALUATION_SAMPLE_TYPE);
    expect(s.passages).toEqual([{ id: 'p1', textHash: expect.stringMatching(/^[0-9a-f]{16}$/) }]);
    expect(JSON.stringify(s)).not.toContain('Settings > Security');
    expect(JSON.stringify(s)).not.toContain('conv-42');
    expect(s.toolCalls).toEqual([{ name: 'lookupOrder' }]);
    expect(s.sampledAt).toBe(0.25);
    expect(s.caseId).toMatch(/^[0-9a-f]{32}$/);
  });

  test('one input gives one case id, whatever its spacing (the regression set folds them)', () => {
    const a = buildEvaluationSample({ ...answer, input: 'How do I  reset my password? ' }, 1);
    const b = buildEvaluationSample(answer, 1);
    expect(a.caseId).toBe(b.caseId);
  });

  test.each([...MUST_REDACT, ...MUST_REDACT_NEW].map(([text, secret, marker]) => [marker, text, secret]))(
    'redacts %s from input and answer: %s',
    (marker, text, secret) => {
      const s = buildEvaluationSample({ ...answer, input: `question: ${text}`, answer: `answer: ${text}` }, 1);
      expect(s.input).not.toContain(secret);
      expect(s.answer).not.toContain(secret);
      expect(s.input).toContain(`[REDACTED:${marker}`);
    },
  );

  test('long inputs and answers are cut to SAMPLE_MAX_CHARS', () => {
    const s = buildEvaluationSample({ ...answer, input: 'x'.repeat(100_000), answer: 'y'.repeat(100_000) }, 1);
    expect(s.input.length).toBeLessThanOrEqual(SAMPLE_MAX_CHARS);
    expect(s.answer.length).toBeLessThanOrEqual(SAMPLE_MAX_CHARS);
  });
});

describe('the release-time pairing rate (evaluation.paired.samplingRate)', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);
  const count = (f: (id: string) => ReturnType<typeof pairingDraw>) => {
    const c = { scored: 0, pairOnly: 0 };
    for (const id of ids) {
      const d = f(id);
      if (d?.pairOnly) c.pairOnly++;
      else if (d) c.scored++;
    }
    return c;
  };

  test('a config canary is drawn at the pairing rate; scoring keeps its own rate and the scored ones are the same as without pairs', () => {
    // share 0.5: the canary's scoring rate is 0.02 / (2 × 0.5) = 0.02; pairs at 0.3
    const c = count((id) => pairingDraw(id, 0.02, 0.3, 'canary', 0.5));
    expect(c.scored / ids.length).toBeGreaterThan(0.015);
    expect(c.scored / ids.length).toBeLessThan(0.025);
    expect((c.scored + c.pairOnly) / ids.length).toBeGreaterThan(0.28);
    expect((c.scored + c.pairOnly) / ids.length).toBeLessThan(0.32);
    for (const id of ids.slice(0, 2000))
      expect(pairingDraw(id, 0.02, 0.3, 'canary', 0.5)?.pairOnly === undefined && pairingDraw(id, 0.02, 0.3, 'canary', 0.5) !== undefined).toBe(
        shouldSample(id, 0.02),
      );
  });

  test('the config stable arm during a release is never drawn for pairs (only canary answers are paired)', () => {
    const c = count((id) => pairingDraw(id, 0.02 / 1.8, 0.3, 'stable', 0.1));
    expect(c.pairOnly).toBe(0);
    expect(c.scored).toBeGreaterThan(0);
  });

  test('outside a config release (code plane: the runtime cannot tell its canary) every answer is drawn at the pairing rate, marked pair-only', () => {
    const c = count((id) => pairingDraw(id, 0.02, 0.3, 'stable', undefined));
    expect(c.pairOnly / ids.length).toBeGreaterThan(0.26);
    expect(c.pairOnly / ids.length).toBeLessThan(0.3);
    const d = ids.map((id) => pairingDraw(id, 0.02, 0.3, 'stable', undefined)).find((x) => x?.pairOnly);
    expect(d).toEqual({ rate: 0.3, pairOnly: true });
  });

  test('a pairing rate at or below the scoring rate draws nothing more (paired: true)', () => {
    expect(count((id) => pairingDraw(id, 0.05, 0.05, 'canary', 0.5)).pairOnly).toBe(0);
    expect(count((id) => pairingDraw(id, 0.05, 0, 'stable', undefined)).pairOnly).toBe(0);
  });

  test('a pairing rate outside 0..1 is refused with the field', () =>
    expect(() => pairingDraw('r', 0.02, 1.2, 'canary', 0.5)).toThrow(/evaluation.paired.samplingRate must be between 0 and 1/));
});

describe("the config plane's own pairing rate (evaluation.paired.configSamplingRate, h12-pairplane)", () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);
  const drawn = (f: (id: string) => ReturnType<typeof pairingDraw>) => {
    let scored = 0;
    let pairOnly = 0;
    for (const id of ids) {
      const d = f(id);
      if (d?.pairOnly) pairOnly++;
      else if (d) scored++;
    }
    return { scored, pairOnly, all: (scored + pairOnly) / ids.length };
  };
  // Code plane 0.1, config canary 0.2 (the example's), scoring 0.005 (the config canary's scoring rate at share s is
  // armSamplingRate's; a plain 0.005 keeps the rows about the pairing rate).
  test.each([
    ['the config canary (share known, arm canary) draws at the config rate', 'canary', 0.5, true, 0.2],
    ['the config canary at a 10 % share, the same', 'canary', 0.1, true, 0.2],
    ['the stable arm of a config release draws no pairs', 'stable', 0.5, true, 0.005],
    ['the code plane (no share) keeps paired.samplingRate', 'stable', undefined, true, 0.1],
    ['the code plane, this version not the announced canary: scoring only', 'stable', undefined, false, 0.005],
  ] as const)('%s', (_name, arm, share, codePairs, rate) => {
    const c = drawn((id) => pairingDraw(id, 0.005, 0.1, arm, share, codePairs, 0.2));
    expect(c.all).toBeGreaterThan(rate * 0.9);
    expect(c.all).toBeLessThan(rate * 1.1);
    if (rate === 0.005) expect(c.pairOnly).toBe(0);
    else expect(ids.map((id) => pairingDraw(id, 0.005, 0.1, arm, share, codePairs, 0.2)).find((x) => x?.pairOnly)).toEqual({ rate, pairOnly: true });
  });

  test('left out, the config canary pairs at paired.samplingRate (the default), and the scored answers never change', () => {
    for (const id of ids.slice(0, 3000)) {
      expect(pairingDraw(id, 0.005, 0.1, 'canary', 0.5)).toEqual(pairingDraw(id, 0.005, 0.1, 'canary', 0.5, true, 0.1));
      const a = pairingDraw(id, 0.005, 0.1, 'canary', 0.5, true, 0.2);
      if (shouldSample(id, 0.005)) expect(a).toEqual({ rate: 0.005 });
      else expect(a?.rate ?? 0.2).toBe(0.2);
    }
  });

  test('a config pairing rate outside 0..1 is refused with its field', () =>
    expect(() => pairingDraw('r', 0.02, 0.1, 'canary', 0.5, true, 1.5)).toThrow(/evaluation.paired.configSamplingRate must be between 0 and 1/));
});
