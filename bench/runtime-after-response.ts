/**
 * Caller-visible latency and environment occupancy of the request path on a fake Lambda Runtime API (h11-hot, issue
 * 17 B): the handler is driven as the Node.js RIC drives it (test/fake-runtime-api.ts: /next over loopback HTTP, the
 * blocking response POST, the next iteration queued with setImmediate), so work deferred until after the response
 * (lambda/runtime/after-response.ts) runs where it runs in Lambda.
 *
 *   npx tsx bench/runtime-after-response.ts [invocations per side]      (default 10000; WARM=2000 more warm up)
 *   ROUNDS=3 (default): each side in a process of its own (its own heap: one side's garbage is never collected in
 *   another's invocation), rounds of P R D with the order rotating, so load on the shared machine hits them alike.
 *   MODE=interleaved: the three sides in one process, invocation by invocation (P R D, the order rotating).
 *   BUNDLE=1 (h12-hot): the children run an esbuild bundle of this file (as a service's NodejsFunction bundles the
 *   runtime: no keepNames), not tsx's per-file transform, whose keepNames wraps every closure made per request in a
 *   `__name` call (Object.defineProperty): measured, that alone is ~13 µs of the runtime's ~36 µs CPU per request.
 *
 * Three sides: P the Powertools-only handler of bench/evaluation-ops.ts hot-path (six high-resolution metrics, one INFO
 * line), R the runtime writing its sample inline (deferEvaluationLines false: what ran before h11), D the runtime with the
 * sample deferred (deferEvaluationLines true, as createAiRuntime sets it under the Lambda runtime). Two configs: the example's
 * release config with its evaluation section removed (unsampled), and as is (scoring 0.005, pairing 0.1: a sample on
 * ~10 % of requests outside a config release, check lines at the default 0.25).
 *
 * Per invocation (process.hrtime, wall): latency = from /next answered to the response POST beginning (what the
 * caller waits for, less the fake's transport); occupancy = from /next answered to the next /next being issued, less
 * the blocking POST itself (what the environment is busy for: billed duration). stdout is discarded (a child process).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { FakeRuntimeApi, type InvocationTimes } from '../test/fake-runtime-api';
import { BENCH_PASSAGES, type BenchOut as Out, benchWork as work, powertoolsOnly, setBenchEnv } from './runtime-fixture';
import { pct } from './support';

/** A variable, so the bundle (BUNDLE=1) leaves the example's construct tree out: only the parent synthesizes it. */
const SUPPORT = './support';

const say = (line: string) => process.stderr.write(`${line}\n`);

type Side = 'P' | 'R' | 'D';
type Config = 'unsampled' | 'example' | 'outside-release';
type Series = { lat: number[]; occ: number[]; latS: number[]; occS: number[] };

async function main() {
  const N = Number(process.argv[2] ?? 10_000);
  const WARM = Number(process.env.WARM ?? 2000);
  if (process.env.BENCH_CHILD) {
    const sides = (process.env.BENCH_SIDES ?? 'P,R,D').split(',') as Side[];
    const out = await measure(process.env.BENCH_CONFIG as Config, sides, N, WARM);
    process.stderr.write(`${JSON.stringify(out)}\n`);
    return;
  }
  say(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const interleaved = process.env.MODE === 'interleaved';
  const rounds = interleaved ? 1 : Number(process.env.ROUNDS ?? 3);
  say(
    `fake Runtime API on loopback; ${N} invocations per side per round (+${WARM} warm-up); ${interleaved ? 'sides interleaved in one process' : `${rounds} rounds, each side in a process of its own, order rotating`}; ${process.env.CLOCK === 'cpu' ? 'process CPU time (process.cpuUsage: preemption by other sessions not counted)' : 'wall time (hrtime)'}; stdout discarded`,
  );
  // The example's served configs, synthesized once (the children only serve them).
  const { exampleServedConfigs } = await import(SUPPORT);
  const configs = JSON.stringify(await exampleServedConfigs());
  let argv = [...process.execArgv, __filename];
  if (process.env.BUNDLE === '1') {
    const { buildSync } = await import('esbuild');
    const out = `${os.tmpdir()}/runtime-after-response-${process.pid}.js`;
    buildSync({ entryPoints: [__filename], bundle: true, platform: 'node', outfile: out, logLevel: 'error' });
    argv = [out];
    say(`children run an esbuild bundle (${out}), not tsx`);
  }
  const child = (config: Config, sides: Side[]): Record<Side, Series> => {
    const r = spawnSync(process.execPath, [...argv, ...process.argv.slice(2)], {
      env: { ...process.env, BENCH_CHILD: '1', BENCH_CONFIG: config, BENCH_SIDES: sides.join(','), BENCH_CONFIGS: configs, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const last = r.stderr.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0) throw new Error(`child ${config} ${sides} exited ${r.status}: ${r.stderr.slice(-2000)}`);
    return JSON.parse(last);
  };
  // CONFIGS=unsampled,example,outside-release (default the first two). outside-release: the example's section with
  // paired off, what the runtime draws outside a release when it knows no code canary runs (issue 17 D's
  // announcement: codePairsAllowed false): scoring 0.005 and check lines only.
  const configs_ = (process.env.CONFIGS ?? 'unsampled,example').split(',') as Config[];
  for (const config of configs_) {
    const by: Record<Side, Series> = { P: empty(), R: empty(), D: empty() };
    const t0 = Date.now();
    const loads: string[] = [];
    for (let round = 0; round < rounds; round++) {
      loads.push(os.loadavg()[0].toFixed(1));
      const sidesOf: Side[][] = interleaved ? [['P', 'R', 'D']] : (['P', 'R', 'D', 'P', 'R'] as Side[]).slice(round % 3, (round % 3) + 3).map((s) => [s]);
      for (const sides of sidesOf) {
        const got = child(config, sides);
        for (const s of sides) for (const k of Object.keys(by[s]) as (keyof Series)[]) by[s][k].push(...got[s][k]);
      }
    }
    report(config, by, (Date.now() - t0) / 1000, loads);
  }
}

function empty(): Series {
  return { lat: [], occ: [], latS: [], occS: [] };
}

function report(config: Config, by: Record<Side, Series>, wallS: number, loads: string[]) {
  for (const s of Object.values(by)) for (const a of Object.values(s)) a.sort((x: number, y: number) => x - y);
  const f = (a: number[], p: number) => (a.length ? pct(a, p).toFixed(1) : '-');
  const ratio = (a: number[], b: number[], p: number) => (pct(a, p) / pct(b, p)).toFixed(2);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  say(`\nconfig ${config}: ${wallS.toFixed(0)} s, load (1-min) at each round's start ${loads.join(', ')}, now ${os.loadavg()[0].toFixed(1)}`);
  for (const s of ['P', 'R', 'D'] as Side[]) {
    const b = by[s];
    say(
      `  ${s} (${b.lat.length}) latency p50/p90/p99 ${f(b.lat, 50)} / ${f(b.lat, 90)} / ${f(b.lat, 99)} µs   occupancy p50/p90/p99 ${f(b.occ, 50)} / ${f(b.occ, 90)} / ${f(b.occ, 99)} µs` +
        (b.latS.length
          ? `   sampled (${b.latS.length}) latency p50/p90 ${f(b.latS, 50)} / ${f(b.latS, 90)}, occupancy p50/p90 ${f(b.occS, 50)} / ${f(b.occS, 90)}`
          : ''),
    );
  }
  for (const s of ['R', 'D'] as Side[])
    say(
      `  ${s}/P latency ×  p50 ${ratio(by[s].lat, by.P.lat, 50)}  p90 ${ratio(by[s].lat, by.P.lat, 90)}  p99 ${ratio(by[s].lat, by.P.lat, 99)}    occupancy ×  p50 ${ratio(by[s].occ, by.P.occ, 50)}  p90 ${ratio(by[s].occ, by.P.occ, 90)}  p99 ${ratio(by[s].occ, by.P.occ, 99)}`,
    );
  say(
    `  mean µs: latency P ${mean(by.P.lat).toFixed(1)}  R ${mean(by.R.lat).toFixed(1)}  D ${mean(by.D.lat).toFixed(1)};  occupancy P ${mean(by.P.occ).toFixed(1)}  R ${mean(by.R.occ).toFixed(1)}  D ${mean(by.D.occ).toFixed(1)}`,
  );
}

async function measure(config: Config, sides: Side[], N: number, WARM: number): Promise<Record<Side, Series>> {
  const http = await import('node:http');
  const { hosted, flags } = JSON.parse(process.env.BENCH_CONFIGS ?? '{}') as { hosted: string; flags: string };
  const doc = JSON.parse(hosted);
  if (config === 'unsampled') delete doc.evaluation;
  if (config === 'outside-release') doc.evaluation.paired = false;
  const body = JSON.stringify(doc);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'configuration-version': '1' }).end(req.url?.endsWith('/rel') ? body : flags);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  setBenchEnv(port);
  const { powertools } = await powertoolsOnly();
  const { createAiRuntime } = await import('../lambda/runtime');
  const { pairingDraw } = await import('../lambda/runtime/evaluation-sampler');
  const { pairSamplingRate } = await import('../lambda/shared/evaluation');
  const make = (deferEvaluationLines: boolean) =>
    createAiRuntime<{ question: string }, Out>({ deferEvaluationLines }).handler(async (e) => {
      const output = work(e.question);
      return {
        output,
        usage: { inputTokens: 850, outputTokens: 40 },
        quality: 0.9,
        evaluation: { answer: output.answer, passages: BENCH_PASSAGES, citations: output.citations },
      };
    });
  const handlers: Record<Side, (e: { question: string }, c: never) => Promise<unknown>> = { P: powertools, R: make(false), D: make(true) };
  const event = JSON.stringify({ question: 'How do I restore a deleted file?' });
  const side = new Map<string, Side>();
  const events: { id: string; body: string }[] = [];
  for (let i = 0; i < N + WARM; i++)
    for (let j = 0; j < sides.length; j++) {
      const id = randomUUID();
      side.set(id, sides[(i + j) % sides.length]);
      events.push({ id, body: event });
    }
  const api = await FakeRuntimeApi.start(events);
  const dispatch = (e: { question: string }, c: { awsRequestId: string }) => handlers[side.get(c.awsRequestId) as Side](e, c as never);
  const cpu = process.env.CLOCK === 'cpu';
  const times: InvocationTimes[] = await api.run(dispatch, 'async', { cpu });
  await api.close();
  server.close();
  const pairRate = config !== 'unsampled' ? pairSamplingRate(doc.evaluation) : 0;
  const drawn = (id: string) => config !== 'unsampled' && pairingDraw(id, doc.evaluation.samplingRate, pairRate, 'stable', undefined) !== undefined;
  const us = (a: bigint, b: bigint) => Number(b - a) / 1000;
  const by: Record<Side, Series> = { P: empty(), R: empty(), D: empty() };
  const seen: Record<Side, number> = { P: 0, R: 0, D: 0 };
  for (const t of times) {
    const s = side.get(t.id) as Side;
    if (seen[s]++ < WARM) continue;
    const c = t.cpu;
    const lat = c ? c[1] - c[0] : us(t.start, t.post0);
    const occ = c ? c[3] - c[0] - (c[2] - c[1]) : us(t.start, t.next) - us(t.post0, t.post1);
    by[s].lat.push(lat);
    by[s].occ.push(occ);
    if (s !== 'P' && drawn(t.id)) {
      by[s].latS.push(lat);
      by[s].occS.push(occ);
    }
  }
  return by;
}

main().catch((e) => {
  say(String(e?.stack ?? e));
  process.exit(1);
});
