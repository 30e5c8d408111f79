/**
 * The sampled request's cost, stage by stage, hot and at the cadence it really runs (issue 17 B, h8-hotpath).
 *
 *   npx tsx bench/runtime-sampled-path.ts [samples]     (default 2,000 samples per gap; figures on stderr)
 *
 * One evaluation sample of the hot-path bench's answer (`evaluation-ops.ts hot-path`) is built and written in stages,
 * each timed with hrtime: the input's redaction, its case id, the answer's redaction, the passage hashes, the rest of
 * `buildEvaluationSample`, then `PowertoolsTelemetry.sample` (the Logger's envelope, one JSON.stringify, the write).
 * Between two samples the script runs GAP unsampled runtime invocations (AiRuntime with Powertools telemetry, no
 * evaluation section): GAP 0 is the hot loop a micro-benchmark sees; GAP 49 is 2 % sampling, GAP 9 is 10 %. The
 * difference between the two is what running once per 50 requests costs (caches, branch predictors, JIT state),
 * not work. HOT_PATH_SAMPLED_GAPS=0,9,49 picks the gaps. The script re-runs itself with stdout discarded.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { BENCH_PASSAGES, BENCH_TUPLE, benchAnswer } from './runtime-fixture';

if (!process.env.BENCH_CHILD) {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    env: { ...process.env, BENCH_CHILD: '1', NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.exit(r.status ?? 1);
}

async function main() {
  const S = Number(process.argv[2] ?? 2000);
  process.env.AWS_REGION = 'us-east-1';
  const { PowertoolsTelemetry } = await import('../lambda/runtime/powertools-telemetry');
  const { AiRuntime } = await import('../lambda/runtime/ai-runtime');
  const { buildEvaluationSample, SAMPLE_MAX_CHARS } = await import('../lambda/runtime/evaluation-sampler');
  const { redactAndCut, redact } = await import('../lambda/runtime/redact');
  const { caseIdOf } = await import('../lambda/snapshot/cases');
  const { sha256Hex } = await import('../lambda/shared/canonical-json');
  const { exampleServedConfigs } = await import('./support');
  const { hosted, flags } = await exampleServedConfigs();
  const tel = new PowertoolsTelemetry('support-assistant');
  const doc = JSON.parse(hosted);
  delete doc.evaluation;
  const rel = { content: doc, version: '1', stale: false };
  const fl = { content: JSON.parse(flags), version: '1', stale: false };
  const runtime = new AiRuntime<{ question: string }, { answer: string; citations: string[] }>({
    service: 'support-assistant',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    codeVersion: '7',
    telemetry: tel,
    config: { get: async (p) => (p === 'rel' ? rel : fl), fresh: (p) => (p === 'rel' ? rel : fl) },
  });
  const passages = BENCH_PASSAGES;
  const fn = benchAnswer;
  // HOT_PATH_SAMPLED_GAP_PT=1: each gap invocation is followed by one Powertools-only handler call (what the
  // interleaved hot-path bench runs between two sampled invocations).
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const { Metrics, MetricResolution, MetricUnit } = await import('@aws-lambda-powertools/metrics');
  const ptLogger = new Logger({ serviceName: 'support-assistant' });
  const ptMetrics = new Metrics({ namespace: 'AiRelease', serviceName: 'support-assistant' });
  const powertools = () => {
    ptMetrics.addDimensions({ Version: '7' });
    for (const n of ['Invocations', 'Latency', 'CostUsd', 'InputTokens', 'OutputTokens', 'QualityScore'])
      ptMetrics.addMetric(n, MetricUnit.Count, 1, MetricResolution.High);
    ptMetrics.publishStoredMetrics();
    ptLogger.info('answered', { citations: 1 });
  };
  const withPt = process.env.HOT_PATH_SAMPLED_GAP_PT === '1';
  let id = 0;
  const invoke = () =>
    runtime.invoke(fn, { question: 'How do I restore a deleted file?' }, { awsRequestId: `q${id++}`, getRemainingTimeInMillis: () => 30_000 });
  const tuple = BENCH_TUPLE;
  const input = JSON.stringify({ question: 'How do I restore a deleted file?' });
  const answerText = 'Answer to 32 chars [kb-restore-01]';
  const stages = ['redact input', 'caseIdOf', 'redact answer', 'passage hashes', 'buildEvaluationSample', 'tel.sample', 'sample total', 'empty stage'] as const;
  const now = () => Number(process.hrtime.bigint()) / 1000;
  const sampleOnce = (t: number[][]) => {
    // A first stage that does nothing but read the clock: what the first timed stage after a gap pays for the timer.
    const tz = now();
    const t0 = now();
    t[7].push(t0 - tz);
    const inp = redactAndCut(input, SAMPLE_MAX_CHARS, redact).text;
    const t1 = now();
    caseIdOf('support-assistant', inp);
    const t2 = now();
    redactAndCut(answerText, SAMPLE_MAX_CHARS, redact);
    const t3 = now();
    for (const p of passages) sha256Hex(p.text).slice(0, 16);
    const t4 = now();
    // The whole build again (what the runtime runs; the stages above are its parts, timed apart).
    const s = buildEvaluationSample(
      {
        service: 'support-assistant',
        requestId: `q${id}`,
        time: new Date(),
        tuple,
        functionVersion: '7',
        arm: 'stable',
        input,
        answer: answerText,
        passages,
        citations: ['kb-restore-01'],
        inputTokens: 850,
        outputTokens: 40,
      },
      0.02,
    );
    const t5 = now();
    tel.sample(s);
    const t6 = now();
    for (const [i, v] of [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t6 - t0].entries()) t[i].push(v);
  };
  const gaps = (process.env.HOT_PATH_SAMPLED_GAPS ?? '0,49,9').split(',').map(Number);
  process.stderr.write(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}; ${S} samples per gap, p50 / p90 µs\n`,
  );
  for (let i = 0; i < 3000; i++) await invoke();
  for (let i = 0; i < 500; i++) sampleOnce(stages.map(() => []));
  const rows: string[] = [];
  for (const gap of gaps) {
    const t = stages.map(() => [] as number[]);
    for (let k = 0; k < S; k++) {
      for (let g = 0; g < gap; g++) {
        await invoke();
        if (withPt) powertools();
      }
      sampleOnce(t);
    }
    rows.push(
      `gap ${String(gap).padStart(2)}: ${stages
        .map((name, i) => {
          const v = t[i].sort((a, b) => a - b);
          return `${name} ${v[v.length >> 1].toFixed(1)} / ${v[Math.floor(v.length * 0.9)].toFixed(1)}`;
        })
        .join(' | ')}`,
    );
  }
  process.stderr.write(`${rows.join('\n')}\n`);
}
main();
