/**
 * The regression store under concurrency, against an S3 model that honours conditional writes, strong read-after-write
 * and paginated listing, with 10–80 ms latency per request (test/s3-model.ts), through the real SDK client and the
 * real adapter (lambda/snapshot/s3-store.ts). s3rver cannot show these races: it ignores If-None-Match / If-Match.
 */
import { rng as seeded } from '../lib/drill/traffic';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { redact } from '../lambda/runtime/redact';
import type { CaseIndex } from '../lambda/shared/case-index';
import { CASE_STATES, type FailureRecord } from '../lambda/shared/contract';
import { caseIdOf, storeKeys } from '../lambda/snapshot/cases';
import { s3Store } from '../lambda/snapshot/s3-store';
import { snapshot } from '../lambda/snapshot/snapshot';
import { type ObjectStore, withRetries } from '../lambda/snapshot/store';
import { RegressionCases } from '../lib/learning/regression-cases';
import { modelClient, type S3Model, startS3Model } from './s3-model';
import { delivery, record } from './s3rver-harness';

// 20 repetitions × 16 deliveries share one client: enough sockets that none waits (and the SDK's queue warning, which
// is about this test's fan-out, not the code under test, stays quiet).
const clientFor = (m: S3Model) => modelClient(m.endpoint, 512);

let stream = 0;
const deliver = (lines: FailureRecord[]) =>
  delivery(lines, { logStream: `2026/12/07/[7]stream${++stream}`, firstId: 39000000000000000000n + BigInt(stream) * 1000n });
const question = (i: number) => ({ question: `Where is my order ${i}?` });

/** Counts and states as a reader sees them, plus the store's raw layout (live objects per case). */
async function observed(m: S3Model, store: ObjectStore, service: string) {
  const set = new RegressionCases(store);
  const cases = await set.list(service);
  const live = new Map<string, string[]>();
  for (const [key, o] of m.objects) {
    const match = new RegExp(`^cases/${service}/(candidate|accepted|retired)/([0-9a-f]{32})\\.json$`).exec(key);
    if (!match) continue;
    const body = JSON.parse(o.body) as { state: string };
    if (!(CASE_STATES as readonly string[]).includes(body.state)) continue; // a moved marker, not a case
    live.set(match[2], [...(live.get(match[2]) ?? []), match[1]]);
  }
  const index = JSON.parse(m.objects.get(storeKeys.index(service))!.body) as CaseIndex;
  return { cases, live, index };
}

describe('the S3 model itself (what the race tests rely on)', () => {
  let m: S3Model;
  let client: S3Client;
  beforeAll(async () => {
    m = await startS3Model({ latencyMs: [0, 2] });
    client = clientFor(m);
  });
  afterAll(async () => {
    client.destroy();
    await m.close();
  });

  test('If-None-Match: * refuses an existing key; If-Match refuses another version and a missing key', async () => {
    const s = s3Store(client, m.bucket);
    expect(await s.put('a.json', '1', { condition: { ifNoneMatch: '*' } })).toBe('written');
    expect(await s.put('a.json', '2', { condition: { ifNoneMatch: '*' } })).toBe('precondition-failed');
    const got = await s.get('a.json');
    expect(got?.body).toBe('1');
    expect(await s.put('a.json', '3', { condition: { ifMatch: '"not-it"' } })).toBe('precondition-failed');
    expect(await s.put('a.json', '4', { condition: { ifMatch: got!.etag! } })).toBe('written');
    expect(await s.put('a.json', '5', { condition: { ifMatch: got!.etag! } })).toBe('precondition-failed');
    expect((await s.get('a.json'))?.body).toBe('4');
    // S3 answers 404 NoSuchKey to If-Match on a missing key; the adapter reads it as "read again".
    await expect(client.send(new PutObjectCommand({ Bucket: m.bucket, Key: 'missing.json', Body: 'x', IfMatch: got!.etag! }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect(await s.put('missing.json', 'x', { condition: { ifMatch: got!.etag! } })).toBe('precondition-failed');
    expect(m.objects.has('missing.json')).toBe(false);
  });

  test('listing pages past 1,000 keys with a continuation token', async () => {
    const s = s3Store(client, m.bucket);
    for (let i = 0; i < 2345; i++)
      (m.objects as Map<string, unknown>).set(`many/${String(i).padStart(5, '0')}`, { body: '', etag: '"e"', modified: new Date() });
    const before = m.counts.LIST ?? 0;
    const keys = await s.list('many/');
    expect(keys).toHaveLength(2345);
    expect(new Set(keys).size).toBe(2345);
    expect((m.counts.LIST ?? 0) - before).toBe(3);
  });

  test('a committed PUT is readable before its writer is answered (read-after-write, answer after commit)', async () => {
    const slow = await startS3Model({ latencyMs: [60, 60], random: () => 0.01 }); // commit early, answer late
    const c = clientFor(slow);
    try {
      const s = s3Store(c, slow.bucket);
      const writing = s.put('k.json', 'v');
      await new Promise((r) => setTimeout(r, 30));
      expect((await s.get('k.json'))?.body).toBe('v');
      await writing;
    } finally {
      c.destroy();
      await slow.close();
    }
  });
});

describe('races that lost or doubled records (each failed before the store was redesigned)', () => {
  let m: S3Model;
  let client: S3Client;
  let store: ObjectStore;
  let n = 0;
  const svc = () => `race-${++n}`;
  beforeAll(async () => {
    m = await startS3Model();
    client = clientFor(m);
    store = withRetries(s3Store(client, m.bucket), { baseDelayMs: 1, maxDelayMs: 5 });
  });
  afterEach(() => m.beforeCommit(undefined));
  afterAll(async () => {
    client.destroy();
    await m.close();
  });

  test('two deliveries seeing a new input at once: the second reads the first before it is fully stored, and still counts both', async () => {
    const service = svc();
    const a = [record({ service, input: question(1) }), record({ service, input: question(1) })];
    const b = [record({ service, input: question(1) }), record({ service, input: question(1) }), record({ service, input: question(1) })];
    let releaseA!: () => void;
    const aHeld = new Promise<void>((r) => {
      releaseA = r;
    });
    let bDone = false;
    let reached!: () => void;
    const aReached = new Promise<void>((r) => {
      reached = r;
    });
    // Hold every write of delivery A's batch object until delivery B has finished.
    m.beforeCommit(async (op) => {
      if (op.method === 'PUT' && op.key.startsWith(`batches/${service}/`) && op.body?.includes(a[0].requestId) && !bDone) {
        reached();
        await aHeld;
      }
    });
    const first = snapshot(deliver(a), { store, redact });
    await aReached; // A has reached its held write (was: a 400-ms sleep that assumed it)
    await snapshot(deliver(b), { store, redact });
    bDone = true;
    releaseA();
    await first;
    const { cases, live } = await observed(m, store, service);
    expect(cases).toHaveLength(1);
    expect(cases[0].count).toBe(5);
    expect(live.size).toBeLessThanOrEqual(1);
  });

  test('a promote racing a delivery of the same input leaves the case in one state, counted once', async () => {
    const service = svc();
    const id = caseIdOf(service, JSON.stringify(question(2)));
    await snapshot(deliver([record({ service, input: question(2) })]), { store, redact }); // seen once: lives in its batch
    const set = new RegressionCases(store);
    let releaseDelivery!: () => void;
    const held = new Promise<void>((r) => {
      releaseDelivery = r;
    });
    let promoted = false;
    let reached!: () => void;
    const deliveryReached = new Promise<void>((r) => {
      reached = r;
    });
    // The delivery's write of the case object waits until the promote has finished.
    m.beforeCommit(async (op) => {
      if (op.method === 'PUT' && op.key === storeKeys.case(service, 'candidate', id) && !promoted && op.body?.includes('"snapshot"')) {
        reached();
        await held;
      }
    });
    const d = snapshot(deliver([record({ service, input: question(2), kinds: ['contract'] }), record({ service, input: question(2) })]), { store, redact });
    await deliveryReached; // the delivery is held at its case write (was: a 400-ms sleep that assumed it)
    await set.promote(service, id, { by: 'alice', reason: 'keeps failing' });
    promoted = true;
    releaseDelivery();
    await d;
    const { cases, live, index } = await observed(m, store, service);
    expect(live.get(id)).toEqual(['accepted']);
    expect(cases.filter((c) => c.caseId === id)).toHaveLength(1);
    expect(cases[0]).toMatchObject({ state: 'accepted', count: 3 });
    expect(index.cases[id]).toMatchObject({ state: 'accepted', count: 3 });
    expect(await set.list(service, 'candidate')).toHaveLength(0);
  });

  test('16 concurrent deliveries with racing promotes and retires: every record counted once, every case in one state (20 repetitions)', async () => {
    const failures: string[] = [];
    // The repetitions run side by side, each on its own service (its own index and keys), so 320 deliveries interleave.
    const run = async (rep: number) => {
      const service = svc();
      const rand = seeded(1000 + rep);
      const inputs = 6;
      const expected = new Map<string, number>();
      const deliveries = Array.from({ length: 16 }, () => {
        const lines = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => {
          const i = Math.floor(rand() * inputs);
          const r = record({ service, input: question(i), kinds: rand() < 0.3 ? ['contract'] : ['error'] });
          const cid = caseIdOf(service, r.input);
          expected.set(cid, (expected.get(cid) ?? 0) + 1);
          return r;
        });
        return deliver(lines);
      });
      // Seed a few cases so there is something to promote and retire while the deliveries run.
      const seedLines = [0, 1, 2].map((i) => record({ service, input: question(i) }));
      for (const r of seedLines) expected.set(caseIdOf(service, r.input), (expected.get(caseIdOf(service, r.input)) ?? 0) + 1);
      await snapshot(deliver(seedLines), { store, redact });
      const set = new RegressionCases(store);
      const ids = [0, 1, 2].map((i) => caseIdOf(service, JSON.stringify(question(i))));
      const moves = [
        (async () => {
          await new Promise((r) => setTimeout(r, rand() * 300));
          await set.promote(service, ids[0], { by: 'alice', reason: 'r' });
        })(),
        (async () => {
          await new Promise((r) => setTimeout(r, rand() * 300));
          await set.promote(service, ids[1], { by: 'bob', reason: 'r' });
          await set.retire(service, ids[1], { by: 'bob', reason: 'fixed' });
        })(),
        (async () => {
          await new Promise((r) => setTimeout(r, rand() * 300));
          await set.retire(service, ids[2], { by: 'carol', reason: 'noise' });
        })(),
      ];
      await Promise.all([...deliveries.map((e) => snapshot(e, { store, redact })), ...moves]);
      const { cases, live, index } = await observed(m, store, service);
      const counted = new Map(cases.map((c) => [c.caseId, c.count]));
      if (cases.length !== new Set(cases.map((c) => c.caseId)).size) failures.push(`rep ${rep}: a case listed twice`);
      for (const [cid, want] of expected) if (counted.get(cid) !== want) failures.push(`rep ${rep}: case ${cid} counted ${counted.get(cid)}, want ${want}`);
      for (const [cid, states] of live) if (states.length !== 1) failures.push(`rep ${rep}: case ${cid} live under ${states.join(' and ')}`);
      const want = { [ids[0]]: 'accepted', [ids[1]]: 'retired', [ids[2]]: 'retired' };
      for (const [cid, state] of Object.entries(want)) {
        if (index.cases[cid]?.state !== state) failures.push(`rep ${rep}: index says ${cid} is ${index.cases[cid]?.state}, want ${state}`);
        if (live.get(cid)?.[0] !== state) failures.push(`rep ${rep}: object of ${cid} is under ${live.get(cid)}, want ${state}`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, rep) => run(rep)));
    expect(failures).toEqual([]);
  }, 240_000);
});
