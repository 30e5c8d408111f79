import { PowertoolsTelemetry, type InvocationMeasurements } from '../lambda/runtime';
import type { ConfigAssignment, VersionTuple } from '../lambda/shared/contract';

/**
 * The adapter writes the invocation's EMF document itself (one stringify, one write) instead of ~25 Powertools store
 * calls. The bytes must be the ones Powertools writes for the same calls: each row runs both paths (the direct one
 * and the Powertools API one) with the clock fixed and compares the lines byte for byte.
 */
function capture(fn: () => void): string[] {
  const out: string[] = [];
  const grab = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
  try {
    fn();
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return out;
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
const BASE: InvocationMeasurements = {
  error: false,
  latencyMs: 12,
  costUsd: 0.00123,
  inputTokens: 850,
  outputTokens: 40,
  safetyViolation: false,
  contractViolation: false,
  degraded: false,
};
const ASSIGNED: ConfigAssignment = { arm: 'candidate', share: 0.1, releaseKey: 'rk-1', unit: '0123456789abcdef', unitKind: 'conversation' } as ConfigAssignment;

const rows: [string, VersionTuple, InvocationMeasurements, ConfigAssignment | undefined][] = [
  ['plain answer', TUPLE, BASE, undefined],
  ['with quality, case id and code hash', { ...TUPLE, codeHash: 'c0dec0dec0de' }, { ...BASE, qualityScore: 0.75, caseId: 'ab'.repeat(16) }, undefined],
  ['every event counter', TUPLE, { ...BASE, error: true, safetyViolation: true, contractViolation: true, degraded: true, qualityScore: 0 }, undefined],
  ['no evaluation label (a tuple of before the section)', { ...TUPLE, evaluation: undefined as unknown as string }, BASE, undefined],
  ['assigned config canary', TUPLE, { ...BASE, caseId: 'cd'.repeat(16) }, ASSIGNED],
  ['assigned, fell back to live', TUPLE, BASE, { ...ASSIGNED, arm: 'live', fallback: 'candidate-unavailable' }],
  ['a NaN and a negative latency are written as Powertools writes them', TUPLE, { ...BASE, latencyMs: -3, costUsd: Number.NaN }, undefined],
  ['an empty code version (Powertools drops the dimension and warns)', { ...TUPLE, codeVersion: '' }, BASE, undefined],
];

describe('direct EMF write', () => {
  afterEach(() => jest.restoreAllMocks());

  test.each(rows)('%s: the same bytes as through the Powertools API', (_name, tuple, m, assignment) => {
    jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    const direct = new PowertoolsTelemetry('support-assistant');
    const api = new PowertoolsTelemetry('support-assistant', { direct: false });
    const a = capture(() => direct.invocation(tuple, 'req-1', m, assignment));
    const b = capture(() => api.invocation(tuple, 'req-1', m, assignment));
    expect(a.join('')).toBe(b.join(''));
    expect(a.join('')).toContain('"_aws"');
    // twice in a row: nothing of the first document is left in the second
    const a2 = capture(() => direct.invocation(tuple, 'req-2', BASE));
    const b2 = capture(() => api.invocation(tuple, 'req-2', BASE));
    expect(a2.join('')).toBe(b2.join(''));
  });

  test.each(['WARN', 'ERROR', 'FATAL'])(
    'ALC %s (AWS_LAMBDA_LOG_LEVEL): both paths add the level Lambda keeps and an RFC 3339 timestamp, byte for byte',
    (alc) => {
      jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
      const env = { AWS_LAMBDA_LOG_LEVEL: alc };
      for (const [, tuple, m, assignment] of rows) {
        const a = capture(() => new PowertoolsTelemetry('support-assistant', { env }).invocation(tuple, 'req-1', m, assignment)).join('');
        const b = capture(() => new PowertoolsTelemetry('support-assistant', { env, direct: false }).invocation(tuple, 'req-1', m, assignment)).join('');
        expect(a).toBe(b);
        // (The empty-version row writes Powertools' warning first: the document is the line with `_aws`.)
        const doc = JSON.parse(a.split('\n').find((l) => l.includes('"_aws"')) ?? '{}');
        expect([doc.level, doc.timestamp, doc._aws.Timestamp]).toEqual([alc, '2025-12-06T05:46:40.123Z', 1_765_000_000_123]);
      }
    },
  );

  test.each(['DEBUG', 'INFO', 'TEXT-format (unset)'])('ALC %s: the document is the one without ALC (no level key)', (alc) => {
    jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    const env = alc.startsWith('TEXT') ? {} : { AWS_LAMBDA_LOG_LEVEL: alc };
    const a = capture(() => new PowertoolsTelemetry('support-assistant', { env }).invocation(TUPLE, 'req-1', BASE)).join('');
    expect(a).toBe(capture(() => new PowertoolsTelemetry('support-assistant', { env: {} }).invocation(TUPLE, 'req-1', BASE)).join(''));
    expect(JSON.parse(a).level).toBeUndefined();
  });

  test("a gate replay's telemetry (Service <service>#gate) writes the same bytes on both paths", () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    const a = capture(() => new PowertoolsTelemetry('support-assistant#gate').invocation(TUPLE, 'req-1', BASE));
    const b = capture(() => new PowertoolsTelemetry('support-assistant#gate', { direct: false }).invocation(TUPLE, 'req-1', BASE));
    expect(a.join('')).toBe(b.join(''));
    expect(JSON.parse(a.join('')).Service).toBe('support-assistant#gate');
  });

  test('a Powertools without the members the direct path uses (an upgrade renamed them) still gets its document written', () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    const t = new PowertoolsTelemetry('support-assistant');
    (t as unknown as { metrics: { isDisabled?: unknown } }).metrics.isDisabled = undefined;
    const a = capture(() => t.invocation(TUPLE, 'req-1', BASE));
    const b = capture(() => new PowertoolsTelemetry('support-assistant', { direct: false }).invocation(TUPLE, 'req-1', BASE));
    expect(a.join('')).toBe(b.join(''));
    expect(a.join('')).toContain('"Invocations":1');
  });

  test('disabled metrics (POWERTOOLS_METRICS_DISABLED) write nothing on either path', () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    try {
      const direct = new PowertoolsTelemetry('support-assistant');
      const api = new PowertoolsTelemetry('support-assistant', { direct: false });
      expect(capture(() => direct.invocation(TUPLE, 'req-1', BASE))).toEqual([]);
      expect(capture(() => api.invocation(TUPLE, 'req-1', BASE))).toEqual([]);
    } finally {
      delete process.env.POWERTOOLS_METRICS_DISABLED;
    }
  });

  test('a caller-supplied Metrics instance is driven through its API (its own options apply)', () => {
    const { Metrics } = jest.requireActual('@aws-lambda-powertools/metrics');
    const metrics = new Metrics({ namespace: 'Custom', serviceName: 'support-assistant' });
    const spy = jest.spyOn(metrics, 'publishStoredMetrics');
    const t = new PowertoolsTelemetry('support-assistant', { metrics });
    const lines = capture(() => t.invocation(TUPLE, 'req-1', BASE));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(JSON.parse(lines.join(''))._aws.CloudWatchMetrics[0].Namespace).toBe('Custom');
  });
});

describe('the execution environment on every invocation line (issue 16 B3)', () => {
  afterEach(() => jest.restoreAllMocks());
  test('AWS_LAMBDA_LOG_STREAM_NAME (one stream per execution environment) is the id, on both paths, byte for byte; without it, one id drawn per process', () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    const env = { AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/07/[42]0123456789abcdef0123456789abcdef' };
    const a = capture(() => new PowertoolsTelemetry('support-assistant', { env }).invocation(TUPLE, 'req-1', BASE)).join('');
    const b = capture(() => new PowertoolsTelemetry('support-assistant', { env, direct: false }).invocation(TUPLE, 'req-1', BASE)).join('');
    expect(a).toBe(b);
    expect(JSON.parse(a).environment).toBe(env.AWS_LAMBDA_LOG_STREAM_NAME);
    const c = JSON.parse(capture(() => new PowertoolsTelemetry('support-assistant', { env: {} }).invocation(TUPLE, 'req-1', BASE)).join(''));
    const d = JSON.parse(capture(() => new PowertoolsTelemetry('other-service', { env: {} }).invocation(TUPLE, 'req-1', BASE)).join(''));
    expect(c.environment).toMatch(/^env-[0-9a-f]{16}$/);
    expect(d.environment).toBe(c.environment);
  });
});

describe('the document written as text, its constant parts serialized once (h12-hot)', () => {
  afterEach(() => jest.restoreAllMocks());

  test('one adapter, documents in a row with tuples, metric sets and assignments changing (a new tuple, the same tuple object changed): each the bytes of the API path', () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    const direct = new PowertoolsTelemetry('support-assistant');
    const api = new PowertoolsTelemetry('support-assistant', { direct: false });
    const changing = { ...TUPLE } as { -readonly [K in keyof VersionTuple]: VersionTuple[K] };
    const calls: [VersionTuple, InvocationMeasurements, ConfigAssignment | undefined][] = [
      [changing, { ...BASE, qualityScore: 0.5, error: true }, ASSIGNED],
      [changing, BASE, undefined],
      [{ ...TUPLE, config: 'cfg-new', codeHash: 'c0dec0dec0de' }, { ...BASE, degraded: true, caseId: 'ef'.repeat(16) }, undefined],
      [changing, BASE, undefined],
    ];
    const a: string[] = [];
    const b: string[] = [];
    calls.forEach(([tuple, m, assignment], i) => {
      // The same object, changed between documents (a handler may change the tuple it was handed): the new values.
      if (i === 1) Object.assign(changing, { config: 'cfg-edited', degrade: 'degrade-ffffffffffff', evaluation: undefined });
      a.push(...capture(() => direct.invocation(tuple, `req-${i}`, m, assignment)));
      b.push(...capture(() => api.invocation(tuple, `req-${i}`, m, assignment)));
    });
    expect(a).toEqual(b);
    for (const i of [1, 3]) {
      expect(JSON.parse(a[i])).toMatchObject({ config: 'cfg-edited', degrade: 'degrade-ffffffffffff' });
      expect(JSON.parse(a[i]).evaluation).toBeUndefined();
    }
  });

  test('values JSON must escape (quotes, backslashes, newlines, non-ASCII, lone surrogates) are escaped as JSON.stringify escapes them', () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
    const odd = 'a"b\\c\nd\u2028é\ud800';
    const tuple = { ...TUPLE, config: odd, prompt: odd, codeHash: odd };
    const assignment = { ...ASSIGNED, unit: odd, releaseKey: odd } as ConfigAssignment;
    const m = { ...BASE, caseId: odd, latencyMs: 0.1 + 0.2, costUsd: Number.POSITIVE_INFINITY, inputTokens: -0 };
    const a = capture(() => new PowertoolsTelemetry('svc "x"').invocation(tuple, odd, m, assignment)).join('');
    const b = capture(() => new PowertoolsTelemetry('svc "x"', { direct: false }).invocation(tuple, odd, m, assignment)).join('');
    expect(a).toBe(b);
    expect(JSON.parse(a)).toMatchObject({ requestId: odd, config: odd, caseId: odd, Latency: 0.30000000000000004, CostUsd: null, InputTokens: 0 });
  });

  test.each([
    ['an answer', BASE, ['Invocations', 'Latency', 'CostUsd', 'InputTokens', 'OutputTokens']],
    ['with quality', { ...BASE, qualityScore: 0.9 }, ['Invocations', 'Latency', 'CostUsd', 'InputTokens', 'OutputTokens', 'QualityScore']],
    [
      'every event',
      { ...BASE, qualityScore: 0, error: true, safetyViolation: true, contractViolation: true, degraded: true },
      ['Invocations', 'Latency', 'CostUsd', 'InputTokens', 'OutputTokens', 'QualityScore', 'Errors', 'SafetyViolations', 'ContractViolations', 'Degraded'],
    ],
  ] as [string, InvocationMeasurements, string[]][])(
    '%s: what CloudWatch reads (namespace, dimension sets, metrics, units, StorageResolution 1, values)',
    (_n, m, names) => {
      jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
      const doc = JSON.parse(capture(() => new PowertoolsTelemetry('support-assistant').invocation(TUPLE, 'req-1', m)).join(''));
      const directive = doc._aws.CloudWatchMetrics;
      expect(directive).toHaveLength(1);
      expect(directive[0].Namespace).toBe('AiRelease');
      expect(directive[0].Dimensions).toEqual([['Service'], ['Service', 'Version']]);
      expect(directive[0].Metrics.map((d: { Name: string }) => d.Name)).toEqual(names);
      const unit: Record<string, string> = { Latency: 'Milliseconds', CostUsd: 'None', QualityScore: 'None' };
      for (const d of directive[0].Metrics) expect(d).toEqual({ Name: d.Name, Unit: unit[d.Name] ?? 'Count', StorageResolution: 1 });
      expect([doc.Service, doc.Version]).toEqual(['support-assistant', '42']);
      for (const n of names) expect(typeof doc[n]).toBe('number');
      expect(doc._aws.Timestamp).toBe(1_765_000_000_123);
    },
  );
});
