/**
 * The deterministic checks on the request path (issue 17 A/E, h9-checks): the runtime's outcomes are the evaluator's
 * (same rules, held equal on a corpus), every answer (or `checkSamplingRate` of them) gets one compact check-result
 * line without input or answer text, the sample names the checks the runtime owns so the evaluator's result line leaves
 * them out (nothing counts twice), and the canary judge reads the lines into the same criteria of its family.
 */
import { checkResultsQuery, checkWindow, judgesChecks, parseCheckMessage } from '../lambda/canary-judge/check-lines';
import { ENGINE } from '../lambda/canary-judge/engine';
import { judgeEvaluations } from '../lambda/canary-judge/evaluations';
import type { QueryRow, Sides } from '../lambda/canary-judge/samples';
import {
  checkOutcomes,
  DEFAULT_REFUSAL_PHRASES,
  dominantScript,
  isRefusal,
  prepareChecks,
  refusalFilter,
  runDeterministicChecks,
} from '../lambda/evaluator/deterministic';
import type { EvaluationResult } from '../lambda/evaluator/evaluator';
import { evaluationResultLine } from '../lambda/evaluator/result-line';
import { validateSample } from '../lambda/evaluator/delivery';
import { mulberry32 } from '../lambda/judge/simulate';
import { type AiHandler, AiRuntime } from '../lambda/runtime';
import { checkDrawn, checkResultLine, runtimeChecksOf } from '../lambda/runtime/runtime-checks';
import { type ConfigAssignment, GATE_CLIENT_CONTEXT_KEY, type JudgeRecord } from '../lambda/shared/contract';
import {
  CHECK_RESULT_TYPE,
  type CheckResultLine,
  type DeterministicChecks,
  type EvaluationConfig,
  type EvaluationSample,
  runtimeOwnedChecks,
} from '../lambda/shared/evaluation';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

const SETTINGS: DeterministicChecks = { minChars: 5, maxChars: 40, forbiddenPatterns: ['internal use only', '\\bpassword\\s*[:=]'] };

describe('the runtime computes the checks exactly as the evaluator does', () => {
  const corpus: [string, { input: string; answer: string; passages: { id: string }[]; citations: string[] }][] = [
    ['all pass', { input: 'How do I reset?', answer: 'Open Settings [p1].', passages: [{ id: 'p1' }], citations: ['p1'] }],
    ['a citation not retrieved', { input: 'How?', answer: 'See [p9] and [p1].', passages: [{ id: 'p1' }], citations: ['p1', 'p9'] }],
    ['no citations at all', { input: 'How?', answer: 'Just do it.', passages: [], citations: [] }],
    ['a refusal (curly apostrophe)', { input: 'Help', answer: 'I can’t help with that.', passages: [], citations: [] }],
    ['asked in Japanese, answered in English', { input: 'パスワードを忘れました', answer: 'Open Settings.', passages: [], citations: [] }],
    ['asked in Chinese, answered in Japanese', { input: '我忘记了密码', answer: '設定を開いてください', passages: [], citations: [] }],
    ['too short', { input: 'Hi', answer: 'Ok', passages: [], citations: [] }],
    ['too long', { input: 'Hi', answer: 'x'.repeat(41), passages: [], citations: [] }],
    // 40 astral characters are 80 UTF-16 units but 40 characters: within bounds, as [...text].length counts.
    ['emoji counted as characters', { input: 'Hi', answer: '😀'.repeat(40), passages: [], citations: [] }],
    ['a forbidden pattern', { input: 'Hi', answer: 'For INTERNAL use only: no.', passages: [], citations: [] }],
    ['a second forbidden pattern', { input: 'Hi', answer: 'the password = hunter2', passages: [], citations: [] }],
  ];
  test.each(corpus)('%s', (_name, sample) => {
    for (const settings of [SETTINGS, {}, { citationValidity: false, languageMatch: false }]) {
      const asSampled = { ...sample, passages: sample.passages.map((p) => ({ ...p, textHash: 'h' })) };
      const evaluator = Object.fromEntries(runDeterministicChecks(asSampled, settings).map((s) => [s.criterion, s.score]));
      expect(checkOutcomes(prepareChecks(settings), sample)).toEqual(evaluator);
    }
  });
});

/** The language check's first implementation (h7): one global regular-expression count per script. */
const REFERENCE_SCRIPTS = [
  ['han', /\p{Script=Han}/gu],
  ['kana', /[\p{Script=Hiragana}\p{Script=Katakana}]/gu],
  ['hangul', /\p{Script=Hangul}/gu],
  ['cyrillic', /\p{Script=Cyrillic}/gu],
  ['arabic', /\p{Script=Arabic}/gu],
  ['greek', /\p{Script=Greek}/gu],
  ['devanagari', /\p{Script=Devanagari}/gu],
  ['thai', /\p{Script=Thai}/gu],
  ['latin', /\p{Script=Latin}/gu],
] as const;
function referenceScript(text: string): string | undefined {
  let best: string | undefined;
  let bestCount = 0;
  for (const [name, re] of REFERENCE_SCRIPTS) {
    const n = text.match(re)?.length ?? 0;
    if (name === 'kana' && n > 0) return 'kana';
    if (n > bestCount) {
      best = name;
      bestCount = n;
    }
  }
  return best;
}

describe('the one-pass language check and the refusal filter keep the rules they replace', () => {
  test('dominantScript equals the regular-expression count on fixed and random mixed-script texts', () => {
    const fixed = [
      '',
      '123 !?',
      'Hello',
      'Привет, world',
      'こんにちは世界',
      '世界和平',
      '안녕하세요 hi',
      'مرحبا',
      'Γειά σου',
      'नमस्ते',
      'สวัสดี',
      'Ünïcödé façade',
      '😀 ab 😀 cd',
      'ℌ𝔢𝔩𝔩𝔬 Ⓚ',
      'aб',
      'бa',
    ];
    for (const t of fixed) expect([t, dominantScript(t)]).toEqual([t, referenceScript(t)]);
    const alphabet = [...'abcXYZéñßabcПриветこんカナ漢字한글عربΓειάनमสวั0123 .,!?😀𝔢ǅﬁ\u0301\u200d'];
    const r = mulberry32(7);
    for (let k = 0; k < 3000; k++) {
      let t = '';
      const n = Math.floor(r() * 30);
      for (let i = 0; i < n; i++) t += alphabet[Math.floor(r() * alphabet.length)];
      expect([t, dominantScript(t)]).toEqual([t, referenceScript(t)]);
    }
  });

  test('the refusal filter lets every refusal through (no false negatives), and the outcome equals isRefusal', () => {
    const phrases = [...DEFAULT_REFUSAL_PHRASES, 'Je ne peux pas', 'nicht  möglich', 'a.b*c', '(no)'];
    const filter = refusalFilter(phrases);
    const answers = [
      'I CAN’T HELP WITH that.',
      "I can't\n\thelp   with that",
      'Sorry, I am unable to do this.',
      'je ne peux pas répondre',
      'Das ist nicht möglich.',
      'a.b*c appears',
      'say (no) now',
      'Open Settings and press Reset.',
      'I can help with that!',
      'acb',
    ];
    for (const a of answers) {
      if (isRefusal(a, phrases) !== undefined) expect([a, filter?.test(a)]).toEqual([a, true]);
      const p = prepareChecks({ refusalPhrases: phrases });
      expect([a, checkOutcomes(p, { input: 'q', answer: a, passages: [], citations: [] })['refusal-phrase']]).toEqual([a, isRefusal(a, phrases) ? 0 : 1]);
    }
    expect(refusalFilter([''])?.test('anything')).toBe(true);
    expect(refusalFilter([])).toBeUndefined();
  });
});

const evaluationBase: EvaluationConfig = {
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness', instructions: 'Supported by the passages.' }],
  samplingRate: 0.005,
  budget: { perReleaseUsd: 5, perDayUsd: 10 },
  deterministic: SETTINGS,
  // Every answer, so the per-answer tests below see a line for each; the default (a quarter) has a test of its own.
  checkSamplingRate: 1,
};

describe('the section owns the checks through checkSamplingRate', () => {
  test('default a quarter of the answers (DEFAULT_CHECK_SAMPLING_RATE); at 1 the runtime owns every enabled check and draws every answer', () => {
    const { checkSamplingRate: _omit, ...withoutRate } = evaluationBase;
    expect(runtimeChecksOf(withoutRate)?.rate).toBe(0.25);
    const c = runtimeChecksOf({ ...evaluationBase });
    expect(c?.rate).toBe(1);
    expect(c?.names).toEqual(['citation-validity', 'refusal-phrase', 'language-match', 'length', 'forbidden-pattern']);
    expect(runtimeOwnedChecks({ deterministic: { languageMatch: false } })).toEqual(['citation-validity', 'refusal-phrase']);
  });
  test('0 leaves the checks to the evaluator', () => {
    expect(runtimeChecksOf({ ...evaluationBase, checkSamplingRate: 0 })).toBeUndefined();
    expect(runtimeOwnedChecks({ checkSamplingRate: 0 })).toEqual([]);
  });
  test('a rate outside 0..1 is refused naming the field and the fix', () => {
    expect(() => runtimeChecksOf({ ...evaluationBase, checkSamplingRate: 1.5 })).toThrow(
      /evaluation\.checkSamplingRate must be a number from 0 to 1 \(got 1\.5\); 1 checks every answer/,
    );
  });
  test('the prepared checks are made once per section object', () => {
    const e = { ...evaluationBase };
    expect(runtimeChecksOf(e)).toBe(runtimeChecksOf(e));
  });
  test('below 1 the draw hashes the request id: the same request decides the same, the share is the rate', () => {
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (checkDrawn(`req-${i}`, 0.25)) n++;
    // Binomial(20,000, 0.25): sd 61; 5 sd either side.
    expect(Math.abs(n - 5000)).toBeLessThan(310);
    expect(checkDrawn('req-7', 0.25)).toBe(checkDrawn('req-7', 0.25));
    expect(checkDrawn('req-7', 0)).toBe(false);
  });
});

type In = { question: string };
type Out = { answer: string };

class CheckTelemetry extends RecordingTelemetry {
  public readonly lines: CheckResultLine[] = [];
  checks(line: CheckResultLine) {
    this.lines.push(line);
  }
}

function runtime(evaluation: EvaluationConfig | undefined) {
  const telemetry = new CheckTelemetry();
  let t = 1_000_000;
  const rt = new AiRuntime<In, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: new FakeConfig({ rel: evaluation ? releaseDoc({ evaluation } as never) : releaseDoc(), deg: NO_FLAGS }),
    telemetry,
    codeVersion: '12',
    now: () => (t += 5),
    defaultTimeoutMs: 30_000,
    timeoutMarginMs: 0,
  });
  return { rt, telemetry };
}

const SECRET = 'jane.doe@example.com';
const answer: AiHandler<In, Out> = async () => ({
  output: { answer: `Mail ${SECRET} [p1] [p7].` },
  usage: { inputTokens: 100, outputTokens: 10, modelId: 'primary-model' },
  evaluation: { answer: `Mail ${SECRET} [p1] [p7].`, passages: [{ id: 'p1', text: 'Settings > Security.' }], citations: ['p1', 'p7'] },
});

describe('the runtime writes one check-result line per answer', () => {
  test('every answer at the default rate: version, config label, cluster key, one 0/1 per check, no text', async () => {
    const { rt, telemetry } = runtime({ ...evaluationBase, samplingRate: 0 });
    for (let i = 0; i < 30; i++) await rt.handler(answer)({ question: `reset for ${SECRET}? ${i}` }, { awsRequestId: `req-${i}` });
    expect(telemetry.lines).toHaveLength(30);
    const line = telemetry.lines[0];
    expect(line).toMatchObject({ type: CHECK_RESULT_TYPE, service: 'svc', requestId: 'req-0', functionVersion: '12' });
    expect(line.config).toBe(telemetry.invocations[0].tuple.config);
    // p7 was cited but not retrieved; the answer is 31 characters, within 5..40.
    expect(line.scores).toEqual({ 'citation-validity': 0, 'refusal-phrase': 1, 'language-match': 1, length: 1, 'forbidden-pattern': 1 });
    expect(line.caseId).toBe(telemetry.invocations[0].m.caseId);
    expect(line.share).toBeUndefined();
    // Nothing of the input or the answer: no redaction needed.
    expect(JSON.stringify(telemetry.lines)).not.toMatch(/jane|reset|Mail/);
  });

  test('at checkSamplingRate 0.2 about a fifth of the answers are checked, each line saying its rate', async () => {
    const { rt, telemetry } = runtime({ ...evaluationBase, samplingRate: 0, checkSamplingRate: 0.2 });
    for (let i = 0; i < 1000; i++) await rt.handler(answer)({ question: `q${i}` }, { awsRequestId: `r-${i}` });
    // Binomial(1,000, 0.2): sd 12.6.
    expect(Math.abs(telemetry.lines.length - 200)).toBeLessThan(64);
    expect(telemetry.lines.every((l) => l.rate === 0.2)).toBe(true);
  });

  test('a scored sample names the checks the runtime owns; a pair-only one and one under checkSamplingRate 0 do not', async () => {
    const owned = runtime({ ...evaluationBase, samplingRate: 1 });
    await owned.rt.handler(answer)({ question: 'q' }, { awsRequestId: 'req-a' });
    expect(owned.telemetry.samples[0].runtimeChecks).toEqual(['citation-validity', 'refusal-phrase', 'language-match', 'length', 'forbidden-pattern']);
    const off = runtime({ ...evaluationBase, samplingRate: 1, checkSamplingRate: 0 });
    await off.rt.handler(answer)({ question: 'q' }, { awsRequestId: 'req-a' });
    expect(off.telemetry.lines).toHaveLength(0);
    expect(off.telemetry.samples[0].runtimeChecks).toBeUndefined();
    const pairOnly = runtime({ ...evaluationBase, samplingRate: 0, paired: { samplingRate: 1 } });
    await pairOnly.rt.handler(answer)({ question: 'q' }, { awsRequestId: 'req-a' });
    expect(pairOnly.telemetry.samples[0].pairOnly).toBe(true);
    expect(pairOnly.telemetry.samples[0].runtimeChecks).toBeUndefined();
  });

  test('no evaluation section, or a gate replay: no line', async () => {
    const none = runtime(undefined);
    await none.rt.handler(answer)({ question: 'q' }, { awsRequestId: 'req-a' });
    expect(none.telemetry.lines).toHaveLength(0);
    const gate = runtime({ ...evaluationBase });
    await gate.rt.handler(answer)(
      { question: 'q' },
      {
        awsRequestId: 'req-g',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:svc:gate',
        clientContext: { custom: { [GATE_CLIENT_CONTEXT_KEY]: '1' } },
      },
    );
    expect(gate.telemetry.lines).toHaveLength(0);
  });

  test('during a config release the line carries the hashed unit and the share (both arms checked at one rate)', async () => {
    const { rt, telemetry } = runtime({ ...evaluationBase, samplingRate: 0 });
    const assignment: ConfigAssignment = { arm: 'candidate', share: 0.1, releaseKey: 'config-e-3', unit: 'unit-1', unitKind: 'conversation' };
    await rt.invoke(answer, { question: 'q' }, { awsRequestId: 'r1' }, assignment);
    expect(telemetry.lines[0].share).toBe(0.1);
    expect(telemetry.lines[0].conversationId).toMatch(/^[0-9a-f]{32}$/);
    expect(telemetry.lines[0].conversationId).not.toContain('unit-1');
  });

  test('a check that throws (a telemetry that fails) never fails the answer', async () => {
    const { rt, telemetry } = runtime({ ...evaluationBase, samplingRate: 0 });
    telemetry.checks = () => {
      throw new Error('stdout closed');
    };
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(rt.handler(answer)({ question: 'q' }, { awsRequestId: 'r1' })).resolves.toEqual({ answer: `Mail ${SECRET} [p1] [p7].` });
      expect(spy.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/could not write the check results: stdout closed/);
    } finally {
      spy.mockRestore();
    }
  });
});

const sampleOf = (over: Partial<EvaluationSample>): EvaluationSample => ({
  type: 'ai-release.evaluation-sample',
  service: 'svc',
  sampleId: 's1',
  requestId: 'r1',
  time: '2026-12-07T10:00:00.000Z',
  tuple: { code: '12', config: '3', prompt: 'p', model: 'm', retrieval: 'r', tools: 't', outputContract: 'o' } as never,
  functionVersion: '12',
  arm: 'stable',
  caseId: 'c1',
  input: 'q',
  answer: 'a',
  passages: [],
  citations: [],
  toolCalls: [],
  inputTokens: 1,
  outputTokens: 1,
  sampledAt: 0.005,
  ...over,
});
const resultOf = (): EvaluationResult => ({
  sampleId: 's1',
  service: 'svc',
  arm: 'stable',
  functionVersion: '12',
  caseId: 'c1',
  scores: [
    { criterion: 'citation-validity', score: 0, reason: 'x', source: 'deterministic' },
    { criterion: 'language-match', score: 1, reason: 'x', source: 'deterministic' },
    { criterion: 'groundedness', score: 4, reason: 'x', source: 'model' },
  ],
  unscored: [],
  costUsd: 0.001,
  belowFloor: [],
});

describe('the evaluator leaves the checks the runtime owns out of its result line', () => {
  test('owned checks out, the others and the model scores in', () => {
    expect(evaluationResultLine(resultOf(), sampleOf({ runtimeChecks: ['citation-validity'] })).scores).toEqual({ 'language-match': 1, groundedness: 4 });
    expect(evaluationResultLine(resultOf(), sampleOf({})).scores).toEqual({ 'citation-validity': 0, 'language-match': 1, groundedness: 4 });
  });
  test('a sample whose runtimeChecks is not a list of names is refused, naming the field', () => {
    expect(validateSample(sampleOf({ runtimeChecks: 'all' as never }))).toBe('runtimeChecks is not a list of check names');
    expect(validateSample(sampleOf({ runtimeChecks: ['refusal-phrase'] }))).toBeUndefined();
  });
});

const START = Date.parse('2026-12-07T10:00:00.000Z');
const stamp = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
const rowOf = (line: CheckResultLine): QueryRow => [
  { field: '@timestamp', value: stamp(line.sampleAt + 20) },
  { field: '@message', value: JSON.stringify(line) },
];
const CODE: Sides = { plane: 'code', canary: '8', stable: '7' };

describe('the canary judge reads the check lines', () => {
  const line = (i: number, v: string, pass: 0 | 1, at = START + i * 100): CheckResultLine => ({
    type: CHECK_RESULT_TYPE,
    service: 'svc',
    requestId: `r${i}`,
    functionVersion: v,
    config: '3',
    sampleAt: at,
    scores: { 'citation-validity': pass, 'refusal-phrase': 1 },
  });

  test('the query filters its type, service and answer-time window; a bad service name is refused', () => {
    expect(checkResultsQuery('svc', 1000, 2000)).toContain(
      'filter type = "ai-release.check-result" and service = "svc" and sampleAt >= 1000 and sampleAt < 2000',
    );
    expect(() => checkResultsQuery('Svc!', 0, 1)).toThrow(/not a service name/);
    expect(judgesChecks(['groundedness', 'refusal-phrase'])).toBe(true);
    expect(judgesChecks(['groundedness'])).toBe(false);
    expect(parseCheckMessage('not json')).toBeUndefined();
  });

  test('sides by executed version, one observation per check, a re-delivered line once, late and foreign lines apart', () => {
    const lines = [line(0, '8', 0), line(1, '7', 1), line(2, '9', 1)];
    const rows = [...lines.map(rowOf), rowOf(lines[0])];
    const w = checkWindow(rows, START, START + 60_000, CODE, 10_000, START + 60_000);
    expect(w.scores.filter((s) => s.criterion === 'citation-validity').map((s) => [s.version, s.score])).toEqual([
      ['canary', 0],
      ['stable', 1],
    ]);
    expect([w.lines, w.unmatched, w.truncated]).toEqual([3, 1, false]);
    // Arrived after the cut: not read.
    expect(checkWindow(rows, START, START + 60_000, CODE, 10_000, START).lines).toBe(0);
  });

  test('at the row limit the window ends before the last answer time read', () => {
    const lines = [line(0, '8', 1), line(1, '7', 1), line(2, '8', 1, START + 100), line(3, '7', 1, START + 500)];
    const w = checkWindow(lines.map(rowOf), START, START + 60_000, CODE, 4);
    expect([w.truncated, w.until, w.lines]).toEqual([true, START + 500, 3]);
  });

  async function judge(canaryPass: number, seed: number) {
    // Code plane, 50 % canary, 5 answers/s for 20 minutes, every answer checked; no evaluator results at all.
    const r = mulberry32(seed);
    const lines: CheckResultLine[] = [];
    for (let i = 0, t = START; t < START + 20 * 60_000; i++, t += 200) {
      const canary = r() < 0.5;
      lines.push(line(i, canary ? '8' : '7', r() < (canary ? canaryPass : 0.95) ? 1 : 0, t));
    }
    let now = START;
    const visible = (from: number, to: number) => lines.filter((l) => l.sampleAt >= from && l.sampleAt < to && l.sampleAt + 5_000 <= now).map(rowOf);
    const checks = {
      async query(q: string) {
        const m = /sampleAt >= (\d+) and sampleAt < (\d+)/.exec(q);
        return visible(Number(m?.[1]), Number(m?.[2]));
      },
    };
    const evaluation = { criteria: ['groundedness', 'citation-validity', 'refusal-phrase'], paired: true };
    let record: JudgeRecord = {
      schemaVersion: 1,
      service: 'svc',
      plane: 'code',
      releaseKey: 'k',
      canary: '8',
      phase: 'canary',
      until: START,
      updates: 0,
      samples: { canary: 0, stable: 0 },
      verdict: 'continue',
      evidence: [],
      engine: ENGINE.newJudgeState({ alpha: 0.01, evaluation }),
    };
    for (let m = 1; m <= 20 && record.verdict !== 'regression'; m++) {
      now = START + m * 60_000;
      record = (
        await judgeEvaluations(
          { logs: { query: async () => [] }, samples: { query: async () => [] }, checks, engine: ENGINE, now: () => now },
          'svc',
          evaluation,
          CODE,
          START,
          record,
          now + 50_000,
        )
      ).record;
    }
    return record;
  }

  test('a citation-validity fall from 95 % to 80 % is caught from the check lines alone; the record counts them', async () => {
    const bad = await judge(0.8, 1);
    expect(bad.verdict).toBe('regression');
    const fired = (bad.evidence as { metric: string; eValue: number; threshold: number }[]).filter((e) => e.eValue >= e.threshold).map((e) => e.metric);
    expect(fired).toEqual(['evaluation:citation-validity']);
    expect(bad.evaluation?.checkLines).toBeGreaterThan(100);
    expect(bad.evaluation?.scores).toBe(2 * (bad.evaluation?.checkLines ?? 0));
  });

  test('a good release (95 % on both) is not rolled back over a few seeds', async () => {
    for (const seed of [2, 3, 4]) expect((await judge(0.95, seed)).verdict).not.toBe('regression');
  });
});

test('checkResultLine keeps the line compact: no share outside a release, the rate only below 1', () => {
  const c = runtimeChecksOf({ ...evaluationBase, checkSamplingRate: 1 });
  if (!c) throw new Error('no checks');
  const l = checkResultLine(c, {
    service: 'svc',
    requestId: 'r',
    at: 5,
    functionVersion: '1',
    config: '2',
    input: 'q',
    answer: 'fine answer',
    share: 1,
    unit: 'u',
  });
  expect(Object.keys(l)).toEqual(['type', 'service', 'requestId', 'functionVersion', 'config', 'sampleAt', 'scores']);
});
