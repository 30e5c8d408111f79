/**
 * Run by test/runtime-after-response.test.ts in a process of its own (`tsx test/fake-ric-scenarios.ts <mode>`): the
 * RIC's default callback waits for the process's `beforeExit`, which never comes under jest. Drives a runtime with
 * deferred samples through the fake Runtime API (test/fake-runtime-api.ts) in every handler shape and prints, as one
 * JSON line on stdout (after everything else), the order of what happened: /next GETs, response / error POSTs, and
 * each evaluation sample line and failure record the runtime wrote (marked as it was written).
 *
 * Modes: `shapes` (async, callback-nowait, callback-wait, streaming, a throwing handler, a throwing sample write);
 * `exit` (an invocation answered, then process.exit in the same tick: the pending sample must still be written).
 */
import type { Writable } from 'node:stream';
import { type AiHandler, AiRuntime, afterResponse, PowertoolsTelemetry } from '../lambda/runtime';
import { FakeConfig, NO_FLAGS, releaseDoc } from './runtime-fixtures';
import { type ApiEvent, FakeRuntimeApi, type HandlerStyle } from './fake-runtime-api';

type In = { question: string };
type Out = { answer: string };

const evaluation = {
  version: 'eval-3',
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness' as const, instructions: 'Supported by the passages.' }],
  samplingRate: 1,
  paired: false,
  budget: { perReleaseUsd: 5, perDayUsd: 10 },
};

const answer: AiHandler<In, Out> = async (input) => ({
  output: { answer: `Open Settings [p1] (${input.question.length}).` },
  usage: { inputTokens: 100, outputTokens: 10, modelId: 'primary-model' },
  evaluation: { answer: 'Open Settings [p1].', passages: [{ id: 'p1', text: 'Settings > Security resets passwords.' }], citations: ['p1'] },
});

const realWrite = process.stdout.write.bind(process.stdout);
let api: FakeRuntimeApi | undefined;
const lines: string[] = [];
// Samples are INFO lines (stdout); failure records WARN (Powertools writes those to stderr): both marked, neither shown.
const capture = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = String(chunk);
  lines.push(text);
  for (const line of text.split('\n')) {
    if (line.includes('"type":"ai-release.evaluation-sample"')) api?.mark('sample', JSON.parse(line).requestId);
    else if (line.includes('"type":"ai-release.failure"')) api?.mark('failure', JSON.parse(line).requestId);
    else if (line.includes('after the response')) api?.mark('deferred-error', JSON.parse(line).requestId);
  }
  const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
  cb?.();
  return true;
}) as typeof process.stdout.write;
process.stdout.write = capture;
process.stderr.write = capture;

function runtime(telemetry = new PowertoolsTelemetry('svc')) {
  return new AiRuntime<In, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: new FakeConfig({ rel: releaseDoc({ evaluation } as never), deg: NO_FLAGS }),
    telemetry,
    codeVersion: '12',
    deferEvaluationLines: true,
  });
}

function events(prefix: string, n = 3) {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, body: JSON.stringify({ question: `reset for jane.doe@example.com #${i}?` }) }));
}

async function scenario(name: string, style: HandlerStyle, make: (rt: AiRuntime<In, Out>) => (...a: never[]) => unknown, rt = runtime()) {
  api = await FakeRuntimeApi.start(events(name));
  const failuresBefore = afterResponse.failures;
  await api.run(make(rt) as never, style);
  const log: ApiEvent[] = await api.events();
  await api.close();
  api = undefined;
  return {
    name,
    order: log.map((e) => ({ kind: e.kind === 'mark' ? e.label : e.kind, id: e.id, ...(e.kind === 'response' || e.kind === 'error' ? { body: e.body } : {}) })),
    deferredFailures: afterResponse.failures - failuresBefore,
  };
}

async function shapes() {
  const out = [];
  out.push(await scenario('async', 'async', (rt) => rt.handler(answer)));
  out.push(
    await scenario('callback-nowait', 'callback-nowait', (rt) => {
      const h = rt.handler(answer);
      return ((e: In, c: { callbackWaitsForEmptyEventLoop: boolean }, cb: (err: unknown, r?: unknown) => void) => {
        c.callbackWaitsForEmptyEventLoop = false;
        h(e, c as never).then(
          (r) => cb(null, r),
          (err) => cb(err),
        );
      }) as never;
    }),
  );
  out.push(
    await scenario('callback-wait', 'callback-wait', (rt) => {
      const h = rt.handler(answer);
      return ((e: In, c: never, cb: (err: unknown, r?: unknown) => void) => {
        h(e, c).then(
          (r) => cb(null, r),
          (err) => cb(err),
        );
      }) as never;
    }),
  );
  out.push(
    await scenario('streaming', 'streaming', (rt) => {
      const h = rt.handler(answer);
      return (async (e: In, stream: Writable, c: never) => {
        const r = await h(e, c);
        stream.write(JSON.stringify(r));
        stream.end();
      }) as never;
    }),
  );
  out.push(
    await scenario('handler-throws', 'async', (rt) =>
      rt.handler(async () => {
        throw new Error('model unavailable');
      }),
    ),
  );
  // The sample's write throws (the log transport, a bug): the caller still gets its answer; the queue counts it.
  const throwing = new PowertoolsTelemetry('svc');
  throwing.sample = () => {
    throw new Error('log transport broke');
  };
  out.push(await scenario('sample-write-throws', 'async', (rt) => rt.handler(answer), runtime(throwing)));
  realWrite(`${JSON.stringify({ scenarios: out })}\n`);
}

async function exitMode() {
  const rt = runtime();
  // As a runtime that exits right after answering (a SIGTERM handler calling process.exit): no setImmediate runs.
  await rt.invoke(answer, { question: 'exit now' }, { awsRequestId: 'exit-1' });
  realWrite(`${JSON.stringify({ pendingAtExit: afterResponse.pending })}\n`);
  process.on('exit', () => {
    realWrite(`${JSON.stringify({ samplesWritten: lines.filter((l) => l.includes('"ai-release.evaluation-sample"')).length })}\n`);
  });
  process.exit(0);
}

(process.argv[2] === 'exit' ? exitMode() : shapes()).catch((e) => {
  realWrite(`${JSON.stringify({ error: String(e?.stack ?? e) })}\n`);
  process.exit(1);
});
