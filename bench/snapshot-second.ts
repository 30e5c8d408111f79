/**
 * Snapshot, second delivery of 10,000 distinct cases (issue 15 B). Two deliveries carry the same 10,000 distinct
 * inputs: the first stores them in its batch (no case objects), the second sees every one again, so every case gets
 * its object. Against the S3 model (test/s3-model.ts: conditional writes, strong read-after-write, 10–80 ms per request)
 * in a process of its own, so the peak RSS printed is this process's: the snapshot code, the SDK client, the data.
 * The function has 60 s and 256 MB (RegressionStore's snapshot function).
 *
 *   npx tsx bench/snapshot-second.ts              S3_MODEL_LATENCY=10,80 by default
 *   BENCH_CONCURRENCY=8 npx tsx bench/snapshot-second.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { redact } from '../lambda/runtime/redact';
import { s3Store } from '../lambda/snapshot/s3-store';
import { snapshot } from '../lambda/snapshot/snapshot';
import { type ObjectStore, withRetries } from '../lambda/snapshot/store';
import { RegressionCases } from '../lib/learning/regression-cases';
import { modelClient } from '../test/s3-model';
import { BUCKET, delivery, record, tuple } from '../test/s3rver-harness';

const N = Number(process.env.BENCH_CASES ?? 10_000);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function startModel(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...process.execArgv, path.join(__dirname, 's3-model-server.ts')], {
    env: { ...process.env, S3_MODEL_BUCKET: BUCKET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      const m = /endpoint (\S+)/.exec(b.toString());
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`model exited ${c}`)));
  });
  return { endpoint, child };
}

async function main() {
  const { endpoint, child } = await startModel();
  const client = modelClient(endpoint);
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const service = 'assistant';
    const bad = tuple(service, '42', 'cfg-badbadbadbad');
    const lines = () =>
      Array.from({ length: N }, (_, i) =>
        record({
          service,
          input: {
            question: `Where is my order ${i}? It was supposed to arrive on Tuesday.`,
            locale: 'en-US',
            history: [{ role: 'user', text: `about order ${i}` }],
          },
          kinds: ['contract'],
          output: { answer: 7 },
          tuple: bad,
        }),
      );
    const calls = { n: 0 };
    const counted = (s: ObjectStore): ObjectStore => ({
      get: (k) => (calls.n++, s.get(k)),
      exists: (k) => (calls.n++, s.exists(k)),
      put: (k, b, o) => (calls.n++, s.put(k, b, o)),
      delete: (k) => (calls.n++, s.delete(k)),
      list: (p) => (calls.n++, s.list(p)),
    });
    const store = withRetries(counted(s3Store(client, BUCKET)));
    const deps = { store, redact, ...(CONCURRENCY ? { concurrency: CONCURRENCY } : {}) };
    const t0 = performance.now();
    await snapshot(delivery(lines(), { logStream: 'first', firstId: 1n }), deps);
    const firstMs = performance.now() - t0;
    const firstCalls = calls.n;
    const second = delivery(lines(), { logStream: 'second', firstId: 100000n });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    peak = rssBefore;
    calls.n = 0;
    const t1 = performance.now();
    const out = await snapshot(second, deps);
    const secondMs = performance.now() - t1;
    const secondPeak = Math.max(peak, process.memoryUsage().rss);
    const secondCalls = calls.n;
    // Verify: every case counted twice, one place each.
    const cases = await new RegressionCases(store).list(service);
    const wrong = cases.filter((c) => c.count !== 2).length;
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    say(`first delivery of ${N} distinct inputs: ${(firstMs / 1000).toFixed(2)} s, ${firstCalls} S3 calls`);
    say(
      `second delivery (all seen again): ${(secondMs / 1000).toFixed(2)} s, ${secondCalls} S3 calls, status ${out.services[0]?.status}, peak RSS ${mb(secondPeak)} MB (${mb(rssBefore)} MB before it)`,
    );
    say(`cases ${cases.length} of ${N}; with a count other than 2: ${wrong}`);
    say(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}; S3 model latency ${process.env.S3_MODEL_LATENCY ?? '10,80'} ms`,
    );
    const ok = secondMs < 60_000 && secondPeak <= 256 * 2 ** 20 && cases.length === N && wrong === 0;
    say(ok ? 'PASS (within 60 s and 256 MB, every case counted twice)' : 'FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    clearInterval(timer);
    client.destroy();
    child.kill('SIGTERM');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
