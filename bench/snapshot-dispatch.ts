/**
 * What the one-filter design costs (h8-filter): the snapshot function now receives both record kinds of a service
 * log group and forwards the evaluation samples to the evaluator (lambda/snapshot/dispatch.ts).
 *
 *   npx tsx bench/snapshot-dispatch.ts [runs] [before-root]
 *
 * 1. CPU of the dispatch per delivery (decode, split by kind, re-encode the samples as a CloudWatch Logs event): mixed
 *    batches of 10, 100 and 1,000 events, half samples; median and p95 over `runs` (default 200) in this process.
 * 2. The snapshot bundle as deployed (scripts/bundle-handlers.ts: minified, the AWS SDK bundled in) and its cold load
 *    (a fresh `node` per sample, timing `require` of index.js, which builds the S3 client and, with the evaluator's
 *    name set, the Lambda client), here and in `before-root` (default /work/main, the tree before this change).
 * The Lambda Invoke call itself (one asynchronous request per delivery with samples) is not measurable offline.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { FAILURE_RECORD_TYPE } from '../lambda/shared/contract';
import { dispatch, forwardEvents } from '../lambda/snapshot/dispatch';
import { decodeDelivery } from '../lambda/snapshot/snapshot';
import { bundleHandler } from '../scripts/bundle-handlers';

const runs = Number(process.argv[2] ?? 200);
const beforeRoot = process.argv[3] ?? '/work/main';
const root = path.join(__dirname, '..');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const tuple = { service: 'support', codeVersion: '7', config: 'c', prompt: 'p', model: 'm', retrieval: 'r', tools: 't', outputContract: 'o', degrade: 'd' };
function line(i: number): string {
  if (i % 2 === 0)
    return JSON.stringify({
      type: FAILURE_RECORD_TYPE,
      schemaVersion: 1,
      kind: 'error',
      kinds: ['error'],
      service: 'support',
      requestId: `req-${i}`,
      time: '2026-12-07T00:00:00.000Z',
      tuple,
      measurements: { latencyMs: 812, inputTokens: 900, outputTokens: 120 },
      input: `How do I reset the password of account ${i}? It says my token expired after the upgrade.`,
      output: 'I could not complete that request.',
      error: { name: 'ThrottlingException', message: 'Rate exceeded' },
      truncated: false,
    });
  return JSON.stringify(
    buildEvaluationSample(
      {
        service: 'support',
        requestId: `req-${i}`,
        time: new Date('2026-12-07T00:00:00Z'),
        tuple,
        functionVersion: '7',
        arm: i % 4 === 1 ? 'canary' : 'stable',
        input: `How do I reset the password of account ${i}?`,
        answer: 'Open Settings, choose Security, then Reset password [p1]. The link in the mail is valid for 15 minutes [p2].',
        citations: ['p1', 'p2'],
        passages: [
          { id: 'p1', text: 'Settings > Security has a reset button.' },
          { id: 'p2', text: 'Reset links expire after 15 minutes.' },
        ],
      },
      1,
    ),
  );
}
function event(n: number) {
  const data = {
    messageType: 'DATA_MESSAGE',
    owner: '111122223333',
    logGroup: '/aws/lambda/support',
    logStream: '2026/12/07/[7]abc',
    subscriptionFilters: ['cdk-ai-release-failures'],
    logEvents: Array.from({ length: n }, (_, i) => ({
      id: String(37000000000000000000000000000000000000000000000000000000n + BigInt(i)),
      timestamp: 1795000000000 + i,
      message: line(i),
    })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
}

async function cpu() {
  console.log(`dispatch CPU per delivery (${runs} runs each; decode + split + re-encode of the samples):`);
  for (const n of [10, 100, 1000]) {
    const e = event(n);
    const fullMs: number[] = [];
    const decodeMs: number[] = [];
    let forwardedBytes = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const data = decodeDelivery(e);
      const t1 = performance.now();
      await dispatch(data, { forwardSamples: async (f) => void (forwardedBytes = JSON.stringify(f).length), snapshot: async () => undefined });
      const t2 = performance.now();
      decodeMs.push(t1 - t0);
      fullMs.push(t2 - t0);
    }
    const split = fullMs.map((f, i) => f - decodeMs[i]);
    console.log(
      `  ${n} events (${n / 2} samples): delivery ${e.awslogs.data.length} B, forwarded ${forwardedBytes} B in ${forwardEvents(decodeDelivery(e)).length} event(s); ` +
        `decode median ${pct(decodeMs, 50).toFixed(2)} ms; split + re-encode median ${pct(split, 50).toFixed(2)} ms, p95 ${pct(split, 95).toFixed(2)} ms`,
    );
  }
}

function bundle(at: string, dir: string): string | undefined {
  try {
    return path.join(bundleHandler(at, 'snapshot', dir), 'index.js');
  } catch (e) {
    console.log(`  ${at}: cannot bundle (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

function coldLoads(file: string, env: Record<string, string>, samples: number): number[] {
  const script = `const t=performance.now();require(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t))`;
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, AWS_REGION: 'eu-west-1', AI_RELEASE_STORE_BUCKET: 'b', ...env },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
    out.push(Number(r.stdout));
  }
  return out;
}

async function main() {
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}`,
  );
  await cpu();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshot-dispatch-'));
  try {
    const samples = 21;
    console.log(`snapshot bundle (minified, SDK bundled) and cold require, ${samples} fresh node processes each, interleaved by set:`);
    const before = bundle(beforeRoot, path.join(tmp, 'before'));
    const after = bundle(root, path.join(tmp, 'after'));
    const sets: [string, string | undefined, Record<string, string>][] = [
      ['before (main)', before, {}],
      ['after, no evaluator', after, {}],
      ['after, evaluator set', after, { AI_RELEASE_EVALUATOR_FUNCTION: 'platform-evaluator' }],
    ];
    const times = sets.map(() => [] as number[]);
    // Interleaved: one sample of each set in turn, so the machine's load falls on all of them alike.
    for (let i = 0; i < samples; i++) for (const [k, [, file, env]] of sets.entries()) if (file) times[k].push(...coldLoads(file, env, 1));
    for (const [k, [name, file]] of sets.entries()) {
      if (!file) continue;
      const ms = times[k];
      console.log(
        `  ${name}: ${(fs.statSync(file).size / 1024).toFixed(1)} KiB; require median ${pct(ms, 50).toFixed(1)} ms, p90 ${pct(ms, 90).toFixed(1)} ms`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
