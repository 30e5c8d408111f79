import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';
import { evaluateDelivery } from '../lambda/evaluator/delivery';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { redact } from '../lambda/runtime/redact';
import { type EvaluationConfig, type EvaluationSample, evaluationKey } from '../lambda/shared/evaluation';
import { decodeDelivery } from '../lambda/snapshot/snapshot';
import type { ObjectStore } from '../lambda/snapshot/store';
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

function loadHandler(env: Record<string, string | undefined>, beforeLoad?: () => void): Handler {
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    beforeLoad?.();
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

describe('one filter, two record kinds: a mixed delivery through the dispatch', () => {
  const tuple = { service: 'mixed-svc', codeVersion: '7', config: 'c', prompt: 'p', model: 'm', retrieval: 'r', tools: 't', outputContract: 'o', degrade: 'd' };
  const sample = (i: number): EvaluationSample =>
    buildEvaluationSample(
      {
        service: 'mixed-svc',
        requestId: `mixed-req-${i}`,
        time: new Date('2026-12-07T00:00:00Z'),
        tuple,
        functionVersion: '7',
        arm: i % 2 ? 'canary' : 'stable',
        input: `how do I reset my password ${i}? mail me at jane.doe@example.com`,
        answer: `Open Settings [p${i}].`,
        citations: [`p${i}`],
        passages: [{ id: `p${i}`, text: 'Settings has a reset button.' }],
      },
      1,
    );

  test('failures are stored as before, samples reach the evaluator as the events CloudWatch Logs delivered', async () => {
    const failures = [record({ service: 'mixed-svc', input: 'a' }), record({ service: 'mixed-svc', input: 'a' }), record({ service: 'mixed-svc', input: 'b' })];
    const samples = [sample(1), sample(2)];
    // As CloudWatch Logs delivers one filter's matches: both kinds interleaved in one batch, one line wrapped by
    // Lambda's JSON log format.
    const lines = [failures[0], JSON.stringify(samples[0]), failures[1], JSON.stringify({ level: 'INFO', message: JSON.stringify(samples[1]) }), failures[2]];
    const event = delivery(lines, { logGroup: '/aws/lambda/mixed-svc', logStream: '2026/12/07/[7]mixed' });
    let lambda: AwsStub<any, any, any> | undefined;
    const handler = loadHandler({ AI_RELEASE_STORE_BUCKET: BUCKET, AI_RELEASE_EVALUATOR_FUNCTION: 'platform-evaluator' }, () => {
      const { mockClient } = require('aws-sdk-client-mock');
      const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
      lambda = mockClient(LambdaClient);
      lambda!.on(InvokeCommand).resolves({ StatusCode: 202 });
    });
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    let line: any;
    try {
      expect(await handler(event, context())).toMatchObject({ status: 'processed', forwardedEvents: 1 });
      line = JSON.parse(String(log.mock.calls[0][0]));
    } finally {
      log.mockRestore();
      delete process.env.AI_RELEASE_EVALUATOR_FUNCTION;
    }
    // The failure side: three records, two cases, nothing rejected (the samples never reach the snapshot).
    expect(line).toMatchObject({ message: 'snapshot stored', events: 3, rejected: 0, samples: 2, forwardedEvents: 1 });
    expect(line.services).toEqual([expect.objectContaining({ service: 'mixed-svc', status: 'written', records: 3, cases: 2, created: 2 })]);
    const objects = await dumpBucket(direct);
    const batchKey = [...objects.keys()].find((k) => k.startsWith('batches/') && k.includes('mixed-svc'));
    const batch = JSON.parse(objects.get(batchKey!)!);
    expect(batch).toMatchObject({ eventCount: 3, rejected: [], logGroup: '/aws/lambda/mixed-svc' });
    expect(batch.records.map((r: any) => r.requestId)).toEqual(failures.map((f) => f.requestId));
    expect(batch.records.map((r: any) => r.input)).toEqual(failures.map((f) => redact(f.input)));

    // The sample side: one asynchronous Invoke of the evaluator, with a CloudWatch Logs delivery of the two sample events.
    const invokes = lambda!.calls().map((c) => c.args[0].input);
    expect(invokes).toHaveLength(1);
    expect(invokes[0]).toMatchObject({ FunctionName: 'platform-evaluator', InvocationType: 'Event' });
    const forwarded = JSON.parse(Buffer.from(invokes[0].Payload).toString('utf8'));
    const original = decodeDelivery(event);
    const got = decodeDelivery(forwarded);
    expect(got).toMatchObject({ logGroup: original.logGroup, logStream: original.logStream, owner: original.owner, messageType: 'DATA_MESSAGE' });
    expect(got.logEvents).toEqual([original.logEvents[1], original.logEvents[3]]);

    // The evaluator's own delivery code takes it as it took CloudWatch Logs' deliveries: both samples, none rejected.
    const config: EvaluationConfig = {
      evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
      rubrics: [{ criterion: 'relevance', instructions: 'Answers the question.', floor: 3 }],
      samplingRate: 1,
      budget: { perReleaseUsd: 10, perDayUsd: 10 },
    };
    const asked: string[] = [];
    const noStore = {
      get: async () => undefined,
      // "Already scored": stops before any model call. Which samples it asks about is what this test reads.
      exists: async (key: string) => {
        asked.push(key);
        return true;
      },
      put: async () => 'written',
      list: async () => [],
    } as unknown as ObjectStore;
    const outcome = await evaluateDelivery(forwarded, {
      evaluator: () => {
        throw new Error('not reached: both samples count as scored');
      },
      liveEvaluation: async () => config,
      store: noStore,
      publish: () => {},
      writeFailureRecord: () => {},
      concurrency: 2,
    });
    expect(outcome).toMatchObject({ samples: 2, alreadyScored: 2, rejected: [] });
    expect(asked.sort()).toEqual(samples.map((x) => evaluationKey('mixed-svc', x.sampleId)).sort());
  });
});
