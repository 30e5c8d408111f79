import { createAiRuntime, PowertoolsTelemetry } from '../lambda/runtime';
import { DIMENSION, METRIC, METRIC_NAMESPACE, METRIC_UNIT } from '../lambda/shared/contract';
import { FakeConfig, NO_FLAGS, SERVICE_FUNCTION_ENV, releaseDoc } from './runtime-fixtures';

/**
 * Runs fn while capturing what is written to stdout and stderr (Lambda sends both to CloudWatch Logs; Powertools
 * writes warnings to stderr), one parsed JSON document per line.
 */
async function captureStdout(fn: () => Promise<unknown>): Promise<any[]> {
  const lines: string[] = [];
  const grab = ((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    return true;
  }) as typeof process.stdout.write;
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
  try {
    await fn().catch(() => undefined);
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return lines.map((l) => JSON.parse(l));
}

const env = SERVICE_FUNCTION_ENV;

function makeRuntime() {
  const telemetry = new PowertoolsTelemetry('support-assistant');
  const rt = createAiRuntime<{ q: string }, { answer: string }>({ env, config: new FakeConfig({ rel: releaseDoc(), deg: NO_FLAGS }), telemetry });
  return { rt, telemetry };
}

describe('EMF on stdout', () => {
  test('one high-resolution EMF document per invocation, per service and per service+version', async () => {
    const { rt } = makeRuntime();
    const docs = await captureStdout(() =>
      rt.invoke(
        async () => ({ output: { answer: 'hi' }, usage: { inputTokens: 200, outputTokens: 100 }, quality: 0.75 }),
        { q: 'x' },
        { awsRequestId: 'req-1' },
      ),
    );
    const emf = docs.filter((d) => d._aws);
    expect(emf).toHaveLength(1);
    const doc = emf[0];
    const directive = doc._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe(METRIC_NAMESPACE);
    expect(directive.Dimensions).toEqual([[DIMENSION.SERVICE], [DIMENSION.SERVICE, DIMENSION.VERSION]]);
    expect(doc[DIMENSION.SERVICE]).toBe('support-assistant');
    expect(doc[DIMENSION.VERSION]).toBe('42');
    const defs = Object.fromEntries(directive.Metrics.map((m: any) => [m.Name, m]));
    const always = [METRIC.INVOCATIONS, METRIC.LATENCY, METRIC.COST_USD, METRIC.INPUT_TOKENS, METRIC.OUTPUT_TOKENS, METRIC.QUALITY_SCORE];
    for (const name of always) expect(defs[name]).toEqual({ Name: name, Unit: METRIC_UNIT[name], StorageResolution: 1 });
    // event counters are written when the event happens (Sum treats a missing datapoint as 0)
    for (const name of [METRIC.ERRORS, METRIC.SAFETY_VIOLATIONS, METRIC.CONTRACT_VIOLATIONS, METRIC.DEGRADED]) expect(defs[name]).toBeUndefined();
    expect(doc[METRIC.INVOCATIONS]).toBe(1);
    expect(doc[METRIC.INPUT_TOKENS]).toBe(200);
    expect(doc[METRIC.OUTPUT_TOKENS]).toBe(100);
    expect(doc[METRIC.COST_USD]).toBeCloseTo(0.2 * 0.001 + 0.1 * 0.002, 10);
    expect(doc[METRIC.QUALITY_SCORE]).toBe(0.75);
    expect(typeof doc[METRIC.LATENCY]).toBe('number');
    // the version tuple as metadata
    expect(doc).toMatchObject({ requestId: 'req-1', prompt: '7', outputContract: '2', codeHash: 'c0dec0dec0de' });
    expect(doc.degrade).toMatch(/^degrade-[0-9a-f]{12}$/);
    expect(doc.config).toMatch(/^cfg-/);
  });

  test('a failure writes a record line with the tuple, matching the subscription filter key', async () => {
    const { rt } = makeRuntime();
    const docs = await captureStdout(() => rt.invoke(async () => ({ output: { answer: '' } }), { q: 'call me at +1 202 555 0142' }, { awsRequestId: 'req-2' }));
    const records = docs.filter((d) => d.type === 'ai-release.failure');
    expect(records).toHaveLength(1);
    const r = records[0];
    expect(r).toMatchObject({
      level: 'WARN',
      service: 'support-assistant',
      kind: 'contract',
      requestId: 'req-2',
      input: '{"q":"call me at [REDACTED:PHONE]"}',
    });
    expect(r.version).toMatchObject({ codeVersion: '42', prompt: '7' });
    const emf = docs.find((d) => d._aws);
    expect(emf[METRIC.CONTRACT_VIOLATIONS]).toBe(1);
    expect(emf._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: METRIC.CONTRACT_VIOLATIONS, Unit: 'Count', StorageResolution: 1 });
  });

  test("the tuple is on the service's own log lines too", async () => {
    const { rt, telemetry } = makeRuntime();
    const docs = await captureStdout(() =>
      rt.invoke(
        async () => {
          telemetry.logger.info('retrieved passages', { count: 3 });
          return { output: { answer: 'ok' } };
        },
        { q: 'x' },
      ),
    );
    const line = docs.find((d) => d.message === 'retrieved passages');
    expect(line.version).toMatchObject({ service: 'support-assistant', codeVersion: '42', prompt: '7', model: expect.any(String), retrieval: 'none' });
  });

  test('an error counts in Errors and writes an error record', async () => {
    const { rt } = makeRuntime();
    const docs = await captureStdout(() =>
      rt.invoke(
        async () => {
          throw new Error('boom');
        },
        { q: 'x' },
      ),
    );
    const emf = docs.find((d) => d._aws);
    expect(emf[METRIC.ERRORS]).toBe(1);
    expect(emf._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: METRIC.ERRORS, Unit: 'Count', StorageResolution: 1 });
    expect(docs.find((d) => d.type === 'ai-release.failure')).toMatchObject({ kind: 'error', error: { name: 'Error', message: 'boom' } });
  });

  test('a malformed TTL is a clear error, not a silently uncached config', () => {
    expect(() => createAiRuntime({ env: { ...env, AI_RELEASE_CONFIG_TTL_SECONDS: 'five' } })).toThrow(
      'environment variable AI_RELEASE_CONFIG_TTL_SECONDS must be a number of seconds, got "five"',
    );
  });

  test('missing wiring is a clear error', () => {
    expect(() => createAiRuntime({ env: { ...env, AI_RELEASE_CONFIG_PROFILE: '' } })).toThrow(
      'environment variable AI_RELEASE_CONFIG_PROFILE is not set; wire the function with AiServiceConfig.bind(fn)',
    );
  });
});
