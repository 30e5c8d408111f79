/**
 * Evaluation operations (issue 17 Speed, h5-evtrust). Prints its figures.
 *
 *   npx tsx bench/evaluation-ops.ts throughput [samplesPerDelivery]   evaluator throughput with a 300 ms fake model
 *   npx tsx bench/evaluation-ops.ts hot-path [invocations]            per-invocation latency: runtime with sampling on (rate 1, 0.02) and without
 *                                                                      an evaluation section, each against Powertools only
 *   npx tsx bench/evaluation-ops.ts cost                              the example's evaluation cost at its stated traffic
 *
 * throughput: the real evaluator delivery (lambda/evaluator/delivery.ts) against the S3 model (test/s3-model.ts: conditional
 * writes, 10–80 ms per request) for the ledger and the scored samples; every Bedrock call (score, preference) and every
 * shadow answer takes 300 ms. Samples in flight per invocation: the function's `concurrency` (default 4); invocations in
 * parallel: 1, 2, 4, 8 (CloudWatch Logs delivers log streams in parallel; the function has no reserved concurrency), all
 * on one service's ledger. Half of the samples are canary samples (paired: 2 shadow answers, 2 preference calls).
 *
 * hot-path: the example's hosted release config served by a loopback AppConfig-extension stand-in, with its evaluation
 * section's samplingRate set to 1 (every answer sampled: the worst case) and as configured (0.02); against a
 * Powertools-only handler (Logger + Metrics, the same metrics and one log line). 3 interleaved rounds; stdout discarded.
 * HOT_PATH_RATES=0,0.02,0.1 picks the rates (0: no evaluation section), HOT_PATH_ROUNDS the rounds (ratio per round printed),
 * HOT_PATH_INTERLEAVE=each alternates the handlers invocation by invocation, HOT_PATH_CLOCK=cpu times process CPU time.
 * HOT_PATH_REFERENCE=line: the reference also writes a pre-built sample line through logger.info at the same rate (the floor).
 * HOT_PATH_PAIRED=true|false|example|<rate> sets the section's pairing (default true: `rate` is then the share of requests sampled).
 * HOT_PATH_CHECKS=<rate> sets the section's checkSamplingRate (h9-checks; default 1, the runtime checks every answer).
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { gzipSync } from 'node:zlib';
import { pct } from './support';
import { BENCH_PASSAGES, type BenchOut as Out, benchWork as work, powertoolsOnly, setBenchEnv } from './runtime-fixture';

const part = process.argv[2] ?? 'throughput';
const say = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function throughput() {
  const { modelClient, startS3Model } = await import('../test/s3-model');
  const { s3Store } = await import('../lambda/snapshot/s3-store');
  const { withRetries } = await import('../lambda/snapshot/store');
  const { s3Ledger } = await import('../lambda/evaluator/aws-adapters');
  const { evaluateDelivery } = await import('../lambda/evaluator/delivery');
  const { SCORE_TOOL, PREFERENCE_TOOL } = await import('../lambda/evaluator/converse');
  const { buildEvaluationSample } = await import('../lambda/runtime/evaluation-sampler');
  const { evaluationLedgerKey } = await import('../lambda/shared/evaluation');
  const perDelivery = Number(process.argv[3] ?? 40);
  const MODEL_MS = 300;
  const m = await startS3Model({ latencyMs: [10, 80] });
  const client = modelClient(m.endpoint, 256);
  const store = withRetries(s3Store(client, m.bucket));
  const config = {
    evaluatorModel: {
      modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 },
      maxTokens: 300,
    },
    rubrics: [
      { criterion: 'groundedness' as const, instructions: 'Every claim is supported by the passages.' },
      { criterion: 'relevance' as const, instructions: 'The answer addresses the question.' },
    ],
    samplingRate: 1,
    budget: { perReleaseUsd: 1e6, perDayUsd: 1e6 },
  };
  let calls = 0;
  const model = {
    async converse(req: { toolConfig: { toolChoice: { tool: { name: string } } } }) {
      calls++;
      await sleep(MODEL_MS);
      const pref = req.toolConfig.toolChoice.tool.name === PREFERENCE_TOOL;
      return {
        output: {
          message: {
            content: [
              { toolUse: { name: pref ? PREFERENCE_TOOL : SCORE_TOOL, input: pref ? { preferred: 'tie', reason: 'even' } : { score: 4, reason: 'ok' } } },
            ],
          },
        },
        usage: { inputTokens: 1100, outputTokens: 120 },
      };
    },
  };
  const shadow = {
    async answer() {
      await sleep(MODEL_MS);
      return { answer: 'Hold the button for 10 seconds [p1].', costUsd: 0.0017 };
    },
  };
  let seq = 0;
  const tuple = (v: string) => ({
    service: 'support',
    codeVersion: v,
    config: 'cfg-1',
    prompt: 'p',
    model: 'm',
    retrieval: 'r',
    tools: 't',
    outputContract: 'o',
    degrade: 'd',
  });
  const deliveryOf = (n: number) => {
    const t0 = Date.now();
    const logEvents = Array.from({ length: n }, (_, i) => {
      const k = seq++;
      const canary = k % 2 === 1;
      const s = buildEvaluationSample(
        {
          service: 'support',
          requestId: `req-${k}`,
          time: new Date(t0 + i),
          tuple: tuple(canary ? '8' : '7'),
          functionVersion: canary ? '8' : '7',
          arm: canary ? 'canary' : 'stable',
          input: JSON.stringify({ question: `How do I reset device ${k}?` }),
          answer: 'Hold the button for 10 seconds [p1].',
          passages: [{ id: 'p1', text: 'Hold the reset button for 10 seconds.' }],
          citations: ['p1'],
        },
        1,
      );
      return { id: `e${k}`, timestamp: t0, message: JSON.stringify(s) };
    });
    const data = { messageType: 'DATA_MESSAGE', owner: '1', logGroup: '/aws/lambda/support', logStream: `s${seq}`, subscriptionFilters: ['f'], logEvents };
    return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
  };
  // The bound: the same delivery with a ledger that costs nothing (in memory, no latency, never contended), so what is
  // left is the model, the shadow answers and the scored samples' S3 requests.
  const freeLedger = (): import('../lambda/evaluator/evaluator').LedgerPort => {
    let value: import('../lambda/evaluator/budget').Ledger | undefined;
    let version = 0;
    return {
      read: async () => ({ ledger: value, etag: value ? String(version) : undefined }),
      write: async (l, etag) => {
        if ((value ? String(version) : undefined) !== etag) return false;
        value = l;
        version++;
        return true;
      },
    };
  };
  const invoke = (concurrency: number, ledger: () => ReturnType<typeof freeLedger>) =>
    evaluateDelivery(deliveryOf(perDelivery), {
      evaluator: () => ({
        model: model as never,
        shadow,
        ledger: ledger(),
        sleep,
        random: Math.random,
        now: () => new Date(),
      }),
      liveEvaluation: async () => config,
      store,
      publish: () => {},
      writeFailureRecord: () => {},
      concurrency,
    });
  say(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}`,
  );
  say(
    `evaluator throughput: ${perDelivery} samples per delivery (half canary, paired), 2 rubrics, every model call and shadow answer ${MODEL_MS} ms, S3 model 10-80 ms`,
  );
  say(
    'in flight per invocation | parallel invocations | samples | wall s | samples/s | bound samples/s (free ledger) | model calls/s | S3 requests/sample | ledger PUTs/sample',
  );
  const s3LedgerPort = () => s3Ledger(store, evaluationLedgerKey('support'));
  const shared = freeLedger();
  const rows = process.env.ROWS ? process.env.ROWS.split(',').map((r) => r.split('x').map(Number)) : [4, 8].flatMap((c) => [1, 2, 4, 8].map((p) => [c, p]));
  for (const [concurrency, parallel] of rows) {
    // The bound first (one in-memory ledger shared by the parallel invocations, as the S3 one is).
    const tb = Date.now();
    const bound = await Promise.all(Array.from({ length: parallel }, () => invoke(concurrency, () => shared)));
    const boundRate = bound.reduce((s, o) => s + o.evaluated, 0) / ((Date.now() - tb) / 1000);
    const before = { ...m.counts };
    let ledgerPuts = 0;
    m.beforeCommit((op) => {
      if (op.method === 'PUT' && op.key === evaluationLedgerKey('support')) ledgerPuts++;
    });
    calls = 0;
    const t = Date.now();
    const outs = await Promise.all(Array.from({ length: parallel }, () => invoke(concurrency, s3LedgerPort)));
    const wall = (Date.now() - t) / 1000;
    m.beforeCommit(undefined);
    const n = outs.reduce((s, o) => s + o.evaluated, 0);
    const requests = Object.entries(m.counts).reduce((s, [k, v]) => s + v - ((before as Record<string, number>)[k] ?? 0), 0);
    say(
      `${String(concurrency).padStart(24)} | ${String(parallel).padStart(20)} | ${String(n).padStart(7)} | ${wall.toFixed(1).padStart(6)} | ${(n / wall).toFixed(1).padStart(9)} | ${boundRate.toFixed(1).padStart(29)} | ${(calls / wall).toFixed(1).padStart(13)} | ${(requests / n).toFixed(1).padStart(18)} | ${(ledgerPuts / n).toFixed(2)}`,
    );
  }
  client.destroy();
  await m.close();
}

async function hotPath() {
  if (!process.env.BENCH_CHILD) {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
      env: { ...process.env, BENCH_CHILD: '1', NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    process.exit(r.status ?? 1);
  }
  const N = Number(process.argv[3] ?? 10_000);
  const http = await import('node:http');
  const { exampleServedConfigs } = await import('./support');
  const { hosted, flags } = await exampleServedConfigs();
  let rate = 1;
  // HOT_PATH_PAIRED (h8-hotpath): the section's `paired` for every rate. Default `true` (pairs where the scoring sampler
  // draws), so `rate` is the share of requests that write a sample. The example's own `paired: { samplingRate: 0.1 }`
  // (HOT_PATH_PAIRED=example) draws every answer outside a config release at 0.1 on the code plane, so "2 %" would write
  // a sample on 10 % of requests (2 % scored, 8 % pair-only): what the hot-path runs before h8 measured as "2 %".
  const pairedMode = process.env.HOT_PATH_PAIRED ?? 'true';
  const served = () => {
    const doc = JSON.parse(hosted);
    if (rate === 0) delete doc.evaluation;
    else
      doc.evaluation = {
        ...doc.evaluation,
        samplingRate: rate,
        // HOT_PATH_CHECKS (h9-checks): the section's checkSamplingRate (default 1: the runtime checks every answer).
        ...(process.env.HOT_PATH_CHECKS !== undefined ? { checkSamplingRate: Number(process.env.HOT_PATH_CHECKS) } : {}),
        ...(pairedMode === 'example' ? {} : { paired: pairedMode === 'false' ? false : pairedMode === 'true' ? true : { samplingRate: Number(pairedMode) } }),
      };
    return JSON.stringify(doc);
  };
  let body = served();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'configuration-version': String(rate) }).end(req.url?.endsWith('/rel') ? body : flags);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  setBenchEnv(port);
  const { logger, powertools } = await powertoolsOnly();
  // HOT_PATH_REFERENCE=line (h8-hotpath): the reference is Powertools only plus, on a share `rate` of its requests
  // (Math.random), one evaluation-sample-sized line through logger.info: a sample built once beforehand (no redaction,
  // no hashing, no sampling hash). What a Powertools-only service that logs a sample line at the same rate pays at the
  // least: the floor of "a sample line is written on 2 % of requests".
  const lineReference = process.env.HOT_PATH_REFERENCE === 'line';
  let referenceRate = 0;
  let referenceDrawn = false;
  const referenceSampled: number[] = [];
  let referenceSample: Record<string, unknown> = {};
  const powertoolsWithLine = async (e: { question: string }) => {
    const output = await powertools(e);
    referenceDrawn = referenceRate > 0 && Math.random() < referenceRate;
    if (referenceDrawn) logger.info({ message: 'AI evaluation sample', ...referenceSample });
    return output;
  };
  const { createAiRuntime } = await import('../lambda/runtime');
  // HOT_PATH_STAGE=1 (h8-hotpath): the time spent inside the runtime's sampleForEvaluation, per sampled invocation.
  const inside: number[] = [];
  if (process.env.HOT_PATH_STAGE) {
    const { AiRuntime } = await import('../lambda/runtime/ai-runtime');
    const proto = AiRuntime.prototype as unknown as { sampleForEvaluation: (...a: unknown[]) => void };
    const original = proto.sampleForEvaluation;
    proto.sampleForEvaluation = function (this: unknown, ...a: unknown[]) {
      const t0 = process.hrtime.bigint();
      original.apply(this, a);
      inside.push(Number(process.hrtime.bigint() - t0) / 1000);
    };
  }
  const passages = BENCH_PASSAGES;
  const make = () =>
    createAiRuntime<{ question: string }, Out>().handler(async (e) => {
      const output = work(e.question);
      return {
        output,
        usage: { inputTokens: 850, outputTokens: 40 },
        quality: 0.9,
        evaluation: { answer: output.answer, passages, citations: output.citations },
      };
    });
  let id = 0;
  const ctx = () => ({ awsRequestId: `req-${id++}`, getRemainingTimeInMillis: () => 30_000 });
  const event = { question: 'How do I restore a deleted file?' };
  // HOT_PATH_CLOCK=cpu (h7-hotpath): the process's CPU time per invocation (process.cpuUsage, user + system, µs; each
  // reading costs ~1.5 µs, on both sides alike), so time other sessions' load preempts the process is not counted.
  const cpu = process.env.HOT_PATH_CLOCK === 'cpu';
  const cpuNow = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  // The runtime's invocations split by whether the answer was sampled (the runtime's own decision on the request id).
  const split = { on: undefined as undefined | ((fn: unknown, requestId: string) => boolean | undefined), sampled: [] as number[], not: [] as number[] };
  const timed = async (fn: (e: typeof event, c: ReturnType<typeof ctx>) => Promise<unknown>) => {
    const c = ctx();
    let t: number;
    if (cpu) {
      const t0 = cpuNow();
      await fn(event, c);
      t = cpuNow() - t0;
    } else {
      const t0 = process.hrtime.bigint();
      await fn(event, c);
      t = Number(process.hrtime.bigint() - t0) / 1000;
    }
    if (split.on && fn === powertoolsWithLine && referenceDrawn) referenceSampled.push(t);
    const drawn = split.on?.(fn, c.awsRequestId);
    if (drawn === true) split.sampled.push(t);
    else if (drawn === false) split.not.push(t);
    return t;
  };
  // HOT_PATH_WARM=<n> (h8-hotpath, an experiment): before measuring, n samples of the bench's answer built and written
  // (to the discarded stdout) through a separate PowertoolsTelemetry, so V8 has compiled the sampled path's code.
  const warmN = Number(process.env.HOT_PATH_WARM ?? 0);
  if (warmN > 0) {
    const { buildEvaluationSample } = await import('../lambda/runtime/evaluation-sampler');
    const { PowertoolsTelemetry } = await import('../lambda/runtime/powertools-telemetry');
    const t = new PowertoolsTelemetry('support-assistant');
    const tuple = {
      service: 'support-assistant',
      codeVersion: '7',
      config: 'c',
      prompt: 'p',
      model: 'm',
      retrieval: 'r',
      tools: 't',
      outputContract: 'o',
      degrade: 'd',
    };
    t.stamp(tuple, 'warm');
    const w0 = process.hrtime.bigint();
    for (let i = 0; i < warmN; i++)
      t.sample(
        buildEvaluationSample(
          {
            service: 'support-assistant',
            requestId: `w${i}`,
            time: new Date(),
            tuple,
            functionVersion: '7',
            arm: 'stable',
            input: JSON.stringify(event),
            answer: 'Answer [kb-restore-01]',
            passages,
            citations: ['kb-restore-01'],
          },
          0.02,
        ),
      );
    say(`warmed the sampled path: ${warmN} samples in ${(Number(process.hrtime.bigint() - w0) / 1e6).toFixed(1)} ms`);
  }
  const measure = async (fn: (e: typeof event, c: ReturnType<typeof ctx>) => Promise<unknown>) => {
    for (let i = 0; i < 2000; i++) await fn(event, ctx());
    const times = new Array<number>(N);
    for (let i = 0; i < N; i++) times[i] = await timed(fn);
    return times;
  };
  // HOT_PATH_INTERLEAVE=each (h7-hotpath): the two handlers alternate invocation by invocation (A B, then B A), so a
  // burst of load on the shared machine hits both alike; the default alternates rounds of N.
  const each = process.env.HOT_PATH_INTERLEAVE === 'each';
  const measurePair = async (
    fa: (e: typeof event, c: ReturnType<typeof ctx>) => Promise<unknown>,
    fb: (e: typeof event, c: ReturnType<typeof ctx>) => Promise<unknown>,
  ): Promise<[number[], number[]]> => {
    if (!each) return [await measure(fa), await measure(fb)];
    for (let i = 0; i < 2000; i++) {
      await fa(event, ctx());
      await fb(event, ctx());
    }
    const a = new Array<number>(N);
    const b = new Array<number>(N);
    for (let i = 0; i < N; i++) {
      if (i % 2 === 0) {
        a[i] = await timed(fa);
        b[i] = await timed(fb);
      } else {
        b[i] = await timed(fb);
        a[i] = await timed(fa);
      }
    }
    return [a, b];
  };
  say(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}`,
  );
  // HOT_PATH_RATES (comma-separated sampling rates, 0 = no evaluation section) and HOT_PATH_ROUNDS (interleaved rounds of
  // N invocations per handler, Powertools first then the runtime, so load hits both alike): h7-hotpath.
  const rates = (process.env.HOT_PATH_RATES ?? '1,0.02,0').split(',').map(Number);
  const rounds = Number(process.env.HOT_PATH_ROUNDS ?? 3);
  say(
    `hot path, ${N} invocations per round, ${rounds} interleaved rounds${each ? ' (alternating invocation by invocation)' : ''}, ${cpu ? 'process CPU time' : 'wall time'}; example config from a loopback extension stand-in; stdout discarded`,
  );
  for (const r of rates) {
    referenceRate = r;
    if (lineReference && r > 0) {
      const { buildEvaluationSample } = await import('../lambda/runtime/evaluation-sampler');
      const tuple = {
        service: 'support-assistant',
        codeVersion: '7',
        config: 'c',
        prompt: 'p',
        model: 'm',
        retrieval: 'r',
        tools: 't',
        outputContract: 'o',
        degrade: 'd',
      };
      const { service: _s, ...rest } = buildEvaluationSample(
        {
          service: 'support-assistant',
          requestId: 'ref',
          time: new Date(),
          tuple,
          functionVersion: '7',
          arm: 'stable',
          input: JSON.stringify(event),
          answer: work(event.question).answer,
          passages,
          citations: ['kb-restore-01'],
          inputTokens: 850,
          outputTokens: 40,
        },
        r,
      );
      referenceSample = rest;
    }
    rate = r;
    body = served();
    const runtime = make();
    const { pairingDraw } = await import('../lambda/runtime/evaluation-sampler');
    const { pairSamplingRate } = await import('../lambda/shared/evaluation');
    split.sampled = [];
    split.not = [];
    // The runtime's own draw (scored or pair-only), as it makes it for a stable answer outside a config release.
    const pairRate = r > 0 ? pairSamplingRate(JSON.parse(body).evaluation) : 0;
    split.on = r > 0 ? (fn, requestId) => (fn === runtime ? pairingDraw(requestId, r, pairRate, 'stable', undefined) !== undefined : undefined) : undefined;
    const pt: number[] = [];
    const rt: number[] = [];
    const perRound: string[] = [];
    const sampledPerRound: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const from = split.sampled.length;
      const [a, b] = await measurePair(lineReference ? powertoolsWithLine : powertools, runtime);
      const mine = split.sampled.slice(from).sort((x, y) => x - y);
      if (mine.length > 0) sampledPerRound.push(pct(mine, 50).toFixed(0));
      pt.push(...a);
      rt.push(...b);
      a.sort((x, y) => x - y);
      b.sort((x, y) => x - y);
      perRound.push(`${(pct(b, 50) / pct(a, 50)).toFixed(2)}/${(pct(b, 99) / pct(a, 99)).toFixed(2)}`);
    }
    pt.sort((a, b) => a - b);
    rt.sort((a, b) => a - b);
    const line = (name: string, t: number[]) =>
      `  ${name.padEnd(34)} p50 ${pct(t, 50).toFixed(1).padStart(6)} µs  p90 ${pct(t, 90).toFixed(1).padStart(6)} µs  p99 ${pct(t, 99).toFixed(1).padStart(7)} µs`;
    say(
      r === 0
        ? 'no evaluation section (the runtime without sampling, for the share sampling adds):'
        : `samplingRate ${r}${r === 1 ? ' (every answer sampled: worst case)' : r === 0.02 ? ' (the example as configured)' : ''}:`,
    );
    say(line(lineReference && r > 0 ? `Powertools + sample line at ${r}` : 'Powertools only', pt));
    say(line(r === 0 ? 'runtime, no evaluation section' : 'runtime, evaluation sampling on', rt));
    say(
      `  ratio runtime / Powertools: p50 ${(pct(rt, 50) / pct(pt, 50)).toFixed(2)}x, p90 ${(pct(rt, 90) / pct(pt, 90)).toFixed(2)}x, p99 ${(pct(rt, 99) / pct(pt, 99)).toFixed(2)}x (target <= 1.3x)`,
    );
    say(
      `  per round, ratio p50/p99: ${perRound.join('  ')}${sampledPerRound.length > 0 ? `; sampled invocations' p50 per round (µs): ${sampledPerRound.join(' ')}` : ''}`,
    );
    split.on = undefined;
    if (r > 0 && split.sampled.length > 0) {
      split.sampled.sort((a, b) => a - b);
      split.not.sort((a, b) => a - b);
      say(
        `  runtime's sampled invocations (${split.sampled.length} of ${split.sampled.length + split.not.length}, pairing rate ${pairRate}): p50 ${pct(split.sampled, 50).toFixed(1)} µs, p90 ${pct(split.sampled, 90).toFixed(1)} µs${split.not.length > 0 ? `; the others: p50 ${pct(split.not, 50).toFixed(1)} µs, p99 ${pct(split.not, 99).toFixed(1)} µs` : ''}`,
      );
    }
    if (inside.length > 0) {
      const v = inside.splice(0).sort((a, b) => a - b);
      say(
        `  inside sampleForEvaluation (all ${v.length} calls, sampled or not): p50 ${pct(v, 50).toFixed(1)} µs, p98 ${pct(v, 98).toFixed(1)}, p99 ${pct(v, 99).toFixed(1)}, p99.5 ${pct(v, 99.5).toFixed(1)}`,
      );
    }
    // Log bytes per request (what the hot path writes; CloudWatch Logs bills them): 2,000 invocations each.
    const bytes = async (fn: (e: typeof event, c: ReturnType<typeof ctx>) => Promise<unknown>) => {
      let n = 0;
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string | Uint8Array) => {
        n += Buffer.byteLength(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
        return true;
      }) as typeof process.stdout.write;
      try {
        for (let i = 0; i < 2000; i++) await fn(event, ctx());
      } finally {
        process.stdout.write = write;
      }
      return n / 2000;
    };
    if (referenceSampled.length > 0) {
      const v = referenceSampled.splice(0).sort((x, y) => x - y);
      say(`  the reference's invocations with the sample line (${v.length}): p50 ${pct(v, 50).toFixed(1)} µs, p90 ${pct(v, 90).toFixed(1)} µs`);
    }
    const bp = await bytes(lineReference ? powertoolsWithLine : powertools);
    const br = await bytes(runtime);
    say(`  log bytes per request: Powertools ${bp.toFixed(0)}, runtime ${br.toFixed(0)} (ratio ${(br / bp).toFixed(2)}x)`);
  }
  server.close();
}

async function cost() {
  const { App } = await import('aws-cdk-lib');
  const { ExampleStack } = await import('../bin/example-stack');
  const { renderEvaluationCostLines } = await import('../lib/rollout/evaluation-cost');
  const stack = new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Example');
  const r = (stack as unknown as { release: { facts: { expectedRequestsPerSecond?: number; releaseCost?: { evaluation?: never } } } }).release;
  const e = r.facts.releaseCost?.evaluation;
  if (!e) throw new Error('the example has no evaluation cost: is its evaluation section on and its traffic stated?');
  for (const l of renderEvaluationCostLines(e, r.facts.expectedRequestsPerSecond ?? 0)) say(l);
}

const run = part === 'hot-path' ? hotPath : part === 'cost' ? cost : throughput;
run().catch((e) => {
  say(String(e?.stack ?? e));
  process.exit(1);
});
