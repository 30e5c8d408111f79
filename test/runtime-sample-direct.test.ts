import { validateSample } from '../lambda/evaluator/delivery';
import { PowertoolsTelemetry } from '../lambda/runtime';
import { type AnswerToSample, buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { createRedactor, type Redactor, redact } from '../lambda/runtime/redact';
import type { ConfigAssignment, VersionTuple } from '../lambda/shared/contract';
import { MUST_REDACT, MUST_REDACT_NEW } from './pii-corpus';

/**
 * The adapter writes the evaluation sample's line itself (its attributes set on the Logger's own envelope, the
 * Logger's own printer) instead of `logger.info({ message, ...sample })`, whose per-key checks and deep merge of the
 * whole sample cost ~35 µs of a sampled request. The bytes must be the ones `logger.info` writes: each row builds one
 * sample (the redaction runs once, in buildEvaluationSample, as before) and writes it through both paths, on two
 * adapters whose loggers are in the same state, with the clock fixed, and compares the lines byte for byte.
 */
function capture(fn: () => void): string {
  const out: string[] = [];
  const grab = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  // The global console too: Powertools writes through it in POWERTOOLS_DEV mode (jest's console does not reach stdout).
  const viaConsole = (...args: unknown[]) => {
    out.push(`${args.join(' ')}\n`);
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(grab),
    jest.spyOn(process.stderr, 'write').mockImplementation(grab),
    ...(['log', 'info', 'warn', 'error'] as const).map((m) => jest.spyOn(console, m).mockImplementation(viaConsole)),
  ];
  try {
    fn();
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return out.join('');
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
const ASSIGNED: ConfigAssignment = { arm: 'candidate', share: 0.1, releaseKey: 'rk-1', unit: '0123456789abcdef', unitKind: 'conversation' } as ConfigAssignment;
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

type Row = {
  answer: AnswerToSample;
  rate?: number;
  armShare?: number;
  redactor?: Redactor;
  assignment?: ConfigAssignment;
  /** Keys a handler appended to the adapter's public logger (persistent), some named like the sample's. */
  keys?: Record<string, unknown>;
  env?: Record<string, string>;
  lambdaContext?: boolean;
};

const rows: [string, Row][] = [
  ['the example answer', { answer: BASE }],
  [
    'a config canary during a release (assignment keys, conversation id, arm share)',
    {
      answer: { ...BASE, arm: 'canary', conversationId: ASSIGNED.unit },
      assignment: ASSIGNED,
      rate: 0.1,
      armShare: 0.5,
    },
  ],
  [
    'PII in every field: input, answer, passage ids, citations, tool names, stop reason (the whole corpus)',
    {
      answer: {
        ...BASE,
        input: JSON.stringify({ question: piiText }),
        answer: piiText,
        passages: pii.slice(0, 12).map(([t], i) => ({ id: t, text: `passage ${i}: ${t}` })),
        citations: pii.slice(12, 24).map(([t]) => t),
        toolCalls: pii.slice(24, 30).map(([t]) => ({ name: t })),
        stopReason: pii[30][0],
      },
    },
  ],
  [
    "a service's own redactor (an extra pattern)",
    {
      answer: { ...BASE, input: JSON.stringify({ question: 'order ORD-123456 for jane@example.com' }), citations: ['ORD-654321'] },
      redactor: createRedactor([{ name: 'ORDER', pattern: /ORD-\d{6}/g }]),
    },
  ],
  [
    'an input and an answer longer than the sample keeps (cut after redaction)',
    {
      answer: { ...BASE, input: JSON.stringify({ question: 'q '.repeat(9000) }), answer: `${'a'.repeat(7990)} jane@example.com tail` },
    },
  ],
  [
    'no evidence at all (answer from the output JSON, no passages, no stop reason)',
    {
      answer: { ...BASE, passages: undefined, citations: undefined, toolCalls: undefined, inputTokens: undefined, outputTokens: undefined },
    },
  ],
  [
    'an empty answer and an empty stop reason (Powertools drops empty top-level strings: so does the direct line)',
    {
      answer: { ...BASE, answer: '', stopReason: '' },
    },
  ],
  [
    'quotes, backslashes, control characters, lone surrogates and non-BMP text',
    {
      answer: { ...BASE, answer: 'say "hi"\\n\u0000\u001f\u2028 \ud800 😀 中文', passages: [{ id: 'p "1"', text: 'x' }], citations: ['p "1"'] },
    },
  ],
  [
    "keys a handler appended, some named like the sample's (input, tuple, requestId): the line's values win in place",
    {
      answer: BASE,
      keys: { team: 'search', input: 'persistent input', tuple: { other: 1, nested: { x: [1, 2] } }, requestId: 'stale', empty: '', nothing: null },
    },
  ],
  [
    'a Lambda context on the logger (cold start, function name, request id) and an X-Ray trace id',
    {
      answer: BASE,
      lambdaContext: true,
      env: { _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
    },
  ],
  ['a time zone other than UTC (Powertools writes the offset)', { answer: BASE, env: { TZ: 'Asia/Shanghai' } }],
  ['POWERTOOLS_DEV (pretty-printed, through the global console)', { answer: BASE, env: { POWERTOOLS_DEV: 'true' } }],
  [
    'debug sampling on (POWERTOOLS_LOGGER_SAMPLE_RATE: sampling_rate in the envelope)',
    {
      answer: BASE,
      env: { POWERTOOLS_LOGGER_SAMPLE_RATE: '0.5' },
    },
  ],
];

function withEnv<T>(env: Record<string, string> | undefined, fn: () => T): T {
  const before: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    before[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const CONTEXT = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'support-assistant-fn',
  functionVersion: '42',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:support-assistant-fn:live',
  memoryLimitInMB: '1024',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/support-assistant-fn',
  logStreamName: 's',
  getRemainingTimeInMillis: () => 1000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

/** An adapter in the state the runtime leaves it in before the sample: the tuple stamped, the row's keys appended. */
function adapter(row: Row, direct: boolean): PowertoolsTelemetry {
  const make = () => new PowertoolsTelemetry('support-assistant', direct ? {} : { direct: false });
  // With debug sampling on, Powertools writes "Setting log level to DEBUG" as the Logger is made: caught here, so
  // npm test prints no handler log lines (issue 15). Only then: a capture inside capture() would undo the outer one.
  let t!: PowertoolsTelemetry;
  if (process.env.POWERTOOLS_LOGGER_SAMPLE_RATE === undefined) t = make();
  else expect(capture(() => (t = make()))).toMatch(/DEBUG|^$/);
  if (row.lambdaContext) t.logger.addContext(CONTEXT);
  if (row.keys) t.logger.appendKeys(row.keys);
  t.stamp(TUPLE, 'req-1', row.assignment);
  return t;
}

describe('direct evaluation sample line', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_765_000_000_123, doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  test.each(rows)('%s: the same bytes as logger.info', (_name, row) => {
    withEnv(row.env, () => {
      const sample = buildEvaluationSample(row.answer, row.rate ?? 0.02, row.redactor ?? redact, row.armShare);
      const direct = adapter(row, true);
      const api = adapter(row, false);
      const viaInfo = jest.spyOn(direct.logger, 'info');
      const a = capture(() => direct.sample(sample));
      const b = capture(() => api.sample(sample));
      // The direct path was taken (a fallback to logger.info would make the comparison pass without testing anything).
      expect(viaInfo).not.toHaveBeenCalled();
      expect(a).toBe(b);
      expect(a.endsWith('\n')).toBe(true);
      const line = JSON.parse(a);
      expect(line.type).toBe('ai-release.evaluation-sample');
      expect(line.message).toBe('AI evaluation sample');
      expect(line.service).toBe('support-assistant');
      // Twice in a row on the same adapters: nothing of the first line is left in the second.
      const next = buildEvaluationSample({ ...BASE, requestId: 'req-2', answer: 'second' }, 0.02);
      expect(capture(() => direct.sample(next))).toBe(capture(() => api.sample(next)));
    });
  });

  test('the line of a plain sample is one the evaluator accepts, and it has no PII of the corpus', () => {
    const row = rows[2][1];
    const sample = buildEvaluationSample(row.answer, 0.02);
    const line = JSON.parse(capture(() => adapter(row, true).sample(sample)));
    expect(validateSample(line)).toBeUndefined();
    const text = JSON.stringify(line);
    for (const [, secret] of pii) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED:EMAIL]');
  });

  test('above INFO (POWERTOOLS_LOG_LEVEL=WARN) both paths still write the line (test/runtime-log-levels.test.ts: every level)', () => {
    withEnv({ POWERTOOLS_LOG_LEVEL: 'WARN' }, () => {
      const sample = buildEvaluationSample(BASE, 0.02);
      const direct = adapter({ answer: BASE }, true);
      const viaInfo = jest.spyOn(direct.logger, 'info');
      const a = JSON.parse(capture(() => direct.sample(sample)));
      // The API path writes at the Logger's level: logger.info would write nothing.
      const b = JSON.parse(capture(() => adapter({ answer: BASE }, false).sample(sample)));
      expect(viaInfo).not.toHaveBeenCalled();
      expect([a.level, b.level]).toEqual(['INFO', 'WARN']);
      expect({ ...a, level: 'WARN' }).toEqual(b);
    });
  });

  test.each([['createAndPopulateLogItem'], ['shouldBufferLog'], ['console'], ['logIndentation']])(
    'a Powertools without %s (an upgrade renamed it) still gets the line written, through logger.info',
    (member) => {
      const sample = buildEvaluationSample(BASE, 0.02);
      const direct = adapter({ answer: BASE }, true);
      // Renamed: the adapter finds no such member; Powertools' own logger.info (which uses it) still works.
      const logger = direct.logger as unknown as Record<string, unknown>;
      const info = logger.info as (...args: unknown[]) => void;
      const own = Object.hasOwn(logger, member);
      const original = logger[member];
      logger[member] = undefined;
      const viaInfo = jest.spyOn(direct.logger, 'info').mockImplementation(function (this: Record<string, unknown>, ...args: unknown[]) {
        if (own) this[member] = original;
        else delete this[member];
        try {
          info.apply(this, args);
        } finally {
          this[member] = undefined;
        }
      });
      const a = capture(() => direct.sample(sample));
      expect(viaInfo).toHaveBeenCalledTimes(1);
      expect(a).toBe(capture(() => adapter({ answer: BASE }, false).sample(sample)));
      expect(JSON.parse(a).sampleId).toBe(sample.sampleId);
    },
  );

  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  test.each<[string, unknown]>([
    ['an Error (Powertools formats it)', new Error('boom')],
    ['a Date (Powertools copies it by reference, JSON writes its toJSON)', new Date(0)],
    ['a bigint (Powertools writes it as a string)', 12n],
    ['a circular object (Powertools drops the cycle)', circular],
    ['an object with its own toJSON', { toJSON: () => 'custom' }],
    [
      'a class instance',
      new (class Point {
        x = 1;
      })(),
    ],
    ["a key named constructor (which Powertools' merge skips)", { constructor: 'x', kept: 1 }],
  ])('%s, in a sample value or a persistent key: the same bytes as logger.info (through it, for the sample value)', (_name, value) => {
    // In the sample (not deep-copied before): the direct line cannot write it as Powertools does, so it does not try.
    const odd = { ...buildEvaluationSample(BASE, 0.02), tuple: { ...TUPLE, extra: value } as unknown as VersionTuple };
    const direct = adapter({ answer: BASE }, true);
    const viaInfo = jest.spyOn(direct.logger, 'info');
    const a = capture(() => direct.sample(odd));
    expect(viaInfo).toHaveBeenCalledTimes(1);
    expect(a).toBe(capture(() => adapter({ answer: BASE }, false).sample(odd)));
    expect(JSON.parse(a).tuple.config).toBe(TUPLE.config);
    // Appended to the logger (Powertools copies persistent keys when they are appended): the same bytes either way.
    const row: Row = { answer: BASE, keys: { extra: { value } } };
    const sample = buildEvaluationSample(BASE, 0.02);
    expect(capture(() => adapter(row, true).sample(sample))).toBe(capture(() => adapter(row, false).sample(sample)));
  });

  test("a sample key that is one of the envelope's (a future field named like it) goes through logger.info", () => {
    const sample = { ...buildEvaluationSample(BASE, 0.02), function_name: 'x' };
    const direct = adapter({ answer: BASE }, true);
    const viaInfo = jest.spyOn(direct.logger, 'info');
    const a = capture(() => direct.sample(sample));
    expect(viaInfo).toHaveBeenCalledTimes(1);
    expect(a).toBe(capture(() => adapter({ answer: BASE }, false).sample(sample)));
  });

  test("a caller's own Logger (its formatter, replacer, buffering) is driven through its API", () => {
    const { Logger } = jest.requireActual('@aws-lambda-powertools/logger');
    const logger = new Logger({ serviceName: 'support-assistant', jsonReplacerFn: (_k: string, v: unknown) => (v === 'req-1' ? 'REPLACED' : v) });
    const t = new PowertoolsTelemetry('support-assistant', { logger });
    const viaInfo = jest.spyOn(logger, 'info');
    const line = JSON.parse(capture(() => t.sample(buildEvaluationSample(BASE, 0.02))));
    expect(viaInfo).toHaveBeenCalledTimes(1);
    expect(line.requestId).toBe('REPLACED');
  });

  test('log buffering with a trace id: the line is buffered by Powertools (not written), as logger.info does', () => {
    withEnv({ _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' }, () => {
      const t = new PowertoolsTelemetry('support-assistant');
      // The adapter's own Logger never buffers; a Logger whose buffering is on (set as Powertools would) is left to it.
      const own = t.logger as unknown as { shouldBufferLog: (id: string | undefined, level: number) => boolean };
      own.shouldBufferLog = (id) => id !== undefined;
      const viaInfo = jest.spyOn(t.logger, 'info').mockImplementation(() => {});
      expect(capture(() => t.sample(buildEvaluationSample(BASE, 0.02)))).toBe('');
      expect(viaInfo).toHaveBeenCalledTimes(1);
    });
  });
});
