/**
 * Where the runtime's per-invocation time goes (issue 17 Speed, h6-perf): the pieces of the hot path timed on their
 * own, in process, stdout discarded (run as `npx tsx bench/runtime-hot-path-parts.ts > /dev/null`; figures on stderr).
 *
 *   powertools-only               the reference handler of `evaluation-ops.ts hot-path` (6 metrics, 1 dimension, 1 log line)
 *   tel.invocation                PowertoolsTelemetry.invocation alone: the runtime's one EMF document
 *   tel.stamp                     PowertoolsTelemetry.stamp alone: the tuple and request id on the logger (deep merge)
 *   logger.info small             one Powertools log line
 *   sha256Hex                     one short hash (the case id, the sampling decision)
 *   runtime noop telemetry        AiRuntime.invoke with a telemetry port that does nothing: the runtime's own work
 *   runtime powertools            AiRuntime.invoke with PowertoolsTelemetry (what `hot-path` measures, minus the config port)
 *   buildEvaluationSample         the sample of one sampled answer (redaction, case id, hashes), the bench's example answer
 *   buildEvaluationSample RAG     the same for a retrieval answer as RAG services have them: 5 passages of ~1,500 characters,
 *                                 3 citations, 2 tool calls, a stop reason, a 600-character answer
 *   tel.sample direct             PowertoolsTelemetry.sample: the sample's line on the Logger's envelope (h7-hotpath)
 *   tel.sample logger.info        the same line through `logger.info` (what it was before h7-hotpath)
 *   runtime noop tel, eval        the runtime's own work with the evaluation section at RATE (decision + sample built)
 *   runtime powertools, eval      the runtime with PowertoolsTelemetry and the evaluation section at RATE
 *   runtime powertools, eval, info   the same, its sample line through `logger.info` (as before h7-hotpath)
 *
 * Environment: CASE=<name> runs one row (for `node --cpu-prof --import tsx`), RATE=<samplingRate> (default 0.02).
 */
import { sha256Hex } from '../lambda/shared/canonical-json';
import { BENCH_PASSAGES, BENCH_TUPLE } from './runtime-fixture';
async function main() {
  const N = Number(process.env.N ?? 40000);
  process.env.AWS_REGION = 'us-east-1';
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const { Metrics, MetricResolution, MetricUnit } = await import('@aws-lambda-powertools/metrics');
  const { PowertoolsTelemetry } = await import('../lambda/runtime/powertools-telemetry');
  const { AiRuntime } = await import('../lambda/runtime/ai-runtime');
  const { exampleServedConfigs } = await import('./support');
  const { hosted, flags } = await exampleServedConfigs();
  const logger = new Logger({ serviceName: 's' });
  const metrics = new Metrics({ namespace: 'AiRelease', serviceName: 's' });
  const pt = () => {
    metrics.addDimensions({ Version: '7' });
    for (const n of ['Invocations', 'Latency', 'CostUsd', 'InputTokens', 'OutputTokens', 'QualityScore'])
      metrics.addMetric(n, MetricUnit.Count, 1, MetricResolution.High);
    metrics.publishStoredMetrics();
    logger.info('answered', { citations: 1 });
  };
  const tel = new PowertoolsTelemetry('support-assistant');
  const telApi = new PowertoolsTelemetry('support-assistant', { direct: false });
  const fl = { content: JSON.parse(flags), version: '1', stale: false };
  const noop = { invocation() {}, failure() {}, sample() {}, warn() {}, stamp() {} };
  const mk = (t: any, ev: boolean) => {
    const d = JSON.parse(hosted);
    if (!ev) delete d.evaluation;
    else d.evaluation = { ...d.evaluation, samplingRate: Number(process.env.RATE ?? 0.02) };
    const r = { content: d, version: '1', stale: false };
    return new AiRuntime<any, any>({
      service: 'support-assistant',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      codeVersion: '7',
      telemetry: t,
      config: { get: async (p) => (p === 'rel' ? r : fl), fresh: (p) => (p === 'rel' ? r : fl) },
    });
  };
  const passages = BENCH_PASSAGES;
  const fn = async (e: any) => {
    const output = { answer: `Answer to ${e.question.length} chars [kb-restore-01]`, citations: ['kb-restore-01'] };
    return {
      output,
      usage: { inputTokens: 850, outputTokens: 40 },
      quality: 0.9,
      evaluation: { answer: output.answer, passages, citations: output.citations },
    };
  };
  // The same adapter with the sample's line through `logger.info` (as before h7-hotpath; the EMF still direct).
  const telInfo = new PowertoolsTelemetry('support-assistant');
  (telInfo as unknown as { directLog: boolean }).directLog = false;
  const rtNoop = mk(noop, false),
    rtNoopEv = mk(noop, true),
    rtPt = mk(tel, false),
    rtPtEv = mk(tel, true),
    rtPtEvInfo = mk(telInfo, true);
  let id = 0;
  const tuple = BENCH_TUPLE;
  const meas = {
    error: false,
    latencyMs: 1,
    costUsd: 0.001,
    inputTokens: 850,
    outputTokens: 40,
    qualityScore: 0.9,
    safetyViolation: false,
    contractViolation: false,
    degraded: false,
    caseId: 'abc',
  };
  const { buildEvaluationSample } = await import('../lambda/runtime/evaluation-sampler');
  const answer = {
    service: 'support-assistant',
    requestId: 'q1',
    time: new Date(),
    tuple,
    functionVersion: '7',
    arm: 'stable' as const,
    input: JSON.stringify({ question: 'How do I restore a deleted file?' }),
    answer: 'Answer to 32 chars [kb-restore-01]',
    passages,
    citations: ['kb-restore-01'],
    inputTokens: 850,
    outputTokens: 40,
  };
  const chunk = (i: number) => `Passage ${i}: ${'Files you delete stay in the bin for 30 days, then are purged. '.repeat(24)}`;
  const rag = {
    ...answer,
    answer: `${'To restore a file, open Settings, then Bin, select it and choose Restore. '.repeat(8)}[kb-1][kb-3]`,
    passages: [1, 2, 3, 4, 5].map((i) => ({ id: `kb-restore-${i}`, text: chunk(i) })),
    citations: ['kb-restore-1', 'kb-restore-3', 'kb-restore-4'],
    toolCalls: [{ name: 'search_kb' }, { name: 'get_article' }],
    stopReason: 'end_turn',
  };
  const sample = buildEvaluationSample(answer, 0.02);
  for (const t of [tel, telApi]) t.stamp(tuple as any, 'q1');
  const cases: [string, () => unknown][] = [
    ['powertools-only', pt],
    ['tel.invocation', () => tel.invocation(tuple as any, `r${id++}`, meas)],
    ['tel.stamp', () => tel.stamp(tuple as any, `r${id++}`)],
    ['logger.info small', () => logger.info('answered', { citations: 1 })],
    ['sha256Hex', () => sha256Hex(`x\n${id++}`)],
    ['buildEvaluationSample', () => buildEvaluationSample(answer, 0.02)],
    ['buildEvaluationSample RAG', () => buildEvaluationSample(rag, 0.02)],
    ['tel.sample direct', () => tel.sample(sample)],
    ['tel.sample logger.info', () => telApi.sample(sample)],
    [
      'runtime noop telemetry',
      () => rtNoop.invoke(fn, { question: 'How do I restore a deleted file?' }, { awsRequestId: `q${id++}`, getRemainingTimeInMillis: () => 30000 }),
    ],
    [
      'runtime noop tel, eval',
      () => rtNoopEv.invoke(fn, { question: 'How do I restore a deleted file?' }, { awsRequestId: `q${id++}`, getRemainingTimeInMillis: () => 30000 }),
    ],
    [
      'runtime powertools',
      () => rtPt.invoke(fn, { question: 'How do I restore a deleted file?' }, { awsRequestId: `q${id++}`, getRemainingTimeInMillis: () => 30000 }),
    ],
    [
      'runtime powertools, eval',
      () => rtPtEv.invoke(fn, { question: 'How do I restore a deleted file?' }, { awsRequestId: `q${id++}`, getRemainingTimeInMillis: () => 30000 }),
    ],
    [
      'runtime powertools, eval, info',
      () => rtPtEvInfo.invoke(fn, { question: 'How do I restore a deleted file?' }, { awsRequestId: `q${id++}`, getRemainingTimeInMillis: () => 30000 }),
    ],
  ];
  const res: string[] = [];
  for (let round = 0; round < 2; round++)
    for (const [name, f] of cases.filter(([n]) => !process.env.CASE || n === process.env.CASE)) {
      for (let i = 0; i < 3000; i++) await f();
      const t: number[] = [];
      for (let i = 0; i < N; i++) {
        const t0 = process.hrtime.bigint();
        await f();
        t.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      t.sort((a, b) => a - b);
      if (round === 1) res.push(`${name.padEnd(30)} p50 ${t[N >> 1].toFixed(1)} µs  p90 ${t[Math.floor(N * 0.9)].toFixed(1)}`);
    }
  process.stderr.write(`${res.join('\n')}\n`);
}
main();
