import { AiRuntime, type AiHandler } from '../lambda/runtime';
import { GATE_CLIENT_CONTEXT_KEY } from '../lambda/shared/contract';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

type In = { question: string };
type Out = { answer: string };

const evaluation = {
  version: 'eval-3',
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness' as const, instructions: 'Supported by the passages.' }],
  samplingRate: 1,
  budget: { perReleaseUsd: 5, perDayUsd: 10 },
};

function runtime(samplingRate: number | undefined, paired?: unknown) {
  const doc =
    samplingRate === undefined
      ? releaseDoc()
      : releaseDoc({ evaluation: { ...evaluation, samplingRate, ...(paired !== undefined ? { paired } : {}) } } as never);
  const telemetry = new RecordingTelemetry();
  let t = 1_000_000;
  const rt = new AiRuntime<In, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: new FakeConfig({ rel: doc, deg: NO_FLAGS }),
    telemetry,
    codeVersion: '12',
    now: () => (t += 5),
    defaultTimeoutMs: 30_000,
    timeoutMarginMs: 0,
  });
  return { rt, telemetry };
}

const answer: AiHandler<In, Out> = async () => ({
  output: { answer: 'Open Settings [p1].' },
  usage: { inputTokens: 100, outputTokens: 10, modelId: 'primary-model' },
  evaluation: {
    answer: 'Open Settings [p1].',
    passages: [{ id: 'p1', text: 'Settings > Security resets passwords.' }],
    citations: ['p1'],
    toolCalls: [{ name: 'lookup' }],
    stopReason: 'end_turn',
  },
});

describe('evaluation samples in the runtime', () => {
  test('with an evaluation section, a drawn answer becomes one redacted sample with the tuple and the evidence', async () => {
    const { rt, telemetry } = runtime(1);
    await rt.handler(answer)({ question: 'reset for jane.doe@example.com?' }, { awsRequestId: 'req-1' });
    expect(telemetry.samples).toHaveLength(1);
    const s = telemetry.samples[0];
    expect(s).toMatchObject({
      service: 'svc',
      requestId: 'req-1',
      functionVersion: '12',
      arm: 'stable',
      answer: 'Open Settings [p1].',
      citations: ['p1'],
      stopReason: 'end_turn',
      sampledAt: 1,
    });
    expect(s.tuple.evaluation).toBe('eval-3');
    expect(s.input).not.toContain('jane.doe@example.com');
    expect(JSON.parse(s.input)).toEqual({ question: expect.stringContaining('[REDACTED:EMAIL') });
    expect(JSON.stringify(s)).not.toContain('Settings > Security');
  });

  test('no section, no sample; a rate of 0 draws none', async () => {
    for (const rate of [undefined, 0]) {
      const { rt, telemetry } = runtime(rate);
      for (let i = 0; i < 20; i++) await rt.handler(answer)({ question: 'q' }, { awsRequestId: `r${i}` });
      expect(telemetry.samples).toHaveLength(0);
    }
  });

  test('a regression gate replay is never sampled', async () => {
    const { rt, telemetry } = runtime(1);
    await rt.handler(answer)(
      { question: 'q' },
      { awsRequestId: 'r', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:f:12', clientContext: { custom: { [GATE_CLIENT_CONTEXT_KEY]: '1' } } },
    );
    expect(telemetry.samples).toHaveLength(0);
  });

  test('at a 10 % rate about a tenth of answers are drawn, the same ones every time', async () => {
    const { rt, telemetry } = runtime(0.1);
    for (let i = 0; i < 2000; i++) await rt.handler(answer)({ question: 'q' }, { awsRequestId: `r${i}` });
    expect(telemetry.samples.length).toBeGreaterThan(150);
    expect(telemetry.samples.length).toBeLessThan(250);
    const again = runtime(0.1);
    for (let i = 0; i < 2000; i++) await again.rt.handler(answer)({ question: 'q' }, { awsRequestId: `r${i}` });
    expect(again.telemetry.samples.map((s) => s.requestId)).toEqual(telemetry.samples.map((s) => s.requestId));
  });
});

describe('the release-time pairing rate in the runtime', () => {
  test('paired.samplingRate above the scoring rate draws more answers, marked pair-only at the pairing rate; the scored ones are unchanged', async () => {
    const plain = runtime(0.02);
    const pairs = runtime(0.02, { samplingRate: 0.3 });
    for (let i = 0; i < 2000; i++) {
      await plain.rt.handler(answer)({ question: 'q' }, { awsRequestId: `r${i}` });
      await pairs.rt.handler(answer)({ question: 'q' }, { awsRequestId: `r${i}` });
    }
    const scored = pairs.telemetry.samples.filter((s) => s.pairOnly === undefined);
    const only = pairs.telemetry.samples.filter((s) => s.pairOnly === true);
    expect(scored.map((s) => s.requestId)).toEqual(plain.telemetry.samples.map((s) => s.requestId));
    expect(only.length).toBeGreaterThan(450);
    expect(only.length).toBeLessThan(720);
    expect(new Set(only.map((s) => s.sampledAt))).toEqual(new Set([0.3]));
    expect(plain.telemetry.samples.every((s) => s.pairOnly === undefined)).toBe(true);
  });

  test('paired: false or true draws only what scoring draws', async () => {
    for (const paired of [false, true]) {
      const { rt, telemetry } = runtime(0.1, paired);
      for (let i = 0; i < 500; i++) await rt.handler(answer)({ question: 'q' }, { awsRequestId: `r${i}` });
      expect(telemetry.samples.some((s) => s.pairOnly)).toBe(false);
    }
  });
});

describe('the cluster key on every invocation line', () => {
  test('a retried input carries the same key, another input another; failures carry it too', async () => {
    const { rt, telemetry } = runtime(undefined);
    const failing: AiHandler<In, Out> = async () => {
      throw new Error('downstream down');
    };
    await rt.handler(answer)({ question: 'reset?' }, { awsRequestId: 'a' });
    await rt.handler(answer)({ question: 'reset?' }, { awsRequestId: 'b' });
    await rt.handler(answer)({ question: 'refund?' }, { awsRequestId: 'c' });
    await rt
      .handler(failing)({ question: 'reset?' }, { awsRequestId: 'd' })
      .catch(() => undefined);
    const keys = telemetry.invocations.map((i) => i.m.caseId);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[3]).toBe(keys[0]);
  });
});
