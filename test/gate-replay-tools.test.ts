/**
 * What a replay may reach (issue 17 E): a gate replay or a shadow answer is served without the tools that declare
 * side effects (`sideEffects: 'write'`), so replaying a known failing input can never write anything; and it answers
 * the gate with the answer's evidence (passages, citations), which the gate's evaluator scores. Live traffic keeps
 * every tool and its answer is unchanged.
 */
import { AiRuntime, withoutSideEffectTools } from '../lambda/runtime/ai-runtime';
import { GATE_RESPONSE_KEY, type GateInvocationVerdict, type ReleaseConfigDocument } from '../lambda/shared/contract';
import { GATE_CLIENT_CONTEXT } from '../lambda/gate/aws-adapters';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

const tool = (name: string, sideEffects?: 'none' | 'read' | 'write') => ({
  name,
  description: name,
  inputSchema: { type: 'object' },
  ...(sideEffects ? { sideEffects } : {}),
  permissions: {},
});
const TOOLS = { tools: [tool('lookup_order', 'read'), tool('refund_order', 'write'), tool('format_date', 'none'), tool('legacy')] };

const FN_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:svc-fn';
const clientContext = JSON.parse(Buffer.from(GATE_CLIENT_CONTEXT, 'base64').toString('utf8'));

function runtime() {
  return new AiRuntime<{ q: string }, { answer: string }>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: new FakeConfig({ rel: releaseDoc({ tools: TOOLS } as Partial<ReleaseConfigDocument>), deg: NO_FLAGS }),
    telemetry: new RecordingTelemetry(),
    codeVersion: '12',
    timeoutMarginMs: 0,
  });
}

describe('tools with side effects in replays', () => {
  test.each([
    [
      'a gate replay through the version number',
      { awsRequestId: 'g1', invokedFunctionArn: `${FN_ARN}:12`, clientContext },
      ['lookup_order', 'format_date', 'legacy'],
    ],
    [
      'a gate replay through the gate alias',
      { awsRequestId: 'g2', invokedFunctionArn: `${FN_ARN}:gate`, clientContext },
      ['lookup_order', 'format_date', 'legacy'],
    ],
    ['live traffic', { awsRequestId: 'l1', invokedFunctionArn: `${FN_ARN}:live` }, ['lookup_order', 'refund_order', 'format_date', 'legacy']],
    // The replay ClientContext on the callers' alias is live traffic: served with every tool, measured and recorded.
    [
      'the ClientContext on live',
      { awsRequestId: 'l2', invokedFunctionArn: `${FN_ARN}:live`, clientContext },
      ['lookup_order', 'refund_order', 'format_date', 'legacy'],
    ],
  ])('%s: the handler is offered %j', async (_label, context, offered) => {
    const rt = runtime();
    let seen: string[] = [];
    await rt.invoke(
      async (_i, ctx) => {
        seen = (ctx.config.tools?.tools ?? []).map((t) => t.name);
        return { output: { answer: 'ok' }, quality: 0.9 };
      },
      { q: 'x' },
      context,
    );
    expect(seen).toEqual(offered);
  });

  test('withoutSideEffectTools keeps the config object when nothing is removed (the tuple hash is computed before)', () => {
    const doc = releaseDoc({ tools: { tools: [tool('a', 'read')] } } as Partial<ReleaseConfigDocument>);
    expect(withoutSideEffectTools(doc)).toBe(doc);
    expect(withoutSideEffectTools(releaseDoc())).toEqual(releaseDoc());
  });

  test("a replay's verdict carries the answer's evidence for the gate's evaluator; live output does not", async () => {
    const rt = runtime();
    const handler = async () => ({
      output: { answer: 'Refunds take 5 days [p1].' },
      quality: 0.9,
      evaluation: { answer: 'Refunds take 5 days [p1].', passages: [{ id: 'p1', text: 'Refunds are paid within 5 days.' }], citations: ['p1'] },
    });
    const out = (await rt.invoke(handler, { q: 'x' }, { awsRequestId: 'g3', invokedFunctionArn: `${FN_ARN}:12`, clientContext })) as unknown as Record<
      string,
      GateInvocationVerdict
    >;
    expect(out[GATE_RESPONSE_KEY].evidence).toEqual({
      answer: 'Refunds take 5 days [p1].',
      passages: [{ id: 'p1', text: 'Refunds are paid within 5 days.' }],
      citations: ['p1'],
    });
    expect(await rt.invoke(handler, { q: 'x' }, { awsRequestId: 'l3', invokedFunctionArn: `${FN_ARN}:live` })).toEqual({ answer: 'Refunds take 5 days [p1].' });
  });
});
