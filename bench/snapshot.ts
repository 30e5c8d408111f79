/**
 * Snapshot benchmark (issue 8). 10,000 failure records in 100 delivery batches into the regression store, against
 * s3rver on loopback (a real S3-protocol server, in this process). Targets: <= 10 s wall, peak RSS <= 256 MB,
 * 0 records lost, 0 duplicated cases. Printed beside a naive writer (one object per record) in the same run.
 *
 *   npx tsx bench/snapshot.ts                                 both distributions, one child process each, then a summary
 *   BENCH_DISTINCT_INPUTS=1000 npx tsx bench/snapshot.ts      one: Zipf over 1,000 inputs (916 distinct in 10,000 records)
 *   BENCH_DISTINCT_INPUTS=1000000 npx tsx bench/snapshot.ts   one: inputs rarely repeat (5,260 distinct)
 *
 * Peak RSS is the whole process: the benchmark, the SDK client and s3rver itself (one process per distribution, so
 * one run's garbage does not count against the other).
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { redact } from '../lambda/runtime/redact';
import type { CaseIndex, SnapshotBatch } from '../lambda/shared/case-index';
import { CASE_STATES } from '../lambda/shared/contract';
import { caseIdOf } from '../lambda/snapshot/cases';
import { s3Store } from '../lambda/snapshot/s3-store';
import { snapshot } from '../lambda/snapshot/snapshot';
import { mapLimit, type ObjectStore, withRetries } from '../lambda/snapshot/store';
import { BUCKET, delivery, record, s3Client, startS3, tuple } from '../test/s3rver-harness';

const RECORDS = 10_000;
const BATCHES = 100;
/** Inputs drawn from (BENCH_DISTINCT_INPUTS overrides it, e.g. 1000000 for "every failing request is a new input"). */
const DISTINCT_INPUTS = Number(process.env.BENCH_DISTINCT_INPUTS);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const say = (line: string) => process.stdout.write(`${line}\n`);

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

/** Zipf-like draw (s = 1) over the inputs: a few inputs fail often (retries, a popular question), a long tail once. */
function zipf(n: number, seed: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / total));
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return () => {
    const r = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** The records, 100 per delivery. In a function of its own, so the draw's table (a million entries for the
 * mostly-distinct run) is garbage before the store phase instead of live through it. */
function generate() {
  const draw = zipf(DISTINCT_INPUTS, 42);
  const bad = tuple('assistant', '42', 'cfg-badbadbadbad');
  return Array.from({ length: BATCHES }, () =>
    Array.from({ length: RECORDS / BATCHES }, () =>
      record({ service: 'assistant', input: input(draw()), kinds: ['contract'], output: { answer: 7 }, tuple: bad }),
    ),
  );
}

function input(i: number) {
  return {
    question: `Where is my order ${i}? It was supposed to arrive on Tuesday and the tracking page shows nothing since last week.`,
    locale: 'en-US',
    channel: i % 3 === 0 ? 'chat' : 'email',
    history: [{ role: 'user', text: `previous message about order ${i}` }],
  };
}

async function main() {
  const s3 = await startS3();
  const client = s3Client(s3.endpoint);
  const timer = setInterval(sampleRss, 20);
  try {
    const batches = generate();
    const events = batches.map((lines, b) =>
      delivery(lines, {
        logGroup: '/aws/lambda/assistant',
        logStream: `2026/11/27/[42]stream${b % 10}`,
        firstId: 38000000000000000000000000000000000000000000000000000000n + BigInt(b) * 1000n,
      }),
    );
    const distinct = new Set(batches.flat().map((r) => caseIdOf(r.service, r.input))).size;
    const perBatchDistinct = batches.map((l) => new Set(l.map((r) => r.input)).size);
    say(
      `data: ${RECORDS} failure records in ${BATCHES} deliveries, ${distinct} distinct inputs (Zipf over ${DISTINCT_INPUTS}), ${Math.min(...perBatchDistinct)}–${Math.max(...perBatchDistinct)} distinct per delivery`,
    );

    // --- the store: snapshot() per delivery, as the function runs it (one delivery at a time, 8 S3 calls at once)
    const io = { indexBytes: 0, byKind: {} as Record<string, number> };
    const store = withRetries(measured(s3Store(client, BUCKET), io));
    sampleRss();
    const rssBefore = process.memoryUsage().rss;
    if (process.env.BENCH_MEM) {
      (globalThis as { gc?: () => void }).gc?.();
      console.error(process.memoryUsage());
    }
    const t0 = performance.now();
    for (const e of events) await snapshot(e, { store, redact, concurrency: CONCURRENCY });
    const storeMs = performance.now() - t0;
    const storeCalls = store.stats.calls;
    const storeByKind = { ...io.byKind };
    const indexBytes = io.indexBytes;
    const rssAfterStore = process.memoryUsage().rss;
    if (process.env.BENCH_MEM) {
      (globalThis as { gc?: () => void }).gc?.();
      console.error(process.memoryUsage());
    }

    // --- verification: every record in exactly one batch object; every input in exactly one case; counts add up
    // Listed per prefix: s3rver cannot paginate on Node >= 17 (its continuation token uses DES, which OpenSSL 3 lacks),
    // so no single listing here may exceed 1,000 keys.
    const listAll = async () => [
      ...(await store.list('batches/')),
      ...(await store.list('index/')),
      ...(await Promise.all(CASE_STATES.flatMap((s) => [...'0123456789abcdef'].map((h) => store.list(`cases/assistant/${s}/${h}`))))).flat(),
    ];
    const keys = await listAll();
    const batchKeys = keys.filter((k) => k.startsWith('batches/'));
    const seen = new Map<string, number>();
    // Each batch is read once: its records' ids, and its per-case counts (for the cases that live in it).
    const perBatch = new Map<string, Map<string, number>>();
    for (const k of batchKeys) {
      const b = JSON.parse((await store.get(k))!.body) as SnapshotBatch;
      for (const r of b.records) seen.set(r.requestId, (seen.get(r.requestId) ?? 0) + 1);
      perBatch.set(b.deliveryKey, new Map(b.cases.map((c) => [c.caseId, c.count])));
    }
    const all = batches.flat();
    const lost = all.filter((r) => !seen.has(r.requestId)).length;
    const storedTwice = [...seen.values()].filter((n) => n > 1).length;
    const caseKeys = keys.filter((k) => k.startsWith('cases/'));
    const caseIds = caseKeys.map((k) => k.split('/').at(-1)!.replace('.json', ''));
    const duplicatedCases = caseIds.length - new Set(caseIds).size;
    const indexText = (await store.get('index/assistant.json'))!.body;
    const index = JSON.parse(indexText) as CaseIndex;
    // Counts: the index's entries for cases with an object; a case that lives in its batch counts that batch's fold.
    const batchCounts = new Map<string, number>();
    for (const [deliveryKey, g] of Object.entries(index.batched ?? {})) for (const id of g.ids) batchCounts.set(id, perBatch.get(deliveryKey)?.get(id) ?? 0);
    const indexed = Object.values(index.cases).reduce((s, e) => s + e.count, 0) + [...batchCounts.values()].reduce((s, n) => s + n, 0);
    // Every distinct input is in exactly one place: its own object, its index entry (seen again, content in its first
    // batch), or its batch's group (never in a group and elsewhere, never nowhere).
    const located = new Set([...caseIds, ...Object.keys(index.cases), ...batchCounts.keys()]);
    const inBoth = [...new Set([...caseIds, ...Object.keys(index.cases)])].filter((id) => batchCounts.has(id)).length;
    const states = Object.fromEntries(CASE_STATES.map((s) => [s, caseKeys.filter((k) => k.includes(`/${s}/`)).length]));

    // --- re-delivery of 10 batches: must write nothing
    const before = (await listAll()).length;
    const callsBefore = store.stats.calls;
    const t1 = performance.now();
    for (const e of events.slice(0, 10)) await snapshot(e, { store, redact, concurrency: CONCURRENCY });
    const replayMs = performance.now() - t1;
    const replayCalls = store.stats.calls - callsBefore;
    const after = (await listAll()).length;
    sampleRss();
    const peakStoreRss = peakRss;

    // --- the naive writer: one object per record, same client, same concurrency
    const t2 = performance.now();
    const naive = s3Store(client, BUCKET);
    await mapLimit(
      batches.flatMap((lines, b) => lines.map((r) => ({ r, b }))),
      CONCURRENCY,
      ({ r, b }) => naive.put(`naive/${b}/${r.requestId}.json`, JSON.stringify(redactAll(r))),
    );
    const naiveMs = performance.now() - t2;
    let naiveObjects = 0;
    for (let b = 0; b < BATCHES; b++) naiveObjects += (await store.list(`naive/${b}/`)).length;
    sampleRss();

    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    say('');
    say(`                      wall       S3 requests   objects written                      records/s`);
    say(
      `regression store   ${(storeMs / 1000).toFixed(2).padStart(6)} s   ${String(storeCalls).padStart(11)}   ${String(batchKeys.length + caseKeys.length + 1).padStart(6)} (${batchKeys.length} batches, ${caseKeys.length} cases, 1 index)   ${Math.round(RECORDS / (storeMs / 1000))}`,
    );
    say(
      `naive (1/record)   ${(naiveMs / 1000).toFixed(2).padStart(6)} s   ${String(RECORDS).padStart(11)}   ${String(naiveObjects).padStart(6)} (one per record, ${distinct} inputs → ${naiveObjects} objects)   ${Math.round(RECORDS / (naiveMs / 1000))}`,
    );
    say(
      `ratio naive / store: wall ${(naiveMs / storeMs).toFixed(1)}x, requests ${(RECORDS / storeCalls).toFixed(1)}x, objects ${(naiveObjects / (batchKeys.length + caseKeys.length + 1)).toFixed(1)}x`,
    );
    say('');
    say(`store wall ${(storeMs / 1000).toFixed(2)} s (target <= 10, ratio ${(storeMs / 10000).toFixed(2)})`);
    say(
      `peak RSS ${mb(peakStoreRss)} MB through the store phase, ${mb(peakRss)} MB after the naive writer; whole process incl. s3rver and the generated data (target <= 256, ratio ${(peakStoreRss / (256 * 1024 * 1024)).toFixed(2)})`,
    );
    say(`lost records ${lost} (target 0); records stored twice ${storedTwice}; duplicated cases ${duplicatedCases} (target 0)`);
    say(
      `cases ${located.size} for ${distinct} distinct inputs: ${caseKeys.length} objects (${JSON.stringify(states)}), ${Object.keys(index.cases).length - caseKeys.length} seen again with no object (index entry + first batch), ${batchCounts.size} in their batch only, ${inBoth} in both; counts sum ${indexed} of ${RECORDS}`,
    );
    say(
      `index ${(indexText.length / 1024).toFixed(0)} KiB at the end (${Object.keys(index.cases).length} entries, ${batchCounts.size} batched ids), ${(indexBytes / 2 ** 20).toFixed(1)} MiB read+written over the run`,
    );
    say(
      `store requests by kind: ${Object.entries(storeByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    say(`RSS ${mb(rssBefore)} MB with the data generated, before the store phase; ${mb(rssAfterStore)} MB right after it`);
    say(`re-delivery of 10 batches: ${(replayMs / 1000).toFixed(2)} s, ${replayCalls} S3 requests, objects ${before} → ${after} (nothing new)`);
    say(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`,
    );
    const ok =
      storeMs <= 10_000 &&
      peakStoreRss <= 256 * 1024 * 1024 &&
      lost === 0 &&
      duplicatedCases === 0 &&
      located.size === distinct &&
      inBoth === 0 &&
      indexed === RECORDS &&
      after === before;
    say(ok ? 'PASS' : 'FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    clearInterval(timer);
    client.destroy();
    await s3.close();
  }
}

/** Counts the store's requests by kind and the index bytes read and written (the index must not become a per-record cost). */
function measured(inner: ObjectStore, io: { indexBytes: number; byKind: Record<string, number> }): ObjectStore {
  const count = (kind: string, key: string) => {
    const k = `${kind} ${key.split('/')[0]}`;
    io.byKind[k] = (io.byKind[k] ?? 0) + 1;
  };
  return {
    get: async (key) => {
      count('get', key);
      const o = await inner.get(key);
      if (key.startsWith('index/')) io.indexBytes += o?.body.length ?? 0;
      return o;
    },
    exists: (key) => (count('head', key), inner.exists(key)),
    put: (key, body, options) => {
      count('put', key);
      if (key.startsWith('index/')) io.indexBytes += body.length;
      return inner.put(key, body, options);
    },
    delete: (key) => (count('delete', key), inner.delete(key)),
    list: (prefix) => (count('list', prefix), inner.list(prefix)),
  };
}

/** The naive writer still redacts (the comparison is about objects, not about skipping work). */
function redactAll<T>(r: T): T {
  return JSON.parse(redact(JSON.stringify(r)));
}

/** Both distributions, each in its own process; their lines side by side, and PASS only when both pass. */
function both(): void {
  const rows: string[][] = [];
  let ok = true;
  for (const [name, n] of [
    ['Zipf over 1,000', '1000'],
    ['mostly distinct (Zipf over 1,000,000)', '1000000'],
  ] as const) {
    say(`=== ${name} ===`);
    const r = spawnSync(process.execPath, [...process.execArgv, __filename], { env: { ...process.env, BENCH_DISTINCT_INPUTS: n }, encoding: 'utf8' });
    process.stdout.write(r.stdout);
    ok &&= r.status === 0;
    const pick = (re: RegExp) => re.exec(r.stdout)?.[1] ?? '?';
    rows.push([
      name,
      pick(/^data: .*?, (\d+) distinct inputs/m),
      `${pick(/^regression store\s+([\d.]+) s/m)} s`,
      `${pick(/^naive \(1\/record\)\s+([\d.]+) s/m)} s`,
      pick(/^ratio naive \/ store: wall ([\d.]+x)/m),
      `${pick(/^regression store\s+[\d.]+ s\s+(\d+)/m)} / 10000`,
      `${pick(/^peak RSS ([\d.]+) MB/m)} MB`,
      pick(/^lost records (\d+)/m),
      pick(/duplicated cases (\d+)/m),
      r.status === 0 ? 'PASS' : 'FAIL',
    ]);
  }
  say('');
  say('distribution | distinct | store wall | naive wall | naive/store | requests store/naive | peak RSS | lost | dup cases | result');
  for (const row of rows) say(row.join(' | '));
  say(ok ? 'PASS (both)' : 'FAIL');
  process.exitCode = ok ? 0 : 1;
}

if (process.env.BENCH_DISTINCT_INPUTS === undefined) both();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
