/**
 * Instructions per sampled request (issue 17 B, h9-hotpath): a driver for `valgrind --tool=callgrind`, whose counts
 * do not depend on what the machine's other sessions run (wall and CPU clocks do).
 *
 *   npx tsx bench/runtime-sample-instructions.ts [invocations] [rate]     drive the runtime (figures on stderr)
 *   bash bench/runtime-sample-instructions.sh [invocations]               callgrind at rate 0 and 0.1, prints Ir per sample
 *
 * The runtime (AiRuntime with Powertools telemetry, the example's hosted release config) answers `invocations`
 * requests, after 2,000 warm-up requests, with the evaluation section's samplingRate set to `rate` and `paired: true`
 * (so `rate` is the share of requests that write a sample; 0: no evaluation section). Each request is one unsampled or
 * sampled invocation exactly as the hot-path bench (`evaluation-ops.ts hot-path`) runs it. stdout is the log lines.
 */
import { readFileSync } from 'node:fs';
import { benchAnswer } from './runtime-fixture';

/** A variable, so a bundle of this driver (for valgrind) leaves the example's construct tree out. */
const SUPPORT = './support';

async function main() {
  const N = Number(process.argv[2] ?? 2000);
  const rate = Number(process.argv[3] ?? 0.1);
  process.env.AWS_REGION = 'us-east-1';
  const { PowertoolsTelemetry } = await import('../lambda/runtime/powertools-telemetry');
  const { AiRuntime } = await import('../lambda/runtime/ai-runtime');
  // SAMPLE_CONFIG_FILE: the example's served configs written once (`... configs > file`), so a run under valgrind
  // does not synthesize the example's construct tree.
  const file = process.env.SAMPLE_CONFIG_FILE;
  const { hosted, flags } = file
    ? (JSON.parse(readFileSync(file, 'utf8')) as { hosted: string; flags: string })
    : await (await import(SUPPORT)).exampleServedConfigs();
  if (process.argv[2] === 'configs') {
    process.stdout.write(JSON.stringify({ hosted, flags }));
    return;
  }
  const doc = JSON.parse(hosted);
  // SAMPLE_BASELINE=checks (h10-hot17): the rate-0 run keeps the evaluation section with sampling off (samplingRate 0,
  // paired false), so its runtime checks and check lines (checkSamplingRate, default 1: every answer) cancel in the
  // difference and the figure is the sample's alone (plus the draw on every request). Default: no section at rate 0.
  if (rate === 0 && process.env.SAMPLE_BASELINE === 'checks') doc.evaluation = { ...doc.evaluation, samplingRate: 0, paired: false };
  else if (rate === 0) delete doc.evaluation;
  else doc.evaluation = { ...doc.evaluation, samplingRate: rate, paired: true };
  const rel = { content: doc, version: '1', stale: false };
  const fl = { content: JSON.parse(flags), version: '1', stale: false };
  const runtime = new AiRuntime<{ question: string }, { answer: string; citations: string[] }>({
    service: 'support-assistant',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    codeVersion: '7',
    telemetry: new PowertoolsTelemetry('support-assistant'),
    config: { get: async (p) => (p === 'rel' ? rel : fl), fresh: (p) => (p === 'rel' ? rel : fl) },
  });
  const fn = benchAnswer;
  let id = 0;
  const invoke = () =>
    runtime.invoke(fn, { question: 'How do I restore a deleted file?' }, { awsRequestId: `req-${id++}`, getRemainingTimeInMillis: () => 30_000 });
  for (let i = 0; i < 2000; i++) await invoke();
  const { pairingDraw } = await import('../lambda/runtime/evaluation-sampler');
  let sampled = 0;
  for (let i = 0; i < N; i++) {
    if (rate > 0 && pairingDraw(`req-${id}`, rate, rate, 'stable', undefined) !== undefined) sampled++;
    await invoke();
  }
  process.stderr.write(`rate ${rate}: ${N} invocations, ${sampled} sampled\n`);
}
main();
