import { AiServiceConfig, ReleaseConfigSource } from '../lib';
import { AiRuntime, type AiHandler } from '../lambda/runtime/ai-runtime';
import { costUsd } from '../lambda/runtime/cost';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';
import { testStack, validConfig } from './helpers';

const HAIKU = { inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.005, cacheReadInputPer1kTokensUsd: 0.0001, cacheWriteInputPer1kTokensUsd: 0.00125 };

describe('cost with prompt-cache tokens', () => {
  test('each count at its own price: 850 in, 40 out, 3000 read, 500 written', () => {
    // 0.85 × 0.001 + 0.04 × 0.005 + 3 × 0.0001 + 0.5 × 0.00125 = 0.00085 + 0.0002 + 0.0003 + 0.000625
    expect(costUsd(HAIKU, { inputTokens: 850, outputTokens: 40, cacheReadInputTokens: 3000, cacheWriteInputTokens: 500 })).toBeCloseTo(0.001975, 12);
  });

  test('no cache prices in the config: cache tokens cost the input price, never nothing', () => {
    const plain = { inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.005 };
    expect(costUsd(plain, { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 2000, cacheWriteInputTokens: 1000 })).toBeCloseTo(0.003, 12);
    expect(costUsd(plain, { inputTokens: 1000, outputTokens: 1000 })).toBeCloseTo(0.006, 12);
  });

  test('a cache hit is cheaper than the same tokens uncached, by the configured ratio', () => {
    const uncached = costUsd(HAIKU, { inputTokens: 10_000, outputTokens: 0 });
    const cached = costUsd(HAIKU, { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 10_000 });
    expect(cached / uncached).toBeCloseTo(0.1, 12);
  });
});

describe('the runtime prices and checks cache tokens', () => {
  type In = { q: string };
  type Out = { answer: string };
  function run(handler: AiHandler<In, Out>, pricing: Record<string, unknown> = HAIKU, maxCostPerRequestUsd = 0.01) {
    const doc = releaseDoc({ model: { provider: 'bedrock', modelId: 'primary-model', pricing: pricing as never, maxCostPerRequestUsd } });
    const telemetry = new RecordingTelemetry();
    const rt = new AiRuntime<In, Out>({
      service: 'svc',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: new FakeConfig({ rel: doc, deg: NO_FLAGS }),
      telemetry,
      codeVersion: '1',
      timeoutMarginMs: 0,
    });
    return { telemetry, done: rt.invoke(handler, { q: 'x' }) };
  }
  const answering =
    (usage: Record<string, unknown>): AiHandler<In, Out> =>
    async () => ({ output: { answer: 'ok' }, usage: usage as never, quality: 1 });

  test('the CostUsd measurement includes cache reads and writes at their prices', async () => {
    const { telemetry, done } = run(answering({ inputTokens: 850, outputTokens: 40, cacheReadInputTokens: 3000, cacheWriteInputTokens: 500 }));
    await done;
    expect(telemetry.invocations[0].m.costUsd).toBeCloseTo(0.001975, 12);
    expect(telemetry.failures).toEqual([]);
  });

  test('cache writes alone can break the per-request cost cap', async () => {
    // 10,000 written tokens × 0.00125 / 1k = 0.0125 > 0.01
    const { telemetry, done } = run(answering({ inputTokens: 10, outputTokens: 10, cacheWriteInputTokens: 10_000 }));
    await done;
    expect(telemetry.failures[0]).toMatchObject({ kind: 'cost' });
    expect(telemetry.failures[0].details?.[0]).toMatch(/^cost: 0\.0125\d* USD is over model\.maxCostPerRequestUsd 0\.01/);
  });

  test('a bad cache count is a result problem naming the field', async () => {
    const { telemetry, done } = run(answering({ inputTokens: 1, outputTokens: 1, cacheReadInputTokens: -5 }));
    await done;
    expect(telemetry.failures[0].details?.join('\n')).toContain('usage.cacheReadInputTokens is -5');
  });

  test('a served config with a cache price as a string is refused, naming the field', async () => {
    const { telemetry, done } = run(answering({ inputTokens: 1, outputTokens: 1 }), { ...HAIKU, cacheWriteInputPer1kTokensUsd: '0.00125' });
    await expect(done).rejects.toThrow(/not usable/);
    expect(JSON.stringify(telemetry.failures[0])).toContain('model.pricing.cacheWriteInputPer1kTokensUsd is the string');
  });
});

describe('the schema takes optional cache prices and names a bad one', () => {
  function problems(pricing: Record<string, unknown>, where: 'model' | 'fallback' = 'model') {
    const c = validConfig();
    if (where === 'model') c.model.pricing = pricing;
    else c.model.fallback.pricing = pricing;
    const svc = new AiServiceConfig(testStack(), 'C', { serviceName: 'svc', source: ReleaseConfigSource.fromObject(c) });
    return svc.problems.map((p) => `${p.path}: ${p.message}`);
  }

  test('valid with both, with one, and with none', () => {
    expect(problems(HAIKU)).toEqual([]);
    expect(problems({ inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.005, cacheReadInputPer1kTokensUsd: 0.0001 })).toEqual([]);
    expect(problems({ inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.005 })).toEqual([]);
  });

  test.each([
    [{ ...HAIKU, cacheReadInputPer1kTokensUsd: -0.1 }, 'model', '$.model.pricing.cacheReadInputPer1kTokensUsd'],
    [{ ...HAIKU, cacheWriteInputPer1kTokensUsd: 'cheap' }, 'model', '$.model.pricing.cacheWriteInputPer1kTokensUsd'],
    [{ ...HAIKU, cacheWriteInputPer1kTokensUsd: -1 }, 'fallback', '$.model.fallback.pricing.cacheWriteInputPer1kTokensUsd'],
    [{ inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.005, cacheReadPer1kTokensUsd: 0.0001 }, 'model', 'cacheReadPer1kTokensUsd'],
  ] as const)('%j in %s is refused, naming %s', (pricing, where, field) => {
    const p = problems(pricing, where);
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(field);
  });
});
