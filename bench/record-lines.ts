/**
 * What writing one record line costs (h8-loglevel): PowertoolsTelemetry.sample() and .failure() on the adapter's own
 * Logger, per call, under the log settings a production function has (none; POWERTOOLS_LOG_LEVEL=WARN; ALC WARN and
 * ERROR via AWS_LAMBDA_LOG_LEVEL), with the bytes each call writes. Each setting runs in its own child process (the
 * Logger reads its level at construction), stdout and stderr captured in-process and discarded.
 *
 *   npx tsx bench/record-lines.ts [calls]
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { PowertoolsTelemetry } from '../lambda/runtime';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { FAILURE_RECORD_TYPE, type FailureRecord, type VersionTuple } from '../lambda/shared/contract';

const N = Number(process.argv[2] ?? 20_000);
const SETTINGS: Record<string, Record<string, string>> = {
  'no level set': {},
  'POWERTOOLS_LOG_LEVEL=WARN': { POWERTOOLS_LOG_LEVEL: 'WARN' },
  'ALC WARN': { AWS_LAMBDA_LOG_LEVEL: 'WARN' },
  'ALC ERROR': { AWS_LAMBDA_LOG_LEVEL: 'ERROR' },
};

if (!process.env.BENCH_SETTING) {
  process.stderr.write(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}\n`,
  );
  process.stderr.write(`${N} calls each after 2,000 warm-up, p50 / p90 µs per call, bytes per call\n`);
  for (const [name, env] of Object.entries(SETTINGS)) {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, String(N)], {
      env: { ...process.env, ...env, BENCH_SETTING: name, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}

const tuple: VersionTuple = {
  service: 'support-assistant',
  codeVersion: '7',
  config: 'cfg-0da63e1d8b93',
  prompt: '3',
  model: '2026-11-27',
  retrieval: 'kb-2026-11-18',
  tools: '1',
  outputContract: '1',
  evaluation: '2026-12-07',
  degrade: 'degrade-daace1acc200',
};
const record: FailureRecord = {
  type: FAILURE_RECORD_TYPE,
  schemaVersion: 1,
  kind: 'contract',
  kinds: ['contract'],
  service: 'support-assistant',
  requestId: 'req-1',
  time: new Date().toISOString(),
  tuple,
  measurements: { latencyMs: 812, inputTokens: 850, outputTokens: 40, costUsd: 0.0012 },
  input: JSON.stringify({ question: 'How do I restore a deleted file?' }),
  output: JSON.stringify({ answer: 'Open the bin.' }),
  details: ['answer: must be string'],
  truncated: false,
};
const sample = buildEvaluationSample(
  {
    service: 'support-assistant',
    requestId: 'req-1',
    time: new Date(),
    tuple,
    functionVersion: '7',
    arm: 'stable',
    input: JSON.stringify({ question: 'How do I restore a deleted file?' }),
    answer: 'Open the bin [kb-restore-01].',
    passages: [{ id: 'kb-restore-01', text: 'Deleted files stay in the bin for 30 days.' }],
    citations: ['kb-restore-01'],
    inputTokens: 850,
    outputTokens: 40,
  },
  0.02,
);

const t = new PowertoolsTelemetry('support-assistant');
t.stamp(tuple, 'req-1');
let bytes = 0;
const grab = ((chunk: string | Uint8Array) => {
  bytes += Buffer.byteLength(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
  return true;
}) as typeof process.stdout.write;
const realErr = process.stderr.write.bind(process.stderr);
process.stdout.write = grab;
process.stderr.write = grab;

function time(fn: () => void): { p50: number; p90: number; bytes: number } {
  for (let i = 0; i < 2_000; i++) fn();
  const ns: number[] = [];
  bytes = 0;
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint();
    fn();
    ns.push(Number(process.hrtime.bigint() - s));
  }
  ns.sort((a, b) => a - b);
  return { p50: ns[Math.floor(N * 0.5)] / 1000, p90: ns[Math.floor(N * 0.9)] / 1000, bytes: bytes / N };
}

const s = time(() => t.sample(sample));
const f = time(() => t.failure(record));
const row = (what: string, r: { p50: number; p90: number; bytes: number }) =>
  `  ${what.padEnd(9)} p50 ${r.p50.toFixed(1).padStart(6)} µs  p90 ${r.p90.toFixed(1).padStart(6)} µs  ${r.bytes.toFixed(0).padStart(5)} bytes`;
realErr(`${process.env.BENCH_SETTING}:\n${row('sample', s)}\n${row('failure', f)}\n`);
