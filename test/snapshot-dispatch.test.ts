import { gunzipSync } from 'node:zlib';
import { dispatch, encodeDelivery, forwardEvents, MAX_FORWARD_BYTES, recordKind, splitDelivery } from '../lambda/snapshot/dispatch';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { type CloudWatchLogsEvent, decodeDelivery, type LogsData } from '../lambda/snapshot/snapshot';
import { record } from './s3rver-harness';

const tuple = { service: 'support', codeVersion: '7', config: 'c', prompt: 'p', model: 'm', retrieval: 'r', tools: 't', outputContract: 'o', degrade: 'd' };
const sample = (i: number, answer = 'Open Settings [p1].') =>
  buildEvaluationSample(
    {
      service: 'support',
      requestId: `req-${i}`,
      time: new Date('2026-12-07T00:00:00Z'),
      tuple,
      functionVersion: '7',
      arm: 'stable',
      input: `question ${i}`,
      answer,
      citations: ['p1'],
      passages: [{ id: 'p1', text: 't' }],
    },
    1,
  );

const failureLine = (input: string) => JSON.stringify(record({ service: 'support', input }));
const sampleLine = (i: number, answer?: string) => JSON.stringify(sample(i, answer));

function data(messages: string[], o: Partial<LogsData> = {}): LogsData {
  return {
    messageType: 'DATA_MESSAGE',
    owner: '111122223333',
    logGroup: '/aws/lambda/support',
    logStream: '2026/12/07/[7]abc',
    subscriptionFilters: ['cdk-ai-release-failures'],
    logEvents: messages.map((message, i) => ({ id: `3700000000000000000000000000000000000000000000000000${1000 + i}`, timestamp: 1795000000000 + i, message })),
    ...o,
  };
}

const decode = (e: CloudWatchLogsEvent) => JSON.parse(gunzipSync(Buffer.from(e.awslogs.data, 'base64')).toString('utf8')) as LogsData;

describe('recordKind: which side of the one filter a line belongs to', () => {
  test.each([
    ['a failure record, as the runtime logs it', failureLine('a'), 'failure'],
    ['an evaluation sample', sampleLine(1), 'sample'],
    ["Lambda's JSON log format (the line wrapped in { message })", JSON.stringify({ level: 'INFO', message: sampleLine(2) }), 'sample'],
    ["Lambda's text format (timestamp, request id, level before the JSON)", `2026-12-07T00:00:00.000Z\tabc-123\tINFO\t${failureLine('b')}`, 'failure'],
    ['a result line of the evaluator (another type)', JSON.stringify({ type: 'ai-release.evaluation-result', service: 'support' }), 'other'],
    ['not JSON', 'START RequestId: 1 Version: 7', 'other'],
  ])('%s', (_name, line, kind) => {
    expect(recordKind(line)).toBe(kind);
  });
});

describe('splitDelivery', () => {
  test('samples to one part, everything else (failures and unreadable lines) to the snapshot, order and ids kept', () => {
    const d = data([failureLine('a'), sampleLine(1), 'not json', sampleLine(2), failureLine('b')]);
    const { failures, samples } = splitDelivery(d);
    expect(samples.logEvents.map((e) => e.id)).toEqual([d.logEvents[1].id, d.logEvents[3].id]);
    expect(failures.logEvents.map((e) => e.id)).toEqual([d.logEvents[0].id, d.logEvents[2].id, d.logEvents[4].id]);
    // Each part is a delivery of the same log group and stream, with the same events, byte for byte.
    for (const part of [failures, samples]) {
      expect(part).toMatchObject({
        messageType: 'DATA_MESSAGE',
        owner: d.owner,
        logGroup: d.logGroup,
        logStream: d.logStream,
        subscriptionFilters: d.subscriptionFilters,
      });
      for (const e of part.logEvents) expect(e).toEqual(d.logEvents.find((x) => x.id === e.id));
    }
  });

  test('a malformed event (no message) stays with the snapshot, which rejects it with its reason', () => {
    const d = data([sampleLine(1)]);
    const bad = { ...d, logEvents: [...d.logEvents, { id: 'x', timestamp: 0 } as never] };
    const { failures, samples } = splitDelivery(bad);
    expect(samples.logEvents).toHaveLength(1);
    expect(failures.logEvents.map((e) => e.id)).toEqual(['x']);
  });
});

describe('forwardEvents: what goes to the evaluator', () => {
  test('one CloudWatch Logs event (gzip, base64) when it fits, decoding to the same delivery', () => {
    const d = data([sampleLine(1), sampleLine(2)]);
    const events = forwardEvents(d);
    expect(events).toHaveLength(1);
    expect(decodeDelivery(events[0])).toEqual(d);
  });

  test('larger than an asynchronous payload: split into events that each fit, all events once, in order', () => {
    // Incompressible answers (mulberry32 noise), so the gzip stays large: 60 samples of ~12 KB each.
    let seed = 7;
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const noise = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + Math.floor(next() * 90))).join('');
    const d = data(Array.from({ length: 60 }, (_, i) => JSON.stringify({ ...sample(i), answer: noise(12_000) })));
    expect(encodeDelivery(d).awslogs.data.length).toBeGreaterThan(MAX_FORWARD_BYTES);
    const events = forwardEvents(d);
    expect(events.length).toBeGreaterThan(1);
    for (const e of events) expect(JSON.stringify(e).length).toBeLessThanOrEqual(MAX_FORWARD_BYTES);
    expect(events.flatMap((e) => decode(e).logEvents)).toEqual(d.logEvents);
  });

  test('nothing to forward: no event', () => {
    expect(forwardEvents(data([]))).toEqual([]);
  });
});

describe('dispatch', () => {
  const run = async (d: LogsData, o: { forward?: boolean; failForward?: boolean } = {}) => {
    const calls: string[] = [];
    const forwarded: CloudWatchLogsEvent[] = [];
    const stored: LogsData[] = [];
    const out = await dispatch(d, {
      ...(o.forward === false
        ? {}
        : {
            forwardSamples: async (e: CloudWatchLogsEvent) => {
              calls.push('forward');
              if (o.failForward) throw new Error('Invoke: TooManyRequestsException');
              forwarded.push(e);
            },
          }),
      snapshot: async (failures: LogsData) => {
        calls.push('snapshot');
        stored.push(failures);
        return failures.logEvents.length;
      },
    });
    return { out, calls, forwarded, stored };
  };

  test('a mixed batch: samples forwarded first, then the failures stored', async () => {
    const d = data([failureLine('a'), sampleLine(1), failureLine('b'), sampleLine(2)]);
    const { out, calls, forwarded, stored } = await run(d);
    expect(calls).toEqual(['forward', 'snapshot']);
    expect(out).toEqual({ samples: 2, forwardedEvents: 1, droppedSamples: 0, snapshot: 2 });
    expect(decode(forwarded[0]).logEvents.map((e) => e.message)).toEqual([sampleLine(1), sampleLine(2)]);
    expect(stored[0].logEvents.map((e) => e.id)).toEqual([d.logEvents[0].id, d.logEvents[2].id]);
  });

  test('the forward fails: nothing is stored and the invocation fails (Lambda retries the whole delivery)', async () => {
    const d = data([failureLine('a'), sampleLine(1)]);
    await expect(run(d, { failForward: true })).rejects.toThrow(/TooManyRequestsException/);
  });

  test('a re-delivered batch gives the same forward and the same failure part (both sides deduplicate on it)', async () => {
    const d = data([sampleLine(1), failureLine('a'), sampleLine(2)]);
    const [one, two] = [await run(d), await run(d)];
    expect(decode(two.forwarded[0])).toEqual(decode(one.forwarded[0]));
    expect(two.stored).toEqual(one.stored);
  });

  test('samples only: forwarded, and the snapshot sees an empty part (it writes nothing)', async () => {
    const { out, stored } = await run(data([sampleLine(1)]));
    expect(out).toMatchObject({ samples: 1, forwardedEvents: 1, snapshot: 0 });
    expect(stored[0].logEvents).toEqual([]);
  });

  test('no evaluator configured: samples are dropped and counted, failures still stored', async () => {
    const { out, calls } = await run(data([sampleLine(1), failureLine('a')]), { forward: false });
    expect(calls).toEqual(['snapshot']);
    expect(out).toEqual({ samples: 1, forwardedEvents: 0, droppedSamples: 1, snapshot: 1 });
  });

  test("failures only (a service that is not evaluated): no forward, the snapshot gets the delivery's events", async () => {
    const d = data([failureLine('a'), failureLine('b')]);
    const { out, calls, stored } = await run(d);
    expect(calls).toEqual(['snapshot']);
    expect(out.forwardedEvents).toBe(0);
    expect(stored[0]).toEqual(d);
  });

  test('the control message CloudWatch Logs sends to a new subscription goes to the snapshot as it is', async () => {
    const d = { ...data([]), messageType: 'CONTROL_MESSAGE' as const };
    const { calls, stored } = await run(d);
    expect(calls).toEqual(['snapshot']);
    expect(stored[0]).toBe(d);
  });
});
