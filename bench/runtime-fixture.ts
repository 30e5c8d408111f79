/**
 * The request the runtime benches answer (hot path, sampled path, callgrind drivers): one version tuple, one passage,
 * one answer citing it. One copy, so every bench measures the same request.
 */
export const BENCH_TUPLE = {
  service: 'support-assistant',
  codeVersion: '7',
  config: 'c-abc',
  prompt: 'p',
  model: 'm',
  retrieval: 'r',
  tools: 't',
  outputContract: 'o',
  evaluation: 'e',
  degrade: 'd',
};

export const BENCH_PASSAGES = [{ id: 'kb-restore-01', text: 'Deleted files stay in the bin for 30 days; restore them from Settings > Bin.' }];

/** The service handler: an answer citing the passage, its usage, quality and evaluation evidence. */
export async function benchAnswer(e: { question: string }) {
  const output = { answer: `Answer to ${e.question.length} chars [kb-restore-01]`, citations: ['kb-restore-01'] };
  return {
    output,
    usage: { inputTokens: 850, outputTokens: 40 },
    quality: 0.9,
    evaluation: { answer: output.answer, passages: BENCH_PASSAGES, citations: output.citations },
  };
}

/** The runtime's environment on a loopback stand-in for the AppConfig extension at `port`. */
export function setBenchEnv(port: number): void {
  Object.assign(process.env, {
    AI_RELEASE_SERVICE: 'support-assistant',
    AI_RELEASE_APPCONFIG_APPLICATION: 'app',
    AI_RELEASE_APPCONFIG_ENVIRONMENT: 'env',
    AI_RELEASE_CONFIG_PROFILE: 'rel',
    AI_RELEASE_DEGRADE_PROFILE: 'deg',
    AWS_LAMBDA_FUNCTION_VERSION: '7',
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(port),
    AWS_REGION: 'us-east-1',
    POWERTOOLS_METRICS_NAMESPACE: 'AiRelease',
  });
}

/**
 * The reference every hot-path ratio divides by: a Powertools-only handler (Logger + Metrics: six high-resolution
 * metrics, one INFO line) answering the same request. One copy, so the benches' ratios share a denominator. Imported
 * after `setBenchEnv` (Powertools reads its environment when made).
 */
/** The answer both sides compute (the service's own work, the same on each). */
export type BenchOut = { answer: string; citations: string[] };
export const benchWork = (q: string): BenchOut => ({ answer: `Answer to ${q.length} chars [kb-restore-01]`, citations: ['kb-restore-01'] });

export async function powertoolsOnly() {
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const { Metrics, MetricResolution, MetricUnit } = await import('@aws-lambda-powertools/metrics');
  const logger = new Logger({ serviceName: 'support-assistant' });
  const metrics = new Metrics({ namespace: 'AiRelease', serviceName: 'support-assistant' });
  const powertools = async (e: { question: string }) => {
    const output = benchWork(e.question);
    metrics.addDimensions({ Version: '7' });
    metrics.addMetric('Invocations', MetricUnit.Count, 1, MetricResolution.High);
    metrics.addMetric('Latency', MetricUnit.Milliseconds, 12, MetricResolution.High);
    metrics.addMetric('CostUsd', MetricUnit.NoUnit, 0.0008, MetricResolution.High);
    metrics.addMetric('InputTokens', MetricUnit.Count, 850, MetricResolution.High);
    metrics.addMetric('OutputTokens', MetricUnit.Count, 40, MetricResolution.High);
    metrics.addMetric('QualityScore', MetricUnit.NoUnit, 0.9, MetricResolution.High);
    metrics.publishStoredMetrics();
    logger.info('answered', { citations: output.citations.length });
    return output;
  };
  return { logger, metrics, powertools };
}
