import { AiRuntime, type AiHandler, PowertoolsTelemetry } from '../lambda/runtime';
import { FAILURE_RECORD_TYPE, LAMBDA_SYNC_RESPONSE_MAX_BYTES, METRIC } from '../lambda/shared/contract';
import { FakeConfig, NO_FLAGS, releaseDoc } from './runtime-fixtures';

/**
 * The fault corpus: whatever fails — the served config, the contract schema, what the handler returns or throws —
 * the invocation writes one EMF document with Invocations 1 and Errors 1 (so the alarms see it) and one failure
 * record. Asserted on the real Powertools output, as CloudWatch would receive it.
 */

type In = { question: string };
type Out = { answer: string };

interface Captured {
  emf: any[];
  records: any[];
  lines: any[];
}

async function capture(fn: () => Promise<unknown>): Promise<Captured & { result: PromiseSettledResult<unknown> }> {
  const chunks: string[] = [];
  const grab = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
  let result: PromiseSettledResult<unknown>;
  try {
    result = await fn().then(
      (value) => ({ status: 'fulfilled', value }) as const,
      (reason) => ({ status: 'rejected', reason }) as const,
    );
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  // Every line the runtime writes must be JSON (CloudWatch parses EMF per line).
  const lines = chunks
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  return { result, lines, emf: lines.filter((l) => l._aws), records: lines.filter((l) => l.type === FAILURE_RECORD_TYPE) };
}

function makeRuntime(content: Record<string, unknown>, degradedAnswer?: (i: In, e: Error) => Out) {
  const config = new FakeConfig(content);
  const rt = new AiRuntime<In, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config,
    telemetry: new PowertoolsTelemetry('svc'),
    codeVersion: '9',
    defaultTimeoutMs: 2000,
    timeoutMarginMs: 0,
    degradedAnswer,
  });
  return { rt, config };
}

const good: AiHandler<In, Out> = async () => ({ output: { answer: 'ok' }, usage: { inputTokens: 10, outputTokens: 5 }, quality: 0.9 });
const handlerReturning =
  (value: unknown): AiHandler<In, Out> =>
  async () =>
    value as never;
const handlerThrowing =
  (value: unknown): AiHandler<In, Out> =>
  async () => {
    throw value;
  };
const throwingMessage = Object.defineProperty(new Error('x'), 'message', {
  get() {
    throw new Error('message getter exploded');
  },
});
const nullProto = Object.create(null);

interface Fault {
  readonly name: string;
  /** The served release config (default: a good one). */
  readonly release?: unknown;
  readonly handler?: AiHandler<In, Out>;
  /** The invocation rejects with this (else it answers). */
  readonly rejects?: RegExp;
  readonly kind: string;
  /** Text the record's error message or details must contain. */
  readonly says: RegExp;
}

const faults: Fault[] = [
  { name: 'served config {}', release: {}, rejects: /InvalidConfigError|not usable/, kind: 'error', says: /prompt is missing/ },
  { name: 'served config null', release: null, rejects: /not usable/, kind: 'error', says: /the release config is null/ },
  { name: 'served config an array', release: [1], rejects: /not usable/, kind: 'error', says: /an array/ },
  {
    name: 'served config without the model section',
    release: { ...releaseDoc(), model: undefined },
    rejects: /not usable/,
    kind: 'error',
    says: /model is missing/,
  },
  {
    name: 'served config with prices as strings',
    release: releaseDoc({ model: { provider: 'bedrock', modelId: 'm', pricing: { inputPer1kTokensUsd: '0.1', outputPer1kTokensUsd: 0.2 } as never } }),
    rejects: /not usable/,
    kind: 'error',
    says: /model\.pricing\.inputPer1kTokensUsd is the string "0\.1"/,
  },
  {
    name: 'an output-contract schema that does not compile (unknown type)',
    release: releaseDoc({ outputContract: { schema: { type: 'strng' } } }),
    rejects: /not usable/,
    kind: 'error',
    says: /outputContract\.schema does not compile/,
  },
  {
    name: 'an output-contract schema that does not compile (dangling $ref)',
    release: releaseDoc({ outputContract: { schema: { $ref: '#/definitions/nope' } } }),
    rejects: /not usable/,
    kind: 'error',
    says: /outputContract\.schema does not compile: can't resolve reference/,
  },
  {
    name: 'the handler returns undefined',
    handler: handlerReturning(undefined),
    rejects: /AiResultError|returned undefined/,
    kind: 'error',
    says: /returned undefined/,
  },
  { name: 'the handler returns null', handler: handlerReturning(null), rejects: /returned null/, kind: 'error', says: /returned null/ },
  {
    name: 'the handler returns the bare output',
    handler: handlerReturning({ answer: 'x' }),
    rejects: /without an output key/,
    kind: 'error',
    says: /without an output key/,
  },
  {
    name: 'usage numbers as strings',
    handler: handlerReturning({ output: { answer: 'x' }, usage: { inputTokens: '12', outputTokens: 3 } }),
    kind: 'error',
    says: /usage\.inputTokens is the string "12"/,
  },
  {
    name: 'usage NaN',
    handler: handlerReturning({ output: { answer: 'x' }, usage: { inputTokens: 1, outputTokens: Number.NaN } }),
    kind: 'error',
    says: /usage\.outputTokens is NaN/,
  },
  {
    name: 'usage negative',
    handler: handlerReturning({ output: { answer: 'x' }, usage: { inputTokens: -5, outputTokens: 1 } }),
    kind: 'error',
    says: /usage\.inputTokens is -5/,
  },
  {
    name: 'quality out of range',
    handler: handlerReturning({ output: { answer: 'x' }, quality: 7 }),
    kind: 'error',
    says: /quality is 7; expected a number from 0 to 1/,
  },
  { name: 'a thrown Object.create(null)', handler: handlerThrowing(nullProto), rejects: /\{\}/, kind: 'error', says: /\{\}/ },
  {
    name: 'a thrown error whose message getter throws',
    handler: handlerThrowing(throwingMessage),
    rejects: /message that cannot be read/,
    kind: 'error',
    says: /message that cannot be read/,
  },
  { name: 'a thrown string', handler: handlerThrowing('plain string'), rejects: /plain string/, kind: 'error', says: /plain string/ },
  { name: 'a thrown undefined', handler: handlerThrowing(undefined), rejects: /undefined/, kind: 'error', says: /undefined/ },
  {
    name: 'a handler that throws synchronously',
    handler: (() => {
      throw new TypeError('sync boom');
    }) as AiHandler<In, Out>,
    rejects: /sync boom/,
    kind: 'error',
    says: /sync boom/,
  },
  {
    name: 'an output JSON cannot serialise (BigInt)',
    handler: handlerReturning({ output: { answer: 'x', n: BigInt(1) } }),
    kind: 'contract',
    says: /output cannot be serialised as JSON/,
  },
];

describe('fault corpus: every invocation is measured (Invocations, Errors) and recorded', () => {
  test.each(faults.map((f) => [f.name, f] as const))('%s', async (_name, f) => {
    const { rt } = makeRuntime({ rel: 'release' in f ? f.release : releaseDoc(), deg: NO_FLAGS });
    const { result, emf, records } = await capture(() => rt.invoke(f.handler ?? good, { question: 'q' }, { awsRequestId: 'r-1' }));
    if (f.rejects) {
      expect(result.status).toBe('rejected');
      const e = (result as PromiseRejectedResult).reason;
      expect(e).toBeInstanceOf(Error); // Lambda gets an Error, whatever was thrown
      expect(`${e.name}: ${e.message}`).toMatch(f.rejects);
    } else expect(result.status).toBe('fulfilled');
    expect(emf).toHaveLength(1);
    expect(emf[0][METRIC.INVOCATIONS]).toBe(1);
    if (f.kind === 'contract') expect(emf[0][METRIC.CONTRACT_VIOLATIONS]).toBe(1);
    else expect(emf[0][METRIC.ERRORS]).toBe(1);
    // metric values are numbers, never strings or null (CloudWatch drops an EMF document with a bad value)
    for (const m of emf[0]._aws.CloudWatchMetrics[0].Metrics) expect(Number.isFinite(emf[0][m.Name])).toBe(true);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: f.kind, requestId: 'r-1' });
    expect(`${records[0].error?.message ?? ''}\n${(records[0].details ?? []).join('\n')}`).toMatch(f.says);
  });

  test('the corpus covers every fault class of the issue', () => {
    const names = faults.map((f) => f.name).join('\n');
    for (const needle of [
      '{}',
      'null',
      'without the model',
      'does not compile',
      'returns undefined',
      'strings',
      'NaN',
      'negative',
      'Object.create(null)',
      'getter',
    ])
      expect(names).toContain(needle);
  });
});

describe('an unusable served config is treated like an unavailable one', () => {
  test('cold start with a degraded answer: served, counted as an error and as degraded', async () => {
    const { rt } = makeRuntime({ rel: {}, deg: NO_FLAGS }, () => ({ answer: 'later' }));
    const { result, emf, records } = await capture(() => rt.invoke(good, { question: 'q' }));
    expect(result).toEqual({ status: 'fulfilled', value: { answer: 'later' } });
    expect(emf[0]).toMatchObject({ [METRIC.ERRORS]: 1, [METRIC.DEGRADED]: 1, config: 'invalid' });
    expect(records[0].details).toEqual(['served the degraded answer']);
  });

  test('after a good version: the last good config answers, and every such invocation counts as an error', async () => {
    const { rt, config } = makeRuntime({ rel: releaseDoc(), deg: NO_FLAGS });
    await capture(() => rt.invoke(good, { question: 'q' }));
    (config.content as Record<string, unknown>).rel = { prompt: {} };
    let seen: string | undefined;
    const { result, emf, records } = await capture(() => rt.invoke(async (_i, ctx) => ((seen = ctx.config.model.modelId), good(_i, ctx)), { question: 'q' }));
    expect(result).toEqual({ status: 'fulfilled', value: { answer: 'ok' } });
    expect(seen).toBe('primary-model');
    expect(emf[0][METRIC.ERRORS]).toBe(1);
    expect(records[0].details[0]).toMatch(/^config: config profile rel version 3 is not usable: model is missing.*Served the last good config/);
  });

  test('checked once per served object, not per request', async () => {
    // Count the check's reads of one section: the handler and the tuple never read `prompt`.
    const doc = releaseDoc();
    const prompt = doc.prompt;
    let reads = 0;
    Object.defineProperty(doc, 'prompt', { enumerable: true, get: () => (reads++, prompt) });
    const { rt } = makeRuntime({ rel: doc, deg: NO_FLAGS });
    for (let i = 0; i < 20; i++) await capture(() => rt.invoke(good, { question: 'q' }));
    expect(reads).toBe(1);
  });

  test('checked once per version: a refresh that parses the same version again is not checked again', async () => {
    const doc = releaseDoc();
    let reads = 0;
    const fresh = () => {
      const copy = structuredClone(doc) as unknown as Record<string, unknown>;
      const prompt = copy.prompt;
      Object.defineProperty(copy, 'prompt', { enumerable: true, get: () => (reads++, prompt) });
      return copy;
    };
    const { rt, config } = makeRuntime({ rel: fresh(), deg: NO_FLAGS });
    for (let i = 0; i < 10; i++) {
      (config.content as Record<string, unknown>).rel = fresh(); // a new object per refresh, same version and hash
      await capture(() => rt.invoke(good, { question: 'q' }));
    }
    expect(reads).toBe(1);
    // a different version is checked
    (config.content as Record<string, unknown>).rel = releaseDoc({ outputContract: { schema: { type: 'nope' } } });
    const { emf } = await capture(() => rt.invoke(good, { question: 'q' }));
    expect(emf[0][METRIC.ERRORS]).toBe(1);
  });

  test('unusable degrade flags: the service runs without them, with a warning naming the problem', async () => {
    const { rt } = makeRuntime({ rel: releaseDoc(), deg: { useFallbackModel: { enabled: 'yes' } } });
    let degrade: unknown;
    const { lines, emf } = await capture(() => rt.invoke(async (_i, ctx) => ((degrade = ctx.degrade), good(_i, ctx)), { question: 'q' }));
    expect(degrade).toMatchObject({ useFallbackModel: false, active: false });
    expect(lines.find((l) => l.level === 'WARN')).toMatchObject({
      message: 'degrade flags not usable: running without them',
      problems: ['useFallbackModel.enabled is the string "yes"; expected true or false'],
    });
    expect(emf[0][METRIC.ERRORS]).toBeUndefined();
  });
});

describe('output size', () => {
  test("an output over Lambda's 6 MB synchronous response limit is a contract failure without maxBytes", async () => {
    const doc = releaseDoc({ outputContract: { schema: { type: 'object' } } });
    expect(doc.outputContract.maxBytes).toBeUndefined();
    const { rt } = makeRuntime({ rel: doc, deg: NO_FLAGS });
    const big = 'x'.repeat(LAMBDA_SYNC_RESPONSE_MAX_BYTES);
    const { emf, records } = await capture(() => rt.invoke(handlerReturning({ output: { answer: big } }), { question: 'q' }));
    expect(emf[0][METRIC.CONTRACT_VIOLATIONS]).toBe(1);
    expect(records[0].details).toContain(
      `contract: output is ${LAMBDA_SYNC_RESPONSE_MAX_BYTES + 13} bytes, over Lambda's 6291456-byte (6 MB) synchronous response limit`,
    );
  });

  test('multi-byte characters are counted in bytes, not characters', async () => {
    const { rt } = makeRuntime({ rel: releaseDoc({ outputContract: { schema: { type: 'object' }, maxBytes: 100 } }), deg: NO_FLAGS });
    const { records } = await capture(() => rt.invoke(handlerReturning({ output: { answer: '数'.repeat(40) } }), { question: 'q' }));
    expect(records[0].details).toEqual(['contract: output is 133 bytes, over outputContract.maxBytes 100']);
  });

  test('an output of exactly the limit passes', async () => {
    const { rt } = makeRuntime({ rel: releaseDoc({ outputContract: { schema: { type: 'object' } } }), deg: NO_FLAGS });
    const { records } = await capture(() =>
      rt.invoke(handlerReturning({ output: { answer: 'x'.repeat(LAMBDA_SYNC_RESPONSE_MAX_BYTES - 13) } }), { question: 'q' }),
    );
    expect(records).toHaveLength(0);
  });
});

describe('errors rethrown to Lambda', () => {
  test('carry a redacted message and stack, keep their class', async () => {
    const { rt } = makeRuntime({ rel: releaseDoc(), deg: NO_FLAGS });
    class BedrockError extends Error {}
    const { result, records } = await capture(() =>
      rt.invoke(handlerThrowing(new BedrockError('failed for jane@example.com with card 4111 1111 1111 1111')), { question: 'q' }),
    );
    const e = (result as PromiseRejectedResult).reason as Error;
    expect(e).toBeInstanceOf(BedrockError);
    expect(e.message).toBe('failed for [REDACTED:EMAIL] with card [REDACTED:CARD]');
    expect(e.stack).not.toContain('jane@');
    expect(e.stack).not.toContain('4111');
    expect(e.stack?.split('\n')[1]).toMatch(/^\s+at /);
    expect(records[0].error.message).toBe('failed for [REDACTED:EMAIL] with card [REDACTED:CARD]');
  });

  test('a frozen error is replaced by a redacted copy', async () => {
    const { rt } = makeRuntime({ rel: releaseDoc(), deg: NO_FLAGS });
    const frozen = Object.freeze(new RangeError('token sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789 rejected'));
    const { result } = await capture(() => rt.invoke(handlerThrowing(frozen), { question: 'q' }));
    const e = (result as PromiseRejectedResult).reason as Error;
    expect(e.name).toBe('RangeError');
    expect(e.message).not.toContain('abcdefghijklmnop');
  });
});
