import Ajv from 'ajv';
import { AiRuntime, AiTimeoutError, ConfigUnavailableError, type AiHandler, type AiResult } from '../lambda/runtime';
import { FAILURE_KINDS, FAILURE_RECORD_TYPE, type FailureKind } from '../lambda/shared/contract';
import { contentHash } from '../lambda/shared/canonical-json';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

type In = { question: string };
type Out = { answer: string };

function runtime(opts: { flags?: object; doc?: ReturnType<typeof releaseDoc>; degradedAnswer?: (i: In, e: Error) => Out; timeoutMs?: number } = {}) {
  const config = new FakeConfig({ rel: opts.doc ?? releaseDoc(), deg: opts.flags ?? NO_FLAGS });
  const telemetry = new RecordingTelemetry();
  let t = 1_000_000;
  const rt = new AiRuntime<In, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config,
    telemetry,
    codeVersion: '12',
    codeHash: 'abcdefabcdef',
    now: () => (t += 5), // every clock read advances 5 ms
    defaultTimeoutMs: opts.timeoutMs ?? 30_000,
    timeoutMarginMs: 0,
    degradedAnswer: opts.degradedAnswer,
  });
  return { rt, config, telemetry };
}

const ok =
  (over: Partial<AiResult<Out>> = {}): AiHandler<In, Out> =>
  async () => ({
    output: { answer: 'Restore it from Trash.' },
    usage: { inputTokens: 1000, outputTokens: 500, modelId: 'primary-model' },
    quality: 0.9,
    ...over,
  });

describe('AiRuntime measurements', () => {
  test('a good answer: no failure record, cost from the primary price, the tuple from the config', async () => {
    const { rt, telemetry } = runtime();
    const out = await rt.invoke(ok(), { question: 'q' }, { awsRequestId: 'r-1' });
    expect(out).toEqual({ answer: 'Restore it from Trash.' });
    expect(telemetry.failures).toHaveLength(0);
    const [{ tuple, m }] = telemetry.invocations;
    expect(m.costUsd).toBeCloseTo((1000 / 1000) * 0.001 + (500 / 1000) * 0.002, 10);
    expect(m).toMatchObject({
      error: false,
      inputTokens: 1000,
      outputTokens: 500,
      qualityScore: 0.9,
      safetyViolation: false,
      contractViolation: false,
      degraded: false,
    });
    expect(m.latencyMs).toBeGreaterThan(0);
    expect(tuple).toMatchObject({ service: 'svc', codeVersion: '12', codeHash: 'abcdefabcdef', prompt: '7', outputContract: '2' });
    // the degrade label is the flags' content hash, whatever version the source reported ('3' here)
    expect(tuple.degrade).toBe(`degrade-${contentHash(NO_FLAGS).slice(0, 12)}`);
    expect(tuple.config).toMatch(/^cfg-[0-9a-f]{12}$/);
    expect(tuple.retrieval).toBe('none');
  });

  test('a new config version changes the tuple on the next invocation', async () => {
    const { rt, config, telemetry } = runtime();
    await rt.invoke(ok(), { question: 'q' });
    (config.content as Record<string, unknown>).rel = releaseDoc({ prompt: { version: '8', template: 'Q2: {{question}}', variables: [{ name: 'question' }] } });
    await rt.invoke(ok(), { question: 'q' });
    const [first, second] = telemetry.invocations.map((i) => i.tuple);
    expect(first.prompt).toBe('7');
    expect(second.prompt).toBe('8');
    expect(second.config).not.toBe(first.config);
  });

  test('the fallback model is priced at the fallback price', async () => {
    const { rt, telemetry } = runtime({ flags: { ...NO_FLAGS, useFallbackModel: { enabled: true } } });
    let seen = '';
    await rt.invoke(
      async (_i, ctx) => (
        (seen = ctx.model.modelId), { output: { answer: 'x' }, usage: { inputTokens: 1000, outputTokens: 1000, modelId: ctx.model.modelId } }
      ),
      { question: 'q' },
    );
    expect(seen).toBe('fallback-model');
    expect(telemetry.invocations[0].m.costUsd).toBeCloseTo(0.0003, 10);
    expect(telemetry.invocations[0].m.degraded).toBe(true);
  });

  test('degrade switches reach the handler', async () => {
    const { rt } = runtime({ flags: { ...NO_FLAGS, disableTools: { enabled: true }, staticAnswer: { enabled: true, message: 'Back soon.' } } });
    let degrade: any;
    await rt.invoke(async (_i, ctx) => ((degrade = ctx.degrade), { output: { answer: 'x' } }), { question: 'q' });
    expect(degrade).toEqual({ useFallbackModel: false, disableTools: true, disableRetrieval: false, staticAnswer: 'Back soon.', active: true });
  });

  test('a common output contract is interpreted: ajv never compiles on the request path', async () => {
    const compile = jest.spyOn(Ajv.prototype, 'compile');
    const { rt, telemetry } = runtime();
    for (let i = 0; i < 50; i++) await rt.invoke(ok(), { question: 'q' });
    await rt.invoke(ok({ output: { answer: '' } }), { question: 'q' });
    expect(compile).not.toHaveBeenCalled();
    expect(telemetry.failures[0].details).toEqual(['contract: /answer must NOT have fewer than 1 characters']);
    compile.mockRestore();
  });

  test.each([
    [
      'draft 2020-12 with prefixItems',
      {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: { answer: { type: 'string', minLength: 1 }, pair: { type: 'array', prefixItems: [{ type: 'number' }] } },
      },
      { answer: 'x', pair: ['no'] },
      /\/pair\/0 must be number/,
    ],
    [
      'a format keyword (ajv-formats)',
      { type: 'object', properties: { answer: { type: 'string', format: 'email' } } },
      { answer: 'not an email' },
      /\/answer must match format "email"/,
    ],
  ])('a contract with %s is enforced, not ignored', async (_name, schema, output, detail) => {
    const { rt, telemetry } = runtime({ doc: releaseDoc({ outputContract: { schema } }) });
    await rt.invoke(ok({ output: output as never }), { question: 'q' });
    expect(telemetry.failures[0]?.details?.join('\n')).toMatch(detail);
  });

  test('a contract that needs ajv ($ref) is compiled once per schema, not per request', async () => {
    const compile = jest.spyOn(Ajv.prototype, 'compile');
    const schema = { definitions: { a: { type: 'string', minLength: 1 } }, type: 'object', properties: { answer: { $ref: '#/definitions/a' } } };
    const { rt, config, telemetry } = runtime({ doc: releaseDoc({ outputContract: { schema } }) });
    for (let i = 0; i < 50; i++) await rt.invoke(ok(), { question: 'q' });
    // a new config version with the same contract: no new compile
    (config.content as Record<string, unknown>).rel = releaseDoc({ prompt: { template: 'v2 {{question}}' }, outputContract: { schema } });
    await rt.invoke(ok({ output: { answer: '' } }), { question: 'q' });
    expect(compile).toHaveBeenCalledTimes(1);
    expect(telemetry.failures[0].details).toEqual(['contract: /answer must NOT have fewer than 1 characters']);
    compile.mockRestore();
  });
});

// One row per failure kind: what the handler does, and what the record must say.
const failureCases: [FailureKind, AiHandler<In, Out>, RegExp | undefined][] = [
  [
    'error',
    async () => {
      throw new Error('Bedrock throttled: ThrottlingException');
    },
    undefined,
  ],
  ['timeout', () => new Promise(() => {}), undefined],
  ['contract', ok({ output: { answer: '' } }), /contract: \/answer must NOT have fewer than 1 characters/],
  ['quality', ok({ quality: 0.2 }), /quality: score 0.2 is below outputContract.qualityFloor 0.5/],
  ['safety', ok({ safety: { violated: true, reasons: ['guardrail intervened: PII'] } }), /safety: guardrail intervened: PII/],
  ['cost', ok({ usage: { inputTokens: 9000, outputTokens: 9000 } }), /cost: 0.027000 USD is over model.maxCostPerRequestUsd 0.01/],
];

describe('failure records', () => {
  test('every failure kind has a case', () => expect(failureCases.map((c) => c[0]).sort()).toEqual([...FAILURE_KINDS].sort()));

  test.each(failureCases)('%s', async (kind, handler, detail) => {
    const { rt, telemetry } = runtime({ timeoutMs: 50 });
    const input = { question: 'my email is jane@example.com, card 4111 1111 1111 1111' };
    const call = rt.invoke(handler, input, { awsRequestId: 'req-9' });
    if (kind === 'error' || kind === 'timeout') await expect(call).rejects.toThrow(kind === 'timeout' ? AiTimeoutError : Error);
    else await call;
    expect(telemetry.failures).toHaveLength(1);
    const r = telemetry.failures[0];
    expect(r).toMatchObject({ type: FAILURE_RECORD_TYPE, schemaVersion: 1, kind, kinds: [kind], service: 'svc', requestId: 'req-9', truncated: false });
    expect(r.tuple).toMatchObject({ codeVersion: '12', prompt: '7' });
    expect(new Date(r.time).toISOString()).toBe(r.time);
    expect(r.measurements.latencyMs).toBeGreaterThan(0);
    expect(r.input).toBe('{"question":"my email is [REDACTED:EMAIL], card [REDACTED:CARD]"}');
    if (kind === 'error') expect(r.error).toEqual({ name: 'Error', message: 'Bedrock throttled: ThrottlingException' });
    if (kind === 'timeout') expect(r.error?.name).toBe('AiTimeoutError');
    if (detail) expect(r.details?.join('\n')).toMatch(detail);
    if (kind !== 'error' && kind !== 'timeout') {
      expect(r.output).toBeDefined();
      expect(r.measurements.costUsd).toBeGreaterThanOrEqual(0);
    }
    const m = telemetry.invocations[0].m;
    expect(m.error).toBe(kind === 'error' || kind === 'timeout');
    expect(m.contractViolation).toBe(kind === 'contract');
    expect(m.safetyViolation).toBe(kind === 'safety');
  });

  test('several kinds at once: one record, the most severe first', async () => {
    const { rt, telemetry } = runtime();
    await rt.invoke(ok({ quality: 0.1, safety: { violated: true } }), { question: 'q' });
    expect(telemetry.failures).toHaveLength(1);
    expect(telemetry.failures[0].kind).toBe('safety');
    expect(telemetry.failures[0].kinds).toEqual(['safety', 'quality']);
  });

  test('long input and output are cut with a marker, after redaction', async () => {
    const { rt, telemetry } = runtime();
    const long = `${'x'.repeat(5000)} jane@example.com`;
    await rt.invoke(ok({ output: { answer: '' } }), { question: long });
    const r = telemetry.failures[0];
    expect(r.truncated).toBe(true);
    expect(r.input.length).toBeLessThan(4200);
    expect(r.input).toMatch(/…\[truncated \d+ chars\]$/);
    expect(r.input).not.toContain('jane@');
  });
});

describe('when the config cannot be read', () => {
  test('degrade flags unreachable: the service answers undegraded, with a warning', async () => {
    const { rt, config, telemetry } = runtime();
    config.failing.add('deg');
    await expect(rt.invoke(ok(), { question: 'q' })).resolves.toEqual({ answer: 'Restore it from Trash.' });
    expect(telemetry.warnings).toEqual(['degrade flags unavailable: running without them']);
    expect(telemetry.invocations[0].m.degraded).toBe(false);
    expect(telemetry.invocations[0].tuple.degrade).toBe('unavailable');
  });

  test('cold start without a degraded answer: a clear error and a failure record', async () => {
    const { rt, config, telemetry } = runtime();
    config.fail = true;
    await expect(rt.invoke(ok(), { question: 'q' })).rejects.toThrow(ConfigUnavailableError);
    await expect(rt.invoke(ok(), { question: 'q' })).rejects.toThrow(
      /cannot read config profile rel: profile rel unreachable\. Check that the function has appconfig:StartConfigurationSession/,
    );
    expect(telemetry.failures[0]).toMatchObject({ kind: 'error', tuple: { config: 'unavailable', codeVersion: '12' } });
    expect(telemetry.invocations[0].m.error).toBe(true);
  });

  test('cold start with a degraded answer: the service still answers, counted as degraded', async () => {
    const { rt, config, telemetry } = runtime({ degradedAnswer: () => ({ answer: 'We are having trouble, try again soon.' }) });
    config.fail = true;
    await expect(rt.invoke(ok(), { question: 'q' })).resolves.toEqual({ answer: 'We are having trouble, try again soon.' });
    expect(telemetry.invocations[0].m.degraded).toBe(true);
    expect(telemetry.failures[0].details).toEqual(['served the degraded answer']);
  });
});

describe('the deadline signal', () => {
  test('fires at the deadline with the timeout as its reason, so model calls stop', async () => {
    const { rt, telemetry } = runtime({ timeoutMs: 40 });
    let signal: AbortSignal | undefined;
    let stoppedBy: unknown;
    const modelCall = (s: AbortSignal) =>
      new Promise((_, reject) =>
        s.addEventListener('abort', () => {
          stoppedBy = s.reason;
          reject(s.reason);
        }),
      );
    await expect(rt.invoke(async (_i, ctx) => ((signal = ctx.signal), (await modelCall(ctx.signal)) as never), { question: 'q' })).rejects.toThrow(
      AiTimeoutError,
    );
    expect(signal?.aborted).toBe(true);
    expect(stoppedBy).toBeInstanceOf(AiTimeoutError);
    expect(telemetry.failures[0].kind).toBe('timeout');
  });

  test('read only after the deadline (the signal is made on first read), it is already aborted with the timeout', async () => {
    const { rt } = runtime({ timeoutMs: 30 });
    let ctxOf: { signal: AbortSignal } | undefined;
    await expect(
      rt.invoke(
        async (_i, ctx) => {
          ctxOf = ctx;
          await new Promise((r) => setTimeout(r, 80));
          return ok()(_i, ctx);
        },
        { question: 'q' },
      ),
    ).rejects.toThrow(AiTimeoutError);
    const late = ctxOf?.signal;
    expect(late?.aborted).toBe(true);
    expect(late?.reason).toBeInstanceOf(AiTimeoutError);
    // one signal per invocation, whenever it is read
    expect(ctxOf?.signal).toBe(late);
  });

  test('a handler that writes to its ctx.degrade changes nothing for the next invocation', async () => {
    const { rt } = runtime({ flags: { ...NO_FLAGS, disableTools: { enabled: true } } });
    const seen: boolean[] = [];
    const h: AiHandler<In, Out> = async (i, ctx) => {
      seen.push(ctx.degrade.disableTools, ctx.degrade.active);
      (ctx.degrade as { disableTools: boolean; active: boolean }).disableTools = false;
      (ctx.degrade as { active: boolean }).active = false;
      return ok()(i, ctx);
    };
    await rt.invoke(h, { question: 'q' });
    await rt.invoke(h, { question: 'q' });
    expect(seen).toEqual([true, true, true, true]);
  });

  test('does not fire when the handler answers in time', async () => {
    const { rt } = runtime({ timeoutMs: 1000 });
    let signal: AbortSignal | undefined;
    await rt.invoke(async (i, ctx) => ((signal = ctx.signal), ok()(i, ctx)), { question: 'q' });
    await new Promise((r) => setTimeout(r, 20));
    expect(signal?.aborted).toBe(false);
  });

  test('a config read that is slow shortens the handler deadline: the whole invocation stays inside its budget', async () => {
    const telemetry = new RecordingTelemetry();
    const doc = releaseDoc();
    const rt = new AiRuntime<In, Out>({
      service: 'svc',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: { get: (p) => new Promise((r) => setTimeout(() => r({ content: p === 'rel' ? doc : NO_FLAGS, stale: false }), 150)) },
      telemetry,
      codeVersion: '1',
      timeoutMarginMs: 0,
    });
    const t0 = Date.now();
    await expect(rt.invoke(() => new Promise(() => {}), { question: 'q' }, { getRemainingTimeInMillis: () => 400 })).rejects.toThrow(AiTimeoutError);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(520);
  });
});
