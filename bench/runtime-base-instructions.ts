/**
 * The runtime's base cost per request against the Powertools-only handler (issue 17 B, h12-hot), by stage: a driver
 * for `valgrind --tool=callgrind` (counts, not times: they do not depend on what the machine's other sessions run) and
 * for `process.cpuUsage` (in process, no HTTP).
 *
 *   npx tsx bench/runtime-base-instructions.ts <side> <config> [invocations]       drive one side (figures on stderr)
 *   bash bench/runtime-base-instructions.sh [invocations] [sides] [configs]        callgrind: instructions per request
 *
 * Each invocation is what the Lambda Node.js runtime runs between /next and /next, without the HTTP: the handler called
 * with a context shaped as the RIC's (request id, function ARN on `live`, remaining time), its promise awaited, then one
 * setImmediate (where the RIC queues the next iteration: deferred lines run there, after-response.ts). The config comes
 * through createAiRuntime's own ConfigCache (a fetcher answering from memory, so the TTL's refreshes parse a new object
 * as the extension's answers do) with deferEvaluationLines on, as under Lambda. stdout is the log lines (discard it).
 *
 * Sides (stages are the difference between neighbouring sides):
 *   P        the Powertools-only handler (runtime-fixture.ts powertoolsOnly: six metrics, one INFO line)
 *   bare     the service's handler alone (benchWork), no telemetry: the floor both sides share
 *   noop     createAiRuntime with a telemetry port that does nothing: the runtime's own work (config, checks, tuple, timers)
 *   stamp    noop + PowertoolsTelemetry.stamp (the tuple and request id on the Logger)
 *   emf      noop + PowertoolsTelemetry.invocation (the EMF document)
 *   D        the runtime as createAiRuntime builds it (PowertoolsTelemetry): everything
 * Configs: unsampled (the example's release config without its evaluation section), example (as is: scoring 0.005,
 * pairing 0.1, check lines at 0.25). BASE_TTL_SECONDS: the config cache's TTL (default 5, the runtime's; the .sh sets
 * 3600 so a run under valgrind, ~50× slower, refreshes no more often than a native one: counts stay load-independent).
 */
import { readFileSync } from 'node:fs';
import type { TelemetryPort } from '../lambda/runtime';
import { BENCH_PASSAGES, type BenchOut, benchWork, powertoolsOnly, setBenchEnv } from './runtime-fixture';

/** A variable, so a bundle of this driver (for valgrind) leaves the example's construct tree out. */
const SUPPORT = './support';

export type BaseSide = 'P' | 'bare' | 'noop' | 'stamp' | 'emf' | 'D';

async function main() {
  const side = (process.argv[2] ?? 'D') as BaseSide;
  const config = process.argv[3] ?? 'unsampled';
  const N = Number(process.argv[4] ?? 2000);
  const WARM = Number(process.env.WARM ?? 2000);
  setBenchEnv(2772);
  process.env.AWS_LAMBDA_RUNTIME_API = '127.0.0.1:9001';
  process.env.AI_RELEASE_CONFIG_TTL_SECONDS = process.env.BASE_TTL_SECONDS ?? '5';
  const file = process.env.SAMPLE_CONFIG_FILE;
  const { hosted, flags } = file
    ? (JSON.parse(readFileSync(file, 'utf8')) as { hosted: string; flags: string })
    : await (await import(SUPPORT)).exampleServedConfigs();
  if (side === ('configs' as BaseSide)) {
    process.stdout.write(JSON.stringify({ hosted, flags }));
    return;
  }
  const doc = JSON.parse(hosted);
  if (config === 'unsampled') delete doc.evaluation;
  else if (config !== 'example') throw new Error(`config must be unsampled or example, got ${config}`);
  const body = JSON.stringify(doc);
  const handler = await handlerOf(side, body, flags);
  const arn = 'arn:aws:lambda:us-east-1:123456789012:function:support-assistant:live';
  const event = JSON.stringify({ question: 'How do I restore a deleted file?' });
  let id = 0;
  const once = async () => {
    const deadline = Date.now() + 30_000;
    const rid = `req-${String(id++).padStart(8, '0')}`;
    // The RIC parses the event body it got from /next: a new object per invocation.
    await handler(JSON.parse(event), { awsRequestId: rid, invokedFunctionArn: arn, getRemainingTimeInMillis: () => deadline - Date.now() });
    await new Promise<void>((r) => setImmediate(r));
  };
  for (let i = 0; i < WARM; i++) await once();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await once();
  const c = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  process.stderr.write(
    `side ${side} config ${config}: ${N} invocations, CPU ${((c.user + c.system) / N).toFixed(2)} µs/invocation (user ${(c.user / N).toFixed(2)}), wall ${(wall / N).toFixed(2)} µs\n`,
  );
}

type Handler = (e: { question: string }, c: { awsRequestId: string; invokedFunctionArn: string; getRemainingTimeInMillis: () => number }) => Promise<unknown>;

async function handlerOf(side: BaseSide, body: string, flags: string): Promise<Handler> {
  if (side === 'P') return (await powertoolsOnly()).powertools as Handler;
  if (side === 'bare') return async (e) => benchWork(e.question);
  const { createAiRuntime, PowertoolsTelemetry } = await import('../lambda/runtime');
  const fetcher = { fetch: async (profile: string) => ({ content: JSON.parse(profile === 'rel' ? body : flags), version: '1' }) };
  const noop = { invocation() {}, failure() {}, sample() {}, checks() {}, warn() {}, stamp() {} };
  let telemetry: TelemetryPort | undefined;
  if (side === 'noop') telemetry = noop;
  else if (side === 'stamp' || side === 'emf') {
    const pt = new PowertoolsTelemetry('support-assistant');
    telemetry = side === 'stamp' ? { ...noop, stamp: pt.stamp.bind(pt) } : { ...noop, invocation: pt.invocation.bind(pt) };
  } else if (side !== 'D') throw new Error(`side must be P, bare, noop, stamp, emf or D, got ${side}`);
  const runtime = createAiRuntime<{ question: string }, BenchOut>({ fetcher, ...(telemetry ? { telemetry } : {}) });
  return runtime.handler(async (e) => {
    const output = benchWork(e.question);
    return {
      output,
      usage: { inputTokens: 850, outputTokens: 40 },
      quality: 0.9,
      evaluation: { answer: output.answer, passages: BENCH_PASSAGES, citations: output.citations },
    };
  }) as Handler;
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
