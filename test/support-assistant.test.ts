import knowledgeBase from '../example/support-assistant/knowledge-base.json';
import {
  answerQuestion,
  BundledRetriever,
  fillTemplate,
  scoreAnswer,
  type AssistantInput,
  type ModelPort,
  type ModelRequest,
  type ModelResponse,
} from '../lambda/support-assistant/assistant';
import { lookupOrderStatus } from '../lambda/support-assistant/service';

/** A model port that answers from a script and records requests: a fake, not a mock of AWS. */
function scriptedModel(...script: Partial<ModelResponse>[]): ModelPort & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    requests,
    converse: async (r) => {
      requests.push(JSON.parse(JSON.stringify(r)));
      const next = script[Math.min(requests.length - 1, script.length - 1)];
      return { content: [], stopReason: 'end_turn', inputTokens: 100, outputTokens: 20, ...next };
    },
  };
}

const TOOL = {
  name: 'lookup_order_status',
  description: 'order status',
  inputSchema: { type: 'object' },
  permissions: { actions: ['dynamodb:GetItem'], resources: ['arn:aws:dynamodb:us-east-1:1:table/o'] },
};
const base: AssistantInput = {
  prompt: { system: 'Answer from passages.', template: 'Q: {{question}}\n{{passages}}', fewShot: [{ input: 'hi', output: 'hello [kb-x]' }] },
  model: { modelId: 'primary', pricing: { inputPer1kTokensUsd: 0, outputPer1kTokensUsd: 0 } },
  guardrail: { id: 'g1', version: '1' },
  retrieval: { source: { type: 'bundled', id: 'kb' }, indexVersion: '1', topK: 2, minScore: 0.1 },
  tools: [TOOL],
  degrade: { disableRetrieval: false, disableTools: false },
};
const retriever = new BundledRetriever(knowledgeBase.passages);
const text = (t: string) => ({ content: [{ text: t }] });

describe('support assistant logic', () => {
  test('retrieves, fills the prompt after the few-shot turns, passes the guardrail and tools, keeps only real citations', async () => {
    const model = scriptedModel(text('Open Trash and choose Restore within 30 days. [kb-restore-01] [kb-made-up-99]'));
    const a = await answerQuestion('How do I restore a deleted file?', base, { retriever, model, tools: lookupOrderStatus });
    const req = model.requests[0];
    expect(req.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(req.messages[2])).toContain('[kb-restore-01] Restoring deleted files');
    expect(req.guardrail).toEqual({ id: 'g1', version: '1' });
    expect(req.tools?.map((t) => t.name)).toEqual(['lookup_order_status']);
    expect(a.citations).toEqual(['kb-restore-01']);
    expect(a.answer).toBe('Open Trash and choose Restore within 30 days.');
    expect(a.quality).toBe(0.8); // a made-up citation costs 0.2
    expect(a.usage).toEqual({ inputTokens: 100, outputTokens: 20, cacheReadInputTokens: 0, cacheWriteInputTokens: 0, modelId: 'primary' });
  });

  test('runs a tool the model asks for and returns its result in the next turn', async () => {
    const model = scriptedModel(
      { content: [{ toolUse: { toolUseId: 't1', name: 'lookup_order_status', input: { orderNumber: 'ORD-20261101' } } }], stopReason: 'tool_use' },
      text('Your order shipped on 2026-11-03.'),
    );
    const a = await answerQuestion('Where is order ORD-20261101?', base, { retriever, model, tools: lookupOrderStatus });
    expect(model.requests).toHaveLength(2);
    const last = model.requests[1].messages.at(-1)!;
    expect(last.content[0]).toEqual({
      toolResult: { toolUseId: 't1', content: [{ json: { orderNumber: 'ORD-20261101', status: 'shipped on 2026-11-03' } }], status: 'success' },
    });
    expect(a.answer).toBe('Your order shipped on 2026-11-03.');
    expect(a.usage.inputTokens).toBe(200);
  });

  test('a failing tool is reported to the model, not thrown', async () => {
    const model = scriptedModel({ content: [{ toolUse: { toolUseId: 't1', name: 'nope', input: {} } }], stopReason: 'tool_use' }, text('Sorry.'));
    await answerQuestion('q', base, { retriever, model, tools: lookupOrderStatus });
    expect(model.requests[1].messages.at(-1)!.content[0]).toMatchObject({
      toolResult: { status: 'error', content: [{ json: { error: 'unknown tool nope' } }] },
    });
  });

  test('tool loops stop after MAX_TURNS model calls', async () => {
    const model = scriptedModel({ content: [{ toolUse: { toolUseId: 't', name: 'lookup_order_status', input: {} } }], stopReason: 'tool_use' });
    await answerQuestion('q', base, { retriever, model, tools: lookupOrderStatus });
    expect(model.requests).toHaveLength(3);
  });

  test.each([
    [{ disableRetrieval: true, disableTools: false }, '(no passages found)', true],
    [{ disableRetrieval: false, disableTools: true }, undefined, false],
  ])('degrade %j', async (degrade, promptText, noPassages) => {
    const model = scriptedModel(text('ok'));
    const a = await answerQuestion('share a folder', { ...base, degrade }, { retriever, model, tools: lookupOrderStatus });
    expect(a.degraded).toBe(true);
    if (promptText) expect(JSON.stringify(model.requests[0].messages)).toContain(promptText);
    if (!noPassages) expect(model.requests[0].tools).toBeUndefined();
  });

  test('static answer calls no model', async () => {
    const model = scriptedModel(text('never'));
    const a = await answerQuestion('anything', { ...base, degrade: { ...base.degrade, staticAnswer: 'Back soon.' } }, { retriever, model });
    expect(a.answer).toBe('Back soon.');
    expect(model.requests).toHaveLength(0);
  });

  test('a guardrail intervention is reported as a safety failure, keeping the blocked message', async () => {
    const a = await answerQuestion('q', base, {
      retriever,
      model: scriptedModel({ ...text('Sorry, I cannot help with that.'), stopReason: 'guardrail_intervened' }),
    });
    expect(a.failure).toMatchObject({ kind: 'safety', code: 'guardrail-intervened', text: 'Sorry, I cannot help with that.' });
    expect(a.answer).toBe('');
  });

  test.each([
    [{ answer: '', citations: 0, unknownCitations: 0, retrieved: 3 }, 0],
    [{ answer: 'x', citations: 1, unknownCitations: 0, retrieved: 3 }, 1],
    [{ answer: 'x', citations: 0, unknownCitations: 0, retrieved: 3 }, 0.7],
    [{ answer: 'x', citations: 0, unknownCitations: 0, retrieved: 0 }, 1],
    [{ answer: 'x', citations: 0, unknownCitations: 2, retrieved: 3 }, 0.5],
  ])('scoreAnswer(%j) = %s', (s, expected) => expect(scoreAnswer(s)).toBe(expected));

  test.each([
    ['How do I restore a deleted file?', 'kb-restore-01'],
    ['upload limit for big files', 'kb-limits-01'],
    ['turn on two-factor authentication', 'kb-2fa-01'],
  ])('retriever ranks the right passage first for %s', async (q, id) => {
    expect((await retriever.retrieve(q, 3, 0))[0].id).toBe(id);
  });

  test('fillTemplate refuses an unknown placeholder', () => {
    expect(() => fillTemplate('Hi {{name}} {{missing}}', { name: 'x' })).toThrow('prompt template uses {{missing}} but no value was given');
  });
});
