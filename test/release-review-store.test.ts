/**
 * The review's store adapters against s3rver on loopback (a real S3-protocol server): the objects written, and one
 * review per release over repeated and concurrent deliveries of one deployment event. s3rver ignores If-None-Match
 * on PUT, so a small proxy in front of it answers as S3 documents conditional writes (412 PreconditionFailed when
 * the key exists); everything else passes through untouched.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3Cases, s3Store } from '../lambda/review/aws-adapters';
import { redact } from '../lambda/runtime/redact';
import { caseIdOf } from '../lambda/snapshot/cases';
import { s3Store as snapshotStore } from '../lambda/snapshot/s3-store';
import { snapshot } from '../lambda/snapshot/snapshot';
import { withRetries } from '../lambda/snapshot/store';
import type { ReviewPorts } from '../lambda/review/ports';
import { runReview } from '../lambda/review/review';
import type { ReleaseReview } from '../lambda/shared/contract';
import { alarmInfos, at, cases, codeDeployEvent, manifests, metricData, rolledBackDeployment, transitions } from './review-fixtures';
import { parseXml } from './xml-lite';
import { delivery, record, tuple } from './s3rver-harness';

// s3rver ships no types.
const S3rver: any = require('s3rver');
const BUCKET = 'review-store';

let server: any;
let proxy: http.Server;
let dir: string;
let s3: S3Client;
let conditionalRefusals = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-review-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await server.run();
  proxy = conditionalWriteProxy(port);
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
});

afterAll(async () => {
  s3.destroy();
  await new Promise((r) => proxy.close(r));
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** S3's conditional write (PutObject If-None-Match: *), one PUT per key at a time, in front of s3rver. */
function conditionalWriteProxy(target: number): http.Server {
  const locks = new Map<string, Promise<void>>();
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) =>
    new Promise<void>((done) => {
      const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        r.on('end', done);
      });
      up.on('error', () => {
        res.writeHead(502);
        res.end();
        done();
      });
      up.end(body);
    });
  const exists = (url: string) =>
    new Promise<boolean>((resolve) => {
      const r = http.request({ host: '127.0.0.1', port: target, method: 'HEAD', path: url }, (x) => {
        x.resume();
        resolve(x.statusCode === 200);
      });
      r.end();
    });
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (req.method !== 'PUT' || req.headers['if-none-match'] !== '*') return forward(req, res, body);
      const key = (req.url ?? '').split('?')[0];
      const previous = locks.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => {
        release = r;
      });
      locks.set(
        key,
        previous.then(() => mine),
      );
      await previous;
      try {
        if (await exists(key)) {
          conditionalRefusals++;
          res.writeHead(412, { 'content-type': 'application/xml' });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>',
          );
        } else {
          delete req.headers['if-none-match'];
          await forward(req, res, body);
        }
      } finally {
        release();
      }
    });
  });
}

function ports(published: string[]): ReviewPorts {
  let now = Date.parse(at(200));
  return {
    deployments: { describe: async () => rolledBackDeployment },
    manifests: { history: async () => manifests() },
    alarms: { alarms: async () => alarmInfos, history: async () => transitions },
    metrics: { fetch: async () => metricData() },
    cases: s3Cases(s3, BUCKET),
    store: s3Store(s3, BUCKET),
    notifier: { publish: async (_subject, message) => void published.push(message) },
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
  };
}

const body = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
const reviewKeys = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();

test('three deliveries of one deployment event: one review (json, md, svg), one announcement; cases read from the store', async () => {
  // A case whose input carries personal data the snapshot missed: no review object may repeat it.
  const pii = ['jane.doe@example.com', '4111 1111 1111 1111', '+1 415 555 0100'];
  const leaky = { ...cases()[0], caseId: 'c-pii', count: 99, input: JSON.stringify({ q: `mail ${pii[0]}, card ${pii[1]}, call ${pii[2]}` }) };
  for (const c of [...cases(), leaky]) {
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `cases/svc/${c.state}/${c.caseId}.json`, Body: JSON.stringify(c), ContentType: 'application/json' }),
    );
  }
  // A case of another service in the same store is not read.
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cases/other/candidate/x.json', Body: JSON.stringify({ ...cases()[0], service: 'other' }) }));
  const published: string[] = [];
  const statuses: string[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await runReview(codeDeployEvent('FAILURE'), ports(published), { stack: 'Rev' })).status);
  expect(statuses).toEqual(['written', 'exists', 'exists']);
  expect(published).toHaveLength(1);
  expect(published[0]).toContain(`s3://${BUCKET}/reviews/svc/code-d-123456789.md`);
  expect(await reviewKeys('reviews/')).toEqual(['reviews/svc/code-d-123456789.json', 'reviews/svc/code-d-123456789.md', 'reviews/svc/code-d-123456789.svg']);

  const review = JSON.parse(await body('reviews/svc/code-d-123456789.json')) as ReleaseReview;
  expect(review.samples.newCandidates).toBe(3);
  expect(review.samples.topCases.map((c) => c.caseId)).toEqual(['c-pii', 'c-old', 'c-new-1', 'c-new-2']);
  for (const key of await reviewKeys('reviews/svc/code-d-123456789')) {
    const text = await body(key);
    for (const p of pii) expect([key, text.includes(p)]).toEqual([key, false]);
  }
  expect((await body('reviews/svc/code-d-123456789.md')).startsWith('# Release review: svc, code plane, d-123456789 (rolled-back)')).toBe(true);
  expect(parseXml(await body('reviews/svc/code-d-123456789.svg')).name).toBe('svg');
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'reviews/svc/code-d-123456789.svg' }));
  expect(head.ContentType).toBe('image/svg+xml');
});

test('three concurrent deliveries of another release: still one review JSON and one announcement (conditional write)', async () => {
  const published: string[] = [];
  const before = conditionalRefusals;
  const results = await Promise.all([0, 1, 2].map(() => runReview(codeDeployEvent('FAILURE', 'd-CONCURRENT'), ports(published), { stack: 'Rev' })));
  const written = results.filter((r) => r.status === 'written');
  expect(written).toHaveLength(1);
  expect(results.filter((r) => r.status === 'exists')).toHaveLength(2);
  expect(published).toHaveLength(1);
  // The losers learnt it from S3's 412, not from a lucky existence check (all three checked before any wrote).
  expect(conditionalRefusals - before).toBe(2);
  expect(await reviewKeys('reviews/svc/code-d-CONCURRENT')).toHaveLength(3);
});

test('the store adapter: a missing key is absent, a present one exists, an unconditional put overwrites', async () => {
  const store = s3Store(s3, BUCKET);
  expect(await store.exists('reviews/svc/none.json')).toBe(false);
  expect(await store.put('reviews/svc/x.md', 'a', 'text/markdown')).toBe('written');
  expect(await store.put('reviews/svc/x.md', 'b', 'text/markdown')).toBe('written');
  expect(await body('reviews/svc/x.md')).toBe('b');
  expect(await store.put('reviews/svc/x.md', 'c', 'text/markdown', true)).toBe('exists');
  expect(await store.exists('reviews/svc/x.md')).toBe(true);
});

test('the cases adapter reads candidates that live only in a batch object through the index, bounded by the window', async () => {
  const service = 'batched-svc';
  const store = withRetries(snapshotStore(s3, BUCKET), { baseDelayMs: 1, maxDelayMs: 5 });
  const at = (iso: string) => ({ store, redact, now: () => new Date(iso) });
  // Before the release: 'old' and 'again' seen once. During it: 'again' seen again (its index entry), 'fresh' seen once.
  await snapshot(delivery([record({ service, input: 'old' }), record({ service, input: 'again' })], { firstId: 1n }), at('2026-11-27T06:00:00.000Z'));
  await snapshot(
    delivery([record({ service, input: 'again' }), record({ service, input: 'fresh', tuple: tuple(service, '9') })], { firstId: 2n }),
    at('2026-11-27T07:00:00.000Z'),
  );
  const found = await s3Cases(s3, BUCKET).touchedSince(service, '2026-11-27T06:30:00.000Z');
  const byId = new Map(found.map((c) => [c.caseId, c]));
  expect([...byId.keys()].sort()).toEqual([caseIdOf(service, 'again'), caseIdOf(service, 'fresh')].sort());
  expect(byId.get(caseIdOf(service, 'fresh'))).toMatchObject({ state: 'candidate', count: 1, input: 'fresh', service });
  expect(byId.get(caseIdOf(service, 'fresh'))!.failedOn.map((t) => t.codeVersion)).toEqual(['9']);
  expect(byId.get(caseIdOf(service, 'again'))).toMatchObject({ state: 'candidate', count: 2 });
  // Neither has an object of its own: 'fresh' lives in its batch, 'again' (seen again, nothing new learnt) in its
  // index entry (counters) and its first batch (content).
  expect(await reviewKeys(`cases/${service}/`)).toEqual([]);
});
