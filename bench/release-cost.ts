/**
 * Bytes per request the service writes to CloudWatch Logs (issue 16 E), measured: the real runtime (lambda/runtime,
 * one successful invocation with usage and quality) against a Powertools-only handler (one Logger info line and one
 * Metrics EMF document with the same metric names, service dimension). Then the monthly cost at 1, 5, 20, 100 rps.
 * `npx tsx bench/release-cost.ts`. Lambda's own START/END/REPORT lines are paid by both and left out.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricResolution, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createAiRuntime, PowertoolsTelemetry } from '../lambda/runtime';
import { METRIC } from '../lambda/shared/contract';
import { releaseCost } from '../lib/rollout/release-cost';
import { FakeConfig, NO_FLAGS, releaseDoc } from '../test/runtime-fixtures';

const env = {
  AI_RELEASE_SERVICE: 'support-assistant',
  AI_RELEASE_APPCONFIG_APPLICATION: 'app',
  AI_RELEASE_APPCONFIG_ENVIRONMENT: 'env',
  AI_RELEASE_CONFIG_PROFILE: 'rel',
  AI_RELEASE_DEGRADE_PROFILE: 'deg',
  AWS_LAMBDA_FUNCTION_VERSION: '42',
  AI_RELEASE_CODE_HASH: 'c0dec0dec0de',
};

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

async function main() {
  const rt = createAiRuntime<{ q: string }, { answer: string }>({
    env,
    config: new FakeConfig({ rel: releaseDoc(), deg: NO_FLAGS }),
    telemetry: new PowertoolsTelemetry('support-assistant'),
  });
  const call = (i: number) =>
    rt.invoke(
      async () => ({ output: { answer: 'The refund was issued to your card on file.' }, usage: { inputTokens: 850, outputTokens: 120 }, quality: 0.82 }),
      { q: `Where is my refund for order ${1000 + i}?` },
      { awsRequestId: `6f1c2a8e-0b7d-4c55-9f1e-3a2b1c0d${String(1000 + i).padStart(4, '0')}` },
    );
  await bytesOf(() => call(0)); // warm: the first call fetches config
  const runtime: number[] = [];
  for (let i = 1; i <= 20; i++) runtime.push(await bytesOf(() => call(i)));

  const logger = new Logger({ serviceName: 'support-assistant' });
  const metrics = new Metrics({ namespace: 'AiRelease', serviceName: 'support-assistant' });
  const pt: number[] = [];
  for (let i = 1; i <= 20; i++)
    pt.push(
      await bytesOf(async () => {
        logger.appendKeys({ requestId: `6f1c2a8e-0b7d-4c55-9f1e-3a2b1c0d${String(1000 + i).padStart(4, '0')}` });
        logger.info('answered', { latencyMs: 1234, inputTokens: 850, outputTokens: 120 });
        for (const name of Object.values(METRIC)) metrics.addMetric(name, MetricUnit.Count, 1, MetricResolution.Standard);
        metrics.publishStoredMetrics();
      }),
    );
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const r = mean(runtime);
  const p = mean(pt);
  console.log(`runtime: ${r} B/request (mean of 20; min ${Math.min(...runtime)}, max ${Math.max(...runtime)})`);
  console.log(`Powertools-only: ${p} B/request (mean of 20; min ${Math.min(...pt)}, max ${Math.max(...pt)})`);
  for (const rps of [1, 5, 20, 100]) {
    const c = releaseCost({
      requestsPerSecond: rps,
      highResolutionAlarmMetrics: 15,
      standardAlarmMetrics: 0,
      compositeAlarms: 1,
      metricNames: Object.values(METRIC).length,
      runtimeBytesPerRequest: r,
      powertoolsBytesPerRequest: p,
    });
    console.log(
      `${rps} rps: machinery adds ${c.totalUsd.toFixed(2)} USD/month; Powertools-only logs+metrics ${c.powertoolsUsd.toFixed(2)} USD; ratio ${c.ratio.toFixed(2)}; ` +
        c.lines.map((l) => `${l.item} ${l.usd.toFixed(2)}`).join(', '),
    );
  }
}
void main();
