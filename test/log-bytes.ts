/**
 * Bytes per request a service writes to CloudWatch Logs, measured by capturing stdout and stderr: the real runtime
 * (lambda/runtime with PowertoolsTelemetry, one successful answer with usage and quality, 36-character request ids)
 * against a Powertools-only handler (one Logger info line and one Metrics EMF document with the runtime's metric names,
 * service dimension). Shared by bench/release-cost.ts (which prints the figures) and the test that holds
 * MEASURED_BYTES in lib/rollout/release-cost.ts to what the runtime writes today.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricResolution, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createAiRuntime, PowertoolsTelemetry } from '../lambda/runtime';
import { METRIC } from '../lambda/shared/contract';
import { FakeConfig, NO_FLAGS, releaseDoc, SERVICE_FUNCTION_ENV } from './runtime-fixtures';

async function bytesOf(fn: () => Promise<unknown>): Promise<number> {
  let bytes = 0;
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const grab = ((chunk: string | Uint8Array) => {
    bytes += Buffer.byteLength(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = grab;
  process.stderr.write = grab;
  try {
    await fn().catch(() => undefined);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return bytes;
}

/** A published version's log stream name as Lambda names them (`yyyy/mm/dd/[version]` then 32 hex digits). */
export const LOG_STREAM_NAME = '2026/12/07/[12]0f3a9c1e5b7d4a2c8e6f1b3d5a7c9e0f';

/** Bytes written per request by `n` warm invocations of each handler. */
export async function measureLogBytes(n = 20): Promise<{ readonly runtime: number[]; readonly powertools: number[] }> {
  // The model call takes 1,234 ms on a clock the test moves, so the Latency field has the same width on every machine
  // (a wall clock wrote 0 here and 10 on a slower CI runner: one byte apart).
  let clock = Date.now();
  const rt = createAiRuntime<{ q: string }, { answer: string }>({
    env: SERVICE_FUNCTION_ENV,
    now: () => clock,
    config: new FakeConfig({ rel: releaseDoc(), deg: NO_FLAGS }),
    // A log stream name as Lambda writes it for a published version: the runtime stamps it on every line as the
    // execution environment (issue 16 B3), so its width is part of what a request costs.
    telemetry: new PowertoolsTelemetry('support-assistant', { env: { AWS_LAMBDA_LOG_STREAM_NAME: LOG_STREAM_NAME } }),
  });
  const call = (i: number) =>
    rt.invoke(
      async () => {
        clock += 1234;
        return { output: { answer: 'The refund was issued to your card on file.' }, usage: { inputTokens: 850, outputTokens: 120 }, quality: 0.82 };
      },
      { q: `Where is my refund for order ${1000 + i}?` },
      { awsRequestId: `6f1c2a8e-0b7d-4c55-9f1e-3a2b1c0d${String(1000 + i).padStart(4, '0')}` },
    );
  await bytesOf(() => call(0)); // warm: the first call fetches config
  const runtime: number[] = [];
  for (let i = 1; i <= n; i++) runtime.push(await bytesOf(() => call(i)));

  const logger = new Logger({ serviceName: 'support-assistant' });
  const metrics = new Metrics({ namespace: 'AiRelease', serviceName: 'support-assistant' });
  const pt: number[] = [];
  for (let i = 1; i <= n; i++)
    pt.push(
      await bytesOf(async () => {
        logger.appendKeys({ requestId: `6f1c2a8e-0b7d-4c55-9f1e-3a2b1c0d${String(1000 + i).padStart(4, '0')}` });
        logger.info('answered', { latencyMs: 1234, inputTokens: 850, outputTokens: 120 });
        for (const name of Object.values(METRIC)) metrics.addMetric(name, MetricUnit.Count, 1, MetricResolution.Standard);
        metrics.publishStoredMetrics();
      }),
    );
  return { runtime, powertools: pt };
}

/**
 * Bytes of one code-plane pair-only evaluation sample line (h8-codepairs): the same runtime and answer with an
 * evaluation section whose pairing rate draws every answer (paired.samplingRate 1, scoring 0), minus the same request
 * without it (paired: false). RAG-sized evidence, as a support assistant answers: an 80-character question, a
 * 600-character answer citing 3 of 5 retrieved passages (ids logged, texts hashed), one tool call, its stop reason.
 */
export async function measurePairOnlySampleBytes(n = 5): Promise<readonly number[]> {
  const evaluation = (paired: false | { samplingRate: number }) => ({
    evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
    rubrics: [{ criterion: 'groundedness', instructions: 'Supported by the passages.' }],
    samplingRate: 0,
    paired,
    budget: { perReleaseUsd: 20, perDayUsd: 50 },
  });
  const withSample = await ragBytesPerRequest(evaluation({ samplingRate: 1 }), n);
  const without = await ragBytesPerRequest(evaluation(false), n);
  return withSample.map((b, i) => b - without[i]);
}

/**
 * Bytes of one check-result line (h9-checks): the same runtime and RAG-sized answer with the example's five checks at
 * checkSamplingRate 1, minus the same request at 0 (no sample drawn either way).
 */
export async function measureCheckLineBytes(n = 5): Promise<readonly number[]> {
  const evaluation = (checkSamplingRate: number) => ({
    evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
    rubrics: [{ criterion: 'groundedness', instructions: 'Supported by the passages.' }],
    samplingRate: 0,
    paired: false,
    budget: { perReleaseUsd: 20, perDayUsd: 50 },
    deterministic: { minChars: 1, maxChars: 4000, forbiddenPatterns: ['(send|give|tell) (me|us) your password'] },
    checkSamplingRate,
  });
  const on = await ragBytesPerRequest(evaluation(1), n);
  const off = await ragBytesPerRequest(evaluation(0), n);
  return on.map((b, i) => b - off[i]);
}

/**
 * Bytes per request of the runtime with an evaluation section, RAG-sized evidence as a support assistant answers: an
 * 80-character question, a 600-character answer citing 3 of 5 retrieved passages (ids logged, texts hashed), one tool
 * call, its stop reason.
 */
async function ragBytesPerRequest(evaluation: unknown, n: number): Promise<number[]> {
  const answerText =
    `Your refund for order 1042 was issued on 3 December to the card on file [kb-refunds-01]. ${'Card refunds take 5 to 10 business days to appear, depending on your bank [kb-refunds-02]. '.repeat(5)}If it has not arrived by then, reply here and we will trace it [kb-contact-01].`.slice(
      0,
      600,
    );
  const passages = ['kb-refunds-01', 'kb-refunds-02', 'kb-refunds-03', 'kb-contact-01', 'kb-orders-07'].map((id) => ({
    id,
    text: `${id}: ${'Refunds are paid to the original payment method within 5 to 10 business days. '.repeat(6)}`,
  }));
  let clock = Date.now();
  const rt = createAiRuntime<{ q: string }, { answer: string }>({
    env: SERVICE_FUNCTION_ENV,
    now: () => clock,
    config: new FakeConfig({ rel: releaseDoc({ evaluation } as never), deg: NO_FLAGS }),
    telemetry: new PowertoolsTelemetry('support-assistant'),
  });
  const call = (i: number) =>
    rt.invoke(
      async () => {
        clock += 1234;
        return {
          output: { answer: answerText },
          usage: { inputTokens: 1850, outputTokens: 160 },
          quality: 0.82,
          evaluation: {
            answer: answerText,
            passages,
            citations: ['kb-refunds-01', 'kb-refunds-02', 'kb-contact-01'],
            toolCalls: [{ name: 'lookupOrder' }],
            stopReason: 'end_turn',
          },
        };
      },
      { q: `Where is my refund for order ${1000 + i}? I returned the headphones two weeks ago.` },
      { awsRequestId: `6f1c2a8e-0b7d-4c55-9f1e-3a2b1c0d${String(1000 + i).padStart(4, '0')}` },
    );
  await bytesOf(() => call(0));
  const out: number[] = [];
  for (let i = 1; i <= n; i++) out.push(await bytesOf(() => call(i)));
  return out;
}
