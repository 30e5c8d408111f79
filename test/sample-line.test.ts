import { buildFailureRecord } from '../lambda/runtime/failure-record';
import { PowertoolsTelemetry } from '../lambda/runtime';
import { type AnswerToSample, buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { createRedactor, redact } from '../lambda/runtime/redact';
import { plainJson, recordLine } from '../lambda/runtime/sample-line';
import type { VersionTuple } from '../lambda/shared/contract';
import { MUST_REDACT, MUST_REDACT_NEW } from './pii-corpus';

/**
 * recordLine (h10-hot17) writes a record line as the envelope's JSON with the record's keys appended as text. It must
 * write the bytes the path before it wrote: the record's keys set on the envelope object (a key the envelope has keeps
 * its place), top-level '' and null removed, one JSON.stringify. `oldLine` is that path, copied from
 * powertools-telemetry.ts before h10-hot17; every row compares the two byte for byte, on a fresh envelope each.
 * (test/runtime-sample-direct.test.ts pins the adapter's line against logger.info itself.)
 */
function oldLine(envelope: Record<string, unknown>, attrs: Record<string, unknown>, skip?: string): string | undefined {
  const item = envelope;
  const keys = Object.keys(attrs);
  for (const k of keys) if (k !== skip) item[k] = attrs[k];
  const budget = { nodes: 4096 };
  let empty = false;
  for (const k in item) {
    const v = item[k];
    if (v === '' || v === null) empty = true;
    else if (!plainJson(v, 0, budget)) return undefined;
  }
  let line = item;
  if (empty) {
    line = {};
    for (const k in item) if (item[k] !== '' && item[k] !== null) line[k] = item[k];
  }
  return JSON.stringify(line, null, 0);
}

const TUPLE: VersionTuple = {
  service: 'support-assistant',
  codeVersion: '42',
  config: 'cfg-abc',
  prompt: '7',
  model: 'm-1',
  retrieval: 'r-2',
  tools: 't-3',
  outputContract: '2',
  evaluation: 'e-4',
  degrade: 'degrade-0123456789ab',
};

/** An envelope as Powertools' createAndPopulateLogItem makes it, with persistent keys the runtime and a handler add. */
function envelope(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    level: 'INFO',
    message: 'AI evaluation sample',
    timestamp: '2026-12-07T21:00:00.123Z',
    service: 'support-assistant',
    cold_start: true,
    function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:f:live',
    function_memory_size: '1024',
    function_name: 'f',
    function_request_id: 'req-1',
    sampling_rate: 0,
    xray_trace_id: '',
    version: TUPLE,
    requestId: 'req-1',
    ...extra,
  };
}

const BASE: AnswerToSample = {
  service: 'support-assistant',
  requestId: 'req-1',
  time: new Date(1_765_000_000_000),
  tuple: TUPLE,
  functionVersion: '42',
  arm: 'stable',
  input: JSON.stringify({ question: 'How do I restore a deleted file?' }),
  answer: 'Open the bin [kb-restore-01].',
  passages: [{ id: 'kb-restore-01', text: 'Deleted files stay in the bin for 30 days.' }],
  citations: ['kb-restore-01'],
  inputTokens: 850,
  outputTokens: 40,
};
const pii = [...MUST_REDACT, ...MUST_REDACT_NEW];
const piiText = pii.map(([t]) => t).join(' | ');

const samples: [string, Record<string, unknown>][] = [
  ['the bench answer', buildEvaluationSample(BASE, 0.1, redact, undefined, true) as never],
  ['a config canary (conversation id, arm share)', buildEvaluationSample({ ...BASE, arm: 'canary', conversationId: 'c-1' }, 0.1, redact, 0.5) as never],
  [
    'PII in every field (the whole corpus)',
    buildEvaluationSample(
      {
        ...BASE,
        input: JSON.stringify({ question: piiText }),
        answer: piiText,
        passages: pii.slice(0, 12).map(([t], i) => ({ id: t, text: `passage ${i}: ${t}` })),
        citations: pii.slice(12, 24).map(([t]) => t),
        toolCalls: pii.slice(24, 30).map(([t]) => ({ name: t })),
        stopReason: pii[30][0],
      },
      0.02,
    ) as never,
  ],
  ...pii.map(([t], i): [string, Record<string, unknown>] => [
    `corpus entry ${i} as the answer and input`,
    buildEvaluationSample({ ...BASE, input: JSON.stringify({ question: t }), answer: t }, 0.02) as never,
  ]),
  [
    "a service's own redactor",
    buildEvaluationSample({ ...BASE, input: '{"q":"ORD-123456"}' }, 0.02, createRedactor([{ name: 'ORDER', pattern: /ORD-\d{6}/g }])) as never,
  ],
  ['a cut input and answer', buildEvaluationSample({ ...BASE, input: 'q '.repeat(9000), answer: `${'a'.repeat(7990)} x@y.io` }, 0.02) as never],
  ['an empty answer and stop reason (dropped)', buildEvaluationSample({ ...BASE, answer: '', stopReason: '' }, 0.02) as never],
  [
    'quotes, backslashes, control characters, lone surrogates, U+2028 and non-BMP text',
    buildEvaluationSample({ ...BASE, answer: 'say "hi"\\n\u0000\u001f\u2028\n\r\t \ud800 😀 中文', citations: ['p "1"'] }, 0.02) as never,
  ],
  ['a guardrail score and NaN / -0 / 1e21 numbers', { ...buildEvaluationSample(BASE, 0.02), guardrail: { grounding: 0.91 }, a: Number.NaN, b: -0, c: 1e21 }],
  [
    "keys the envelope has (requestId, service, xray_trace_id, version): they keep their place with the record's value",
    { ...buildEvaluationSample(BASE, 0.02), requestId: 'req-other', version: { v: 2 }, xray_trace_id: 'Root=1', message: undefined },
  ],
  ["an envelope key set to '' or null by the record (dropped in place)", { sampleId: 'x', requestId: '', version: null, cold_start: undefined }],
  [
    'undefined, null and empty record values, nested ones kept',
    { a: undefined, b: null, c: '', d: { e: null, f: '', g: undefined }, h: [undefined, null, ''] },
  ],
  ['an empty record', {}],
];

describe('recordLine: the same bytes as the merge-then-stringify path', () => {
  test.each(samples)('%s', (_name, record) => {
    for (const skip of [undefined, 'service'] as const) {
      const a = recordLine(envelope(), record, Object.keys(record), skip);
      const b = oldLine(envelope(), record, skip);
      expect(a).toBeDefined();
      expect(a).toBe(b);
    }
  });

  test('a failure record (the other line recordLine writes), with and without an assignment', () => {
    const record = buildFailureRecord(
      {
        service: 'support-assistant',
        kinds: ['contract', 'quality'],
        requestId: 'req-9',
        startedAt: 1_765_000_000_000,
        tuple: TUPLE,
        measurements: { latencyMs: 12.5, inputTokens: 10, outputTokens: 3, costUsd: 0.0001, qualityScore: 0.2 },
        input: { question: piiText },
        output: { answer: 'x' },
        details: ['contract: / must have property citations'],
      },
      { redactor: redact, maxFieldChars: 4096 },
    ) as unknown as Record<string, unknown>;
    const keys = Object.keys(record);
    expect(recordLine(envelope(), record, keys, 'service')).toBe(oldLine(envelope(), record, 'service'));
    const assigned = envelope({ assignment: { arm: 'candidate', share: 0.1, releaseKey: 'rk', unit: 'u', unitKind: 'conversation' } });
    expect(recordLine(assigned, record, keys, 'service')).toBe(oldLine(envelope({ assignment: assigned.assignment }), record, 'service'));
  });

  test('envelopes of every shape: empty, with empty values, with integer-like persistent keys', () => {
    const record = buildEvaluationSample(BASE, 0.02) as unknown as Record<string, unknown>;
    const keys = Object.keys(record);
    for (const env of [{}, { level: 'INFO', a: '', b: null }, { level: 'INFO', 7: 'seven', 10: 'ten' }, { '': 'empty key', 'with "quote"': 1 }]) {
      expect(recordLine({ ...env }, record, keys, 'service')).toBe(oldLine({ ...env }, record, 'service'));
    }
    expect(recordLine({}, {}, [], undefined)).toBe('{}');
  });

  test('what it cannot write exactly it refuses (the caller goes through the Logger): integer-like or __proto__ keys, values that are not plain JSON', () => {
    const refuse: Record<string, unknown>[] = [{ 1: 'x' }, JSON.parse('{"__proto__": {"a": 1}}'), { e: new Error('x') }, { d: new Date(0) }, { n: 1n }];
    const big = { items: Array.from({ length: 5000 }, (_, i) => i) };
    for (const r of [...refuse, big]) expect(recordLine(envelope(), r, Object.keys(r), undefined)).toBeUndefined();
    // A value the envelope holds that is not plain JSON: refused too.
    expect(recordLine(envelope({ when: new Date(0) }), { a: 1 }, ['a'], undefined)).toBeUndefined();
  });

  test('the adapter writes the line in one console call, as one line (no raw newline inside)', () => {
    const t = new PowertoolsTelemetry('support-assistant');
    t.stamp(TUPLE, 'req-1');
    const own = (t.logger as unknown as { console: { info: (s: string) => void } }).console;
    const calls: string[] = [];
    const spy = jest.spyOn(own, 'info').mockImplementation((s: string) => {
      calls.push(s);
    });
    try {
      t.sample(samples[7][1] as never);
    } finally {
      spy.mockRestore();
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]).not.toMatch(/[\n\r]/);
    expect(JSON.parse(calls[0]).type).toBe('ai-release.evaluation-sample');
  });
});
