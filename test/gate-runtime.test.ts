import { AiRuntime } from '../lambda/runtime/ai-runtime';
import { GATE_ALIAS_NAME, GATE_CLIENT_CONTEXT_KEY, GATE_RESPONSE_KEY, type GateInvocationVerdict } from '../lambda/shared/contract';
import { GATE_CLIENT_CONTEXT } from '../lambda/gate/aws-adapters';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

type Out = { answer: string };

function runtime(config = new FakeConfig({ rel: releaseDoc(), deg: NO_FLAGS }), degradedAnswer?: () => Out) {
  const telemetry = new RecordingTelemetry();
  const rt = new AiRuntime<{ q: string }, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config,
    telemetry,
    codeVersion: '12',
    timeoutMarginMs: 0,
    ...(degradedAnswer ? { degradedAnswer } : {}),
  });
  return { rt, telemetry };
}

const FN_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:svc-fn';
/** The ClientContext the gate sends, as the Node.js runtime hands it to the handler: the JSON it encoded, parsed. */
const gateClientContext = JSON.parse(Buffer.from(GATE_CLIENT_CONTEXT, 'base64').toString('utf8'));
/** A code-plane gate replay: the gate invokes the new version by number (lambda/gate/hook.ts). */
const gateContext = { awsRequestId: 'r1', invokedFunctionArn: `${FN_ARN}:12`, clientContext: gateClientContext };

describe('the runtime answers a gate invocation with its own verdict', () => {
  test('the ClientContext the gate sends is the custom key, well under the 3,583-byte limit', () => {
    expect(gateContext.clientContext).toEqual({ custom: { [GATE_CLIENT_CONTEXT_KEY]: '1' } });
    expect(GATE_CLIENT_CONTEXT.length).toBeLessThan(3583);
  });

  test('without the ClientContext: the bare output (live traffic is unchanged)', async () => {
    const { rt } = runtime();
    const out = await rt.invoke(async () => ({ output: { answer: 'ok' }, quality: 0.9 }), { q: 'x' }, { awsRequestId: 'r0' });
    expect(out).toEqual({ answer: 'ok' });
  });

  test('a clean answer: the output with no failure kinds and the quality score', async () => {
    const { rt } = runtime();
    const out = (await rt.invoke(async () => ({ output: { answer: 'ok' }, quality: 0.9 }), { q: 'x' }, gateContext)) as unknown as Record<
      string,
      GateInvocationVerdict
    >;
    const v = out[GATE_RESPONSE_KEY];
    expect(v.output).toEqual({ answer: 'ok' });
    expect(v.kinds).toEqual([]);
    expect(v.qualityScore).toBe(0.9);
    expect(v.tuple.codeVersion).toBe('12');
  });

  test('a contract break and a low quality are reported as the runtime judged them', async () => {
    const { rt, telemetry } = runtime();
    const out = (await rt.invoke(async () => ({ output: { answer: '' }, quality: 0.1 }), { q: 'x' }, gateContext)) as unknown as Record<
      string,
      GateInvocationVerdict
    >;
    const v = out[GATE_RESPONSE_KEY];
    expect(v.kinds).toEqual(expect.arrayContaining(['contract', 'quality']));
    expect(v.details.some((d) => d.startsWith('contract:'))).toBe(true);
    // The same judgment live traffic gets: the same answer without the ClientContext writes a record with those kinds.
    await rt.invoke(async () => ({ output: { answer: '' }, quality: 0.1 }), { q: 'x' }, { awsRequestId: 'live' });
    expect(telemetry.failures.map((f) => f.kinds)).toEqual([v.kinds]);
  });

  test('a gate replay is neither measured nor recorded (it would skew the version’s alarms and refresh its own cases)', async () => {
    const { rt, telemetry } = runtime();
    await rt.invoke(async () => ({ output: { answer: '' }, quality: 0.1 }), { q: 'x' }, gateContext);
    const boom = async (): Promise<never> => {
      throw new Error('boom');
    };
    await expect(rt.invoke(boom, { q: 'x' }, gateContext)).rejects.toThrow('boom');
    expect(telemetry.invocations).toEqual([]);
    expect(telemetry.failures).toEqual([]);
    await rt.invoke(async () => ({ output: { answer: 'ok' } }), { q: 'x' }, { awsRequestId: 'live' });
    expect(telemetry.invocations).toHaveLength(1); // live traffic still is
  });

  test('a degraded answer served without a usable config is an error for the gate', async () => {
    const config = new FakeConfig({ rel: releaseDoc(), deg: NO_FLAGS });
    config.fail = true;
    const { rt } = runtime(config, () => ({ answer: 'Back soon.' }));
    const out = (await rt.invoke(async () => ({ output: { answer: 'ok' } }), { q: 'x' }, gateContext)) as unknown as Record<string, GateInvocationVerdict>;
    expect(out[GATE_RESPONSE_KEY].kinds).toEqual(['error']);
    expect(out[GATE_RESPONSE_KEY].output).toEqual({ answer: 'Back soon.' });
  });

  test('a handler error still throws (the gate sees a function error)', async () => {
    const { rt } = runtime();
    await expect(
      rt.invoke(
        async () => {
          throw new Error('boom');
        },
        { q: 'x' },
        gateContext,
      ),
    ).rejects.toThrow('boom');
  });
});

describe('the gate ClientContext is honoured only through a version number or the gate alias', () => {
  const asked = (qualifier: string | undefined, id = 'r') => ({
    awsRequestId: id,
    invokedFunctionArn: qualifier === undefined ? FN_ARN : `${FN_ARN}:${qualifier}`,
    clientContext: gateClientContext,
  });
  const bad = async () => ({ output: { answer: '' }, quality: 0.1 });

  test.each([['12'], ['1'], [GATE_ALIAS_NAME]])('qualifier %s: a replay (verdict answered, nothing measured or recorded)', async (q) => {
    const { rt, telemetry } = runtime();
    const out = (await rt.invoke(bad, { q: 'x' }, asked(q))) as unknown as Record<string, GateInvocationVerdict>;
    expect(out[GATE_RESPONSE_KEY].kinds).toEqual(expect.arrayContaining(['contract', 'quality']));
    expect(telemetry.invocations).toEqual([]);
    expect(telemetry.failures).toEqual([]);
    expect(telemetry.warnings).toEqual([]);
  });

  test.each([['live'], ['$LATEST'], [undefined], ['0'], ['12a'], ['gatex']])(
    'qualifier %s: served as live traffic (bare output, measured, recorded), warned once',
    async (q) => {
      const { rt, telemetry } = runtime();
      const out = await rt.invoke(bad, { q: 'x' }, asked(q, 'a'));
      expect(out).toEqual({ answer: '' });
      await expect(
        rt.invoke(
          async () => {
            throw new Error('boom');
          },
          { q: 'x' },
          asked(q, 'b'),
        ),
      ).rejects.toThrow('boom');
      expect(telemetry.invocations).toHaveLength(2);
      expect(telemetry.failures.map((f) => f.requestId)).toEqual(['a', 'b']);
      expect(telemetry.failures[0].kinds).toEqual(expect.arrayContaining(['contract', 'quality']));
      // Once per execution environment, not per request: a caller cannot flood the logs through it.
      expect(telemetry.warnings).toHaveLength(1);
      expect(telemetry.warnings[0]).toContain("ignored the regression gate's ClientContext");
      expect(telemetry.warnings[0]).toContain(q === undefined ? '(none)' : JSON.stringify(q));
    },
  );
});
