import { buildFailureRecord } from '../lambda/runtime/failure-record';
import { redact } from '../lambda/runtime/redact';
import type { CaseIndexEntry } from '../lambda/shared/case-index';
import { FAILURE_RECORD_TYPE } from '../lambda/shared/contract';
import {
  CASE_LIMITS,
  caseIdOf,
  caseWriteNeeded,
  defaultExpectation,
  foldRecords,
  mergeEntry,
  normalizeInput,
  tupleHash,
  validateRecord,
} from '../lambda/snapshot/cases';
import { deliveryKey, extractRecord, redactRecord } from '../lambda/snapshot/snapshot';
import { isRetryableError, type ObjectStore, withRetries } from '../lambda/snapshot/store';
import { record, tuple } from './s3rver-harness';

describe('case identity', () => {
  test('normalization: key order, whitespace and Unicode form do not split a case; case and values do', () => {
    const a = caseIdOf('svc', '{"q":"Where is  my\\norder?","id":1}');
    expect(caseIdOf('svc', '{ "id": 1, "q": " Where is my order? " }')).toBe(a);
    expect(caseIdOf('svc', JSON.stringify({ id: 1, q: 'Where is my order?' }))).toBe(a);
    expect(caseIdOf('svc', '{"q":"where is my order?","id":1}')).not.toBe(a); // case kept
    expect(caseIdOf('svc', '{"q":"Where is my order?","id":2}')).not.toBe(a);
    expect(caseIdOf('other', '{"q":"Where is my order?","id":1}')).not.toBe(a); // the service is part of the id
    expect(caseIdOf('svc', 'Cafe\u0301  menu')).toBe(caseIdOf('svc', 'Café menu')); // NFC, collapsed space
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  test('non-JSON text is normalized as one string; JSON text equal to it is the same input', () => {
    expect(normalizeInput('  hello   world ')).toBe('"hello world"');
    expect(normalizeInput('"hello world"')).toBe('"hello world"');
    expect(normalizeInput('{"b":[" x ",2],"a":null}')).toBe('{"a":null,"b":["x",2]}');
  });

  test('delivery key: same log group, stream and first event id, same key', () => {
    expect(deliveryKey('/aws/lambda/a', 's1', '1')).toBe(deliveryKey('/aws/lambda/a', 's1', '1'));
    expect(
      new Set([
        deliveryKey('/aws/lambda/a', 's1', '1'),
        deliveryKey('/aws/lambda/a', 's1', '2'),
        deliveryKey('/aws/lambda/a', 's2', '1'),
        deliveryKey('/aws/lambda/b', 's1', '1'),
      ]).size,
    ).toBe(4);
  });
});

describe('folding', () => {
  test('many requests with one input: one delta with a count, kinds in severity order, bounded samples and tuples', () => {
    const records = Array.from({ length: 40 }, (_, i) =>
      record({
        service: 's',
        input: 'same',
        kinds: i % 2 ? ['quality'] : ['error'],
        tuple: tuple('s', String(i % 15)),
        time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      }),
    );
    const deltas = foldRecords(records);
    expect(deltas.size).toBe(1);
    const d = [...deltas.values()][0];
    expect(d.count).toBe(40);
    expect(d.kinds).toEqual(['error', 'quality']);
    expect(d.failedOn).toHaveLength(CASE_LIMITS.FAILED_ON);
    expect(d.failedOn.at(-1)!.codeVersion).toBe(String(39 % 15)); // newest last
    expect(d.requestIds).toEqual(records.slice(-CASE_LIMITS.SAMPLE_REQUEST_IDS).map((r) => r.requestId));
    expect(d.firstSeen).toBe(records[0].time);
    expect(d.lastSeen).toBe(records[39].time);
  });

  test('index entries add counts across deliveries and keep the earliest/latest times', () => {
    const [d1] = foldRecords([record({ service: 's', input: 'x', time: '2026-01-02T00:00:00.000Z' })]).values();
    const [d2] = foldRecords([record({ service: 's', input: 'x', time: '2026-01-01T00:00:00.000Z', kinds: ['safety'] })]).values();
    const e1 = mergeEntry(undefined, d1, '2026-01-02T00:00:01.000Z');
    const e2 = mergeEntry(e1, d2, undefined);
    expect(e2).toMatchObject({
      state: 'candidate',
      count: 2,
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-02T00:00:00.000Z',
      kinds: ['error', 'safety'],
    });
    expect(e2.written).toBe('2026-01-02T00:00:01.000Z');
    expect(e2.tuples).toEqual([tupleHash(tuple('s'))]);
  });

  test('a case object is rewritten only when it learns something or is due its refresh', () => {
    const [d] = foldRecords([record({ service: 's', input: 'x' })]).values();
    const entry: CaseIndexEntry = { ...mergeEntry(undefined, d, '2026-01-01T00:00:00.000Z'), state: 'candidate' };
    expect(caseWriteNeeded(undefined, d, '2026-01-01T00:00:00.000Z', 90)).toBe('create');
    expect(caseWriteNeeded(entry, d, '2026-01-02T00:00:00.000Z', 90)).toBe('none');
    const [other] = foldRecords([record({ service: 's', input: 'x', kinds: ['contract'] })]).values();
    expect(caseWriteNeeded(entry, other, '2026-01-02T00:00:00.000Z', 90)).toBe('update');
    const [newVersion] = foldRecords([record({ service: 's', input: 'x', tuple: tuple('s', '99') })]).values();
    expect(caseWriteNeeded(entry, newVersion, '2026-01-02T00:00:00.000Z', 90)).toBe('update');
    expect(caseWriteNeeded(entry, d, '2026-01-08T00:00:00.000Z', 90)).toBe('update'); // 7-day refresh
    expect(caseWriteNeeded(entry, d, '2026-04-01T00:00:00.000Z', 90)).toBe('create'); // expired by lifecycle
    expect(caseWriteNeeded({ ...entry, state: 'accepted' }, d, '2026-04-01T00:00:00.000Z', 90)).toBe('none'); // accepted never expires
  });

  test('default expectation follows the kinds', () => {
    expect(defaultExpectation(['error'])).toEqual({ noError: true });
    expect(defaultExpectation(['timeout'], { latencyMs: 29500.7 })).toEqual({ noError: true, maxLatencyMs: 29500 });
    expect(defaultExpectation(['contract', 'safety'])).toEqual({ noError: true, contractHolds: true, noSafetyFlag: true });
    expect(defaultExpectation(['quality'], { details: ['quality: score 0.4 is below outputContract.qualityFloor 0.75'] })).toEqual({
      noError: true,
      minQuality: 0.75,
    });
    expect(defaultExpectation(['cost'])).toEqual({ noError: true });
  });
});

describe('records', () => {
  const runtimeRecord = buildFailureRecord(
    {
      kinds: ['contract'],
      service: 'assistant',
      requestId: 'r1',
      startedAt: Date.UTC(2026, 10, 27),
      tuple: tuple('assistant'),
      measurements: { latencyMs: 10 },
      input: { q: 'hi' },
      output: { a: 1 },
    },
    { redactor: redact, maxFieldChars: 4000 },
  );

  test("the runtime's failure record is valid and carries the type the subscription filter matches at top level", () => {
    expect(validateRecord(runtimeRecord)).toBeUndefined();
    expect(JSON.parse(JSON.stringify(runtimeRecord)).type).toBe(FAILURE_RECORD_TYPE);
  });

  test('invalid records are named with what is wrong', () => {
    expect(validateRecord({ ...runtimeRecord, schemaVersion: 2 })).toMatch(/schemaVersion 2 is not supported/);
    expect(validateRecord({ ...runtimeRecord, kinds: ['boom'] })).toMatch(/kinds must be a non-empty list/);
    expect(validateRecord({ ...runtimeRecord, type: 'other' })).toMatch(/type is "other"/);
    expect(validateRecord({ ...runtimeRecord, service: 'Bad Name' })).toMatch(/service/);
    expect(validateRecord({ ...runtimeRecord, time: 'yesterday' })).toMatch(/time/);
  });

  test('log line shapes: plain JSON, a text-format prefix, the Lambda JSON log format', () => {
    const line = JSON.stringify(runtimeRecord);
    expect(extractRecord(line)).toEqual(runtimeRecord);
    expect(extractRecord(`2026-11-27T00:00:00.000Z\tr1\tINFO\t${line}`)).toEqual(runtimeRecord);
    expect(extractRecord(JSON.stringify({ timestamp: 't', level: 'INFO', requestId: 'r1', message: runtimeRecord }))).toEqual(runtimeRecord);
    expect(extractRecord(JSON.stringify({ timestamp: 't', level: 'INFO', message: line }))).toEqual(runtimeRecord);
    expect(extractRecord('REPORT RequestId: r1')).toBeUndefined();
    expect(extractRecord('{not json')).toBeUndefined();
  });

  test('redaction again: input, output, error, details and the request id', () => {
    const r = redactRecord(
      {
        ...runtimeRecord,
        input: 'mail a@b.co',
        output: 'key AKIAIOSFODNN7EXAMPLE',
        error: { name: 'E', message: 'card 4111 1111 1111 1111' },
        details: ['+1 415 555 2671'],
      },
      redact,
    );
    expect(JSON.stringify(r)).not.toMatch(/a@b\.co|AKIAIOSFODNN7EXAMPLE|4111 1111|555 2671/);
    expect(r.input).toBe('mail [REDACTED:EMAIL]');
    expect(redactRecord(r, redact)).toEqual(r); // idempotent: the case id of a redacted input is stable
  });
});

describe('retries', () => {
  const failing = (failures: number, error: unknown) => {
    let calls = 0;
    const store: ObjectStore = {
      get: async () => {
        calls += 1;
        if (calls <= failures) throw error;
        return { body: 'ok' };
      },
      exists: async () => false,
      put: async () => 'written',
      delete: async () => {},
      list: async () => [],
    };
    return { store, calls: () => calls };
  };
  const slowDown = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });

  test('throttling and 5xx are retried with exponential backoff and full jitter', async () => {
    const delays: number[] = [];
    const f = failing(4, slowDown);
    const store = withRetries(f.store, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999, sleep: async (ms) => void delays.push(ms) });
    expect(await store.get('k')).toEqual({ body: 'ok' });
    expect(f.calls()).toBe(5);
    expect(delays).toEqual([99, 199, 399, 799]); // random × min(cap, base × 2^n)
    expect(store.stats).toEqual({ calls: 1, retries: 4 });
    const jittered: number[] = [];
    await withRetries(failing(3, slowDown).store, { baseDelayMs: 100, random: () => 0.5, sleep: async (ms) => void jittered.push(ms) }).get('k');
    expect(jittered).toEqual([50, 100, 200]);
  });

  test('attempts run out: the last error is thrown', async () => {
    const f = failing(10, slowDown);
    await expect(withRetries(f.store, { maxAttempts: 3, sleep: async () => {} }).get('k')).rejects.toBe(slowDown);
    expect(f.calls()).toBe(3);
  });

  test('no time left in the invocation: thrown before sleeping past it', async () => {
    const f = failing(10, slowDown);
    await expect(withRetries(f.store, { random: () => 1, baseDelayMs: 500, remainingMs: () => 100, sleep: async () => {} }).get('k')).rejects.toBe(slowDown);
    expect(f.calls()).toBe(1);
  });

  test('access denied and bad requests fail at once', async () => {
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const f = failing(1, denied);
    await expect(withRetries(f.store, { sleep: async () => {} }).get('k')).rejects.toBe(denied);
    expect(f.calls()).toBe(1);
    expect(isRetryableError(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 500 } }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 400 } }))).toBe(false);
    expect(isRetryableError('text')).toBe(false);
  });
});
