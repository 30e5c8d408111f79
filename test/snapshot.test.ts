import type { S3Client } from '@aws-sdk/client-s3';
import { redact } from '../lambda/runtime/redact';
import type { CaseIndex, SnapshotBatch } from '../lambda/shared/case-index';
import { gzipSync } from 'node:zlib';
import type { FailureRecord, RegressionCase } from '../lambda/shared/contract';
import { caseIdOf } from '../lambda/snapshot/cases';
import { s3Store } from '../lambda/snapshot/s3-store';
import { selectCases } from '../lambda/gate/select';
import { snapshot } from '../lambda/snapshot/snapshot';
import { type ObjectStore, withRetries } from '../lambda/snapshot/store';
import { RegressionCases } from '../lib/learning/regression-cases';
import { isMovedMarker } from '../lambda/shared/case-index';
import { type S3Model, startS3Model } from './s3-model';
import { BUCKET, delivery, dumpBucket, type FaultProxy, record, s3Client, startFaultProxy, tuple } from './s3rver-harness';

/** The PII the redactor must catch; a runtime that forgot to redact (or an old one) must still not reach S3. */
const PII = {
  email: 'jane.doe@example.com',
  phone: '+1 415 555 2671',
  phoneCn: '13812345678',
  card: '4111 1111 1111 1111',
  awsKey: 'AKIAIOSFODNN7EXAMPLE',
};

// The S3 model (test/s3-model.ts), not s3rver: these tests depend on If-None-Match / If-Match being honoured.
let s3: S3Model;
let proxy: FaultProxy;
let direct: S3Client;
let viaProxy: S3Client;
const fastRetries = { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 6 };

beforeAll(async () => {
  s3 = await startS3Model({ bucket: BUCKET, latencyMs: [0, 3] });
  proxy = await startFaultProxy(s3.port);
  direct = s3Client(s3.endpoint);
  viaProxy = s3Client(proxy.endpoint);
});
afterAll(async () => {
  direct?.destroy();
  viaProxy?.destroy();
  await proxy?.close();
  await s3?.close();
});

/** A fresh service name per test: each test owns its keys in the shared bucket. */
let n = 0;
const svc = () => `svc-${++n}`;

function storeFor(client: S3Client, policy = fastRetries) {
  return withRetries(s3Store(client, BUCKET), policy);
}

const objectsOf = async (service: string) =>
  new Map([...(await dumpBucket(direct)).entries()].filter(([k]) => k.includes(`/${service}/`) || k === `index/${service}.json`));
const json = <T>(m: Map<string, string>, key: string) => JSON.parse(m.get(key)!) as T;
/** Keys of case objects that are cases (not the markers a promote or retire leaves at the old key). */
const liveCaseKeys = (m: Map<string, string>) =>
  [...m.entries()]
    .filter(([k, v]) => k.startsWith('cases/') && !isMovedMarker(JSON.parse(v)))
    .map(([k]) => k)
    .sort();
const markerKeys = (m: Map<string, string>) =>
  [...m.entries()]
    .filter(([k, v]) => k.startsWith('cases/') && isMovedMarker(JSON.parse(v)))
    .map(([k]) => k)
    .sort();

describe('snapshot against s3rver', () => {
  test('one delivery: one batch object and one index, no object per case; records fold into cases the library reads', async () => {
    const service = svc();
    const t2 = tuple(service, '8', 'cfg-bbbbbbbbbbbb');
    const lines = [
      record({ service, input: { question: 'Where is my order?', orderId: 'A-1' }, kinds: ['error'] }),
      // same input: other key order, extra whitespace → same case
      record({ service, input: '{"orderId":"A-1",   "question":"  Where is   my order? "}', kinds: ['contract'], output: { answer: 42 }, tuple: t2 }),
      record({ service, input: { question: 'Where is my order?', orderId: 'A-1' }, kinds: ['error'] }),
      record({ service, input: { question: 'Refund please' }, kinds: ['timeout'], latencyMs: 29500 }),
      record({
        service,
        input: { question: 'Tell me a secret' },
        kinds: ['safety', 'quality'],
        details: ['quality: score 0.2 is below outputContract.qualityFloor 0.6'],
      }),
      'START RequestId: 1 Version: 7', // not a failure record: rejected, never stored
    ];
    const store = storeFor(direct);
    const out = await snapshot(delivery(lines), { store, redact });
    expect(out.status).toBe('processed');
    expect(out.rejected).toEqual([expect.objectContaining({ reason: 'not a JSON log line' })]);
    expect(out.services).toEqual([expect.objectContaining({ service, status: 'written', records: 5, cases: 3, created: 3 })]);

    const objects = await objectsOf(service);
    const keys = [...objects.keys()].sort();
    expect(keys.filter((k) => k.startsWith('batches/'))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith('cases/'))).toEqual([]);
    expect(keys).toContain(`index/${service}.json`);
    expect(keys).toHaveLength(2);

    const lib = new RegressionCases(store);
    const id = caseIdOf(service, JSON.stringify({ question: 'Where is my order?', orderId: 'A-1' }));
    const c = (await lib.show(service, id))!;
    expect(c).toMatchObject({ schemaVersion: 1, caseId: id, service, state: 'candidate', count: 3, kinds: ['error', 'contract'], lastOutput: '{"answer":42}' });
    // deduplicated, the most recent last: version 7 failed again after version 8
    expect(c.failedOn.map((t) => t.codeVersion)).toEqual(['8', '7']);
    expect(c.sampleRequestIds).toHaveLength(3);
    expect(c.expectation).toEqual({ noError: true, contractHolds: true });
    expect(c.history).toEqual([expect.objectContaining({ from: 'new', to: 'candidate', by: 'snapshot' })]);

    const timeout = (await lib.show(service, { input: '{"question":"Refund please"}' }))!;
    expect(timeout.expectation).toEqual({ noError: true, maxLatencyMs: 29500 });
    const unsafe = (await lib.show(service, { input: '{"question":"Tell me a secret"}' }))!;
    expect(unsafe.expectation).toEqual({ noError: true, noSafetyFlag: true, minQuality: 0.6 });

    const batch = json<SnapshotBatch>(objects, keys.find((k) => k.startsWith('batches/'))!);
    expect(batch.records).toHaveLength(5);
    expect(batch.eventCount).toBe(6);
    expect(batch.cases.find((x) => x.caseId === id)).toEqual({ caseId: id, count: 3, created: true, records: [0, 1, 2] });
    const index = json<CaseIndex>(objects, `index/${service}.json`);
    expect(index.schemaVersion).toBe(2);
    // The index says where each case lives: here, in this delivery's batch object (no per-case entry, just its id).
    expect(index.cases).toEqual({});
    expect(index.batched).toEqual({ [batch.deliveryKey]: { at: batch.receivedAt, ids: expect.arrayContaining([id]) } });
    expect(index.batched?.[batch.deliveryKey].ids).toHaveLength(3);
    expect((await lib.list(service, 'candidate')).map((x) => x.caseId).sort()).toEqual([...(index.batched?.[batch.deliveryKey].ids ?? [])].sort());
    expect(await lib.list(service, 'accepted')).toEqual([]);
  });

  test('a case seen again in a later delivery gets its object, merged from the first batch and this one', async () => {
    const service = svc();
    const store = storeFor(direct);
    const t1 = tuple(service, '1', 'cfg-111111111111');
    const t2 = tuple(service, '2', 'cfg-222222222222');
    const first = [record({ service, input: 'again', tuple: t1 }), record({ service, input: 'once', tuple: t1 })];
    const second = [record({ service, input: 'again', tuple: t2, kinds: ['contract'] }), record({ service, input: 'new', tuple: t2 })];
    await snapshot(delivery(first, { firstId: 1n }), { store, redact });
    const out = await snapshot(delivery(second, { firstId: 2n }), { store, redact });
    expect(out.services[0]).toMatchObject({ cases: 2, created: 1, updated: 1 });
    const objects = await objectsOf(service);
    const id = caseIdOf(service, 'again');
    expect([...objects.keys()].filter((k) => k.startsWith('cases/'))).toEqual([`cases/${service}/candidate/${id}.json`]);
    const c = json<RegressionCase>(objects, `cases/${service}/candidate/${id}.json`);
    expect(c.count).toBe(2);
    expect(c.failedOn.map((t) => t.codeVersion)).toEqual(['1', '2']);
    expect([...c.sampleRequestIds].sort()).toEqual([first[0].requestId, second[0].requestId].sort());
    expect(c.kinds).toEqual(['error', 'contract']);
    expect(c.firstSeen).toBe(first[0].time);
    const index = json<CaseIndex>(objects, `index/${service}.json`);
    expect(index.cases[id]).toMatchObject({ state: 'candidate', count: 2, firstSeen: first[0].time });
    // 'again' left its first batch's group; 'once' stays there, 'new' is in the second batch's group.
    expect(Object.values(index.batched ?? {}).map((g) => g.ids)).toEqual([[caseIdOf(service, 'once')], [caseIdOf(service, 'new')]]);
    // The library reads both kinds alike: the object for one, the batches for the others.
    const listed = await new RegressionCases(store).list(service);
    expect(listed.map((x) => [x.caseId, x.count]).sort()).toEqual(
      [
        [id, 2],
        [caseIdOf(service, 'once'), 1],
        [caseIdOf(service, 'new'), 1],
      ].sort(),
    );
  });

  test('inputs that never repeat cost no object each: the objects follow the deliveries', async () => {
    const service = svc();
    const store = storeFor(direct);
    for (let b = 0; b < 5; b++) {
      const lines = Array.from({ length: 20 }, (_, i) => record({ service, input: { q: `distinct ${b}-${i}` } }));
      await snapshot(delivery(lines, { firstId: BigInt(100 + b) }), { store, redact });
    }
    const keys = [...(await objectsOf(service)).keys()];
    expect(keys.filter((k) => k.startsWith('batches/'))).toHaveLength(5);
    expect(keys.filter((k) => k.startsWith('cases/'))).toHaveLength(0);
    expect(keys).toHaveLength(6);
    expect(await new RegressionCases(store).list(service)).toHaveLength(100);
  });

  test('three deliveries of one batch: the second and third write nothing', async () => {
    const service = svc();
    const event = delivery([record({ service, input: 'q1' }), record({ service, input: 'q2' }), record({ service, input: 'q1' })], {
      logGroup: `/aws/lambda/${service}`,
    });
    const store = storeFor(direct);
    const first = await snapshot(event, { store, redact });
    const before = await objectsOf(service);
    const puts = countingStore(store);
    const second = await snapshot(event, { store: puts, redact });
    const third = await snapshot(event, { store: puts, redact });
    expect(first.services[0].status).toBe('written');
    expect([second.services[0].status, third.services[0].status]).toEqual(['duplicate', 'duplicate']);
    expect(puts.writes).toEqual([]);
    expect(await objectsOf(service)).toEqual(before);
    expect(countsOf(before, service).get(caseIdOf(service, 'q1'))).toBe(2);
  });

  test('a later delivery with the same input updates the count, not the number of cases', async () => {
    const service = svc();
    const store = storeFor(direct);
    await snapshot(delivery([record({ service, input: 'same' })], { firstId: 1n }), { store, redact });
    await snapshot(delivery([record({ service, input: 'same' }), record({ service, input: 'same' })], { firstId: 2n }), { store, redact });
    const cases = await new RegressionCases(store).list(service);
    expect(cases).toHaveLength(1);
    expect(cases[0].count).toBe(3);
  });

  test('503 SlowDown on the first requests (and on every 3rd after): retried with backoff, nothing lost', async () => {
    const service = svc();
    const start = proxy.counts.requests;
    const faultsBefore = proxy.counts.faults;
    proxy.setFault((n) => n - start <= 4 || (n - start) % 3 === 0);
    const store = storeFor(viaProxy);
    const lines = Array.from({ length: 40 }, (_, i) => record({ service, input: { q: `question ${i % 10}` } }));
    try {
      const out = await snapshot(delivery(lines), { store, redact });
      expect(out.services[0]).toMatchObject({ status: 'written', records: 40, cases: 10 });
    } finally {
      proxy.setFault(() => false);
    }
    expect(proxy.counts.faults - faultsBefore).toBeGreaterThanOrEqual(5);
    expect(store.stats.retries).toBe(proxy.counts.faults - faultsBefore);
    const objects = await objectsOf(service);
    const batch = json<SnapshotBatch>(objects, [...objects.keys()].find((k) => k.startsWith('batches/'))!);
    expect(batch.records.map((r) => r.requestId).sort()).toEqual(lines.map((r) => r.requestId).sort());
    expect([...countsOf(objects, service).values()].reduce((s, n) => s + n, 0)).toBe(40);
  });

  test('S3 down past the retries: the delivery fails (so Lambda retries it); the retry stores it once, counts not doubled', async () => {
    const service = svc();
    const lines = (v: string) => Array.from({ length: 30 }, (_, i) => record({ service, input: { q: `outage ${i % 6}` }, tuple: tuple(service, v) }));
    // A first delivery stores the six cases in its batch; the second sees them again on a new version, so it writes their objects.
    await snapshot(delivery(lines('7'), { firstId: 1n }), { store: storeFor(direct), redact });
    const event = delivery(lines('8'), { firstId: 2n });
    const before = (await objectsOf(service)).size;
    // Let the first 5 requests through (existence check, index read, first batch read, a few case writes), then S3 "goes down".
    const start = proxy.counts.requests;
    proxy.setFault((n) => n - start > 5);
    await expect(snapshot(event, { store: storeFor(viaProxy, { ...fastRetries, maxAttempts: 3 }), redact })).rejects.toMatchObject({
      $metadata: { httpStatusCode: 503 },
    });
    proxy.setFault(() => false);
    expect((await objectsOf(service)).size).toBeLessThan(before + 6); // partly written
    // The records are stored first (the batch object), then the index commits, then the case objects.
    expect([...(await objectsOf(service)).keys()].filter((k) => k.startsWith('batches/'))).toHaveLength(2);
    // Lambda's retry of the same event:
    const out = await snapshot(event, { store: storeFor(viaProxy), redact });
    expect(out.services[0].status).toBe('written');
    const objects = await objectsOf(service);
    const index = json<CaseIndex>(objects, `index/${service}.json`);
    expect(Object.values(index.cases).map((e) => e.count)).toEqual([10, 10, 10, 10, 10, 10]);
    expect(index.batched).toEqual({}); // all six seen again: each has its object now
    expect([...objects.keys()].filter((k) => k.startsWith('cases/'))).toHaveLength(6);
    for (const [k, v] of objects) if (k.startsWith('cases/')) expect(JSON.parse(v).count).toBe(10);
  });

  test('every stored object is free of the PII corpus, in every field', async () => {
    const service = svc();
    const text = `email ${PII.email}, call ${PII.phone} or ${PII.phoneCn}, card ${PII.card}, key ${PII.awsKey}`;
    const lines = [
      record({ service, input: { question: text }, output: { answer: text }, details: [text], error: { name: 'Error', message: text } }),
      record({ service, input: text, requestId: `req ${PII.email}` }),
    ];
    // Twice, the second time on another version, so the cases get their own objects too (a case seen again that learns
    // a version is written as an object).
    await snapshot(delivery(lines, { firstId: 1n }), { store: storeFor(direct), redact });
    await snapshot(
      delivery(
        lines.map((r) => ({ ...r, tuple: tuple(service, '8') })),
        { firstId: 2n },
      ),
      { store: storeFor(direct), redact },
    );
    const objects = await objectsOf(service);
    expect([...objects.keys()].filter((k) => k.startsWith('cases/'))).toHaveLength(2);
    expect(objects.size).toBe(5);
    for (const [key, body] of objects) {
      for (const [name, value] of Object.entries(PII)) {
        expect({ key, name, leaked: body.includes(value) || body.includes(value.replace(/ /g, '')) }).toEqual({ key, name, leaked: false });
      }
    }
    const all = [...objects.values()].join('\n');
    for (const tag of ['EMAIL', 'PHONE', 'CARD', 'AWS_KEY']) expect(all).toContain(`[REDACTED:${tag}]`);
  });

  test('an accepted case gets its count updated, never its state', async () => {
    const service = svc();
    const store = storeFor(direct);
    await snapshot(delivery([record({ service, input: 'keeps failing' })], { firstId: 10n }), { store, redact });
    const lib = new RegressionCases(store);
    const id = caseIdOf(service, 'keeps failing');
    await lib.promote(service, id, { by: 'alice', reason: 'real incident INC-7' });
    await snapshot(delivery([record({ service, input: 'keeps failing', kinds: ['contract'], tuple: tuple(service, '9') })], { firstId: 11n }), {
      store,
      redact,
    });
    const objects = await objectsOf(service);
    expect(liveCaseKeys(objects)).toEqual([`cases/${service}/accepted/${id}.json`]);
    // The promote left a marker at the candidate key: the second sighting could not create a candidate copy there.
    expect(markerKeys(objects)).toEqual([`cases/${service}/candidate/${id}.json`]);
    const c = await lib.show(service, id);
    expect(c).toMatchObject({ state: 'accepted', count: 2, kinds: ['error', 'contract'] });
    expect(c!.history.map((h) => h.to)).toEqual(['candidate', 'accepted']);
    expect(c!.failedOn.map((t) => t.codeVersion)).toEqual(['7', '9']);
  });

  test('a control message writes nothing; a malformed delivery fails with what is wrong', async () => {
    const store = countingStore(storeFor(direct));
    const out = await snapshot(delivery([], { messageType: 'CONTROL_MESSAGE' }), { store, redact });
    expect(out.status).toBe('control-message');
    expect(store.writes).toEqual([]);
    await expect(snapshot({ awslogs: { data: 'bm90IGd6aXA=' } }, { store, redact })).rejects.toThrow(/awslogs\.data is not base64-encoded gzip JSON/);
    await expect(snapshot({} as never, { store, redact })).rejects.toThrow(/event\.awslogs\.data is missing/);
  });
});

describe('a case seen again costs no object write unless it learns something', () => {
  test('second sighting: counted in the index, content from its first batch; the gate, list and show see it; a new kind writes its object', async () => {
    const service = svc();
    const store = storeFor(direct);
    const inputs = ['one', 'two', 'three'];
    await snapshot(
      delivery(
        inputs.map((input) => record({ service, input })),
        { firstId: 1n },
      ),
      { store, redact },
    );
    const puts = s3.counts.PUT ?? 0;
    await snapshot(
      delivery(
        inputs.map((input) => record({ service, input })),
        { firstId: 2n },
      ),
      { store, redact },
    );
    expect((s3.counts.PUT ?? 0) - puts).toBe(2); // the batch and the index, no case object
    expect(liveCaseKeys(await objectsOf(service))).toEqual([]);
    const lib = new RegressionCases(store);
    expect((await lib.list(service)).map((c) => [c.input, c.count]).sort()).toEqual([
      ['one', 2],
      ['three', 2],
      ['two', 2],
    ]);
    const gateSel = await selectCases({ ...store, newest: async () => undefined }, service, { cap: 10, candidates: 'report' });
    expect(gateSel.cases.map((c) => [c.c.input, c.c.count]).sort()).toEqual([
      ['one', 2],
      ['three', 2],
      ['two', 2],
    ]);
    // A third sighting that learns a kind: now it gets its object, with what its first batch held.
    await snapshot(delivery([record({ service, input: 'one', kinds: ['contract'] })], { firstId: 3n }), { store, redact });
    expect(liveCaseKeys(await objectsOf(service))).toEqual([`cases/${service}/candidate/${caseIdOf(service, 'one')}.json`]);
    expect(await lib.show(service, { input: 'one' })).toMatchObject({ count: 3, kinds: ['error', 'contract'] });
    // Promoting one that has no object writes it (and the marker).
    const two = caseIdOf(service, 'two');
    await lib.promote(service, two, { by: 'a', reason: 'r' });
    expect(await lib.show(service, two)).toMatchObject({ state: 'accepted', count: 2 });
  });
});

describe('one bad record never fails its batch', () => {
  test('a string details, an input nested 3,000 deep (arrays and objects), odd optional fields: all stored, the batch written', async () => {
    const service = svc();
    const store = storeFor(direct);
    // What the runtime produces for a deeply nested request (its 16 KB field limit keeps 3,000 levels whole).
    const deepArray = `${'['.repeat(3000)}1${']'.repeat(3000)}`;
    const deepObject = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const lines: (FailureRecord | string)[] = [
      { ...record({ service, input: 'string details' }), details: 'contract: must have required property answer' } as unknown as FailureRecord,
      record({ service, input: deepArray }),
      record({ service, input: deepObject }),
      { ...record({ service, input: 'odd fields' }), output: { answer: 7 }, error: 'boom', measurements: 5, details: [1, 'x'] } as unknown as FailureRecord,
      record({ service, input: 'good' }),
      JSON.stringify({ ...record({ service, input: 'no kinds' }), kinds: 'error' }),
    ];
    const out = await snapshot(delivery(lines), { store, redact });
    expect(out.rejected.map((r) => r.reason)).toEqual([expect.stringMatching(/kinds must be a non-empty list/)]);
    expect(out.services[0]).toMatchObject({ status: 'written', records: 5, cases: 5 });
    const cases = await new RegressionCases(store).list(service);
    expect(cases.map((c) => c.input).sort()).toEqual([deepArray, deepObject, 'good', 'odd fields', 'string details'].sort());
    expect(cases.find((c) => c.input === 'string details')!.details).toEqual(['contract: must have required property answer']);
    expect(cases.find((c) => c.input === 'odd fields')!).toMatchObject({ lastOutput: '{"answer":7}', details: ['1', 'x'] });
    // The deep input is one case however often it fails (its id is computed the same way every time).
    await snapshot(delivery([record({ service, input: deepArray })], { firstId: 5n }), { store, redact });
    expect((await new RegressionCases(store).show(service, { input: deepArray }))?.count).toBe(2);
  });

  test('a JSON null delivery, or a null event, fails with what it is and what the function takes', async () => {
    const store = storeFor(direct);
    const nullData = { awslogs: { data: gzipSync(Buffer.from('null')).toString('base64') } };
    await expect(snapshot(nullData, { store, redact })).rejects.toThrow(/decodes to JSON null, not a CloudWatch Logs delivery/);
    await expect(snapshot(null as never, { store, redact })).rejects.toThrow(
      /the event is JSON null: the snapshot function takes CloudWatch Logs subscription deliveries/,
    );
  });
});

describe('library API against s3rver', () => {
  test('list by state, show by id or input, promote and retire with who/why', async () => {
    const service = svc();
    const store = storeFor(direct);
    await snapshot(delivery([record({ service, input: 'a' }), record({ service, input: 'b' }), record({ service, input: 'c' })]), { store, redact });
    const lib = new RegressionCases(store);
    expect((await lib.list(service, 'candidate')).map((c) => c.input).sort()).toEqual(['a', 'b', 'c']);
    const a = caseIdOf(service, 'a');
    const promoted = await lib.promote(service, a, { by: 'bob', reason: 'customer-facing', expectation: { noError: true, mustNotMatch: ['refund'] } });
    expect(promoted).toMatchObject({ state: 'accepted', expectation: { noError: true, mustNotMatch: ['refund'] } });
    expect(promoted.history.at(-1)).toMatchObject({ from: 'candidate', to: 'accepted', by: 'bob', reason: 'customer-facing' });
    await lib.retire(service, caseIdOf(service, 'b'), { by: 'carol', reason: 'input no longer accepted by the API' });
    expect((await lib.list(service, 'accepted')).map((c) => c.input)).toEqual(['a']);
    expect((await lib.list(service, 'retired')).map((c) => c.input)).toEqual(['b']);
    expect((await lib.list(service, 'candidate')).map((c) => c.input)).toEqual(['c']);
    expect((await lib.show(service, { input: '  a ' }))?.caseId).toBe(a);
    expect((await lib.index(service)).cases[a].state).toBe('accepted');
    // Promoted and retired cases got their objects and left their batch's group; 'c' still lives in the batch only.
    const objects = await objectsOf(service);
    expect(liveCaseKeys(objects)).toEqual([`cases/${service}/accepted/${a}.json`, `cases/${service}/retired/${caseIdOf(service, 'b')}.json`].sort());
    expect(markerKeys(objects)).toEqual([`cases/${service}/candidate/${a}.json`, `cases/${service}/candidate/${caseIdOf(service, 'b')}.json`].sort());
    expect(Object.values((await lib.index(service)).batched ?? {}).flatMap((g) => g.ids)).toEqual([caseIdOf(service, 'c')]);
    // The accepted case keeps counting when its input fails again, as an object (it is never a batch-only case again).
    await snapshot(delivery([record({ service, input: 'a' })], { firstId: 99n }), { store, redact });
    expect(await lib.show(service, a)).toMatchObject({ state: 'accepted', count: 2 });
    expect(await lib.services()).toContain(service);
  });

  test('bad requests fail with the field and the fix', async () => {
    const service = svc();
    const store = storeFor(direct);
    await snapshot(delivery([record({ service, input: 'x' })]), { store, redact });
    const lib = new RegressionCases(store);
    const id = caseIdOf(service, 'x');
    await expect(lib.promote(service, id, { by: '', reason: 'r' })).rejects.toThrow(/needs "by"/);
    await expect(lib.promote(service, id, { by: 'a', reason: ' ' })).rejects.toThrow(/needs "reason"/);
    await expect(lib.promote(service, id, { by: 'a', reason: 'r', expectation: { mustMatch: ['('] } })).rejects.toThrow(
      /expectation\.mustMatch has an invalid regular expression/,
    );
    // The evaluator's part of an expectation (issue 17 E): a reference answer and rubric floors, checked at promotion.
    await expect(lib.promote(service, id, { by: 'a', reason: 'r', expectation: { minScores: { helpfulness: 4 } as never } })).rejects.toThrow(
      /expectation\.minScores\.helpfulness is not a criterion; use one of groundedness/,
    );
    await expect(lib.promote(service, id, { by: 'a', reason: 'r', expectation: { minScores: { correctness: 4 } } })).rejects.toThrow(
      /minScores\.correctness needs expectation\.reference/,
    );
    await expect(lib.promote(service, 'nope', { by: 'a', reason: 'r' })).rejects.toThrow(/caseId must be 32 lower-case hex/);
    await expect(lib.promote(service, '0'.repeat(32), { by: 'a', reason: 'r' })).rejects.toThrow(/no case 0{32}/);
    await lib.retire(service, id, { by: 'a', reason: 'r' });
    await expect(lib.promote(service, id, { by: 'a', reason: 'r' })).rejects.toThrow(/is retired; only a candidate case can become accepted/);
    await expect(lib.list('Bad_Name')).rejects.toThrow(/service must be a service name/);
    await expect(lib.list(service, 'open' as never)).rejects.toThrow(/state must be one of candidate, accepted, retired/);
  });

  test('rebuildIndex recovers the index from the case objects and the batches', async () => {
    const service = svc();
    const store = storeFor(direct);
    await snapshot(delivery([record({ service, input: 'p' }), record({ service, input: 'q' })]), { store, redact });
    const lib = new RegressionCases(store);
    await store.delete(`index/${service}.json`);
    const index = await lib.rebuildIndex(service);
    // Seen in one delivery each: back in their batch's group, listed with their counts.
    expect(
      Object.values(index.batched ?? {})
        .flatMap((g) => g.ids)
        .sort(),
    ).toEqual([caseIdOf(service, 'p'), caseIdOf(service, 'q')].sort());
    expect((await lib.list(service)).map((c) => [c.state, c.count])).toEqual([
      ['candidate', 1],
      ['candidate', 1],
    ]);
  });

  test('rebuildIndex settles a case found under two states: the decided copy stays, the candidate copy becomes a marker', async () => {
    const service = svc();
    const store = storeFor(direct);
    await snapshot(delivery([record({ service, input: 'twice' })], { firstId: 1n }), { store, redact });
    const lib = new RegressionCases(store);
    const id = caseIdOf(service, 'twice');
    await lib.promote(service, id, { by: 'dana', reason: 'incident' });
    // A copy under a second state (a move interrupted between its writes, or a hand restore): written here directly.
    const accepted = JSON.parse((await store.get(`cases/${service}/accepted/${id}.json`))!.body);
    await store.put(`cases/${service}/candidate/${id}.json`, JSON.stringify({ ...accepted, state: 'candidate', history: accepted.history.slice(0, 1) }));
    await store.delete(`index/${service}.json`);
    expect(liveCaseKeys(await objectsOf(service))).toEqual([`cases/${service}/accepted/${id}.json`, `cases/${service}/candidate/${id}.json`].sort());
    const index = await lib.rebuildIndex(service);
    expect(index.cases[id].state).toBe('accepted');
    const objects = await objectsOf(service);
    expect(liveCaseKeys(objects)).toEqual([`cases/${service}/accepted/${id}.json`]);
    expect(markerKeys(objects)).toEqual([`cases/${service}/candidate/${id}.json`]);
    // The input fails again, twice: the snapshot follows the marker into the accepted case instead of re-creating a candidate.
    await snapshot(delivery([record({ service, input: 'twice' })], { firstId: 2n }), { store, redact });
    await snapshot(delivery([record({ service, input: 'twice' })], { firstId: 3n }), { store, redact });
    expect(liveCaseKeys(await objectsOf(service))).toEqual([`cases/${service}/accepted/${id}.json`]);
    expect(await lib.show(service, id)).toMatchObject({ state: 'accepted', count: 3 });
  });

  test('a newer case format is refused, not half-read', async () => {
    const service = svc();
    const store = storeFor(direct);
    const id = caseIdOf(service, 'future');
    await store.put(`cases/${service}/candidate/${id}.json`, JSON.stringify({ schemaVersion: 2, caseId: id, state: 'candidate' }));
    await expect(new RegressionCases(store).show(service, id)).rejects.toThrow(/schemaVersion 2 is not supported \(expected 1\); upgrade cdk-ai-release/);
  });
});

/** Every case's count: the index's entries, and for a case that lives in a batch object, that batch's fold. */
function countsOf(objects: Map<string, string>, service: string): Map<string, number> {
  const index = JSON.parse(objects.get(`index/${service}.json`)!) as CaseIndex;
  const out = new Map(Object.entries(index.cases).map(([id, e]) => [id, e.count]));
  for (const [deliveryKey, g] of Object.entries(index.batched ?? {})) {
    const batch = JSON.parse(objects.get(`batches/${service}/${deliveryKey}.json`)!) as SnapshotBatch;
    for (const id of g.ids) out.set(id, batch.cases.find((c) => c.caseId === id)!.count);
  }
  return out;
}

/** Records every write that reaches the store. */
function countingStore(store: ObjectStore): ObjectStore & { writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    get: (k) => store.get(k),
    exists: (k) => store.exists(k),
    list: (p) => store.list(p),
    put: (k, b, o) => {
      writes.push(k);
      return store.put(k, b, o);
    },
    delete: (k) => {
      writes.push(`delete ${k}`);
      return store.delete(k);
    },
  };
}
