/**
 * Regression gate benchmark (issue 9): 1,000 accepted cases replayed at 50 ms simulated latency per invocation with
 * 20 in flight. Floor = 1,000 × 50 ms / 20 = 2.5 s; target ≤ 2× the floor.
 *
 *   npx tsx bench/gate.ts
 *
 * The replay goes through the gate's real code path: the Lambda adapter (SDK v3 client, its middleware and
 * serialisation; the transport is aws-sdk-client-mock answering after 50 ms with a runtime verdict), the per-case
 * timeout and deadline logic, and the judge. The cases are loaded from s3rver (S3 protocol on loopback) and the report
 * written back there: "whole gate" is that end to end, "replay" the part the target is about.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaInvoker, s3GateStore } from '../lambda/gate/aws-adapters';
import { DEFAULT_GATE_SETTINGS, type GateSettings, replayAll, runGate, writeReport } from '../lambda/gate/gate';
import { READ_CONCURRENCY, selectCases } from '../lambda/gate/select';
import { GATE_RESPONSE_KEY, type RegressionCase } from '../lambda/shared/contract';
import { mapLimit } from '../lambda/snapshot/store';
import { BUCKET, s3Client, startS3 } from '../test/s3rver-harness';

const CASES = 1000;
const LATENCY_MS = 50;
const CONCURRENCY = 20;
const RUNS = 3;
const FLOOR_MS = (CASES * LATENCY_MS) / CONCURRENCY;
const say = (line: string) => process.stdout.write(`${line}\n`);

function regressionCase(i: number): RegressionCase {
  const id = i.toString(16).padStart(32, '0');
  const at = new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString();
  return {
    schemaVersion: 1,
    caseId: id,
    service: 'bench',
    state: 'accepted',
    input: JSON.stringify({ question: `question ${i}: where is my order?`, locale: 'en' }),
    kinds: [(['error', 'contract', 'quality', 'safety'] as const)[i % 4]],
    failedOn: [],
    firstSeen: at,
    lastSeen: at,
    count: 1 + (i % 7),
    sampleRequestIds: [],
    expectation: { noError: true, maxLatencyMs: 5000, mustNotMatch: ['\\bssn\\b'] },
    history: [],
  };
}

async function main() {
  const s3 = await startS3();
  const client = s3Client(s3.endpoint);
  const store = s3GateStore(client, BUCKET, () => 600_000);
  await mapLimit(
    Array.from({ length: CASES }, (_, i) => regressionCase(i)),
    32,
    (c) => store.put(`cases/bench/accepted/${c.caseId}.json`, JSON.stringify(c)),
  );
  const lambda = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const answer = new TextEncoder().encode(
    JSON.stringify({
      [GATE_RESPONSE_KEY]: { output: { answer: 'It ships tomorrow.' }, kinds: [], details: [], latencyMs: LATENCY_MS, degraded: false, tuple: {} },
    }),
  );
  let inFlight = 0;
  let peak = 0;
  mockClient(lambda)
    .on(InvokeCommand)
    .callsFake(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, LATENCY_MS));
      inFlight -= 1;
      return { StatusCode: 200, Payload: answer };
    });
  const settings: GateSettings = { ...DEFAULT_GATE_SETTINGS, caseCap: CASES, concurrency: CONCURRENCY };
  const ports = { store, invoker: lambdaInvoker(lambda, 'bench-fn'), clock: { now: () => Date.now() } };
  const run = (deadline: number) => ({
    service: 'bench',
    plane: 'code' as const,
    releaseKey: 'code-d-bench',
    target: { functionName: 'bench-fn', qualifier: '2' },
    deadline,
  });

  const tl = performance.now();
  const selection = await selectCases(store, 'bench', { cap: CASES, candidates: 'off' });
  const loadMs = performance.now() - tl;
  if (selection.cases.length !== CASES) throw new Error(`expected ${CASES} cases, loaded ${selection.cases.length}`);
  const replays: number[] = [];
  const wholes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    peak = 0;
    const t0 = performance.now();
    const r = await replayAll(run(Date.now() + 600_000), selection.cases, settings, ports);
    replays.push(performance.now() - t0);
    const passed = r.results.filter((x) => x.outcome === 'passed').length;
    if (passed !== CASES) throw new Error(`replay: ${passed} of ${CASES} passed`);
    if (peak !== CONCURRENCY) throw new Error(`peak in flight ${peak}, expected ${CONCURRENCY}`);
    const t1 = performance.now();
    const report = await runGate(run(Date.now() + 600_000), settings, ports);
    await writeReport(store, report);
    wholes.push(performance.now() - t1);
    if (report.verdict !== 'passed' || report.blocking.passed !== CASES) throw new Error(`whole gate: ${report.summary}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const replay = median(replays);
  const whole = median(wholes);
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  say(`gate bench: ${CASES} cases, ${LATENCY_MS} ms per invocation, concurrency ${CONCURRENCY}; floor ${fmt(FLOOR_MS)}; target <= ${fmt(2 * FLOOR_MS)}`);
  say(`replay (invoke + judge): median ${fmt(replay)} over ${RUNS} runs [${replays.map(fmt).join(', ')}]; ratio to floor ${(replay / FLOOR_MS).toFixed(2)}`);
  say(
    `whole gate (load 1,000 cases from s3rver + replay + write report): median ${fmt(whole)} [${wholes.map(fmt).join(', ')}]; ratio to floor ${(whole / FLOOR_MS).toFixed(2)}`,
  );
  say(`of which loading the cases (list + ${CASES} GETs from s3rver, ${READ_CONCURRENCY} at a time): ${fmt(loadMs)} on its first run`);
  say(`peak in flight ${peak}; ${replay <= 2 * FLOOR_MS ? 'PASS' : 'FAIL'} (replay <= 2x floor)`);
  client.destroy();
  await s3.close();
  if (replay > 2 * FLOOR_MS) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
