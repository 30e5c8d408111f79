/**
 * Evaluation samples, failure records and the EMF document survive every log level (issue 17 B, h8-loglevel): with
 * POWERTOOLS_LOG_LEVEL (Powertools' Logger filter) and with Lambda's advanced logging controls (AWS_LAMBDA_LOG_LEVEL,
 * which Powertools also obeys, and Lambda's own filter of the JSON lines, modelled from its documentation in
 * test/lambda-log-filter.ts). The real runtime and the real Powertools adapter write; the lines are read back by the
 * subscription filter's pattern and the snapshot and evaluator handlers' own parsers. Ordinary lines keep being
 * filtered: the runtime must not flood a log group whose owner asked for WARN.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { validateSample } from '../lambda/evaluator/delivery';
import { AiRuntime, type AiHandler, PowertoolsTelemetry } from '../lambda/runtime';
import { type LambdaLogLevel, levelRank } from '../lambda/runtime/record-level';
import { FAILURE_RECORD_TYPE, type FailureRecord } from '../lambda/shared/contract';
import { parseCheckMessage } from '../lambda/canary-judge/check-lines';
import { CHECK_RESULT_TYPE, EVALUATION_SAMPLE_TYPE, type EvaluationConfig } from '../lambda/shared/evaluation';
import { caseIdOf, normalizeRecordFields, validateRecord } from '../lambda/snapshot/cases';
import { extractRecord } from '../lambda/snapshot/snapshot';
import { lambdaKeeps, lambdaLevelOf, linesOf } from './lambda-log-filter';
import { FakeConfig, NO_FLAGS, releaseDoc } from './runtime-fixtures';

const evaluation: EvaluationConfig = {
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [{ criterion: 'relevance', instructions: 'Answers the question asked.', floor: 3 }],
  samplingRate: 1,
  budget: { perReleaseUsd: 1e6, perDayUsd: 1e6 },
};

type In = { question: string };
type Out = { answer: string };

function capture(fn: () => Promise<void>): Promise<string> {
  const out: string[] = [];
  const grab = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
  return fn().then(
    () => {
      for (const s of spies) s.mockRestore();
      return out.join('');
    },
    (e) => {
      for (const s of spies) s.mockRestore();
      throw e;
    },
  );
}

const LEVEL_KEYS = ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL'] as const;
let saved: Record<string, string | undefined> = {};
beforeEach(() => {
  saved = Object.fromEntries(LEVEL_KEYS.map((k) => [k, process.env[k]]));
  for (const k of LEVEL_KEYS) delete process.env[k];
});
afterEach(() => {
  for (const k of LEVEL_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  jest.restoreAllMocks();
});

interface Written {
  /** Every line written, as Lambda receives them. */
  readonly lines: readonly string[];
  readonly sample: string[];
  readonly failure: string[];
  readonly emf: string[];
  /** The runtime's check-result lines (h9-checks). */
  readonly checks: string[];
  /** Ordinary lines a handler writes through the runtime's Logger, and the runtime's own warning. */
  readonly ordinary: { readonly debug: string[]; readonly info: string[]; readonly warn: string[] };
}

/**
 * One sampled answer and one failing invocation through the real runtime and the adapter (its own Logger, or the
 * caller's), plus one ordinary line per level, with the process environment set before the adapter is built (the
 * Logger reads its level at construction, as in a Lambda execution environment).
 */
async function run(env: Record<string, string>, options: { ownLogger?: boolean } = {}): Promise<Written> {
  Object.assign(process.env, env);
  const telemetry = new PowertoolsTelemetry('support-assistant', options.ownLogger ? { logger: new Logger({ serviceName: 'support-assistant' }) } : {});
  const rt = new AiRuntime<In, Out>({
    service: 'support-assistant',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: new FakeConfig({ rel: releaseDoc({ evaluation } as never), deg: NO_FLAGS }),
    telemetry,
    codeVersion: '12',
    defaultTimeoutMs: 30_000,
    timeoutMarginMs: 0,
  });
  const ok: AiHandler<In, Out> = async () => ({ output: { answer: 'Open the bin.' }, usage: { inputTokens: 100, outputTokens: 10, modelId: 'primary-model' } });
  const bad: AiHandler<In, Out> = async () => {
    throw new Error('model timed out');
  };
  const out = await capture(async () => {
    await rt.invoke(ok, { question: 'How do I restore a file?' }, { awsRequestId: '3f2b8c1e-9a4d-4e6f-8b2a-000000000001' });
    await rt.invoke(bad, { question: 'Why is my bill so high?' }, { awsRequestId: '3f2b8c1e-9a4d-4e6f-8b2a-000000000002' }).catch(() => undefined);
    telemetry.logger.debug('ordinary debug line');
    telemetry.logger.info('ordinary info line');
    telemetry.warn('ordinary warning');
  });
  const lines = linesOf(out);
  const of = (pred: (o: Record<string, unknown>) => boolean) =>
    lines.filter((l) => {
      try {
        return pred(JSON.parse(l));
      } catch {
        return false;
      }
    });
  return {
    lines,
    sample: of((o) => o.type === EVALUATION_SAMPLE_TYPE),
    failure: of((o) => o.type === FAILURE_RECORD_TYPE),
    emf: of((o) => o._aws !== undefined),
    checks: of((o) => o.type === CHECK_RESULT_TYPE),
    ordinary: {
      debug: of((o) => o.message === 'ordinary debug line'),
      info: of((o) => o.message === 'ordinary info line'),
      warn: of((o) => o.message === 'ordinary warning'),
    },
  };
}

/** What the subscription filter `{ $.type = "<type>" }` matches: a JSON log event whose top-level `type` is it. */
const filterMatches = (line: string, type: string) => (JSON.parse(line) as { type?: unknown }).type === type;

/** The line read back as the snapshot function reads it (extract, normalize, validate, case id). */
function snapshotReads(line: string): string | undefined {
  const raw = extractRecord(line);
  const problem = raw === undefined ? 'not a JSON log line' : validateRecord(raw);
  if (problem) return problem;
  const r = normalizeRecordFields(raw as Record<string, unknown>) as { service: string; input: string };
  caseIdOf(r.service, r.input);
  return undefined;
}

/** The records arrive whole and readable: written once each, kept by Lambda at `alc`, matched, parsed. */
function expectRecordsArrive(w: Written, alc: LambdaLogLevel | undefined): void {
  // One check-result line: the answered invocation's (the failed one has no answer to check).
  expect({ samples: w.sample.length, failures: w.failure.length, emf: w.emf.length, checks: w.checks.length }).toEqual({
    samples: 1,
    failures: 1,
    emf: 2,
    checks: 1,
  });
  expect(parseCheckMessage(w.checks[0])?.scores).toEqual({ 'citation-validity': 1, 'refusal-phrase': 1, 'language-match': 1 });
  for (const line of [...w.sample, ...w.failure, ...w.emf, ...w.checks])
    expect({ line: line.slice(0, 60), kept: lambdaKeeps(line, alc) }).toEqual({ line: line.slice(0, 60), kept: true });
  expect(filterMatches(w.sample[0], EVALUATION_SAMPLE_TYPE)).toBe(true);
  expect(filterMatches(w.failure[0], FAILURE_RECORD_TYPE)).toBe(true);
  expect(validateSample(extractRecord(w.sample[0]))).toBeUndefined();
  expect(snapshotReads(w.failure[0])).toBeUndefined();
  // The record body the handlers parse is the one the runtime always wrote: same keys at every level.
  const sample = JSON.parse(w.sample[0]);
  expect(sample.message).toBe('AI evaluation sample');
  expect(sample.answer).toContain('Open the bin.');
  const failure = JSON.parse(w.failure[0]);
  expect(failure.message).toBe('AI failure: error');
  expect(failure.kinds).toEqual(['error']);
}

/** What arrives of the ordinary lines: exactly the ones at or above `level`. */
function expectOrdinaryFiltered(w: Written, level: LambdaLogLevel, alc: LambdaLogLevel | undefined): void {
  const arrived = (lines: string[]) => lines.filter((l) => lambdaKeeps(l, alc)).length;
  const want = (at: LambdaLogLevel) => (levelRank(at) >= levelRank(level) ? 1 : 0);
  expect({ debug: arrived(w.ordinary.debug), info: arrived(w.ordinary.info), warn: arrived(w.ordinary.warn) }).toEqual({
    debug: want('DEBUG'),
    info: want('INFO'),
    warn: want('WARN'),
  });
}

describe('records at every POWERTOOLS_LOG_LEVEL (no ALC: Lambda filters nothing)', () => {
  test.each<[string, LambdaLogLevel]>([
    ['DEBUG', 'DEBUG'],
    ['INFO', 'INFO'],
    ['WARN', 'WARN'],
    ['ERROR', 'ERROR'],
    ['CRITICAL', 'FATAL'],
  ])('POWERTOOLS_LOG_LEVEL=%s: sample, failure record and EMF written and parsed; ordinary lines filtered', async (setting, level) => {
    const w = await run({ POWERTOOLS_LOG_LEVEL: setting });
    expectRecordsArrive(w, undefined);
    expectOrdinaryFiltered(w, level, undefined);
    // The record keeps its own level: nothing upstream filters it, so it does not claim to be an error.
    expect([lambdaLevelOf(w.sample[0]), lambdaLevelOf(w.failure[0])]).toEqual(['INFO', 'WARN']);
  });

  test('LOG_LEVEL=ERROR (the alias Powertools reads) and SILENT: the records are still written', async () => {
    expectRecordsArrive(await run({ LOG_LEVEL: 'ERROR' }), undefined);
    const silent = await run({ POWERTOOLS_LOG_LEVEL: 'SILENT' });
    expectRecordsArrive(silent, undefined);
    expect(silent.lines.length).toBe(5); // the records, the two EMF documents and the check line, nothing else
  });
});

describe("records at every ALC application log level (AWS_LAMBDA_LOG_LEVEL; Lambda's filter applied)", () => {
  test.each<LambdaLogLevel>(['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'])(
    'ALC %s: every record line carries a level Lambda keeps and arrives parsed; ordinary lines filtered',
    async (alc) => {
      const w = await run({ AWS_LAMBDA_LOG_LEVEL: alc });
      expectRecordsArrive(w, alc);
      expectOrdinaryFiltered(w, levelRank(alc) < levelRank('INFO') ? alc : alc, alc);
      const expected = (min: LambdaLogLevel) => (levelRank(alc) > levelRank(min) ? alc : min);
      expect([lambdaLevelOf(w.sample[0]), lambdaLevelOf(w.failure[0])]).toEqual([expected('INFO'), expected('WARN')]);
      // EMF: Powertools' own bytes up to INFO (no level key); above it, the level ALC keeps.
      for (const e of w.emf) expect(JSON.parse(e).level).toBe(levelRank(alc) > levelRank('INFO') ? alc : undefined);
    },
  );

  test('ALC ERROR with POWERTOOLS_LOG_LEVEL=DEBUG (Powertools obeys ALC first): records arrive, debug and info do not', async () => {
    const w = await run({ AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    expectRecordsArrive(w, 'ERROR');
    expectOrdinaryFiltered(w, 'ERROR', 'ERROR');
  });

  test('before the fix, at ALC WARN: a sample at INFO and EMF without a level are what Lambda drops (the model is not vacuous)', () => {
    const ts = '2026-12-07T13:51:54.000Z';
    expect(lambdaKeeps(JSON.stringify({ level: 'INFO', timestamp: ts, type: EVALUATION_SAMPLE_TYPE }), 'WARN')).toBe(false);
    expect(lambdaKeeps(JSON.stringify({ _aws: { Timestamp: 0 }, Invocations: 1 }), 'WARN')).toBe(false);
    expect(lambdaKeeps(JSON.stringify({ level: 'WARN', type: FAILURE_RECORD_TYPE }), 'WARN')).toBe(false); // no timestamp: INFO
    expect(lambdaKeeps(JSON.stringify({ level: 'CRITICAL', timestamp: ts }), 'FATAL')).toBe(false); // not a Lambda level
    expect(lambdaKeeps(JSON.stringify({ level: 'warn', timestamp: ts }), 'WARN')).toBe(true);
  });
});

describe("a caller's own Logger (options.logger): through its API, at its level when higher", () => {
  test.each<[Record<string, string>, LambdaLogLevel | undefined]>([
    [{ POWERTOOLS_LOG_LEVEL: 'WARN' }, undefined],
    [{ POWERTOOLS_LOG_LEVEL: 'ERROR' }, undefined],
    [{ AWS_LAMBDA_LOG_LEVEL: 'WARN' }, 'WARN'],
    [{ AWS_LAMBDA_LOG_LEVEL: 'ERROR' }, 'ERROR'],
  ])('%j: the records arrive', async (env, alc) => {
    const w = await run(env, { ownLogger: true });
    expectRecordsArrive(w, alc);
  });

  test('ALC FATAL: Powertools writes its CRITICAL, which Lambda does not know: the records are lost (the release policy warns)', async () => {
    const w = await run({ AWS_LAMBDA_LOG_LEVEL: 'FATAL' }, { ownLogger: true });
    expect(w.sample.length + w.failure.length).toBe(2);
    expect([...w.sample, ...w.failure].map((l) => [JSON.parse(l).level, lambdaKeeps(l, 'FATAL')])).toEqual([
      ['CRITICAL', false],
      ['CRITICAL', false],
    ]);
  });

  test('POWERTOOLS_LOG_LEVEL=SILENT: the Logger writes nothing, the records neither (the release policy warns)', async () => {
    const w = await run({ POWERTOOLS_LOG_LEVEL: 'SILENT' }, { ownLogger: true });
    expect(w.sample.length + w.failure.length).toBe(0);
  });
});

describe('the failure record line, now written directly: the bytes logger.warn (or the ALC level) writes', () => {
  const record: FailureRecord = {
    type: FAILURE_RECORD_TYPE,
    schemaVersion: 1,
    kind: 'contract',
    kinds: ['contract', 'quality'],
    service: 'support-assistant',
    requestId: 'req-1',
    time: '2026-12-07T13:51:54.000Z',
    tuple: {
      service: 'support-assistant',
      codeVersion: '42',
      config: 'c',
      prompt: '7',
      model: 'm',
      retrieval: 'r',
      tools: 't',
      outputContract: '2',
      degrade: 'd',
    },
    measurements: { latencyMs: 812, inputTokens: 850, outputTokens: 40, costUsd: 0.0012, qualityScore: 0.2 },
    input: '{"question":"say \\"hi\\" \\u2028 😀"}',
    output: '',
    error: { name: 'ContractError', message: 'answer: must be string' },
    details: ['answer: must be string'],
    truncated: false,
  };
  beforeEach(() => jest.useFakeTimers({ now: 1_765_000_000_123, doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  test.each<[string, Record<string, string>]>([
    ['no level set', {}],
    ['POWERTOOLS_LOG_LEVEL=DEBUG', { POWERTOOLS_LOG_LEVEL: 'DEBUG' }],
    ['ALC WARN', { AWS_LAMBDA_LOG_LEVEL: 'WARN' }],
    ['ALC ERROR', { AWS_LAMBDA_LOG_LEVEL: 'ERROR' }],
  ])('%s: direct and through the Logger, byte for byte, and the Logger method was not called on the direct path', async (_n, env) => {
    Object.assign(process.env, env);
    const direct = new PowertoolsTelemetry('support-assistant');
    const api = new PowertoolsTelemetry('support-assistant', { direct: false });
    for (const t of [direct, api]) t.stamp(record.tuple, 'req-1');
    const spies = (['warn', 'error', 'critical'] as const).map((m) => jest.spyOn(direct.logger, m));
    const a = await capture(async () => direct.failure(record));
    const b = await capture(async () => api.failure(record));
    for (const s of spies) expect(s).not.toHaveBeenCalled();
    expect(a).toBe(b);
    expect(snapshotReads(linesOf(a)[0])).toBeUndefined();
  });

  test('ALC FATAL: the direct line says FATAL where Powertools says CRITICAL; otherwise the same bytes', async () => {
    process.env.AWS_LAMBDA_LOG_LEVEL = 'FATAL';
    const a = await capture(async () => new PowertoolsTelemetry('support-assistant').failure(record));
    const b = await capture(async () => new PowertoolsTelemetry('support-assistant', { direct: false }).failure(record));
    expect(JSON.parse(a).level).toBe('FATAL');
    expect(a).toBe(b.replace('"level":"CRITICAL"', '"level":"FATAL"'));
  });
});
