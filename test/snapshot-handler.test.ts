import type { S3Client } from '@aws-sdk/client-s3';
import { BUCKET, delivery, dumpBucket, type FaultProxy, record, s3Client, startFaultProxy, startS3 } from './s3rver-harness';

/**
 * The deployed composition: handler.ts as Lambda loads it (environment read at module load, SDK client from the
 * environment), pointed at s3rver behind the fault proxy through the SDK's own endpoint and checksum variables.
 */
let s3: Awaited<ReturnType<typeof startS3>>;
let proxy: FaultProxy;
let direct: S3Client;
const saved = { ...process.env };
const context = (ms = 60_000) => ({ getRemainingTimeInMillis: () => ms });
type Handler = (event: unknown, ctx: { getRemainingTimeInMillis(): number }) => Promise<{ status: string; deliveryKey?: string }>;

function loadHandler(env: Record<string, string | undefined>): Handler {
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    handler = require('../lambda/snapshot/handler').handler;
  });
  return handler!;
}

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startFaultProxy(s3.port);
  direct = s3Client(s3.endpoint);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  });
});
afterAll(async () => {
  process.env = saved;
  direct?.destroy();
  await proxy?.close();
  await s3?.close();
});

describe('snapshot handler', () => {
  test('throttled at first: stores the delivery, logs what it did, and a re-delivery is a duplicate', async () => {
    const handler = loadHandler({ AI_RELEASE_STORE_BUCKET: BUCKET });
    const lines = [
      record({ service: 'handler-svc', input: 'a' }),
      record({ service: 'handler-svc', input: 'a' }),
      record({ service: 'handler-svc', input: 'b' }),
    ];
    const event = delivery(lines);
    const start = proxy.counts.requests;
    proxy.setFault((n) => n - start <= 3);
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await handler(event, context())).toMatchObject({ status: 'processed' });
      expect(await handler(event, context())).toMatchObject({ status: 'processed' });
      const [first, second] = log.mock.calls.map((c) => JSON.parse(String(c[0])));
      expect(first).toMatchObject({ message: 'snapshot stored', events: 3, rejected: 0, s3Retries: 3 });
      expect(first.services).toEqual([expect.objectContaining({ service: 'handler-svc', status: 'written', records: 3, cases: 2, created: 2 })]);
      expect(second.services).toEqual([expect.objectContaining({ status: 'duplicate' })]);
      expect(second).toMatchObject({ s3Calls: 1, s3Retries: 0 }); // one existence check, nothing written
    } finally {
      log.mockRestore();
      proxy.setFault(() => false);
    }
    const keys = [...(await dumpBucket(direct)).keys()].filter((k) => k.includes('handler-svc'));
    expect(keys.filter((k) => k.startsWith('batches/'))).toHaveLength(1);
    // Both inputs were first seen in this delivery: they live in its batch object, the index points there.
    expect(keys.filter((k) => k.startsWith('cases/'))).toHaveLength(0);
    expect(keys.filter((k) => k.startsWith('index/'))).toEqual(['index/handler-svc.json']);
  });

  test('S3 keeps failing: the invocation fails (Lambda retries it, then the on-failure queue keeps it), without sleeping past its time', async () => {
    const handler = loadHandler({ AI_RELEASE_STORE_BUCKET: BUCKET });
    proxy.setFault(() => true);
    const started = Date.now();
    try {
      await expect(handler(delivery([record({ service: 'handler-down', input: 'x' })]), context(3500))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 503 },
      });
    } finally {
      proxy.setFault(() => false);
    }
    expect(Date.now() - started).toBeLessThan(2000);
    expect([...(await dumpBucket(direct)).keys()].filter((k) => k.includes('handler-down'))).toEqual([]);
  });

  test('no bucket in the environment: the module fails to load, naming the variable', () => {
    expect(() => loadHandler({ AI_RELEASE_STORE_BUCKET: undefined })).toThrow(
      /AI_RELEASE_STORE_BUCKET is not set; the snapshot function is created by RegressionStore/,
    );
  });
});
